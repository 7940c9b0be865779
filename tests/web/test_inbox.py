"""The inbox: my tasks and my groups' unclaimed ones, claim/unclaim, badges, filters, pages (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from engine.errors import Conflict, Forbidden
from engine.casework.inbox import InboxFilters, badge
from engine.store.models import Event, Task
from tests.web.conftest import Browser, open_task, start_case


def _user(t, name):  # type: ignore[no-untyped-def]
    return t.find_user(name)


def test_inbox_shows_my_groups_tasks_sorted_by_deadline(wt_any, frozen_clock) -> None:  # type: ignore[no-untyped-def]
    t = wt_any
    a = start_case(t, reference="A-1")
    b = start_case(t, reference="B-2")
    # Case B reaches the MP lane first; its deadline is computed on the 1st, case A's on the 2nd.
    t.complete(open_task(t, b, "valorar_riesgo"), {"nivel_riesgo": "alto", "riesgos": ["vida"]}, "ana")
    frozen_clock.set(datetime(2026, 12, 2, 16, 0, tzinfo=timezone.utc))
    t.complete(open_task(t, a, "valorar_riesgo"), {"nivel_riesgo": "alto", "riesgos": ["vida"]}, "ana")
    page = t.inbox(_user(t, "mario"))
    assert [i.reference for i in page.items] == ["B-2", "A-1"]
    assert [i.badge.label for i in page.items] == ["1 día hábil", "2 días hábiles"]
    assert page.total == 2 and page.counts["group"] == 2 and page.counts["mine"] == 0
    assert t.inbox(_user(t, "ana")).total == 0  # ISM's tasks are done
    assert t.inbox(_user(t, "dora")).total == 0  # DIF has no task in these lanes


def test_claim_and_unclaim_are_audited(wt_any) -> None:  # type: ignore[no-untyped-def]
    t = wt_any
    iid = start_case(t)
    task_id = open_task(t, iid, "valorar_riesgo")
    ana = _user(t, "ana")
    t.claim(task_id, ana)
    assert t.task(task_id).assignee == "ana"
    assert t.inbox(ana, InboxFilters(scope="mine")).total == 1
    t.add_user("beto", "contrasena-de-prueba", name="Beto", role="caseworker", institution="ISM",
               groups=["ism_atencion"])
    beto = _user(t, "beto")
    assert t.inbox(beto).total == 0  # claimed tasks leave the group's list
    with pytest.raises(Conflict):
        t.claim(task_id, beto)
    with pytest.raises(Forbidden):
        t.unclaim(task_id, beto)
    t.unclaim(task_id, ana)
    assert t.task(task_id).assignee is None and t.inbox(beto).total == 1
    with pytest.raises(Forbidden):
        t.claim(task_id, _user(t, "dora"))  # not her group nor her institution
    with t.db.read() as s:
        events = [(e.kind, e.actor, e.task_id) for e in s.query(Event).filter(Event.kind.like("task_%claimed"))
                  .order_by(Event.id)]
    assert events == [("task_claimed", "ana", task_id), ("task_unclaimed", "ana", task_id)]


def test_filters_text_procedure_task_and_due_range(wt_any, frozen_clock) -> None:  # type: ignore[no-untyped-def]
    t = wt_any
    for n in range(3):
        start_case(t, reference=f"EXP-{n}", title=f"Caso número {n}")
    ana = _user(t, "ana")
    assert t.inbox(ana, InboxFilters(text="exp-1")).total == 1
    assert t.inbox(ana, InboxFilters(text="NÚMERO")).total in (0, 3)  # lower() of non-ASCII differs by backend
    assert t.inbox(ana, InboxFilters(text="número")).total == 3
    assert t.inbox(ana, InboxFilters(process_key="orden_prueba")).total == 3
    assert t.inbox(ana, InboxFilters(process_key="otro")).total == 0
    assert t.inbox(ana, InboxFilters(task="valorar_riesgo")).total == 3
    assert t.inbox(ana, InboxFilters(task="emitir_orden")).total == 0
    iid = t.instances()[0].id
    t.complete(open_task(t, iid, "valorar_riesgo"), {"nivel_riesgo": "alto", "riesgos": ["vida"]}, "ana")
    mario = _user(t, "mario")
    assert t.inbox(mario, InboxFilters(due_from=date(2026, 12, 3), due_to=date(2026, 12, 3))).total == 1
    assert t.inbox(mario, InboxFilters(due_from=date(2026, 12, 4))).total == 0
    assert t.inbox(mario, InboxFilters(due_to=date(2026, 12, 2))).total == 0


def test_pagination_with_counts(wt_any) -> None:  # type: ignore[no-untyped-def]
    t = wt_any
    for n in range(7):
        start_case(t, reference=f"P-{n}")
    ana = _user(t, "ana")
    first = t.inbox(ana, page=1, per_page=3)
    last = t.inbox(ana, page=3, per_page=3)
    assert first.total == 7 and first.pages == 3 and len(first.items) == 3 and len(last.items) == 1
    seen = {i.task_id for p in (1, 2, 3) for i in t.inbox(ana, page=p, per_page=3).items}
    assert len(seen) == 7


def test_badges_vencida_vence_hoy_and_business_days() -> None:
    from datetime import timedelta

    now = datetime(2026, 12, 18, 17, 0, tzinfo=timezone.utc)  # Friday 10:00 in Hermosillo
    hermosillo = timezone(timedelta(hours=-7))
    assert badge(datetime(2026, 12, 18, 23, 59, tzinfo=hermosillo), now=now).kind == "today"
    assert badge(datetime(2026, 12, 18, 9, 0, tzinfo=hermosillo), now=now).label == "Vencida"
    assert badge(datetime(2026, 12, 28, 23, 59, tzinfo=hermosillo), now=now).days_left == 5  # skips 25 Dec
    assert badge(datetime(2026, 12, 21, 23, 59, tzinfo=hermosillo), now=now).label == "1 día hábil"
    assert badge(datetime(2026, 12, 21, 23, 59, tzinfo=hermosillo), True, now=now).kind == "overdue"
    assert badge(None).kind == "none"


def test_inbox_page_filters_and_claim_buttons(app, wt, frozen_clock) -> None:  # type: ignore[no-untyped-def]
    iid = start_case(wt, reference="WEB-1", title="Caso web")
    start_case(wt, reference="WEB-2")
    b = Browser(app)
    b.login("ana")
    page = b.get("/bandeja").get_data(as_text=True)
    assert "WEB-1" in page and "WEB-2" in page and "2 tareas" in page and "Tomar" in page
    page = b.get("/bandeja?q=web-1").get_data(as_text=True)
    assert "WEB-1" in page and "WEB-2" not in page
    partial = b.get("/bandeja?q=web-1", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "<html" not in partial and "WEB-1" in partial
    bad = b.get("/bandeja?desde=2026-13-01").get_data(as_text=True)
    assert "Fecha no válida." in bad
    task_id = open_task(wt, iid, "valorar_riesgo")
    r = b.post(f"/tareas/{task_id}/tomar", {"next": "/bandeja?vista=mine"})
    assert r.status_code == 303 and r.headers["Location"] == "/bandeja?vista=mine"
    page = b.get("/bandeja?vista=mine").get_data(as_text=True)
    assert "WEB-1" in page and "WEB-2" not in page and "A mi nombre" in page
    r = b.post(f"/tareas/{task_id}/tomar", {"next": "https://evil.example/"})
    assert r.headers["Location"] == "/bandeja"
    r = b.post(f"/tareas/{task_id}/liberar", {"next": "/bandeja"})
    assert r.status_code == 303 and wt.task(task_id).assignee is None


def test_claim_of_a_task_taken_meanwhile_says_so(app, wt) -> None:  # type: ignore[no-untyped-def]
    iid = start_case(wt)
    task_id = open_task(wt, iid, "valorar_riesgo")
    wt.add_user("beto", "contrasena-de-prueba", name="Beto", role="caseworker", institution="ISM",
                groups=["ism_atencion"])
    wt.claim(task_id, wt.find_user("beto"))
    b = Browser(app)
    b.login("ana")
    r = b.post(f"/tareas/{task_id}/tomar", {"next": "/bandeja"}, follow_redirects=True)
    assert "Otra persona tomó esta tarea antes que usted." in r.get_data(as_text=True)


def test_open_task_queries_use_the_partial_open_task_index(wt) -> None:  # type: ignore[no-untyped-def]
    with wt.db.read() as s:
        plans = [s.connection().exec_driver_sql("EXPLAIN QUERY PLAN " + sql).all() for sql in (
            "SELECT id FROM tasks WHERE state='READY' AND assignee='ana' ORDER BY due_at",
            "SELECT id FROM tasks WHERE state='READY' AND (assignee='ana' OR (assignee IS NULL AND "
            "candidate_group IN ('ism_atencion'))) ORDER BY due_at IS NULL, due_at, created_at LIMIT 200",
        )]
    for plan in plans:
        assert any("ix_tasks_ready_inbox" in str(row) for row in plan), plan
    assert {i.name for i in Task.__table__.indexes} >= {"ix_tasks_ready_inbox"}
