"""Which running deadlines a calendar change would move, from when to when, and why.

Every deadline the engine computes keeps its explanation (start, unit, count, rule, the días
inhábiles skipped, the article). A change of the calendar can only move a term counted in days whose
count runs across a changed day, so the pending timers and open tasks are narrowed in SQL to those
due on or after the first changed day, then recomputed on the new calendar from their own
explanation. A term that already ended (due before now) never moves.
"""

from __future__ import annotations

import json

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Iterable, Mapping

from sqlalchemy import Select, String, func, select

from engine.store.db import Database
from engine.store.models import Instance, Task, Timer
from engine.store.states import TaskState, TimerStatus
from engine.time.calendar import LegalCalendar
from engine.time.hermosillo import HERMOSILLO, to_local
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
    sqlite = db.engine.dialect.name == "sqlite"
    with db.read() as s:
        timers = s.execute(_candidates(Timer, Timer.task_name, Timer.due_at, Timer.deadline, after_last, sqlite)
                           .where(Timer.status == TimerStatus.PENDING, Timer.due_at >= floor)).all()
        tasks = s.execute(_candidates(Task, Task.name, Task.due_at, Task.deadline, after_last, sqlite)
                          .where(Task.state == TaskState.READY, Task.due_at >= floor)).all()
    counted: dict[Any, Any] = {}
    entries: dict[tuple[Any, ...], tuple[tuple[date, str], ...]] = {}
    # a task whose term a timer carries is listed through its timer (which moves the task with it)
    covered = {(r[0], r[3], r[2]) for r in timers} if tasks else set()
    for kind, rows in (("timer", timers), ("task", tasks)):
        for iid, element, due_at, fields, reference, key in rows:
            if kind == "task" and (iid, fields, due_at) in covered:
                continue
            if fields not in counted:  # each distinct term counted once on the new calendar
                counted[fields] = _recount(fields, calendar)
            again, start, citation = counted[fields]
            if again is None or again.due == due_at:
                continue
            span = (fields, due_at)
            if span not in entries:  # the calendar entries inside the term, once per distinct term
                end = max(again.due, due_at).astimezone(HERMOSILLO).date()
                entries[span] = tuple((d, (reasons or {}).get(d) or calendar.inhabil_reason(d) or "día hábil de nuevo")
                                      for d in days if start <= d <= end)
            if (iid, element) not in moved:
                moved[(iid, element)] = MovedDeadline(iid, reference, key, element, kind, due_at, again.due,
                                                      entries[span], citation)
    return sorted(moved.values(), key=lambda m: (m.old_due, m.instance_id, m.element))


_FIELDS = ("start", "unit", "count", "rule", "citation", "rearmed")


def _candidates(model: Any, element: Any, due: Any, explanation: Any, after_last: str, sqlite: bool) -> Select[Any]:
    """Rows of ``model`` (timers or tasks) whose term, counted in days, starts before ``after_last``: the
    instance, the element, the due instant, the explanation's fields the count needs (one JSON text),
    the case's reference and procedure. On SQLite, where each ``json_extract`` parses the document again,
    the fields come from a single multi-path extract; PostgreSQL's JSONB reads fields without parsing."""
    start = explanation["start"].as_string()
    if sqlite:
        fields = func.json_extract(explanation, *(f"$.{f}" for f in _FIELDS), type_=String)
    else:
        fields = func.json_build_array(*(explanation[f].as_string() for f in _FIELDS)).cast(String)
    return (select(model.instance_id, element, due, fields, Instance.reference, Instance.process_key)
            .join(Instance, Instance.id == model.instance_id)
            .where(start < after_last))  # first: it discards most rows of the due range with one read


def _recount(fields: str, calendar: LegalCalendar) -> tuple[Any, date, Any]:
    """The term (its explanation's fields as JSON text) counted on ``calendar``; None when no calendar moves
    it (hours, months, a due date fixed by hand), with its start day and citation."""
    start, unit, count, rule, citation, rearmed = json.loads(fields)
    again = None
    if unit in ("business", "natural") and rearmed is None:
        again = recompute({"start": start, "unit": unit, "count": _int(count), "rule": rule, "citation": citation},
                          calendar)
    return again, to_local(start).date(), citation


def _int(value: Any) -> Any:
    """A count read as text from the explanation (JSON number), back to the int ``recompute`` wants."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return value
