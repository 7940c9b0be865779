"""Which running deadlines a calendar change would move, from when to when, and why.

Every deadline the engine computes keeps its explanation (start, unit, count, rule, the días
inhábiles skipped, the article). A change of the calendar can only move a term counted in days whose
count runs across a changed day, so the pending timers and open tasks are narrowed in SQL to those
due on or after the first changed day, then recomputed on the new calendar from their own
explanation. A term that already ended (due before now) never moves.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Iterable, Mapping

from sqlalchemy import Select, select

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
    """The pending deadlines that ``calendar`` moves, given the days whose status ``changed``.

    Set-based, so that it answers over a hundred thousand running terms: SQL keeps only the pending
    timers and open tasks whose term can reach a changed day (due on or after the first changed day,
    which the ``(status, due_at)`` index finds; counted in days; started on or before the last changed
    day, read from the explanation inside the database), and returns only the explanation's fields
    the count needs. Each distinct term (start, unit, count, rule) is then counted once on the new
    calendar, however many cases share it.
    """
    days = sorted(set(changed))
    if not days:
        return []
    first = datetime.combine(days[0], datetime.min.time(), HERMOSILLO)
    floor = max(first, now)
    after_last = (days[-1] + timedelta(days=1)).isoformat()  # starts are local ISO text: "2026-12-18T12:00:00-07:00"
    moved: dict[tuple[int, str], MovedDeadline] = {}
    with db.read() as s:
        timers = s.execute(_candidates(Timer, Timer.task_name, Timer.due_at, Timer.deadline, after_last)
                           .where(Timer.status == TimerStatus.PENDING, Timer.due_at >= floor)).all()
        tasks = s.execute(_candidates(Task, Task.name, Task.due_at, Task.deadline, after_last)
                          .where(Task.state == TaskState.READY, Task.due_at >= floor)).all()
    counted: dict[tuple[Any, ...], Any] = {}
    entries: dict[tuple[Any, ...], tuple[tuple[date, str], ...]] = {}
    covered = {(r.instance_id, r.start, r.unit, r.count, r.due) for r in timers}
    for kind, rows in (("timer", timers), ("task", tasks)):
        for row in rows:
            if kind == "task" and (row.instance_id, row.start, row.unit, row.count, row.due) in covered:
                continue  # the timer that carries the same term is listed (and moves the task with it)
            if row.rearmed is not None:
                continue  # a due date fixed by hand keeps what the person decided
            term = (row.start, row.unit, row.count, row.rule, row.citation)
            if term not in counted:
                counted[term] = recompute({"start": row.start, "unit": row.unit, "count": _int(row.count),
                                           "rule": row.rule, "citation": row.citation}, calendar)
            again = counted[term]
            if again is None or again.due == row.due_at:
                continue
            key = (term, row.due_at)
            if key not in entries:  # the calendar entries inside the term, once per distinct term
                start, end = to_local(row.start).date(), max(again.due, row.due_at).astimezone(HERMOSILLO).date()
                entries[key] = tuple((d, (reasons or {}).get(d) or calendar.inhabil_reason(d) or "día hábil de nuevo")
                                     for d in days if start <= d <= end)
            inside = entries[key]
            moved.setdefault((row.instance_id, row.element), MovedDeadline(
                row.instance_id, row.reference, row.process_key, row.element, kind, row.due_at, again.due, inside,
                row.citation))
    return sorted(moved.values(), key=lambda m: (m.old_due, m.instance_id, m.element))


def _candidates(model: Any, element: Any, due: Any, explanation: Any, after_last: str) -> Select[Any]:
    """Rows of ``model`` (timers or tasks) whose term, counted in days, starts before ``after_last``."""
    start = explanation["start"].as_string()
    unit = explanation["unit"].as_string()
    return (select(model.instance_id, element.label("element"), due.label("due_at"), start.label("start"),
                   unit.label("unit"), explanation["count"].as_string().label("count"),
                   explanation["rule"].as_string().label("rule"), explanation["citation"].as_string().label("citation"),
                   explanation["due"].as_string().label("due"), explanation["rearmed"].as_string().label("rearmed"),
                   Instance.reference, Instance.process_key)
            .join(Instance, Instance.id == model.instance_id)
            .where(explanation.is_not(None), unit.in_(("business", "natural")), start < after_last))


def _int(value: Any) -> Any:
    """A count read as text from the explanation (JSON number), back to the int ``recompute`` wants."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return value
