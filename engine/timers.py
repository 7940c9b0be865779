"""Timers: the durable ``timers`` table and the due dates of user tasks.

After every transition the instance's waiting timer events are mirrored into the
``timers`` table, so a scheduler finds due work with one indexed query and never
has to deserialize a workflow to learn what is pending.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update
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
    stale = [row_id for key, row_id in existing.items() if key not in wanted]
    if stale:
        s.execute(update(Timer).where(Timer.id.in_(stale)).values(status="cancelled"))
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
