"""Least privilege across institutions (issue 11 § 3), the same answer for hidden and missing cases (§ 4),
who may start which procedure and the access log of refusals and list views (§ 5). SQLite and PostgreSQL.

The test procedure's ``lanes.toml`` is copied with a ``[policies.orden_prueba]`` table: only the
Instituto's group starts it, and another institution's task holder also sees the risk level.
"""

from __future__ import annotations

import re

import io
import shutil
from pathlib import Path
from typing import Any, Iterator

import pytest

from engine.errors import Forbidden, InvalidState, NotFound
from engine.store.accounts import AccessLog, Attachment
from engine.store.models import Event
from tests.web.conftest import WORKFLOWS, Browser, build_app, make_tramita, open_task, start_case

POLICY = """
[policies.orden_prueba]
start_roles = ["caseworker"]
start_groups = ["ism_atencion"]
foreign_task_holder_sees = ["form", "instructions"]
foreign_task_holder_data = ["nivel_riesgo"]
"""
ORDER = {"tipo_orden": "emergencia", "vigencia_dias": "30", "autoridad_emisora": "Ministerio Público",
         "lugar": "Hermosillo", "agresor_nombre": "Juan Ruiz Leyva"}


@pytest.fixture
def pt(db_url: str, tmp_path: Path) -> Iterator[Any]:
    folder = tmp_path / "workflows"
    shutil.copytree(WORKFLOWS, folder)
    with (folder / "lanes.toml").open("a", encoding="utf-8") as f:
        f.write(POLICY)
    t = make_tramita(db_url, folder)
    yield t
    t.db.dispose()


@pytest.fixture
def papp(pt: Any):  # type: ignore[no-untyped-def]
    return build_app(pt)


@pytest.fixture
def case(pt: Any) -> dict[str, Any]:
    """An ISM case (ana's) whose risk is assessed; the order is pending in the MP's group (mario, FGJE)."""
    iid = start_case(pt)
    pt.complete(open_task(pt, iid, "valorar_riesgo"), {"nivel_riesgo": "alto", "riesgos": ["vida"]}, "ana")
    att = pt.add_attachment(pt.find_user("ana"), iid, "acta_victima.pdf", b"%PDF-1.4 acta")
    return {"id": iid, "task": open_task(pt, iid, "emitir_orden"), "att": att.id}


def _login(app: Any, user: str) -> Browser:
    b = Browser(app)
    assert b.login(user).status_code == 302
    return b


def _log(t: Any, **where: Any) -> list[AccessLog]:
    with t.db.read() as s:
        rows = s.query(AccessLog).filter_by(**where).order_by(AccessLog.id).all()
        s.expunge_all()
        return rows


def _count(t: Any, model: Any) -> int:
    with t.db.read() as s:
        return s.query(model).count()


def test_another_institutions_task_holder_sees_what_the_task_needs(papp, pt, case) -> None:  # type: ignore[no-untyped-def]
    """Before: holding the task opened the whole case file (victim's name, facts, files) to mario."""
    b = _login(papp, "mario")
    assert b.post(f"/tareas/{case['task']}/tomar", {"next": "/bandeja"}).status_code == 303
    page = b.get(f"/tareas/{case['task']}")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Datos del expediente para esta tarea" in text and "Alto" in text  # granted by the policy
    assert "Reglamento art. 43" in text  # the task's instructions
    for secret in ["María Pérez Soto", "662 123 4567", "Amenazas reiteradas", "acta_victima.pdf"]:
        assert secret not in text, secret
    for url in [f"/casos/{case['id']}", f"/casos/{case['id']}/diagrama.json",
                f"/casos/{case['id']}/adjuntos/{case['att']}"]:
        assert b.get(url).status_code == 404, url
    api = papp.test_client()
    token = pt.create_token("mario", "pruebas")
    body = api.get(f"/api/v1/tasks/{case['task']}", headers={"Authorization": f"Bearer {token}"}).get_json()
    assert body["case_data"] == {"nivel_riesgo": "alto"}
    assert api.get(f"/api/v1/instances/{case['id']}", headers={"Authorization": f"Bearer {token}"}).status_code == 404


