"""Dry runs and legal parameters in the studio, through the services and the pages.

The sanción scenario shipped in workflows/scenarios/sancion: the resolution is notified on Friday 18
December 2026; the recurso (Ley de Violencia Familiar art. 54) runs 5 días hábiles from the next day:
Mon 21 (1), Tue 22 (2), Wed 23 (3), Thu 24 (4); Fri 25 is Christmas (LFT art. 74), 26-27 weekend;
Mon 28 is day 5, so the term ends Monday 28 December 2026 at 23:59:59 in Hermosillo (UTC-7).
"""

from __future__ import annotations

from typing import Any

import pytest

from engine.errors import Forbidden, InvalidInput
from tests.web.conftest import REAL_ISSUE, REAL_WORKFLOWS, Browser, build_app
from tests.web.test_design import st, st_any, user  # noqa: F401  (the designers' engine, as fixtures)

SCENARIO = "sin_recurso_cobro.toml"
RECURSO_DUE = "2026-12-28T23:59:59-07:00"
TEXT = (REAL_WORKFLOWS / "scenarios" / "sancion" / SCENARIO).read_text(encoding="utf-8")
# A "what if": the state declares Wednesday 23 December non-working; the recurso then ends Tuesday 29.
EXTRA_DAY = TEXT + ('\n[calendario]\ninhabiles = [{ fecha = "2026-12-23", motivo = "Acuerdo de prueba", '
                    'fuente = "Boletín Oficial de prueba" }]\n')


def recurso(view: Any) -> dict[str, Any]:
    [entry] = [e for e in view.timeline if e.element == "interponer_recurso" and e.deadline]
    return entry.deadline


def test_a_designer_runs_the_sancion_scenario_of_the_deployed_version(st: Any) -> None:
    lucia = user(st, "lucia")
    found = st.simulator.scenarios(lucia, "sancion")
    assert SCENARIO in found.scenarios and "definitions" in found.xml
    view = st.simulator.run_text(lucia, "sancion", SCENARIO, found.scenarios[SCENARIO], version=found.version)
    assert view.passed, view.failures
    d = recurso(view)
    assert d["due"] == RECURSO_DUE and d["count"] == 5 and d["unit"] == "business"
    assert d["start"].startswith("2026-12-18")
    assert [(s["day"], s["reason"]) for s in d["skipped"]] == [
        ("2026-12-19", "Sábado"), ("2026-12-20", "Domingo"), ("2026-12-25", "Navidad"),
        ("2026-12-26", "Sábado"), ("2026-12-27", "Domingo")]
    assert "art. 54" in (d["citation"] or "")
    assert [e.kind for e in view.timeline][-1] == "fin" and "fin_cobro" in view.ends
    assert any(b == "fin_cobro" for _a, b in view.flows)  # the path reaches the end drawn on the diagram
    with pytest.raises(Forbidden):
        st.simulator.scenarios(user(st, "mp"), "sancion")  # only legal designers
    with pytest.raises(Forbidden):
        st.simulator.run_text(user(st, "gerente_fgje"), "sancion", SCENARIO, TEXT)


def test_scenario_errors_name_the_line_and_the_field(st: Any) -> None:
    lucia = user(st, "lucia")
    with pytest.raises(InvalidInput) as bad_toml:
        st.simulator.run_text(lucia, "sancion", SCENARIO, TEXT.replace('inicio = "2026-03-11T09:00:00"',
                                                                       "inicio = 2026-03-11 nueve"))
    inicio_line = next(i for i, line in enumerate(TEXT.splitlines(), 1) if line.startswith("inicio"))
    assert f"línea {inicio_line}," in bad_toml.value.message and "TOML" in bad_toml.value.message
    with pytest.raises(InvalidInput) as bad_date:
        st.simulator.run_text(lucia, "sancion", SCENARIO, TEXT.replace('en = "2026-04-01T10:00:00"',
                                                                       'en = "1 de abril"'))
    lines = TEXT.splitlines()
    second_act = [i for i, line in enumerate(lines, 1) if line == "[[actos]]"][1]
    assert "acto 2" in bad_date.value.message and f"(línea {second_act})" in bad_date.value.message
    with pytest.raises(InvalidInput) as other:
        st.simulator.run_text(lucia, "sancion", SCENARIO, TEXT.replace('"sancion"', '"agravio"', 1))
    assert other.value.field == "procedimiento"


