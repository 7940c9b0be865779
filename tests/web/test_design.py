"""The studio's flow through the service, the API and the CLI: draft, lint, submit, four-eyes approval,
version 2 deployed while a case started before stays on version 1, and the diff in words."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterator

import pytest

from engine.cli import main
from engine.errors import Conflict, Forbidden, InvalidInput
from tests.procedures.conftest import example
from tests.web.conftest import REAL_USERS, REAL_WORKFLOWS, make_tramita

DESIGNERS = [("lucia", "legal_designer", "ISM", []), ("rocio", "legal_designer", "ISM", [])]
OLD = 'cantidad="parametros.orden_proteccion.ratificacion_dias_naturales"'
OLD_TIMER = 'plazo_natural(fecha_cese_riesgo, parametros["orden_proteccion"]["ratificacion_dias_naturales"], '
FUND = '<tramita:fundamento ley="Reglamento" articulo="43" />'


@pytest.fixture
def st(sqlite_url: str) -> Iterator[Any]:
    t = make_tramita(sqlite_url, REAL_WORKFLOWS, REAL_USERS + DESIGNERS)
    yield t
    t.db.dispose()


@pytest.fixture
def st_any(db_url: str) -> Iterator[Any]:
    """The same on SQLite and PostgreSQL (starting a case picks the version in force in SQL)."""
    t = make_tramita(db_url, REAL_WORKFLOWS, REAL_USERS + DESIGNERS)
    yield t
    t.db.dispose()


def user(t: Any, name: str) -> Any:
    return t.people.find_user(name)


def ten_days(xml: str) -> str:
    """The reform: ratification within 10 días naturales instead of the parameter's 5 (art. 41)."""
    assert OLD in xml and OLD_TIMER in xml
    return xml.replace(OLD, 'cantidad="10"').replace(OLD_TIMER, "plazo_natural(fecha_cese_riesgo, 10, ")


# The reform moves the ratification term (Reglamento art. 41) that four legal scenarios of the procedure
# count, so the designer updates them in the same draft, as the gate on submission asks. Worked by hand,
# 10 natural days from the end of the risk, a term that does not end on a día inhábil:
# - risk ended Wednesday 3 March 2027 -> Saturday 13 March; 14 is a Sunday and Monday 15 the natalicio de
#   Benito Juárez -> Tuesday 16 March 2027, 23:59:59 (the certification moves from the 9th to the 17th,
#   and the second order issued that day ends 60 natural days later, Sunday 16 May, reassessed from the 11th);
# - risk ended Wednesday 10 March 2027 -> Saturday 20 March; 21 is a Sunday -> Monday 22 March, 23:59:59.
TEN_DAY_SCENARIOS = {
    "tercero_no_ratifica.toml": {"2027-03-08T23:59:59": "2027-03-16T23:59:59"},
    "tercero_sin_ratificacion.toml": {"2027-03-08T23:59:59": "2027-03-16T23:59:59", "2027-03-09": "2027-03-17"},
    "tercero_ratifica_tarde.toml": {"2027-03-08T23:59:59": "2027-03-16T23:59:59", "2027-03-09": "2027-03-17",
                                    "2027-05-08T23:59:59": "2027-05-16T23:59:59",
                                    "2027-05-09T10:00:00": "2027-05-17T10:00:00"},
    "tercero_ratifica_a_tiempo.toml": {"2027-03-16T23:59:59": "2027-03-22T23:59:59"},
}


def ten_day_scenarios(t: Any, who: Any, draft_id: int) -> None:
    """Save, with the draft, the scenarios the ten-day reform moves (each date replaced as worked out above)."""
    for name, changes in TEN_DAY_SCENARIOS.items():
        text = (REAL_WORKFLOWS / "scenarios" / "orden_proteccion" / name).read_text(encoding="utf-8")
        for old, new in changes.items():
            assert old in text, (name, old)
            text = text.replace(old, new)
        t.drafts.save_draft_scenario(who, draft_id, name, text)