def test_after_completing_it_they_see_only_what_they_did(papp, pt, case) -> None:  # type: ignore[no-untyped-def]
    b = _login(papp, "mario")
    r = b.post(f"/tareas/{case['task']}", ORDER)
    assert r.status_code == 302 and r.headers["Location"] == "/bandeja"
    text = b.get(f"/tareas/{case['task']}").get_data(as_text=True)
    assert "Lo que usted registró" in text and "Juan Ruiz Leyva" in text and "Hermosillo" in text
    assert "María Pérez Soto" not in text and "Amenazas reiteradas" not in text
    assert "Alto" not in text  # the policy's grant lasts while the task is theirs
    assert b.get(f"/casos/{case['id']}").status_code == 404
    assert pt.cases.cases(pt.find_user("mario"))[1] == 0


def test_the_holder_acts_on_the_case_only_through_the_task(papp, pt, case) -> None:  # type: ignore[no-untyped-def]
    mario = pt.find_user("mario")
    pt.cases.claim(mario, case["task"])
    other = start_case(pt, reference="OP-2026-002")
    before = (_count(pt, Event), _count(pt, Attachment))
    with pytest.raises(NotFound):
        pt.cases.send_message(mario, case["id"], "violacion", {"descripcion": "x"})
    with pytest.raises(NotFound):
        pt.cases.add_attachment(mario, case["id"], "informe.pdf", b"%PDF-1.4 x")
    with pytest.raises(Forbidden):  # his task, another case
        pt.cases.add_attachment(mario, other, "informe.pdf", b"%PDF-1.4 x", task_id=case["task"])
    b = _login(papp, "mario")
    r = b.post(f"/casos/{case['id']}/adjuntos", {"archivo": (io.BytesIO(b"%PDF-1.4 x"), "informe.pdf")},
               content_type="multipart/form-data")
    assert r.status_code == 404
    assert (_count(pt, Event), _count(pt, Attachment)) == before
    # Through the task's own form, a file of his is fine, and he may open it (he uploaded it).
    att = pt.cases.add_attachment(mario, case["id"], "informe.pdf", b"%PDF-1.4 x", task_id=case["task"])
    assert pt.cases.attachment(mario, att.id)[1] == b"%PDF-1.4 x"
    with pytest.raises(NotFound):
        pt.cases.attachment(mario, case["att"])  # the victim's file is not his to see


def test_a_concluded_case_takes_no_files(papp, pt, case) -> None:  # type: ignore[no-untyped-def]
    pt.complete(case["task"], {k: (30 if k == "vigencia_dias" else v) for k, v in ORDER.items()}, "mario")
    assert pt.instance(case["id"]).instance.status == "completed"
    before = _count(pt, Attachment)
    with pytest.raises(InvalidState):
        pt.cases.add_attachment(pt.find_user("ana"), case["id"], "tarde.pdf", b"%PDF-1.4 x")
    b = _login(papp, "ana")
    r = b.post(f"/casos/{case['id']}/adjuntos", {"archivo": (io.BytesIO(b"%PDF-1.4 x"), "tarde.pdf")},
               content_type="multipart/form-data", follow_redirects=True)
    assert "concluido" in r.get_data(as_text=True)
    assert "Agregar archivo" not in b.get(f"/casos/{case['id']}").get_data(as_text=True)
    assert _count(pt, Attachment) == before


def test_hidden_and_missing_cases_get_the_same_answer(papp, pt, case) -> None:  # type: ignore[no-untyped-def]
    """Before: 403 for a case of another institution, 404 for a number that does not exist."""
    b = _login(papp, "dora")
    hidden, missing = b.get(f"/casos/{case['id']}"), b.get("/casos/987654")
    assert hidden.status_code == missing.status_code == 404
    # the same page but for the number typed (and the CSRF token, which is signed with the current second)
    token = re.compile(r'name="csrf-token" content="[^"]*"|name="csrf_token" value="[^"]*"')
    assert token.sub("", hidden.get_data(as_text=True)) == \
        token.sub("", missing.get_data(as_text=True).replace("987654", str(case["id"])))
    for suffix in ["/diagrama.json", f"/adjuntos/{case['att']}"]:
        assert b.get(f"/casos/{case['id']}{suffix}").status_code == 404
    refused = _log(pt, actor="dora", outcome="refused")
    assert [(r.action, r.instance_id) for r in refused][:2] == [("case", case["id"]), ("case", 987654)]


