"""Timers: the durable ``timers`` table and the due dates of user tasks.

After every transition the instance's waiting timer events are mirrored into the
``timers`` table, so a scheduler finds due work with one indexed query and never
has to deserialize a workflow to learn what is pending.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session
from SpiffWorkflow.bpmn.specs.control import BoundaryEventSplit
from SpiffWorkflow.bpmn.specs.event_definitions.timer import (
    CycleTimerEventDefinition,
    DurationTimerEventDefinition,
    TimeDateEventDefinition,
    TimerEventDefinition,
)
from SpiffWorkflow.bpmn.specs.mixins.events.intermediate_event import BoundaryEvent
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.task import Task as SpiffTask
from SpiffWorkflow.util.task import TaskState

from engine import clock
from engine.errors import Conflict, ExecutionFailed, InvalidState
from engine.store.models import Task as TaskRow
from engine.store.models import Timer

if TYPE_CHECKING:
    from engine.runtime import Runtime

PENDING = "pending"


def _kind(definition: TimerEventDefinition) -> str:
    if isinstance(definition, CycleTimerEventDefinition):
        return "cycle"
    if isinstance(definition, DurationTimerEventDefinition):
        return "duration"
    return "date"


def _instant(value: str) -> datetime:
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        raise ValueError(f"timer value {value!r} has no UTC offset")
    return parsed.astimezone(timezone.utc)


def timer_due(task: SpiffTask) -> datetime | None:
    """When a waiting timer task comes due, from the value SpiffWorkflow evaluated and cached."""
    value = task._get_internal_data("event_value")
    if value is None:
        return None
    if isinstance(value, dict):  # cycle: the next occurrence, while cycles remain
        return _instant(value["next"]) if value.get("cycles", 0) != 0 else None
    return _instant(str(value))


def waiting_timers(wf: BpmnWorkflow) -> list[SpiffTask]:
    return [t for t in wf.event_manager.tasks.values()
            if isinstance(getattr(t.task_spec, "event_definition", None), TimerEventDefinition)
            and t.state == TaskState.WAITING]


def sync(s: Session, instance_id: int, wf: BpmnWorkflow, deadlines: dict[str, dict[str, Any]],
         cancel_all: bool = False) -> None:
    """Make the pending rows of one instance match its waiting timers."""
    wanted: dict[tuple[str, datetime], SpiffTask] = {}
    if not cancel_all:
        for task in waiting_timers(wf):
            due = timer_due(task)
            if due is not None:
                wanted[(str(task.id), due)] = task
    existing = {(r.task_id, r.due_at): r.id for r in s.execute(
        select(Timer.id, Timer.task_id, Timer.due_at).where(Timer.instance_id == instance_id,
                                                            Timer.status == PENDING))}
    stale = [(key, row_id) for key, row_id in existing.items() if key not in wanted]
    if stale:
        # A timer that left the waiting set after coming due fired during this transition.
        now = clock.now()
        fired = [row_id for (_, due), row_id in stale if due <= now and not cancel_all]
        cancelled = [row_id for (_, due), row_id in stale if due > now or cancel_all]
        if fired:
            s.execute(update(Timer).where(Timer.id.in_(fired)).values(status="fired", fired_at=now))
        if cancelled:
            s.execute(update(Timer).where(Timer.id.in_(cancelled)).values(status="cancelled"))
    for (task_id, due), task in wanted.items():
        if (task_id, due) in existing:
            continue
        spec = task.task_spec
        value = task._get_internal_data("event_value")
        iso = value["next"] if isinstance(value, dict) else str(value)
        attached = _attached_to(task)
        s.add(Timer(instance_id=instance_id, task_id=task_id, task_name=spec.bpmn_id or spec.name,
                    kind=_kind(spec.event_definition), interrupting=bool(getattr(spec, "cancel_activity", True)),
                    attached_to=attached, due_at=due, status=PENDING, deadline=deadlines.get(iso)))


def _attached_to(task: SpiffTask) -> str | None:
    if not isinstance(task.task_spec, BoundaryEvent):
        return None
    for sibling in task.parent.children if task.parent else []:
        if not isinstance(sibling.task_spec, BoundaryEvent):
            return sibling.task_spec.bpmn_id
    return None


def due_for_task(rt: "Runtime", task: SpiffTask, info: dict[str, Any]) -> tuple[datetime | None, dict | None]:
    """A user task's due date: its earliest boundary timer, else its ``dueDate`` expression."""
    from engine.expressions import _computed

    candidates: list[tuple[datetime, str]] = []
    parent = task.parent
    if parent is not None and isinstance(parent.task_spec, BoundaryEventSplit):
        for sibling in parent.children:
            definition = getattr(sibling.task_spec, "event_definition", None)
            if isinstance(definition, (TimeDateEventDefinition, DurationTimerEventDefinition)):
                due = timer_due(sibling)
                if due is not None:
                    candidates.append((due, str(sibling._get_internal_data("event_value"))))
    if not candidates and info.get("due"):
        iso = rt.script_engine.evaluate(task, info["due"])
        candidates.append((_instant(str(iso)), str(iso)))
    if not candidates:
        return None, None
    due, iso = min(candidates)
    entries = _computed.get() or {}
    return due, entries.get(iso)


