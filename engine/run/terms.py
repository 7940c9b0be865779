"""Suspending a term: move a waiting timer to a new due instant and re-arm it.

A decree that suspends a term, or a pending prevención, pushes the deadline back. The
timer cannot follow by itself: SpiffWorkflow evaluates a timer's expression once, when
the engine reaches it, and caches the result in the task's internal data
(``event_value``); changing the case data afterwards never moves it. So these
operations rewrite that cached value explicitly, in one transition (one transaction,
one audit event), and keep the mirrors in step:

- the old ``timers`` row is cancelled (never marked fired, even if its instant has
  passed) and a new pending row is written at the new due instant, with an explanation;
- the user task the timer is attached to gets the new ``due_at`` and explanation;
- a scheduler that had already claimed the old row finds it cancelled when it tries to
  fire it (``engine.timers.fire`` re-checks the row in its own transaction), and the
  instance's revision guard turns any other race into a ``Conflict``.

``rearm_timer`` sets an explicit new instant; ``suspend_term`` extends the term by a
number of días hábiles counted, with the legal calendar, from the current due date.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Callable

from sqlalchemy import select, update
from sqlalchemy.orm import Session
from SpiffWorkflow.bpmn.specs.control import BoundaryEventSplit
from SpiffWorkflow.bpmn.specs.event_definitions.timer import CycleTimerEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.intermediate_event import BoundaryEvent
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.task import Task as SpiffTask
from SpiffWorkflow.util.task import TaskState

from engine.time import clock
from engine.run import transitions as instances
from engine.run import timers
from engine.time.calendar import LegalCalendar
from engine.time.deadline import long_date
from engine.time.calendar_file import CalendarError
from engine.time.hermosillo import HERMOSILLO
from engine.time.recount import recompute
from engine.errors import InvalidInput, InvalidState, NotFound
from engine.run.transitions import TransitionResult
from engine.run.runtime import Runtime
from engine.store.models import Instance, Task, Timer
from engine.store.states import EventKind, TimerStatus

# (the timer task, its current due instant, the current explanation or None) -> (new ISO, new explanation, detail)
_Compute = Callable[[SpiffTask, datetime, "dict[str, Any] | None"], "tuple[str, dict[str, Any] | None, dict[str, Any]]"]


def rearm_timer(rt: Runtime, instance_id: int, timer_task_name: str, new_due_iso: str, user: str,
                reason: str) -> TransitionResult:
    """Re-arm a waiting timer at ``new_due_iso`` (ISO 8601 with its offset, later than now)."""
    new_due = _parse_due(new_due_iso)
    new_iso = new_due.isoformat()

    def compute(task: SpiffTask, old_due: datetime, old: dict[str, Any] | None
                ) -> tuple[str, dict[str, Any] | None, dict[str, Any]]:
        explanation = None
        if old is not None:  # same term, new end: keep its start and basis, say why the end moved
            explanation = {**old, "due": new_due.astimezone(HERMOSILLO).isoformat(),
                           "rule": (f"Vencimiento fijado de nuevo por {user}: {reason}. "
                                    f"Vencimiento anterior: {_local(old_due)}."),
                           "rearmed": {"previous_due": _local(old_due), "reason": reason, "by": user,
                                       "at": _local(clock.now())},
                           "previous": old}
        return new_iso, explanation, {}

    return _rearm(rt, instance_id, timer_task_name, user, reason, EventKind.TIMER_REARMED, compute)


def suspend_term(rt: Runtime, instance_id: int, timer_task_name: str, suspended_business_days: int, user: str,
                 reason: str) -> TransitionResult:
    """Extend a waiting timer's term by ``suspended_business_days`` días hábiles from its current due date."""
    days = suspended_business_days
    if isinstance(days, bool) or not isinstance(days, int) or days <= 0:
        raise InvalidInput(f"suspended business days must be a positive whole number, not {days!r}",
                           field="business_days")

    def compute(task: SpiffTask, old_due: datetime, old: dict[str, Any] | None
                ) -> tuple[str, dict[str, Any] | None, dict[str, Any]]:
        citation = (old or {}).get("citation")
        calendar_version, calendar = rt.calendar()
        try:
            extension = calendar.business_days(old_due, days, citation=citation)
        except CalendarError as exc:
            raise InvalidInput(str(exc), field="business_days") from None
        explanation = {**extension.to_dict(), "calendar_version": calendar_version}
        explanation["rule"] = (f"Plazo suspendido ({reason}): el vencimiento anterior, {_local(old_due)}, se "
                               f"recorre {days} {'día hábil' if days == 1 else 'días hábiles'}. "
                               + explanation["rule"])
        explanation["suspension"] = {"previous_due": _local(old_due), "business_days": days, "reason": reason,
                                     "by": user, "at": _local(clock.now())}
        if old is not None:
            explanation["previous"] = old
        return extension.iso(), explanation, {"business_days": days, "skipped": explanation["skipped"]}

    return _rearm(rt, instance_id, timer_task_name, user, reason, EventKind.TERM_SUSPENDED, compute)


