"""The stalled list at scale: the reasons whose "since" is a column (overdue task, unfired timer, error)
are one statement each that the database filters, sorts, counts and limits (merged here); the two
computed on the legal calendar (idle at a step, message wait) are narrowed in SQL to the rows that
really are stalled and merged in Python. ``engine.oversight.stalled`` states the rules; this module
only makes them cheap.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, literal, null, or_, select

from engine.oversight.stalled import REASONS, SORTS, TIMER_GRACE, StalledRow, select_rows, via_console_index
from engine.oversight.supervision import Supervision
from engine.store.models import Definition, Incident, Instance, MessageWait, StepStat, Task, Timer
from engine.time.calendar import HERMOSILLO, LegalCalendar

SQL_REASONS = ("overdue", "timer", "error")
# ``task_id`` carries an overdue task's id: the article of its term is read for the rows shown only, as
# extracting it from every overdue task's JSON explanation would cost more than the rest of the list.
COLUMNS = ("instance_id", "reference", "process_key", "step", "title", "holder", "reason", "since", "task_id")


@dataclass(frozen=True)
class Filters:
    process_key: str | None = None
    reason: str | None = None
    step: str | None = None
    holder: str | None = None
    sort: str = "retraso"
    descending: bool = False


def _holder_expr() -> Any:
    return func.coalesce(Task.assignee, literal("grupo:") + Task.candidate_group)


def _parts(scope: Any, now: datetime, f: Filters) -> list[tuple[dict[str, Any], Any]]:
    """Per reason: its columns by name, and what adds its FROM and WHERE to a select."""
    conds = [scope] + ([Instance.process_key == f.process_key] if f.process_key else [])
    running = and_(Instance.status == "running", *conds)
    parts: list[tuple[dict[str, Any], Any]] = []
    if f.reason in (None, "overdue"):
        cols = dict(zip(COLUMNS, (Task.instance_id, Instance.reference, Task.process_key, Task.name, Task.title,
                                  _holder_expr(), literal("overdue"), Task.due_at, Task.id)))
        parts.append((cols, lambda q: q.join(Instance, Instance.id == Task.instance_id).where(
            Task.state == "READY", Task.due_at < now, running)))
    if f.reason in (None, "timer"):
        cols = dict(zip(COLUMNS, (Timer.instance_id, Instance.reference, Instance.process_key, Timer.task_name,
                                  null(), null(), literal("timer"), Timer.due_at, null())))
        parts.append((cols, lambda q: q.join(Instance, Instance.id == Timer.instance_id).where(
            Timer.status == "pending", Timer.due_at < now - TIMER_GRACE, running)))
    if f.reason in (None, "error"):
        cols = dict(zip(COLUMNS, (Instance.id, Instance.reference, Instance.process_key, func.min(Incident.task_name),
                                  null(), null(), literal("error"),
                                  func.coalesce(func.min(Incident.created_at), Instance.updated_at), null())))
        parts.append((cols, lambda q: q.select_from(Instance).outerjoin(
            Incident, and_(Incident.instance_id == Instance.id, Incident.resolved_at.is_(None)))
            .where(Instance.status == "error", *conds)
            .group_by(Instance.id, Instance.reference, Instance.process_key, Instance.updated_at)))
    return parts


def _part_query(cols: dict[str, Any], build: Any, f: Filters, *extra: Any) -> Any:
    """One reason's rows as a top-level statement, so that SQLite honours its index hint (SQLAlchemy
    renders no hint inside a UNION's member)."""
    q = build(select(*[c.label(n) for n, c in cols.items()], *extra))
    grouped = cols["reason"].value == "error"
    for name, value in (("step", f.step), ("holder", f.holder)):
        if value:
            q = q.having(cols[name] == value) if grouped and name == "step" else q.where(cols[name] == value)
    return via_console_index(q) if not grouped else q


def _part_order(cols: dict[str, Any], f: Filters) -> list[Any]:
    keys = {"caso": [func.coalesce(cols["reference"], ""), cols["instance_id"]],
            "paso": [func.coalesce(cols["title"], cols["step"], "")],
            "responsable": [func.coalesce(cols["holder"], "")], "motivo": [cols["reason"]],
            "retraso": [cols["since"]]}[f.sort]
    keys = [k.desc() for k in keys] if f.descending else keys
    return [*keys, cols["since"], cols["instance_id"]]