# --- firing ---------------------------------------------------------------------------------------

LEASE = timedelta(minutes=5)
log = logging.getLogger("tramita.timers")


@dataclass(frozen=True)
class Fired:
    timer_id: int
    instance_id: int
    task_name: str
    due_at: datetime
    fired_at: datetime
    outcome: str  # fired | skipped | error

    @property
    def lateness(self) -> float:
        return (self.fired_at - self.due_at).total_seconds()


def claim_due(rt: "Runtime", worker: str, as_of: datetime, limit: int = 100) -> list[int]:
    """Lease a batch of due timers to one worker so two schedulers never take the same rows."""
    now = clock.now()
    with rt.db.write() as s:
        candidates = (select(Timer.id).where(
            Timer.status == PENDING, Timer.due_at <= as_of,
            or_(Timer.claimed_until.is_(None), Timer.claimed_until < now))
            .order_by(Timer.due_at).limit(limit))
        if not rt.db.is_sqlite:
            candidates = candidates.with_for_update(skip_locked=True)
        ids = list(s.execute(candidates).scalars())
        if ids:
            s.execute(update(Timer).where(Timer.id.in_(ids)).values(claimed_by=worker, claimed_until=now + LEASE))
        return ids


def fire(rt: "Runtime", timer_id: int, worker: str) -> Fired:
    """Fire one claimed timer: load its instance, refresh timers, step, persist: one transaction."""
    from engine import instances

    with rt.db.read() as s:
        row = s.get(Timer, timer_id)
        if row is None:
            raise LookupError(f"timer {timer_id} does not exist")
        instance_id, task_name, due_at = row.instance_id, row.task_name, row.due_at

    def apply(wf: BpmnWorkflow, s: Session) -> dict[str, Any]:
        q = select(Timer).where(Timer.id == timer_id)
        if not rt.db.is_sqlite:
            q = q.with_for_update()
        timer = s.execute(q).scalar_one()
        if timer.status != PENDING or timer.claimed_by != worker:
            raise _AlreadyTaken()
        now = clock.now()
        timer.status, timer.fired_at = "fired", now
        if timer.attached_to and not timer.interrupting:
            s.execute(update(TaskRow).where(TaskRow.instance_id == instance_id, TaskRow.name == timer.attached_to,
                                            TaskRow.state == "READY").values(overdue=True))
        return {"timer": timer.task_name, "kind": timer.kind, "due_at": timer.due_at.isoformat(),
                "late_seconds": round((now - timer.due_at).total_seconds(), 3),
                "deadline_missed_on": timer.attached_to if timer.attached_to else None}

    try:
        instances.transition(rt, instance_id, instances.SYSTEM, "timer_fired", apply)
    except _AlreadyTaken:
        return Fired(timer_id, instance_id, task_name, due_at, clock.now(), "skipped")
    except ExecutionFailed:
        return Fired(timer_id, instance_id, task_name, due_at, clock.now(), "error")
    except (InvalidState, Conflict):  # suspended, in error, or changed concurrently: try again later
        with rt.db.write() as s:
            s.execute(update(Timer).where(Timer.id == timer_id, Timer.claimed_by == worker)
                      .values(claimed_by=None, claimed_until=None))
        return Fired(timer_id, instance_id, task_name, due_at, clock.now(), "skipped")
    fired = Fired(timer_id, instance_id, task_name, due_at, clock.now(), "fired")
    log.info("timer %s (%s) of instance %s fired %.3f s after it was due", timer_id, task_name, instance_id,
             fired.lateness)
    return fired


class _AlreadyTaken(Exception):
    """Another worker fired or re-armed this timer first."""


def fire_due(rt: "Runtime", *, as_of: datetime | None = None, worker: str = "cli", batch: int = 100) -> list[Fired]:
    """Fire everything due as of an instant (now by default), batch by batch, until nothing is left."""
    as_of = as_of or clock.now()
    fired: list[Fired] = []
    seen: set[int] = set()
    while True:
        ids = [i for i in claim_due(rt, worker, as_of, batch) if i not in seen]
        if not ids:
            return fired
        seen.update(ids)
        fired.extend(fire(rt, timer_id, worker) for timer_id in ids)