# --- the shared transition ------------------------------------------------------------------------


def _rearm(rt: Runtime, instance_id: int, name: str, user: str, reason: str, kind: EventKind,
           compute: _Compute) -> TransitionResult:
    if isinstance(instance_id, bool) or not isinstance(instance_id, int):
        raise NotFound(f"instance {instance_id!r} does not exist", field="instance")
    if not isinstance(name, str) or not name.strip():
        raise InvalidInput("name the timer to re-arm (its BPMN element id)", field="timer")
    if not isinstance(reason, str) or not reason.strip():
        raise InvalidInput("say why the term moves (the decree or the pending prevención)", field="reason")
    if not isinstance(user, str) or not user.strip():
        raise InvalidInput("say who re-arms the timer", field="user")
    reason = reason.strip()

    def apply(wf: BpmnWorkflow, s: Session) -> dict[str, Any]:
        task = _waiting_timer(wf, instance_id, name)
        old_value = task._get_internal_data("event_value")
        old_due = timers.timer_due(task)
        if old_due is None:
            raise NotFound(f"timer {name!r} of instance {instance_id} has no due date to move", field="timer")
        conn = s.connection()
        t = Timer.__table__
        # Cancel the old row first; on PostgreSQL this also waits for a scheduler firing it right now.
        cancelled = conn.execute(
            update(t).where(t.c.instance_id == instance_id, t.c.task_id == str(task.id),
                            t.c.status == TimerStatus.PENDING)
            .values(status=TimerStatus.CANCELLED, claimed_by=None, claimed_until=None)
            .returning(t.c.deadline)).all()
        old_explanation = cancelled[0][0] if cancelled else None
        new_iso, explanation, extra = compute(task, old_due, old_explanation)
        new_due = timers._instant(new_iso)
        now = clock.now()
        if new_due <= now:
            raise InvalidInput(f"the new due date {new_iso} is not later than now ({_local(now)}); "
                               "a timer can only be re-armed into the future", field="due")
        # Move SpiffWorkflow's cached due date; sync() then writes the new pending row from it.
        task._set_internal_data(event_value=new_iso)
        task.internal_data.pop("event_fired", None)
        if explanation is not None:
            _explain(new_iso, explanation)
        attached = _update_attached_tasks(rt, s, instance_id, task)
        return {"timer": name, "task_id": str(task.id), "old_due": str(old_value), "new_due": new_iso,
                "reason": reason, "attached_to": attached, **extra}

    return instances.transition(rt, instance_id, user, kind, apply, step=False, writes=True)


def _waiting_timer(wf: BpmnWorkflow, instance_id: int, name: str) -> SpiffTask:
    waiting = timers.waiting_timers(wf)
    found = [t for t in waiting if (t.task_spec.bpmn_id or t.task_spec.name) == name]
    if not found:
        names = sorted({t.task_spec.bpmn_id or t.task_spec.name for t in waiting})
        hint = f"; waiting timers: {', '.join(names)}" if names else "; it has no waiting timer"
        raise NotFound(f"instance {instance_id} has no waiting timer {name!r}{hint}", field="timer")
    if len(found) > 1:
        raise InvalidInput(f"timer {name!r} is waiting {len(found)} times in instance {instance_id} "
                           "(a loop or multi-instance); it cannot be re-armed by name", field="timer")
    task = found[0]
    if isinstance(task.task_spec.event_definition, CycleTimerEventDefinition):
        raise InvalidInput(f"timer {name!r} is a cycle; only date and duration timers carry a term",
                           field="timer")
    return task


def _explain(iso: str, explanation: dict[str, Any]) -> None:
    """Hand the explanation to this transition's deadline log, where timer and task rows take theirs from."""
    from engine.script.helpers import _computed

    entries = _computed.get()
    if entries is not None:
        entries[iso] = explanation