def test_draft_to_version_two_with_four_eyes(st: Any) -> None:
    lucia, rocio = user(st, "lucia"), user(st, "rocio")
    old_case = st.start("orden_proteccion", example("orden_proteccion_inicio"), "mp").instance_id
    draft = st.drafts.create_draft(lucia, "orden_proteccion")
    assert draft.base_version == 1 and draft.status == "draft"
    assert st.drafts.create_draft(lucia, "orden_proteccion").id == draft.id  # resumed, not duplicated
    with pytest.raises(Forbidden):
        st.drafts.save_draft(rocio, draft.id, draft.content)  # only its author edits it

    # Deleting a legal basis is a warning on that element; a forbidden expression is an error.
    at = draft.content.index(FUND, draft.content.index('id="generar_documento_orden"'))
    without_basis = draft.content[:at] + draft.content[at + len(FUND):]
    st.drafts.save_draft(lucia, draft.id, without_basis)
    found = st.drafts.lint_draft(lucia, draft.id)
    assert any(f.rule == "legal-basis" and f.element_id == "generar_documento_orden" for f in found)
    broken = ten_days(draft.content).replace("fecha_conocimiento = ahora()", "import os", 1)
    st.drafts.save_draft(lucia, draft.id, broken)
    with pytest.raises(InvalidInput, match="error"):
        st.drafts.submit_draft(lucia, draft.id, "Reforma al art. 41")

    st.drafts.save_draft(lucia, draft.id, ten_days(draft.content))
    ten_day_scenarios(st, lucia, draft.id)
    with pytest.raises(InvalidInput, match="nota del cambio"):
        st.drafts.submit_draft(lucia, draft.id, "  ")
    st.drafts.submit_draft(lucia, draft.id, "Reforma al art. 41 (Boletín Oficial, 2027-01-15)")
    with pytest.raises(Forbidden, match="propio"):
        st.drafts.approve_draft(lucia, draft.id)
    assert st.drafts.approve_draft(rocio, draft.id, "Conforme") == 2

    rows = st.design.versions(rocio, "orden_proteccion")
    assert [(r.version, r.note, r.approved_by, r.deployed_by) for r in rows][0] == \
        (2, "Reforma al art. 41 (Boletín Oficial, 2027-01-15)", "rocio", "lucia")
    assert rows[1].open_cases == 1 and rows[0].open_cases == 0
    new_case = st.start("orden_proteccion", example("orden_proteccion_inicio"), "mp").instance_id
    assert st.instance(old_case).instance.version == 1 and st.instance(new_case).instance.version == 2

    [preview] = st.migration.move_previews(rocio, "orden_proteccion")
    assert (preview.instance_id, preview.from_version, preview.to_version, preview.can_move) == (old_case, 1, 2, True)
    assert preview.lines[0] == "«Valorar el riesgo» sigue abierta en la versión 2."

    lines = st.design.diff(rocio, "orden_proteccion", 1, 2).lines()
    change = next(line for line in lines if "plazo_ratificacion_vencido" in line)
    assert "5 (parámetro orden_proteccion.ratificacion_dias_naturales) días naturales → 10 días naturales" in change


def test_approval_refused_when_the_base_is_no_longer_the_latest(st: Any) -> None:
    lucia, rocio = user(st, "lucia"), user(st, "rocio")
    first = st.drafts.create_draft(lucia, "orden_proteccion")
    st.drafts.save_draft(lucia, first.id, ten_days(first.content))
    ten_day_scenarios(st, lucia, first.id)
    st.drafts.submit_draft(lucia, first.id, "Reforma A")
    second = st.drafts.create_draft(rocio, "orden_proteccion")
    st.drafts.save_draft(rocio, second.id, second.content.replace('name="Valorar el riesgo"', 'name="Valorar riesgo"'))
    st.drafts.submit_draft(rocio, second.id, "Reforma B")
    st.drafts.approve_draft(rocio, first.id)
    with pytest.raises(Conflict, match="versión 2"):
        st.drafts.approve_draft(lucia, second.id)
    with pytest.raises(InvalidInput, match="por qué"):
        st.drafts.reject_draft(lucia, second.id, "")
    assert st.drafts.reject_draft(lucia, second.id, "Actualícelo sobre la versión 2").status == "rejected"


