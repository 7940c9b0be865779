"""Who may see and do what: a role × route matrix, identifying data, audit of openings (SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest

from engine.casework.access import MASK
from engine.store.models import Event
from tests.web.conftest import Browser, open_task, start_case

USERS = ["ana", "mario", "dora", "gerente", "gerente_dif", "disenadora", "admin"]


@pytest.fixture
def case(wt_any):  # type: ignore[no-untyped-def]
    """An ISM case whose risk assessment ana did; the order is pending in the MP's group (mario's)."""
    t = wt_any
    iid = start_case(t)
    t.complete(open_task(t, iid, "valorar_riesgo"), {"nivel_riesgo": "alto", "riesgos": ["vida"]}, "ana")
    att = t.add_attachment(t.find_user("ana"), iid, "acta.pdf", b"%PDF-1.4 acta")
    return {"id": iid, "task": open_task(t, iid, "emitir_orden"), "done": t.instance(iid).tasks[0].id,
            "att": att.id}


def _events(t):  # type: ignore[no-untyped-def]
    with t.db.read() as s:
        return s.query(Event).count()


# route -> the users who get 200. Everyone else gets 403, except on a case's own routes, where a user whose
# role sees cases but not this one gets 404, as for a case that does not exist (issue 11 § 4); who sees the
# case but may not use that route (a manager and an attachment) gets 403.
CASE_ROLE_USERS = {"ana", "mario", "dora", "gerente", "gerente_dif", "admin"}
SEE_THE_CASE = {"ana", "gerente", "admin"}
def _matrix(c):  # type: ignore[no-untyped-def]
    i, task, done, att = c["id"], c["task"], c["done"], c["att"]
    return {
        "/procedimientos": set(USERS),
        "/procedimientos/orden_prueba/iniciar": {"ana", "mario", "dora"},
        "/bandeja": {"ana", "mario", "dora"},
        "/casos": {"ana", "mario", "dora", "gerente", "gerente_dif", "admin"},
        f"/casos/{i}": {"ana", "gerente", "admin"},
        f"/casos/{i}/diagrama.json": {"ana", "gerente", "admin"},
        f"/tareas/{task}": {"ana", "mario", "gerente", "admin"},
        f"/tareas/{done}": {"ana", "gerente", "admin"},
        f"/casos/{i}/adjuntos/{att}": {"ana"},
    }


def test_role_route_matrix_for_pages(app_any, wt_any, case) -> None:  # type: ignore[no-untyped-def]
    failures = []
    for user in USERS:
        b = Browser(app_any)
        assert b.login(user).status_code == 302
        for url, allowed in _matrix(case).items():
            before = _events(wt_any)
            status = b.get(url).status_code
            hidden = url.startswith("/casos/") and user in CASE_ROLE_USERS - SEE_THE_CASE
            expected = 200 if user in allowed else 404 if hidden else 403
            if status != expected:
                failures.append(f"{user} GET {url}: {status}, expected {expected}")
            if status in (403, 404) and _events(wt_any) != before:
                failures.append(f"{user} GET {url}: a refusal wrote to the audit trail")
    assert not failures, "\n".join(failures)


def test_only_the_task_group_may_complete_or_claim(app_any, wt_any, case) -> None:  # type: ignore[no-untyped-def]
    data = {"tipo_orden": "emergencia", "vigencia_dias": "30", "autoridad_emisora": "Ministerio Público",
            "lugar": "Hermosillo", "agresor_nombre": "Juan Ruiz"}
    for user in ["ana", "dora", "gerente", "gerente_dif", "disenadora", "admin"]:
        b = Browser(app_any)
        b.login(user)
        before = _events(wt_any)
        assert b.post(f"/tareas/{case['task']}", data).status_code == 403, user
        assert b.post(f"/tareas/{case['task']}/tomar", {}).status_code == 403, user
        assert b.post(f"/procedimientos/orden_prueba/iniciar", {}).status_code in (403, 422) \
            if user in ("ana", "dora") else b.post("/procedimientos/orden_prueba/iniciar", {}).status_code == 403
        assert _events(wt_any) == before, user
    b = Browser(app_any)
    b.login("mario")
    assert b.post(f"/tareas/{case['task']}", data).status_code == 302
    assert wt_any.instance(case["id"]).instance.status == "completed"


def test_holding_a_task_does_not_open_the_case_to_a_caseworker_of_another_institution(app_any, wt_any, case) -> None:  # type: ignore[no-untyped-def]
    """Changed by issue 11 § 3: holding another institution's task no longer opens its case file (404, as
    for a case that does not exist); the task page shows what the task needs (tests/web/test_least_privilege.py)."""
    b = Browser(app_any)
    b.login("mario")
    assert b.get(f"/casos/{case['id']}").status_code == 404
    assert b.post(f"/tareas/{case['task']}/tomar", {"next": "/bandeja"}).status_code == 303
    assert b.get(f"/casos/{case['id']}").status_code == 404
    assert b.get(f"/tareas/{case['task']}").status_code == 200
    b.post(f"/tareas/{case['task']}/liberar", {"next": "/bandeja"})
    assert b.get(f"/casos/{case['id']}").status_code == 404
    mario = wt_any.find_user("mario")
    rows, total = wt_any.cases.cases(mario)
    assert total == 0


def test_identifying_data_is_masked_for_managers_and_admins(app_any, wt_any, case) -> None:  # type: ignore[no-untyped-def]
    for user, sees in [("ana", True), ("gerente", False), ("admin", False)]:
        b = Browser(app_any)
        b.login(user)
        page = b.get(f"/casos/{case['id']}").get_data(as_text=True)
        assert ("María Pérez Soto" in page) is sees, user
        assert ("662 123 4567" in page) is sees, user
        assert (MASK in page) is not sees, user
        # the narrative is sensitive (free text: it can name anyone): only who attends the case reads it
        assert ("Amenazas reiteradas" in page) is sees, user
        if not sees:
            assert "ocultos para su rol" in page


def test_every_case_opening_is_audited_with_who_and_when(app_any, wt_any, case, frozen_clock) -> None:  # type: ignore[no-untyped-def]
    for user in ["ana", "gerente", "admin"]:
        b = Browser(app_any)
        b.login(user)
        b.get(f"/casos/{case['id']}")
    with wt_any.db.read() as s:
        rows = s.query(Event).filter_by(instance_id=case["id"], kind="case_opened").order_by(Event.id).all()
    assert [(r.actor, r.at, r.detail["role"]) for r in rows] == [
        ("ana", frozen_clock.now(), "caseworker"), ("gerente", frozen_clock.now(), "manager"),
        ("admin", frozen_clock.now(), "admin")]


def test_case_list_shows_only_visible_cases(wt_any, case) -> None:  # type: ignore[no-untyped-def]
    t = wt_any
    start_case(t, institution="DIF", user="dora", reference="DIF-1")
    refs = {u: sorted(r.reference for r in t.cases.cases(t.find_user(u))[0]) for u in
            ["ana", "dora", "gerente", "gerente_dif", "admin", "mario"]}
    assert refs == {"ana": ["OP-2026-001"], "dora": ["DIF-1"], "gerente": ["OP-2026-001"],
                    "gerente_dif": ["DIF-1"], "admin": ["DIF-1", "OP-2026-001"], "mario": []}