def test_a_draft_scenario_is_saved_with_the_draft_and_can_fail(st: Any) -> None:
    lucia, rocio = user(st, "lucia"), user(st, "rocio")
    d = st.drafts.create_draft(lucia, "sancion")
    with pytest.raises(Forbidden):
        st.drafts.save_draft_scenario(rocio, d.id, SCENARIO, EXTRA_DAY)  # only its author edits it
    with pytest.raises(InvalidInput):
        st.drafts.save_draft_scenario(lucia, d.id, SCENARIO, "procedimiento = ")
    st.drafts.save_draft_scenario(lucia, d.id, SCENARIO, EXTRA_DAY)
    assert st.simulator.scenarios(lucia, "sancion", draft_id=d.id).scenarios[SCENARIO] == EXTRA_DAY
    view = st.simulator.run_text(lucia, "sancion", SCENARIO, EXTRA_DAY, draft_id=d.id)
    assert not view.passed  # 23 December skipped: the recurso now ends Tuesday 29 December
    assert any("2026-12-29T23:59:59" in f for f in view.failures), view.failures
    assert st.simulator.scenarios(lucia, "sancion").scenarios[SCENARIO] == TEXT  # the version is untouched


def test_parameters_edited_in_a_draft_deploy_as_a_version_and_set_the_form_limit(st_any: Any) -> None:
    st = st_any
    lucia, rocio = user(st, "lucia"), user(st, "rocio")
    d = st.drafts.create_draft(lucia, "orden_proteccion")
    _text, rows = st.drafts.draft_parameters(lucia, d.id)
    vigencia = next(r for r in rows if r["path"] == "orden_proteccion.vigencia_max_dias")
    assert vigencia["value"] == 60 and vigencia["citation"] == "LGAMVLV art. 28"
    path = "orden_proteccion.vigencia_max_dias"
    with pytest.raises(InvalidInput) as bad:
        st.drafts.save_draft_parameters(lucia, d.id, {path: ("cuarenta", " ")})
    assert set(bad.value.fields) == {f"{path}.value", f"{path}.citation"}
    assert "número entero" in bad.value.fields[f"{path}.value"]
    assert "fundamento" in bad.value.fields[f"{path}.citation"]
    assert st.drafts.draft_parameters(lucia, d.id)[1][0] == rows[0]  # nothing changed
    with pytest.raises(Forbidden):
        st.drafts.save_draft_parameters(rocio, d.id, {path: ("90", "LGAMVLV art. 28")})
    with pytest.raises(Forbidden):
        st.drafts.save_draft_parameters(user(st, "mp"), d.id, {path: ("90", "LGAMVLV art. 28")})
    st.drafts.save_draft_parameters(lucia, d.id, {path: ("90", "LGAMVLV art. 28 (reforma de prueba)")})
    assert st.drafts.parameter_changes(rocio, d.id) == [
        f"Parámetro «{path}»: 60 → 90 (LGAMVLV art. 28 (reforma de prueba))"]
    st.drafts.submit_draft(lucia, d.id, "Vigencia máxima de 90 días")
    with pytest.raises(Forbidden):
        st.drafts.approve_draft(lucia, d.id)  # nobody approves their own change
    assert st.drafts.approve_draft(rocio, d.id, "Conforme") == 2
    held = st.design.version(lucia, "orden_proteccion", 2, "parameters").texts["parameters"]
    assert "value = 90" in held

    # A case on version 2: the emission form says 90 and refuses 91; a case on version 1 kept 60.
    iid = _to_emission(st)
    task = next(x for x in st.tasks(instance_id=iid) if x.name == "emitir_orden")
    page = st.cases.task(user(st, "mp"), task.id)
    field = page.form.schema["properties"]["vigencia_dias"]
    assert field["maximum"] == 90 and "1 a 90 días" in field["x-error"]
    with pytest.raises(InvalidInput) as refused:
        st.complete(task.id, {**REAL_ISSUE, "vigencia_dias": 91}, "mp")
    assert refused.value.fields["vigencia_dias"] == "La vigencia debe ser de 1 a 90 días naturales (LGAMVLV art. 28)."
    st.complete(task.id, {**REAL_ISSUE, "vigencia_dias": 90}, "mp")