def _computed(s: Any, scope: Any, now: datetime, calendar: LegalCalendar, supervision: Supervision,
              f: Filters) -> list[StalledRow]:
    """Idle steps and long message waits: narrowed in SQL, their "since" counted on the calendar here."""
    conds = [scope] + ([Instance.process_key == f.process_key] if f.process_key else [])
    running = and_(Instance.status == "running", *conds)
    out: list[tuple[Any, ...]] = []
    if f.reason in (None, "idle"):
        unit, count = Task.deadline["unit"].as_string(), Task.deadline["count"].as_integer()
        # Which N occur: the configured steps', and the business-day terms steps have had (step_stats keeps
        # them; a step open for the first time has its due date, and past it, it is overdue anyway).
        ns = {t.value for t in supervision.idle.values()}
        ns |= {int(n) for (n,) in s.execute(select(StepStat.term_count).where(StepStat.term_unit == "business")
                                            .distinct()).all() if n}
        branches = []
        for n in sorted(ns):
            cutoff = _opened_before(now, n, calendar)
            configured = [and_(Task.process_key == k, Task.name == e) for (k, e), t in supervision.idle.items()
                          if t.value == n]
            default = and_(unit == "business", count == n,
                           *[~and_(Task.process_key == k, Task.name == e) for k, e in supervision.idle])
            branches.append(and_(Task.created_at < cutoff, or_(default, *configured)))
        if branches:
            q = via_console_index(select(Task.instance_id, Instance.reference, Task.process_key, Task.name, Task.title,
                                         _holder_expr(), Task.created_at, unit, count,
                                         Task.deadline["citation"].as_string())
                                  .join(Instance, Instance.id == Task.instance_id)
                                  .where(Task.state == "READY", or_(Task.due_at.is_(None), Task.due_at >= now),
                                         running, or_(*branches)))
            ends: dict[tuple[Any, int], datetime] = {}  # a term ends at the end of a day: once per (day, N)
            for iid, ref, key, name, title, holder, created, _u, term_count, cited in s.execute(q).all():
                threshold = supervision.idle.get((key, name))
                n, why = (threshold.value, threshold.citation) if threshold else (int(term_count), cited)
                day = created.astimezone(HERMOSILLO).date()
                if (day, n) not in ends:
                    ends[(day, n)] = calendar.business_days(created, n).due
                out.append((iid, ref, key, name, title, holder, "idle", ends[(day, n)], why))
    if f.reason in (None, "message") and supervision.message_waits:
        elements = sorted({e for _k, e in supervision.message_waits})
        q = via_console_index(select(MessageWait.instance_id, Instance.reference, Instance.process_key,
                                     MessageWait.element, MessageWait.since).select_from(MessageWait)
                              .join(Instance, Instance.id == MessageWait.instance_id)
                              .where(MessageWait.element.in_(elements), running))
        for iid, ref, key, element, since in s.execute(q).all():
            limit = supervision.message_waits.get((key, element))
            if limit is not None:
                end = calendar.deadline(since, limit.value, limit.unit).due
                if end < now:
                    out.append((iid, ref, key, element, None, None, "message", end, limit.citation))
    names = _names(s) if out else {}
    rows = [StalledRow(i, r, k, names.get(k), st, t, h, why, since, int((now - since).total_seconds()), c)
            for i, r, k, st, t, h, why, since, c in out]
    return select_rows(rows, step=f.step, holder=f.holder, sort=f.sort, descending=f.descending)


def _opened_before(now: datetime, n: int, calendar: LegalCalendar) -> datetime:
    """The instant before which a step must have opened to have stood still N whole días hábiles by now.

    The term ends at the end of the N-th business day after the opening day, so it depends only on that
    day: walk back from today to the last opening day whose term has ended, and take the next midnight.
    """
    day = now.astimezone(HERMOSILLO).date()
    while calendar.business_days(day, n).due >= now:
        day -= timedelta(days=1)
    return datetime.combine(day + timedelta(days=1), datetime.min.time(), HERMOSILLO)


def _names(s: Any) -> dict[str, str | None]:
    return dict(s.execute(select(Definition.key, func.max(Definition.name)).where(Definition.kind == "process")
                          .group_by(Definition.key)).all())


def page(s: Any, scope: Any, now: datetime, calendar: LegalCalendar, supervision: Supervision, f: Filters,
         limit: int | None = None, offset: int = 0) -> tuple[list[StalledRow], int]:
    """One page of the stalled list, filtered and sorted, and how many rows there are in all."""
    found: list[Any] = []
    total = 0
    for cols, build in _parts(scope, now, f):
        # Each reason's first offset+limit rows in order and, alongside, how many it has in all.
        q = _part_query(cols, build, f, func.count().over().label("total")).order_by(*_part_order(cols, f))
        if limit is not None:
            q = q.limit(offset + limit)
        rows = s.execute(q).all()
        if rows:
            total += int(rows[0].total)
        found += rows
    computed = _computed(s, scope, now, calendar, supervision, f)
    total += len(computed)
    names = _names(s)
    rows = [StalledRow(r.instance_id, r.reference, r.process_key, names.get(r.process_key), r.step, r.title, r.holder,
                       r.reason, r.since, int((now - r.since).total_seconds()), r.task_id) for r in found]
    end = None if limit is None else offset + limit
    merged = select_rows([*rows, *computed], sort=f.sort, descending=f.descending)[offset:end]
    # The article of an overdue task's term, for the rows shown only (``citation`` held the task id).
    tasks = [r.citation for r in merged if r.reason == "overdue" and r.citation]
    cited = dict(s.execute(select(Task.id, Task.deadline["citation"].as_string())
                           .where(Task.id.in_(tasks))).all()) if tasks else {}
    return [replace(r, citation=cited.get(r.citation)) if r.reason == "overdue" else r for r in merged], total


def stalled_cases(s: Any, scope: Any, now: datetime, calendar: LegalCalendar, supervision: Supervision) -> int:
    """How many distinct cases are stalled, for the overview, reading only case ids."""
    f = Filters()
    ids = {r.instance_id for r in _computed(s, scope, now, calendar, supervision, f)}
    for cols, build in _parts(scope, now, f):
        q = build(select(cols["instance_id"]))
        ids.update(i for (i,) in s.execute(q if cols["reason"].value == "error" else via_console_index(q)).all())
    return len(ids)


__all__ = ["Filters", "REASONS", "SORTS", "SQL_REASONS", "page", "stalled_cases"]
