"""The timer mirror: the durable ``timers`` table and the due dates of user tasks.

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

from engine.time import clock
from engine.errors import Conflict, ExecutionFailed, InvalidInput, InvalidState
from engine.store.models import Task as TaskRow
from engine.store.models import Timer
from engine.store.states import TimerStatus

if TYPE_CHECKING:
    from engine.run.runtime import Runtime


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
    _TIMERS.c.instance_id == bindparam("b_instance"), _TIMERS.c.status == TimerStatus.PENDING)
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
            conn.execute(update(_TIMERS).where(_TIMERS.c.id.in_(fired)).values(status=TimerStatus.FIRED, fired_at=now))
        if cancelled:
            conn.execute(update(_TIMERS).where(_TIMERS.c.id.in_(cancelled)).values(status=TimerStatus.CANCELLED))
    rows = []
    for (task_id, due), task in wanted.items():
        if (task_id, due) in existing:
            continue
        spec = task.task_spec
        value = task._get_internal_data("event_value")
        iso = value["next"] if isinstance(value, dict) else str(value)
        rows.append(dict(instance_id=instance_id, task_id=task_id, task_name=spec.bpmn_id or spec.name,
                         kind=_kind(spec.event_definition), interrupting=bool(getattr(spec, "cancel_activity", True)),
                         attached_to=_attached_to(task), due_at=due, status=TimerStatus.PENDING, claimed_by=None,
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
    from engine.script.helpers import _computed

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