def test_who_may_start_is_set_per_procedure(papp, pt) -> None:  # type: ignore[no-untyped-def]
    """Before: any caseworker started any procedure."""
    assert "Iniciar caso" in _login(papp, "ana").get("/procedimientos").get_data(as_text=True)
    assert _login(papp, "ana").get("/procedimientos/orden_prueba/iniciar").status_code == 200
    mario = _login(papp, "mario")
    assert "Iniciar caso" not in mario.get("/procedimientos").get_data(as_text=True)
    assert mario.get("/procedimientos/orden_prueba/iniciar").status_code == 403
    assert mario.post("/procedimientos/orden_prueba/iniciar", {"victima_nombre": "X"}).status_code == 403
    token = pt.create_token("mario", "pruebas")
    r = papp.test_client().post("/api/v1/processes/orden_prueba/instances", json={"data": {}},
                                headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 403 and r.get_json()["field"] == "process"
    assert pt.cases.cases(pt.find_user("admin"))[1] == 0
    assert [r.via for r in _log(pt, actor="mario", action="start", outcome="refused")] == ["web", "web", "api"]


def test_list_and_search_views_are_logged_without_names(papp, pt, case, frozen_clock) -> None:  # type: ignore[no-untyped-def]
    b = _login(papp, "ana")
    assert b.post("/casos", {"q": "María Pérez"}).status_code == 200  # the page's form posts
    b.get("/casos?q=OP-2026-001&estado=running")
    rows = _log(pt, actor="ana", action="case_list")
    assert [r.detail for r in rows] == [{"texto": "(texto omitido)", "pagina": 1},
                                        {"texto": "OP-2026-001", "estado": "running", "pagina": 1}]
    assert all(r.at == frozen_clock.now() and r.outcome == "viewed" for r in rows)
    pt.cases.inbox(pt.find_user("ana"), pt_filters(text="María"))
    [search] = _log(pt, actor="ana", action="inbox_search")
    assert search.detail == {"texto": "(texto omitido)"}
    with pt.db.read() as s:
        assert "María" not in str([r.detail for r in s.query(AccessLog).all()])


def pt_filters(**kw: Any) -> Any:
    from engine.services import InboxFilters

    return InboxFilters(**kw)


def test_the_police_see_the_order_while_the_intervention_is_theirs(real, frozen_clock) -> None:  # type: ignore[no-untyped-def]
    """Real procedure and policy (workflows/lanes.toml [policies.orden_proteccion]): the order is made known
    to the authorities that help enforce it (Reglamento art. 43), so the police officer who must intervene
    on a violation (art. 44) sees the order's PDF, type, term and measures and the report, and nothing else
    of the case; once the intervention is recorded, only what they recorded."""
    from datetime import datetime, timezone

    from tests.web.conftest import PASSWORD, REAL_ISSUE, REAL_REQUEST, REAL_RISK, REAL_WORKFLOWS
    import json

    real.add_user("policia", PASSWORD, name="Policía", role="caseworker", institution="SSP", groups=["policia"])
    from tests.web.test_messages_web import issued_order

    frozen_clock.set(datetime(2026, 3, 2, 17, 0, tzinfo=timezone.utc))
    iid = issued_order(real, reference="OP-POL-1")  # requested, assessed, issued, notified, reported (art. 28)
    frozen_clock.set(datetime(2026, 3, 2, 18, 0, tzinfo=timezone.utc))  # 11:00 in Hermosillo
    real.cases.send_message(real.find_user("mp"), iid, "violacion_orden",
                            {"descripcion": "Se presentó en el domicilio y la amenazó.",
                             "fecha": "2026-03-02T10:30:00-07:00"})
    task = open_task(real, iid, "intervenir_policia")
    app = build_app(real)
    police = _login(app, "policia")
    text = police.get(f"/tareas/{task}").get_data(as_text=True)
    assert "Auxilio policiaco de reacción inmediata" in text  # the measures ordered
    assert "Se presentó en el domicilio" in text  # the report of the violation
    for secret in ["María López Valenzuela", "Amenazas de muerte", "Pedro Ramírez Soto"]:
        assert secret not in text, secret
    assert f'href="/casos/{iid}/documentos/orden-proteccion.pdf"' in text
    pdf = police.get(f"/casos/{iid}/documentos/orden-proteccion.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    assert police.get(f"/casos/{iid}").status_code == 404
    intervention = {"fecha_hora_intervencion": "2026-03-02T10:45", "lugar_intervencion": "Domicilio",
                    "acciones_realizadas": "Se retiró al agresor.", "violencia_cesada": "true",
                    "persona_agresora_detenida": "false"}
    assert police.post(f"/tareas/{task}", intervention).status_code == 302
    assert police.get(f"/casos/{iid}/documentos/orden-proteccion.pdf").status_code == 404
    after = police.get(f"/tareas/{task}").get_data(as_text=True)
    assert "Se retiró al agresor." in after and "Auxilio policiaco" not in after
