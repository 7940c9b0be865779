from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from engine.time import clock
from engine.run import firing as timers
from engine.store.models import Task, Timer
from tests.diagrams import bundle, flows, process, user_task

UTC = timezone.utc


def boundary_process(expr: str, *, interrupting: bool) -> str:
    cancel = "true" if interrupting else "false"
    return process("plazo", "\n".join([
        '<bpmn:startEvent id="start"/>', user_task("resolver", "Resolver"),
        f'<bpmn:boundaryEvent id="vence" attachedToRef="resolver" cancelActivity="{cancel}">'
        f'<bpmn:timerEventDefinition><bpmn:timeDate>{expr}</bpmn:timeDate></bpmn:timerEventDefinition>'
        '</bpmn:boundaryEvent>',
        user_task("tras_vencimiento", "Tras vencimiento"),
        '<bpmn:endEvent id="fin"/>', '<bpmn:endEvent id="fin_vencido"/>',
        flows(("start", "resolver"), ("resolver", "fin"), ("vence", "tras_vencimiento"),
              ("tras_vencimiento", "fin_vencido")),
    ]))


def pending(tramita, instance_id):  # type: ignore[no-untyped-def]
    with tramita.db.read() as s:
        return list(s.execute(select(Timer).where(Timer.instance_id == instance_id, Timer.status == "pending"))
                    .scalars())


def test_business_day_boundary_timer_sets_due_date_and_fires_once(tramita, frozen_clock) -> None:
    # Notified Friday 2026-12-18 (Hermosillo); 5 días hábiles skip the weekend and 25 December.
    tramita.deploy([bundle("p.bpmn", boundary_process(
        'plazo_habil(fecha_notificacion, 5, "Ley art. 54")', interrupting=True))], "d")
    frozen_clock.set(datetime(2026, 12, 18, 17, 0, tzinfo=UTC))
    r = tramita.start("plazo", {"fecha_notificacion": "2026-12-18"}, "u")
    expected_due = datetime(2026, 12, 28, 23, 59, 59, tzinfo=timezone(timedelta(hours=-7)))
    task = tramita.task(r.open_tasks[0])
    assert task.due_at == expected_due
    assert task.deadline["citation"] == "Ley art. 54"
    [timer] = pending(tramita, r.instance_id)
    assert timer.due_at == expected_due and timer.attached_to == "resolver" and timer.interrupting

    # Nothing fires one second before the deadline.
    assert timers.fire_due(tramita.runtime, as_of=expected_due - timedelta(seconds=1)) == []
    frozen_clock.set(expected_due + timedelta(seconds=1))
    fired = timers.fire_due(tramita.runtime)
    assert [(f.timer_id, f.outcome) for f in fired] == [(timer.id, "fired")]
    detail = tramita.instance(r.instance_id)
    assert [t.name for t in detail.tasks if t.state == "READY"] == ["tras_vencimiento"]
    assert [t.state for t in detail.tasks if t.name == "resolver"] == ["CANCELLED"]
    assert timers.fire_due(tramita.runtime) == []  # exactly once
    assert [t.status for t in detail.timers] == ["fired"]


def test_boundary_timer_of_a_task_completed_in_time_never_fires(tramita, frozen_clock) -> None:
    tramita.deploy([bundle("p.bpmn", boundary_process('plazo_habil("2026-12-01", 3)', interrupting=True))], "d")
    r = tramita.start("plazo", {}, "u")
    tramita.complete(r.open_tasks[0], {}, "u")
    assert pending(tramita, r.instance_id) == []
    frozen_clock.advance(timedelta(days=30))
    assert timers.fire_due(tramita.runtime) == []
    detail = tramita.instance(r.instance_id)
    assert detail.instance.status == "completed"
    assert [t.status for t in detail.timers] == ["cancelled"]


def test_non_interrupting_deadline_flags_the_task_overdue(tramita, frozen_clock) -> None:
    tramita.deploy([bundle("p.bpmn", boundary_process('plazo_habil("2026-12-01", 1)', interrupting=False))], "d")
    r = tramita.start("plazo", {}, "u")
    frozen_clock.set(datetime(2026, 12, 3, 7, 0, tzinfo=UTC))
    [f] = timers.fire_due(tramita.runtime)
    assert f.outcome == "fired" and f.lateness > 0
    with tramita.db.read() as s:
        resolver = s.get(Task, r.open_tasks[0])
        assert resolver.state == "READY" and resolver.overdue
    ready = sorted(t.name for t in tramita.tasks(instance_id=r.instance_id))
    assert ready == ["resolver", "tras_vencimiento"]
    fired_events = [e for e in tramita.instance(r.instance_id).events if e.kind == "timer_fired"]
    assert fired_events[0].detail["deadline_missed_on"] == "resolver"
    assert fired_events[0].actor == "system"
