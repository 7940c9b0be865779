"""Timers: the durable ``timers`` table and the due dates of user tasks.

After every transition the instance's waiting timer events are mirrored into the
``timers`` table, so a scheduler finds due work with one indexed query and never
has to deserialize a workflow to learn what is pending.
"""

from __future__ import annotations

import logging
import math
import os
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, insert, or_, select, update
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
from engine.errors import Conflict, ExecutionFailed, InvalidInput, InvalidState
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


_TIMERS = Timer.__table__
_SELECT_PENDING = select(_TIMERS.c.id, _TIMERS.c.task_id, _TIMERS.c.due_at).where(
    _TIMERS.c.instance_id == bindparam("b_instance"), _TIMERS.c.status == PENDING)
_INSERT_TIMER = insert(_TIMERS)


def sync(s: Session, instance_id: int, wf: BpmnWorkflow, deadlines: dict[str, dict[str, Any]],
         cancel_all: bool = False) -> None:
    """Make the pending rows of one instance match its waiting timers (Core statements: this is the hot path)."""
    wanted: dict[tuple[str, datetime], SpiffTask] = {}
    if not cancel_all:
        for task in waiting_timers(wf):
            due = timer_due(task)
            if due is not None:
                wanted[(str(task.id), due)] = task
    s.flush()  # rows the caller changed through the ORM must be visible to the select below
    conn = s.connection()
    existing = {(task_id, due_at): row_id for row_id, task_id, due_at in
                conn.execute(_SELECT_PENDING, {"b_instance": instance_id})}
    stale = [(key, row_id) for key, row_id in existing.items() if key not in wanted]
    if stale:
        # A timer that left the waiting set after coming due fired during this transition.
        now = clock.now()
        fired = [row_id for (_, due), row_id in stale if due <= now and not cancel_all]
        cancelled = [row_id for (_, due), row_id in stale if due > now or cancel_all]
        if fired:
            conn.execute(update(_TIMERS).where(_TIMERS.c.id.in_(fired)).values(status="fired", fired_at=now))
        if cancelled:
            conn.execute(update(_TIMERS).where(_TIMERS.c.id.in_(cancelled)).values(status="cancelled"))
    rows = []
    for (task_id, due), task in wanted.items():
        if (task_id, due) in existing:
            continue
        spec = task.task_spec
        value = task._get_internal_data("event_value")
        iso = value["next"] if isinstance(value, dict) else str(value)
        rows.append(dict(instance_id=instance_id, task_id=task_id, task_name=spec.bpmn_id or spec.name,
                         kind=_kind(spec.event_definition), interrupting=bool(getattr(spec, "cancel_activity", True)),
                         attached_to=_attached_to(task), due_at=due, status=PENDING, claimed_by=None,
                         claimed_until=None, fired_at=None, deadline=_explanation(deadlines, iso, due)))
    if rows:
        conn.execute(_INSERT_TIMER, rows)


def _explanation(deadlines: dict[str, dict[str, Any]], iso: str, due: datetime) -> dict[str, Any] | None:
    """The recorded explanation of a timer's instant: by its text, else by the instant it denotes
    (SpiffWorkflow keeps a cycle's next occurrence in UTC, not as the helper wrote it)."""
    found = deadlines.get(iso)
    if found is None:
        for key, explanation in deadlines.items():
            try:
                if _instant(key) == due:
                    return explanation
            except ValueError:
                continue
    return found


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
LEASE_ENV = "TRAMITA_TIMER_LEASE_SECONDS"
log = logging.getLogger("tramita.timers")


def lease() -> timedelta:
    """How long a claim keeps other workers off a timer: ``$TRAMITA_TIMER_LEASE_SECONDS``, else :data:`LEASE`.

    The lease only bounds how long the timers a crashed worker had claimed wait before another
    worker takes them; it is not what makes firing exactly-once (the row is re-checked in the
    firing transaction), so a short lease costs at most a skipped duplicate attempt.
    """
    raw = os.environ.get(LEASE_ENV, "").strip()
    if not raw:
        return LEASE
    try:
        seconds = float(raw)
    except ValueError:
        seconds = math.nan
    if not (math.isfinite(seconds) and seconds > 0):
        raise InvalidInput(f"{LEASE_ENV} must be a positive number of seconds, not {raw!r}", field=LEASE_ENV)
    return timedelta(seconds=seconds)


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


@dataclass(frozen=True)
class Claimed:
    """A timer row leased to one worker, with what firing it needs to know up front."""

    timer_id: int
    instance_id: int
    task_name: str
    due_at: datetime


def claim(rt: "Runtime", worker: str, as_of: datetime, limit: int = 100) -> list[Claimed]:
    """Lease a batch of due timers to one worker so two schedulers never take the same rows."""
    now = clock.now()
    until = now + lease()
    with rt.db.write() as s:
        # Strictly before: SpiffWorkflow fires a timer only once its instant has passed (value < now),
        # and a term that "vence a las 23:59:59" still runs during that second.
        candidates = (select(Timer.id, Timer.instance_id, Timer.task_name, Timer.due_at).where(
            Timer.status == PENDING, Timer.due_at < as_of,
            or_(Timer.claimed_until.is_(None), Timer.claimed_until < now))
            .order_by(Timer.due_at).limit(limit))
        if not rt.db.is_sqlite:
            candidates = candidates.with_for_update(skip_locked=True)
        rows = [Claimed(*row) for row in s.execute(candidates)]
        if rows:
            s.execute(update(Timer).where(Timer.id.in_([r.timer_id for r in rows]))
                      .values(claimed_by=worker, claimed_until=until))
        return rows