def test_api_lint_versions_diff_and_drafts(st: Any) -> None:
    from tests.web.conftest import build_app

    client = build_app(st).test_client()
    tokens = {u: st.create_token(u) for u in ("lucia", "rocio", "mp")}

    def api(method: str, url: str, who: str = "lucia", **kw: Any) -> Any:
        return client.open(url, method=method, headers={"Authorization": f"Bearer {tokens[who]}"}, **kw)

    xml = (REAL_WORKFLOWS / "bpmn" / "orden_proteccion.bpmn").read_text(encoding="utf-8")
    r = api("POST", "/api/v1/lint", json={"files": [{"name": "orden_proteccion.bpmn", "content": xml}]})
    assert r.status_code == 200 and r.json["errors"] == 0
    r = api("POST", "/api/v1/lint?name=x.bpmn",
            data=xml.replace("fecha_conocimiento = hora_local(fecha_hora_conocimiento)", "import os"),
            content_type="application/xml")
    forbidden = {(f["element_id"], f["severity"]) for f in r.json["findings"] if f["rule"] == "forbidden-expression"}
    assert ("sellar_solicitud", "error") in forbidden
    # (fecha_conocimiento is still written by «preparar_nueva_orden», so no read-before-write finding follows)
    assert api("POST", "/api/v1/lint", json={"files": "x"}).json["field"] == "files"
    assert api("POST", "/api/v1/lint", who="mp", json={"draft": 1}).status_code == 403

    d = api("POST", "/api/v1/drafts", json={"key": "orden_proteccion"}).json
    assert api("PUT", f"/api/v1/drafts/{d['id']}", json={"content": ten_days(d["content"])}).status_code == 200
    ten_day_scenarios(st, user(st, "lucia"), d["id"])
    assert api("POST", f"/api/v1/drafts/{d['id']}/submit", json={"change_note": ""}).json["field"] == "change_note"
    assert api("POST", f"/api/v1/drafts/{d['id']}/submit", json={"change_note": "Reforma"}).status_code == 200
    assert api("POST", f"/api/v1/drafts/{d['id']}/approve", json={}).status_code == 403
    assert api("POST", f"/api/v1/drafts/{d['id']}/approve", who="rocio", json={}).json["deployed_version"] == 2
    versions = api("GET", "/api/v1/processes/orden_proteccion/versions").json["versions"]
    assert [v["version"] for v in versions] == [2, 1]
    diff = api("GET", "/api/v1/processes/orden_proteccion/diff?from=1&to=2").json
    assert {e["id"] for e in diff["elements"]} == {"plazo_ratificacion_vencido", "registrar_cese_riesgo"}
    assert api("GET", "/api/v1/processes/orden_proteccion/diff?from=1&to=x").json["field"] == "to"


def test_cli_lint_exit_codes_and_diff(st: Any, tmp_path: Path, capsys: Any, monkeypatch: Any) -> None:
    assert main(["lint", str(REAL_WORKFLOWS)]) == 0
    bad = tmp_path / "malo.bpmn"
    bad.write_text((REAL_WORKFLOWS / "bpmn" / "sancion.bpmn").read_text(encoding="utf-8")
                   .replace('isExecutable="true"', 'isExecutable="false"'), encoding="utf-8")
    capsys.readouterr()
    assert main(["lint", str(bad)]) == 2
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("malo.bpmn: sancion «") and "»: process-executable (error): Ningún proceso" in out[0]

    monkeypatch.setenv("TRAMITA_DATABASE_URL", str(st.db.engine.url.render_as_string(hide_password=False)))
    lucia, rocio = user(st, "lucia"), user(st, "rocio")
    d = st.drafts.create_draft(lucia, "orden_proteccion")
    st.drafts.save_draft(lucia, d.id, ten_days(d.content))
    ten_day_scenarios(st, lucia, d.id)
    st.drafts.submit_draft(lucia, d.id, "Reforma")
    st.drafts.approve_draft(rocio, d.id)
    assert main(["diff", "orden_proteccion", "1", "2"]) == 0
    text = capsys.readouterr().out
    assert "Cambia evento de borde «" in text and "→ 10 días naturales" in text
    capsys.readouterr()
    assert main(["deploy", str(REAL_WORKFLOWS)]) == 0  # the repository still holds version 1's text ...
    assert "process orden_proteccion version 2: kept: the files hold the text of version 1" in capsys.readouterr().out
    assert [r.version for r in st.design.versions(rocio, "orden_proteccion")] == [2, 1]  # ... not redeployed as 3
    assert main(["export", "orden_proteccion", str(tmp_path / "wf")]) == 0
    exported = (tmp_path / "wf" / "bpmn" / "orden_proteccion.bpmn").read_text(encoding="utf-8")
    assert 'cantidad="10"' in exported and (tmp_path / "wf" / "forms" / "orden_proteccion_inicio.schema.json").exists()
    json.loads((tmp_path / "wf" / "forms" / "orden_proteccion_inicio.schema.json").read_text(encoding="utf-8"))


