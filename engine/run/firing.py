"""Firing timers: leases, claims and the transition a due timer makes.

The scheduler claims due rows of the ``timers`` mirror (``engine.run.timers``) with a lease,
so that two timer services never fire the same timer, and fires each through a transition.
"""

from __future__ import annotations

import logging
import math
import os
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, or_, select, update
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState

from engine.errors import Conflict, ExecutionFailed, InvalidInput, InvalidState
from engine.run import transitions as instances
from engine.run.timers import _TIMERS
from engine.store.states import EventKind, FiringOutcome, TimerStatus
from engine.store.states import TaskState as RowState  # a task row's state; TaskState is SpiffWorkflow's
from engine.store.models import Task as TaskRow
from engine.store.models import Timer
from engine.time import clock

if TYPE_CHECKING:
    from engine.run.runtime import Runtime

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
    outcome: FiringOutcome

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
            Timer.status == TimerStatus.PENDING, Timer.due_at < as_of,
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
         .where(_TIMERS.c.id == bindparam("b_id"), _TIMERS.c.status == TimerStatus.PENDING,
                _TIMERS.c.claimed_by == bindparam("b_worker"))
         .values(status=TimerStatus.FIRED, fired_at=bindparam("b_now"))
         .returning(_TIMERS.c.task_name, _TIMERS.c.kind, _TIMERS.c.due_at, _TIMERS.c.attached_to,
                    _TIMERS.c.interrupting))


def fire(rt: "Runtime", timer_id: int, worker: str, *, claimed: Claimed | None = None) -> Fired:
    """Fire one claimed timer: load its instance, refresh timers and step (no lock held), then persist.

    The diagram code a timer sets off runs before the write transaction, as a task completion's
    does; the timer row is re-checked and marked fired in the write transaction with the state.
    """

    if claimed is None:
        with rt.db.read() as s:
            row = s.get(Timer, timer_id)
            if row is None:
                raise LookupError(f"timer {timer_id} does not exist")
            claimed = Claimed(timer_id, row.instance_id, row.task_name, row.due_at)
    instance_id, task_name, due_at = claimed.instance_id, claimed.task_name, claimed.due_at

    def apply(wf: BpmnWorkflow, s: Session) -> dict[str, Any]:
        if due_at >= clock.now():
            # Claimed as of a later instant than the clock (``fire_due(as_of=...)`` without moving the
            # clock): SpiffWorkflow would not fire it, and marking the row fired would only make the
            # bookkeeping re-create it as a new pending row, claimed again, forever.
            raise _NotDue()
        return {}

    def take(s: Session, wf: BpmnWorkflow) -> dict[str, Any]:
        # Inside the write transaction, after the diagram code ran: one guarded UPDATE both re-checks
        # the lease and marks the row (it takes the row lock on PostgreSQL): if another worker fired
        # it, or a re-arm cancelled it, nothing matches and the whole transition is abandoned.
        now = clock.now()
        row = s.connection().execute(_TAKE, {"b_id": timer_id, "b_worker": worker, "b_now": now}).first()
        if row is None:
            raise _AlreadyTaken()
        name, kind, due, attached_to, interrupting = row
        if attached_to and not interrupting:
            # The task the deadline is on or, when it is on a subprocess, the tasks open inside it.
            names = [attached_to, *_open_inside(wf, attached_to)]
            s.execute(update(TaskRow).where(TaskRow.instance_id == instance_id, TaskRow.name.in_(names),
                                            TaskRow.state == RowState.READY).values(overdue=True))
        return {"timer": name, "kind": kind, "due_at": due.isoformat(),
                "late_seconds": round((now - due).total_seconds(), 3),
                "deadline_missed_on": attached_to if attached_to else None}

    try:
        instances.transition(rt, instance_id, instances.SYSTEM, EventKind.TIMER_FIRED, apply, on_write=take)
    except _AlreadyTaken:
        return Fired(timer_id, instance_id, task_name, due_at, clock.now(), FiringOutcome.SKIPPED)
    except _NotDue:
        with rt.db.write() as s:
            s.execute(update(Timer).where(Timer.id == timer_id, Timer.claimed_by == worker)
                      .values(claimed_by=None, claimed_until=None))
        return Fired(timer_id, instance_id, task_name, due_at, clock.now(), FiringOutcome.SKIPPED)
    except ExecutionFailed:
        return Fired(timer_id, instance_id, task_name, due_at, clock.now(), FiringOutcome.ERROR)
    except (InvalidState, Conflict):  # suspended, in error, or changed concurrently: try again later
        with rt.db.write() as s:
            s.execute(update(Timer).where(Timer.id == timer_id, Timer.claimed_by == worker)
                      .values(claimed_by=None, claimed_until=None))
        return Fired(timer_id, instance_id, task_name, due_at, clock.now(), FiringOutcome.SKIPPED)
    fired = Fired(timer_id, instance_id, task_name, due_at, clock.now(), FiringOutcome.FIRED)
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