def claim_due(rt: "Runtime", worker: str, as_of: datetime, limit: int = 100) -> list[int]:
    """Lease a batch of due timers to one worker; returns their ids."""
    return [c.timer_id for c in claim(rt, worker, as_of, limit)]


_TAKE = (update(_TIMERS)
         .where(_TIMERS.c.id == bindparam("b_id"), _TIMERS.c.status == PENDING,
                _TIMERS.c.claimed_by == bindparam("b_worker"))
         .values(status="fired", fired_at=bindparam("b_now"))
         .returning(_TIMERS.c.task_name, _TIMERS.c.kind, _TIMERS.c.due_at, _TIMERS.c.attached_to,
                    _TIMERS.c.interrupting))


def fire(rt: "Runtime", timer_id: int, worker: str, *, claimed: Claimed | None = None) -> Fired:
    """Fire one claimed timer: load its instance, refresh timers, step, persist: one transaction."""
    from engine import instances

    if claimed is None:
        with rt.db.read() as s:
            row = s.get(Timer, timer_id)
            if row is None:
                raise LookupError(f"timer {timer_id} does not exist")
            claimed = Claimed(timer_id, row.instance_id, row.task_name, row.due_at)
    instance_id, task_name, due_at = claimed.instance_id, claimed.task_name, claimed.due_at

    def apply(wf: BpmnWorkflow, s: Session) -> dict[str, Any]:
        # One guarded UPDATE both re-checks the lease and marks the row (it takes the row lock on
        # PostgreSQL): if another worker fired it, or a re-arm cancelled it, nothing matches.
        now = clock.now()
        if due_at >= now:
            # Claimed as of a later instant than the clock (``fire_due(as_of=...)`` without moving the
            # clock): SpiffWorkflow would not fire it, and marking the row fired would only make the
            # bookkeeping re-create it as a new pending row, claimed again, forever.
            raise _NotDue()
        row = s.connection().execute(_TAKE, {"b_id": timer_id, "b_worker": worker, "b_now": now}).first()
        if row is None:
            raise _AlreadyTaken()
        name, kind, due, attached_to, interrupting = row
        if attached_to and not interrupting:
            # The task the deadline is on or, when it is on a subprocess, the tasks open inside it.
            names = [attached_to, *_open_inside(wf, attached_to)]
            s.execute(update(TaskRow).where(TaskRow.instance_id == instance_id, TaskRow.name.in_(names),
                                            TaskRow.state == "READY").values(overdue=True))
        return {"timer": name, "kind": kind, "due_at": due.isoformat(),
                "late_seconds": round((now - due).total_seconds(), 3),
                "deadline_missed_on": attached_to if attached_to else None}

    try:
        instances.transition(rt, instance_id, instances.SYSTEM, "timer_fired", apply, writes=True)
    except _AlreadyTaken:
        return Fired(timer_id, instance_id, task_name, due_at, clock.now(), "skipped")
    except _NotDue:
        with rt.db.write() as s:
            s.execute(update(Timer).where(Timer.id == timer_id, Timer.claimed_by == worker)
                      .values(claimed_by=None, claimed_until=None))
        return Fired(timer_id, instance_id, task_name, due_at, clock.now(), "skipped")
    except ExecutionFailed:
        return Fired(timer_id, instance_id, task_name, due_at, clock.now(), "error")
    except (InvalidState, Conflict):  # suspended, in error, or changed concurrently: try again later
        with rt.db.write() as s:
            s.execute(update(Timer).where(Timer.id == timer_id, Timer.claimed_by == worker)
                      .values(claimed_by=None, claimed_until=None))
        return Fired(timer_id, instance_id, task_name, due_at, clock.now(), "skipped")
    fired = Fired(timer_id, instance_id, task_name, due_at, clock.now(), "fired")
    log.debug("timer %s (%s) of instance %s fired %.3f s after it was due", timer_id, task_name, instance_id,
              fired.lateness)  # the service logs it (once); the CLI prints it
    return fired


def _open_inside(wf: BpmnWorkflow, subprocess: str) -> list[str]:
    """Element ids of the READY user tasks running inside (at any depth) the subprocess ``subprocess``."""
    found = []
    for task in wf.get_tasks(state=TaskState.READY, manual=True):
        owner = task.workflow
        while owner is not wf and owner is not None:
            parent = wf.get_task_from_id(owner.parent_task_id) if getattr(owner, "parent_task_id", None) else None
            if parent is None:
                break
            if parent.task_spec.bpmn_id == subprocess:
                found.append(task.task_spec.bpmn_id)
                break
            owner = parent.workflow
    return found


class _AlreadyTaken(Exception):
    """Another worker fired or re-armed this timer first."""


class _NotDue(Exception):
    """The timer is not due yet by the clock (only an ``as_of`` ahead of the clock claimed it)."""


def fire_due(rt: "Runtime", *, as_of: datetime | None = None, worker: str = "cli", batch: int = 100) -> list[Fired]:
    """Fire everything due as of an instant (now by default), batch by batch, until nothing is left."""
    as_of = as_of or clock.now()
    fired: list[Fired] = []
    seen: set[int] = set()
    while True:
        claimed = [c for c in claim(rt, worker, as_of, batch) if c.timer_id not in seen]
        if not claimed:
            return fired
        seen.update(c.timer_id for c in claimed)
        fired.extend(fire(rt, c.timer_id, worker, claimed=c) for c in claimed)