def _to_emission(t: Any) -> int:
    from tests.web.conftest import REAL_REQUEST, REAL_RISK, open_task

    iid = t.start("orden_proteccion", dict(REAL_REQUEST), "mp", reference="OP-PARAM").instance_id
    t.complete(open_task(t, iid, "valorar_riesgo"), REAL_RISK, "mp")
    return iid


def test_pages_run_a_scenario_and_edit_parameters(st: Any) -> None:
    app = build_app(st)

    def login(name: str) -> Browser:
        b = Browser(app)
        assert b.login(name).status_code == 302
        return b

    lucia, mp = login("lucia"), login("mp")
    assert mp.get("/diseno/procesos/sancion/escenarios").status_code == 403
    listing = lucia.get("/diseno/procesos/sancion/escenarios").get_data(as_text=True)
    assert SCENARIO in listing
    r = lucia.post(f"/diseno/procesos/sancion/version/1/escenarios/{SCENARIO}",
                   {"scenario": TEXT, "accion": "ejecutar"})
    page = r.get_data(as_text=True)
    assert r.status_code == 200 and "El escenario se cumple" in page and "interponer_recurso" in page
    assert "Navidad" in page or "25 de diciembre" in page
    r = lucia.post(f"/diseno/procesos/sancion/version/1/escenarios/{SCENARIO}",
                   {"scenario": TEXT.replace('"2026-04-01T10:00:00"', '"ayer"'), "accion": "ejecutar"})
    assert r.status_code == 422 and "acto 2" in r.get_data(as_text=True) and "línea" in r.get_data(as_text=True)

    d = st.drafts.create_draft(user(st, "lucia"), "orden_proteccion")
    path = "orden_proteccion.vigencia_max_dias"
    r = lucia.post(f"/diseno/borradores/{d.id}/parametros", {f"{path}.value": "sesenta", f"{path}.citation": ""})
    page = r.get_data(as_text=True)
    assert r.status_code == 422 and "debe ser un número entero" in page and "Escriba el fundamento" in page
    assert f'id="{path}.value-error"' in page and 'value="sesenta"' in page
    r = lucia.post(f"/diseno/borradores/{d.id}/parametros",
                   {f"{path}.value": "90", f"{path}.citation": "LGAMVLV art. 28"})
    assert r.status_code == 302
    assert "60 → 90" in lucia.get(f"/diseno/borradores/{d.id}/parametros").get_data(as_text=True)
    assert mp.get(f"/diseno/borradores/{d.id}/parametros").status_code == 403


