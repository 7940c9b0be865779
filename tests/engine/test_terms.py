"""Suspending a term: the timer moves (table row, task due date, SpiffWorkflow's cached value) and fires
at the new instant, never at the old one."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from engine.run import terms
from engine.run import firing as timers
from engine.errors import InvalidInput, InvalidState, NotFound
from engine.store.models import Instance, Timer
from engine.store.states import EventKind
from tests.diagrams import bundle, flows, process, user_task
from tests.engine.test_timers import boundary_process

UTC = timezone.utc
HMO = timezone(timedelta(hours=-7))
OLD_DUE = datetime(2026, 12, 28, 23, 59, 59, tzinfo=HMO)  # 5 días hábiles from Friday 2026-12-18

WAIT = process("espera", "\n".join([
    '<bpmn:startEvent id="start"/>',
    '<bpmn:intermediateCatchEvent id="vence"><bpmn:timerEventDefinition>'
    '<bpmn:timeDate>vence</bpmn:timeDate></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>',
    user_task("despues"), '<bpmn:endEvent id="fin"/>',
    flows(("start", "vence"), ("vence", "despues"), ("despues", "fin")),
]))


def notified_case(tramita, frozen_clock, *, interrupting: bool = True) -> int:  # type: ignore[no-untyped-def]
    tramita.deploy([bundle("p.bpmn", boundary_process('plazo_habil(fecha_notificacion, 5, "Ley art. 54")',
                                                      interrupting=interrupting))], "d")
    frozen_clock.set(datetime(2026, 12, 18, 17, 0, tzinfo=UTC))
    r = tramita.start("plazo", {"fecha_notificacion": "2026-12-18"}, "u")
    assert tramita.task(r.open_tasks[0]).due_at == OLD_DUE
    frozen_clock.set(datetime(2026, 12, 21, 16, 0, tzinfo=UTC))  # Monday: the decree suspending the term
    return r.instance_id


def timer_rows(tramita, instance_id):  # type: ignore[no-untyped-def]
    with tramita.db.read() as s:
        return list(s.execute(select(Timer).where(Timer.instance_id == instance_id).order_by(Timer.id)).scalars())


def cached_event_value(tramita, instance_id, spec_name="vence"):  # type: ignore[no-untyped-def]
    with tramita.db.read() as s:
        state = json.loads(s.execute(select(Instance.state).where(Instance.id == instance_id)).scalar_one())
    [task] = [t for t in state["tasks"].values() if t["task_spec"] == spec_name]
    return task["internal_data"].get("event_value")


def fire_at(tramita, frozen_clock, instant):  # type: ignore[no-untyped-def]
    frozen_clock.set(instant)
    return timers.fire_due(tramita.runtime)


def test_a_suspended_term_moves_the_boundary_timer_which_fires_at_the_new_time_not_the_old(tramita,
                                                                                           frozen_clock) -> None:
    iid = notified_case(tramita, frozen_clock)
    [resolver] = tramita.tasks(instance_id=iid)

    r = terms.suspend_term(tramita.runtime, iid, "vence", 4, "juez", "Acuerdo 12/2026: suspensión del plazo")

    # Computed by hand: after Monday 28 December come Tue 29, Wed 30, Thu 31, (Fri 1 January Año Nuevo,
    # Sat 2, Sun 3 are inhábiles), Mon 4 January 2027.
    new_due = datetime(2027, 1, 4, 23, 59, 59, tzinfo=HMO)
    assert (r.status, r.revision, r.open_tasks) == ("running", 2, [resolver.id])
    old, new = timer_rows(tramita, iid)
    assert (old.status, old.due_at) == ("cancelled", OLD_DUE)
    assert (new.status, new.due_at, new.task_id, new.task_name) == ("pending", new_due, old.task_id, "vence")
    assert (new.attached_to, new.interrupting) == ("resolver", True)
    assert new.deadline["due"] == "2027-01-04T23:59:59-07:00"
    assert (new.deadline["unit"], new.deadline["count"], new.deadline["citation"]) == ("business", 4, "Ley art. 54")
    assert [d["day"] for d in new.deadline["skipped"]] == ["2027-01-01", "2027-01-02", "2027-01-03"]
    assert new.deadline["suspension"]["reason"] == "Acuerdo 12/2026: suspensión del plazo"
    assert new.deadline["previous"]["due"] == "2026-12-28T23:59:59-07:00"
    assert "suspendido" in new.deadline["rule"]

    task = tramita.task(resolver.id)
    assert (task.state, task.due_at, task.deadline) == ("READY", new_due, new.deadline)
    assert cached_event_value(tramita, iid) == "2027-01-04T23:59:59-07:00"  # SpiffWorkflow's cache moved too

    [event] = [e for e in tramita.instance(iid).events if e.kind == EventKind.TERM_SUSPENDED]
    assert event.actor == "juez"
    assert {k: event.detail[k] for k in ("timer", "old_due", "new_due", "reason", "business_days", "attached_to")} == {
        "timer": "vence", "old_due": "2026-12-28T23:59:59-07:00", "new_due": "2027-01-04T23:59:59-07:00",
        "reason": "Acuerdo 12/2026: suspensión del plazo", "business_days": 4, "attached_to": "resolver"}

    # Nothing at the old deadline, nothing a second before the new one, then exactly once.
    assert fire_at(tramita, frozen_clock, OLD_DUE + timedelta(seconds=1)) == []
    assert fire_at(tramita, frozen_clock, new_due - timedelta(seconds=1)) == []
    assert [t.state for t in tramita.tasks(instance_id=iid)] == ["READY"]
    [fired] = fire_at(tramita, frozen_clock, new_due + timedelta(seconds=1))
    assert (fired.timer_id, fired.outcome, fired.due_at) == (new.id, "fired", new_due)
    assert timers.fire_due(tramita.runtime) == []
    detail = tramita.instance(iid)
    assert [t.name for t in detail.tasks if t.state == "READY"] == ["tras_vencimiento"]
    assert [t.state for t in detail.tasks if t.name == "resolver"] == ["CANCELLED"]
    assert [(t.due_at, t.status) for t in detail.timers] == [(OLD_DUE, "cancelled"), (new_due, "fired")]
    assert [e.kind for e in detail.events].count("timer_fired") == 1


def test_suspensions_add_up_each_from_the_current_due_date(tramita, frozen_clock) -> None:
    iid = notified_case(tramita, frozen_clock)
    terms.suspend_term(tramita.runtime, iid, "vence", 4, "juez", "primera suspensión")
    r = terms.suspend_term(tramita.runtime, iid, "vence", 1, "juez", "prevención pendiente")
    assert r.revision == 3
    rows = timer_rows(tramita, iid)
    assert [(t.status, t.due_at.astimezone(HMO).isoformat()) for t in rows] == [
        ("cancelled", "2026-12-28T23:59:59-07:00"), ("cancelled", "2027-01-04T23:59:59-07:00"),
        ("pending", "2027-01-05T23:59:59-07:00")]
    assert rows[-1].deadline["previous"]["suspension"]["reason"] == "primera suspensión"
    assert tramita.tasks(instance_id=iid)[0].due_at == datetime(2027, 1, 5, 23, 59, 59, tzinfo=HMO)


def test_rearm_timer_sets_an_explicit_due_on_an_intermediate_timer(tramita, frozen_clock) -> None:
    tramita.deploy([bundle("e.bpmn", WAIT)], "d")
    r = tramita.start("espera", {"vence": "2026-12-10T10:00:00-07:00"}, "u")
    result = terms.rearm_timer(tramita.runtime, r.instance_id, "vence", "2026-12-15T16:00:00Z", "actuario",
                               "Nueva fecha de audiencia")
    assert result.revision == 2
    old, new = timer_rows(tramita, r.instance_id)
    assert (old.status, new.status, new.due_at) == ("cancelled", "pending", datetime(2026, 12, 15, 16, tzinfo=UTC))
    assert new.deadline is None  # there was no legal explanation to carry over
    assert cached_event_value(tramita, r.instance_id) == "2026-12-15T16:00:00+00:00"
    [event] = [e for e in tramita.instance(r.instance_id).events if e.kind == EventKind.TIMER_REARMED]
    assert (event.actor, event.detail["old_due"], event.detail["new_due"], event.detail["reason"]) == (
        "actuario", "2026-12-10T10:00:00-07:00", "2026-12-15T16:00:00+00:00", "Nueva fecha de audiencia")
    assert event.detail["attached_to"] is None

    assert fire_at(tramita, frozen_clock, datetime(2026, 12, 10, 18, tzinfo=UTC)) == []
    [fired] = fire_at(tramita, frozen_clock, datetime(2026, 12, 15, 16, 0, 1, tzinfo=UTC))
    assert fired.outcome == "fired"
    assert [t.name for t in tramita.tasks(instance_id=r.instance_id)] == ["despues"]


def test_rearm_keeps_the_legal_explanation_of_a_non_interrupting_deadline(tramita, frozen_clock) -> None:
    iid = notified_case(tramita, frozen_clock, interrupting=False)
    [resolver] = tramita.tasks(instance_id=iid)
    terms.rearm_timer(tramita.runtime, iid, "vence", "2027-01-08T23:59:59-07:00", "juez", "Acuerdo 3/2027")
    task = tramita.task(resolver.id)
    assert task.due_at == datetime(2027, 1, 8, 23, 59, 59, tzinfo=HMO)
    assert task.deadline["due"] == "2027-01-08T23:59:59-07:00"
    assert (task.deadline["citation"], task.deadline["start"]) == ("Ley art. 54", "2026-12-18T00:00:00-07:00")
    assert task.deadline["rearmed"]["reason"] == "Acuerdo 3/2027"
    assert task.deadline["previous"]["due"] == "2026-12-28T23:59:59-07:00"

    assert fire_at(tramita, frozen_clock, OLD_DUE + timedelta(days=2)) == []
    [fired] = fire_at(tramita, frozen_clock, datetime(2027, 1, 9, 7, 0, 0, tzinfo=UTC))
    assert fired.outcome == "fired"
    assert tramita.task(resolver.id).overdue and tramita.task(resolver.id).state == "READY"


def test_an_overdue_timer_not_yet_fired_is_cancelled_not_counted_as_fired(tramita, frozen_clock) -> None:
    iid = notified_case(tramita, frozen_clock)
    frozen_clock.set(OLD_DUE + timedelta(hours=3))  # past the deadline, and no scheduler has run
    [claimed] = timers.claim_due(tramita.runtime, "w1", frozen_clock.now())  # one is just about to fire it
    terms.suspend_term(tramita.runtime, iid, "vence", 4, "juez", "Suspensión decretada antes del vencimiento")
    assert timers.fire(tramita.runtime, claimed, "w1").outcome == "skipped"  # the row it claimed is gone
    old, new = timer_rows(tramita, iid)
    assert (old.id, old.status, old.fired_at) == (claimed, "cancelled", None)
    assert new.status == "pending"
    assert timers.fire_due(tramita.runtime) == []
    detail = tramita.instance(iid)
    assert detail.instance.revision == 2
    assert [t.name for t in detail.tasks if t.state == "READY"] == ["resolver"]
    assert "timer_fired" not in [e.kind for e in detail.events]


def test_bad_requests_are_refused_naming_the_field_and_change_nothing(tramita, frozen_clock) -> None:
    iid = notified_case(tramita, frozen_clock)
    rt = tramita.runtime

    def refused(exc_type, field, call):  # type: ignore[no-untyped-def]
        with pytest.raises(exc_type) as info:
            call()
        assert info.value.field == field, info.value.message
        return info.value.message

    msg = refused(NotFound, "timer", lambda: terms.rearm_timer(rt, iid, "plazo_x", "2027-01-08T00:00:00-07:00",
                                                               "juez", "r"))
    assert "plazo_x" in msg and "vence" in msg
    refused(NotFound, "timer", lambda: terms.suspend_term(rt, iid, "resolver", 2, "juez", "r"))
    msg = refused(InvalidInput, "due", lambda: terms.rearm_timer(rt, iid, "vence", "2027-01-08T23:59:59", "juez", "r"))
    assert "offset" in msg
    refused(InvalidInput, "due", lambda: terms.rearm_timer(rt, iid, "vence", "el lunes", "juez", "r"))
    refused(InvalidInput, "due", lambda: terms.rearm_timer(rt, iid, "vence", None, "juez", "r"))
    msg = refused(InvalidInput, "due", lambda: terms.rearm_timer(rt, iid, "vence", "2026-12-20T00:00:00-07:00",
                                                                 "juez", "r"))
    assert "not later than now" in msg
    now = frozen_clock.now().isoformat()
    refused(InvalidInput, "due", lambda: terms.rearm_timer(rt, iid, "vence", now, "juez", "r"))
    for days in (0, -3, True, 1.5, "2"):
        refused(InvalidInput, "business_days", lambda: terms.suspend_term(rt, iid, "vence", days, "juez", "r"))
    refused(InvalidInput, "reason", lambda: terms.suspend_term(rt, iid, "vence", 2, "juez", "  "))
    refused(NotFound, "instance", lambda: terms.suspend_term(rt, 9999, "vence", 2, "juez", "r"))

    detail = tramita.instance(iid)
    assert detail.instance.revision == 1
    assert [(t.status, t.due_at) for t in detail.timers] == [("pending", OLD_DUE)]
    assert [e.kind for e in detail.events] == ["instance_started"]
    assert cached_event_value(tramita, iid) == "2026-12-28T23:59:59-07:00"

    # A term that already ended cannot be moved.
    tramita.complete(detail.tasks[0].id, {}, "u")
    refused(InvalidState, "instance", lambda: terms.suspend_term(rt, iid, "vence", 2, "juez", "r"))