def test_a_version_enters_into_force_on_its_date(st_any: Any) -> None:
    """Approved on 2026-12-01 with entry into force on 2027-01-04 (00:00 Hermosillo = 07:00 UTC): until then
    new cases start on version 1; from then on version 2. Open cases never move."""
    from datetime import datetime, timezone

    from engine.services.terms import HERMOSILLO
    from engine.time import clock

    st = st_any
    lucia, rocio = user(st, "lucia"), user(st, "rocio")
    with clock.frozen_at(datetime(2026, 12, 1, 16, 0, tzinfo=timezone.utc)):
        d = st.drafts.create_draft(lucia, "orden_proteccion")
        st.drafts.save_draft(lucia, d.id, ten_days(d.content))
        ten_day_scenarios(st, lucia, d.id)
        st.drafts.submit_draft(lucia, d.id, "Reforma", datetime(2027, 1, 4, tzinfo=HERMOSILLO))
        assert st.drafts.approve_draft(rocio, d.id) == 2
        before = st.start("orden_proteccion", example("orden_proteccion_inicio"), "mp").instance_id
    with clock.frozen_at(datetime(2027, 1, 4, 6, 59, tzinfo=timezone.utc)):
        eve = st.start("orden_proteccion", example("orden_proteccion_inicio"), "mp").instance_id
    with clock.frozen_at(datetime(2027, 1, 4, 7, 0, tzinfo=timezone.utc)):
        day = st.start("orden_proteccion", example("orden_proteccion_inicio"), "mp").instance_id
    assert [st.instance(i).instance.version for i in (before, eve, day)] == [1, 1, 2]
    assert st.design.versions(rocio, "orden_proteccion")[0].effective_from == datetime(2027, 1, 4, 7, 0,
                                                                                        tzinfo=timezone.utc)


def test_a_form_edited_in_the_draft_deploys_with_it(st: Any) -> None:
    from tests.web.conftest import PASSWORD, Browser, build_app

    lucia, rocio = user(st, "lucia"), user(st, "rocio")
    d = st.drafts.create_draft(lucia, "orden_proteccion")
    name = "orden_proteccion_ratificacion.schema.json"
    schema = json.loads(st.drafts.draft_form(lucia, d.id, name))
    with pytest.raises(InvalidInput, match="no es JSON válido"):
        st.drafts.save_draft_form(lucia, d.id, name, "{")
    schema["properties"]["observaciones_reforma"] = {"type": "string", "title": "Observaciones de la reforma"}
    schema.setdefault("required", []).append("observaciones_reforma")
    st.drafts.save_draft_form(lucia, d.id, name, json.dumps(schema, ensure_ascii=False))
    assert "nuevo campo «Observaciones de la reforma» (obligatorio)" in " ".join(
        st.drafts.draft_diff(rocio, d.id).lines())

    b = Browser(build_app(st))
    b.login("lucia", PASSWORD)
    page = b.get(f"/diseno/borradores/{d.id}/formularios/{name}")
    assert page.status_code == 200 and "Observaciones de la reforma" in page.get_data(as_text=True)
    preview = b.post("/diseno/formularios/vista-previa", {"schema": '{"type": "objeto"}'})
    assert "El esquema no es válido" in preview.get_data(as_text=True)

    # The scenarios that ratify now fill in the new required field: updated in the same draft.
    for scenario in ("tercero_no_ratifica.toml", "tercero_ratifica_a_tiempo.toml"):
        text = (REAL_WORKFLOWS / "scenarios" / "orden_proteccion" / scenario).read_text(encoding="utf-8")
        assert "cambios = { fecha_ratificacion" in text
        st.drafts.save_draft_scenario(lucia, d.id, scenario, text.replace(
            "cambios = { fecha_ratificacion", 'cambios = { observaciones_reforma = "Sin observaciones.", fecha_ratificacion'))
    st.drafts.submit_draft(lucia, d.id, "Reforma: observaciones en la ratificación")
    assert st.drafts.approve_draft(rocio, d.id) == 2
    info = st.design.diff(rocio, "orden_proteccion", 1, 2).lines()
    assert any("Observaciones de la reforma" in line for line in info)