def test_a_new_scenario_of_a_draft_is_kept_once_it_reads(st: Any) -> None:
    app = build_app(st)
    b = Browser(app)
    assert b.login("lucia").status_code == 302
    d = st.drafts.create_draft(user(st, "lucia"), "sancion")
    r = b.post(f"/diseno/borradores/{d.id}/escenarios", {"nombre": "recurso en vacaciones!"})
    assert r.status_code == 422 and "nombre de archivo" in r.get_data(as_text=True)
    r = b.post(f"/diseno/borradores/{d.id}/escenarios", {"nombre": "recurso_vacaciones"})
    assert r.status_code == 302 and r.headers["Location"].endswith("/escenarios/recurso_vacaciones.toml")
    outline = b.get(r.headers["Location"]).get_data(as_text=True)
    assert 'procedimiento = &#34;sancion&#34;' in outline or 'procedimiento = "sancion"' in outline
    r = b.post(f"/diseno/borradores/{d.id}/escenarios/recurso_vacaciones.toml",
               {"scenario": "procedimiento = \"sancion\"\ninicio = 5\n", "accion": "guardar"})
    assert r.status_code == 422 and "inicio" in r.get_data(as_text=True)
    kept = st.simulator.scenarios(user(st, "lucia"), "sancion", draft_id=d.id).scenarios
    assert "recurso_vacaciones.toml" not in kept
    r = b.post(f"/diseno/borradores/{d.id}/escenarios/recurso_vacaciones.toml",
               {"scenario": EXTRA_DAY, "accion": "guardar"})
    assert r.status_code == 200 and "El escenario no se cumple" in r.get_data(as_text=True)
    assert st.simulator.scenarios(user(st, "lucia"), "sancion", draft_id=d.id).scenarios["recurso_vacaciones.toml"] \
        == EXTRA_DAY


def test_cli_simulates_a_scenario_on_a_draft(st: Any, capsys: Any, monkeypatch: Any) -> None:
    """The recurso term raised to 6 días hábiles in a draft: Mon 21, Tue 22, Wed 23, Thu 24, (Fri 25
    Navidad, weekend), Mon 28, Tue 29: it ends Tuesday 29 December, and the scenario expecting Monday
    28 fails (exit 2) on the draft while it holds on version 1."""
    from engine.cli import main

    monkeypatch.setenv("TRAMITA_DATABASE_URL", str(st.db.engine.url.render_as_string(hide_password=False)))
    lucia = user(st, "lucia")
    d = st.drafts.create_draft(lucia, "sancion")
    st.drafts.save_draft_parameters(lucia, d.id, {"sancion.recurso_dias_habiles": ("6", "Ley de Violencia "
                                                                                   "Familiar art. 54 (prueba)")})
    path = str(REAL_WORKFLOWS / "scenarios" / "sancion" / SCENARIO)
    assert main(["simulate", path]) == 0
    capsys.readouterr()
    assert main(["simulate", path, "--draft", str(d.id)]) == 2
    captured = capsys.readouterr()
    assert "(sancion borrador" in captured.out
    assert "se esperaba 2026-12-28T23:59:59-07:00, se computó 2026-12-29T23:59:59-07:00" in captured.out + captured.err


def test_the_reviewer_sees_the_draft_scenarios_and_the_pages_speak_english(st: Any) -> None:
    app = build_app(st)
    lucia, rocio = user(st, "lucia"), user(st, "rocio")
    d = st.drafts.create_draft(lucia, "sancion")
    st.drafts.save_draft_scenario(lucia, d.id, "recurso_vacaciones.toml", TEXT)  # a failing one could not be sent
    st.drafts.submit_draft(lucia, d.id, "Escenario de vacaciones")
    b = Browser(app)
    assert b.login("rocio").status_code == 302
    review = b.get(f"/diseno/borradores/{d.id}").get_data(as_text=True)
    assert "Escenarios que el borrador agrega o cambia" in review and "recurso_vacaciones.toml" in review
    page = b.get(f"/diseno/borradores/{d.id}/escenarios/recurso_vacaciones.toml").get_data(as_text=True)
    assert 'name="accion" value="guardar"' not in page  # the reviewer runs it, but does not edit the draft
    b.client.set_cookie("tramita_lang", "en")
    english = b.post(f"/diseno/borradores/{d.id}/escenarios/recurso_vacaciones.toml",
                     {"scenario": EXTRA_DAY, "accion": "ejecutar"}).get_data(as_text=True)
    assert "Timeline" in english and "The scenario fails:" in english and "Path taken on the diagram" in english
    assert st.drafts.draft(rocio, d.id).forms["scenarios/sancion/recurso_vacaciones.toml"] == TEXT  # only run