def _update_attached_tasks(rt: Runtime, s: Session, instance_id: int, timer_task: SpiffTask) -> str | None:
    """The open user task a boundary timer is attached to takes its new due date and explanation."""
    parent = timer_task.parent
    if not isinstance(timer_task.task_spec, BoundaryEvent) or parent is None \
            or not isinstance(parent.task_spec, BoundaryEventSplit):
        return None
    conn = s.connection()
    definition_id = conn.execute(select(Instance.definition_id).where(Instance.id == instance_id)).scalar_one()
    task_info = rt.specs.get(s, definition_id).task_info
    attached = None
    for sibling in parent.children:
        if isinstance(sibling.task_spec, BoundaryEvent):
            continue
        attached = sibling.task_spec.bpmn_id
        if sibling.state != TaskState.READY or not sibling.task_spec.manual:
            continue
        due, deadline = timers.due_for_task(rt, sibling, task_info.get(attached, {}))
        t = Task.__table__
        conn.execute(update(t).where(t.c.id == str(sibling.id), t.c.state == instances.OPEN)
                     .values(due_at=due, deadline=deadline))
    return attached


def _parse_due(value: Any) -> datetime:
    if not isinstance(value, str):
        raise InvalidInput(f"the new due date must be an ISO 8601 text, not {value!r}", field="due")
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise InvalidInput(f"the new due date {value!r} is not an ISO 8601 instant "
                           "(for example 2027-01-04T23:59:59-07:00)", field="due") from None
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise InvalidInput(f"the new due date {value!r} has no UTC offset; write it as e.g. "
                           f"{parsed.replace(tzinfo=HERMOSILLO).isoformat()}", field="due")
    return parsed


def _local(instant: datetime) -> str:
    return instant.astimezone(HERMOSILLO).isoformat()


__all__ = ["rearm_timer", "recalendar", "suspend_term"]


def recalendar(rt: Runtime, instance_id: int, timer_task_name: str, calendar: LegalCalendar, user: str,
               change: str, calendar_version: int | None = None) -> TransitionResult:
    """Count a waiting timer's term again on ``calendar`` (a new calendar version) and re-arm it; the
    explanation says which calendar change moved it. Nothing moves for a term that already ended. The
    case data that holds the same due instant (e.g. ``fecha_limite_recurso``, which later decides whether
    a filing was timely) follows the timer."""

    def compute(task: SpiffTask, old_due: datetime, old: dict[str, Any] | None
                ) -> tuple[str, dict[str, Any] | None, dict[str, Any]]:
        again = recompute(old or {}, calendar)
        if again is None or again.due == old_due:
            raise InvalidState(f"the term of {timer_task_name!r} does not move with this calendar", field="timer")
        if old_due <= clock.now():
            raise InvalidState(f"the term of {timer_task_name!r} already ended; it does not move", field="timer")
        derived = _follow(task, str(task._get_internal_data("event_value")), again.iso())
        explanation = again.to_dict()
        if calendar_version is not None:
            explanation["calendar_version"] = calendar_version
        explanation["rule"] = (f"Plazo recomputado por el cambio de calendario ({change}); vencía el "
                               f"{people_instant(old_due)}. " + explanation["rule"])
        explanation["recalendared"] = {"previous_due": _local(old_due), "change": change, "by": user,
                                       "at": _local(clock.now())}
        explanation["previous"] = old
        return again.iso(), explanation, {"change": change, "previous_due": _local(old_due),
                                      **({"data": {k: again.iso() for k in derived}} if derived else {})}

    return _rearm(rt, instance_id, timer_task_name, user, change, EventKind.TERM_RECALENDARED, compute)


def people_instant(instant: datetime) -> str:
    """An instant as people read it in Hermosillo: «lunes 28 de diciembre de 2026 a las 23:59:59»."""

    local = instant.astimezone(HERMOSILLO)
    return f"{long_date(local.date())} a las {local:%H:%M:%S}"


def _follow(task: SpiffTask, old_iso: str, new_iso: str) -> list[str]:
    """Case data holding the timer's old instant takes the new one; the names changed."""
    wf = task.workflow.top_workflow
    found = list(wf.get_tasks())
    for sub in getattr(wf, "subprocesses", {}).values():
        found.extend(sub.get_tasks())
    names: set[str] = set()
    for t in found:
        for key, value in list(t.data.items()):
            if isinstance(value, str) and value == old_iso:
                t.__dict__.pop("_tramita_json", None)  # a finished task's serialized text is memoized: drop it
                t.data[key] = new_iso
                names.add(key)
    if isinstance(wf.data, dict):
        for key, value in list(wf.data.items()):
            if isinstance(value, str) and value == old_iso:
                wf.data[key] = new_iso
                names.add(key)
    return sorted(names)
