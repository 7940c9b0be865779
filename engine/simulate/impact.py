"""Which running deadlines a calendar change would move, from when to when, and why.

Every deadline the engine computes keeps its explanation (start, unit, count, rule, the días
inhábiles skipped, the article). A change of the calendar can only move a term counted in days whose
count runs across a changed day, so the pending timers and open tasks are narrowed in SQL to those
due on or after the first changed day, then recomputed on the new calendar from their own
explanation. A term that already ended (due before now) never moves.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Iterable, Mapping

from sqlalchemy import select

from engine.store.db import Database
from engine.store.models import Instance, Task, Timer
from engine.store.states import TaskState, TimerStatus
from engine.time.calendar import HERMOSILLO, LegalCalendar, to_local
from engine.time.recount import recompute


@dataclass(frozen=True)
class MovedDeadline:
    instance_id: int
    reference: str | None
    process_key: str
    element: str  # the timer's element id, or the task's when no timer carries the term
    kind: str  # "timer" | "task"
    old_due: datetime
    new_due: datetime
    entries: tuple[tuple[date, str], ...]  # the calendar entries inside the term that moved it
    citation: str | None


def impact(db: Database, calendar: LegalCalendar, changed: Iterable[date], *, now: datetime,
           reasons: Mapping[date, str] | None = None) -> list[MovedDeadline]:
    """The pending deadlines that ``calendar`` moves, given the days whose status ``changed``."""
    days = sorted(set(changed))
    if not days:
        return []
    first = datetime.combine(days[0], datetime.min.time(), HERMOSILLO)
    floor = max(first, now)
    moved: dict[tuple[int, str], MovedDeadline] = {}
    with db.read() as s:
        timers = s.execute(
            select(Timer.instance_id, Timer.task_name, Timer.due_at, Timer.deadline, Instance.reference,
                   Instance.process_key)
            .join(Instance, Instance.id == Timer.instance_id)
            .where(Timer.status == TimerStatus.PENDING, Timer.deadline.is_not(None), Timer.due_at >= floor)).all()
        tasks = s.execute(
            select(Task.instance_id, Task.name, Task.due_at, Task.deadline, Instance.reference, Instance.process_key)
            .join(Instance, Instance.id == Task.instance_id)
            .where(Task.state == TaskState.READY, Task.deadline.is_not(None), Task.due_at >= floor)).all()
    covered = {(r.instance_id, _term(r.deadline)) for r in timers}
    for kind, rows in (("timer", timers), ("task", tasks)):
        for iid, element, due, explanation, reference, key in rows:
            if kind == "task" and (iid, _term(explanation)) in covered:
                continue  # the timer that carries the same term is listed (and moves the task with it)
            found = _moved(iid, element, kind, due, explanation, reference, key, calendar, days, reasons or {})
            if found is not None:
                moved.setdefault((iid, element), found)
    return sorted(moved.values(), key=lambda m: (m.old_due, m.instance_id, m.element))


def _term(explanation: Mapping[str, Any]) -> tuple[Any, ...]:
    return (explanation.get("start"), explanation.get("unit"), explanation.get("count"), explanation.get("due"))


def _moved(iid: int, element: str, kind: str, due: datetime, explanation: Mapping[str, Any], reference: str | None,
           key: str, calendar: LegalCalendar, days: list[date], reasons: Mapping[date, str]) -> MovedDeadline | None:
    start = explanation.get("start")
    if not isinstance(start, str) or to_local(start).date() > days[-1]:
        return None  # the term starts after every changed day
    again = recompute(explanation, calendar)
    if again is None or again.due == due:
        return None
    inside = tuple((d, reasons.get(d) or calendar.inhabil_reason(d) or "día hábil de nuevo") for d in days
                   if to_local(start).date() <= d <= max(again.due, due).astimezone(HERMOSILLO).date())
    return MovedDeadline(iid, reference, key, element, kind, due, again.due, inside, explanation.get("citation"))
