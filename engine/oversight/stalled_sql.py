"""The stalled list at scale: the reasons whose "since" is a column (overdue task, unfired timer, error)
are one ``UNION ALL`` the database filters, sorts, counts and pages; the two computed on the legal
calendar (idle at a step, message wait) are narrowed in SQL to the rows that really are stalled and
merged in Python. ``engine.oversight.stalled`` states the rules; this module only makes them cheap.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, and_, func, literal, null, or_, select, union_all

from engine.oversight.stalled import (REASONS, SORTS, TIMER_GRACE, StalledRow, select_rows, via_console_index)
from engine.oversight.supervision import Supervision
from engine.store.models import Definition, Incident, Instance, MessageWait, Task, Timer
from engine.time.calendar import HERMOSILLO, LegalCalendar

SQL_REASONS = ("overdue", "timer", "error")


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


COLUMNS = ("instance_id", "reference", "process_key", "step", "title", "holder", "reason", "since", "citation")


def _cols(*exprs: Any) -> list[Any]:
    return [e.label(name) for e, name in zip(exprs, COLUMNS)]


def _sql_union(scope: Any, now: datetime, f: Filters) -> Any:
    conds = [scope] + ([Instance.process_key == f.process_key] if f.process_key else [])
    running = and_(Instance.status == "running", *conds)
    parts = []
    if f.reason in (None, "overdue"):
        parts.append(via_console_index(select(*_cols(
            Task.instance_id, Instance.reference, Task.process_key, Task.name, Task.title, _holder_expr(),
            literal("overdue"), Task.due_at, Task.deadline["citation"].as_string()))
            .join(Instance, Instance.id == Task.instance_id).where(Task.state == "READY", Task.due_at < now, running)))
    if f.reason in (None, "timer"):
        parts.append(via_console_index(select(*_cols(
            Timer.instance_id, Instance.reference, Instance.process_key, Timer.task_name, null(), null(),
            literal("timer"), Timer.due_at, null()))
            .join(Instance, Instance.id == Timer.instance_id)
            .where(Timer.status == "pending", Timer.due_at < now - TIMER_GRACE, running)))
    if f.reason in (None, "error"):
        parts.append(select(*_cols(
            Instance.id, Instance.reference, Instance.process_key, func.min(Incident.task_name), null(), null(),
            literal("error"), func.coalesce(func.min(Incident.created_at), Instance.updated_at), null()))
            .outerjoin(Incident, and_(Incident.instance_id == Instance.id, Incident.resolved_at.is_(None)))
            .where(Instance.status == "error", *conds)
            .group_by(Instance.id, Instance.reference, Instance.process_key, Instance.updated_at))
    if not parts:
        return None
    u = (union_all(*parts) if len(parts) > 1 else parts[0]).subquery("stalled")
    return u


def _sql_where(u: Any, f: Filters) -> list[Any]:
    out = []
    if f.step:
        out.append(u.c.step == f.step)
    if f.holder:
        out.append(u.c.holder == f.holder)
    return out


def _sql_order(u: Any, f: Filters) -> list[Any]:
    keys = {"caso": [func.coalesce(u.c.reference, ""), u.c.instance_id],
            "paso": [func.coalesce(u.c.title, u.c.step, "")], "responsable": [func.coalesce(u.c.holder, "")],
            "motivo": [u.c.reason], "retraso": [u.c.since]}[f.sort]
    keys = [k.desc() for k in keys] if f.descending else keys
    return [*keys, u.c.since, u.c.instance_id]


def _computed(s: Any, scope: Any, now: datetime, calendar: LegalCalendar, supervision: Supervision,
              f: Filters) -> list[StalledRow]:
    """Idle steps and long message waits: narrowed in SQL, their "since" counted on the calendar here."""
    conds = [scope] + ([Instance.process_key == f.process_key] if f.process_key else [])
    running = and_(Instance.status == "running", *conds)
    out: list[tuple[Any, ...]] = []
    if f.reason in (None, "idle"):
        unit, count = Task.deadline["unit"].as_string(), Task.deadline["count"].as_integer()
        # Which N occur: the configured steps', and the business-day terms of the open tasks.
        ns = {t.value for t in supervision.idle.values()}
        ns |= {int(n) for (n,) in s.execute(select(count).where(Task.state == "READY", unit == "business")
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
            for iid, ref, key, name, title, holder, created, _u, term_count, cited in s.execute(q).all():
                threshold = supervision.idle.get((key, name))
                n, why = (threshold.value, threshold.citation) if threshold else (int(term_count), cited)
                out.append((iid, ref, key, name, title, holder, "idle", calendar.business_days(created, n).due, why))
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
    computed = _computed(s, scope, now, calendar, supervision, f)
    u = _sql_union(scope, now, f)
    sql_rows: list[StalledRow] = []
    total = len(computed)
    if u is not None:
        where = _sql_where(u, f)
        total += int(s.execute(select(func.count()).select_from(u).where(*where)).scalar_one())
        q = select(u).where(*where).order_by(*_sql_order(u, f))
        if limit is not None:
            q = q.limit(offset + limit)
        names = _names(s)
        sql_rows = [StalledRow(r.instance_id, r.reference, r.process_key, names.get(r.process_key), r.step, r.title,
                               r.holder, r.reason, r.since, int((now - r.since).total_seconds()), r.citation)
                    for r in s.execute(q).all()]
    merged = select_rows([*sql_rows, *computed], sort=f.sort, descending=f.descending) if computed else sql_rows
    end = None if limit is None else offset + limit
    return merged[offset:end], total


def stalled_cases(s: Any, scope: Any, now: datetime, calendar: LegalCalendar, supervision: Supervision) -> int:
    """How many distinct cases are stalled, for the overview, without building the rows."""
    f = Filters()
    u = _sql_union(scope, now, f)
    ids = {r.instance_id for r in _computed(s, scope, now, calendar, supervision, f)}
    n = int(s.execute(select(func.count(func.distinct(u.c.instance_id)))).scalar_one())
    if ids:
        n += len(ids) - int(s.execute(select(func.count(func.distinct(u.c.instance_id)))
                                      .where(u.c.instance_id.in_(ids))).scalar_one())
    return n


__all__ = ["Filters", "REASONS", "SORTS", "SQL_REASONS", "page", "stalled_cases"]
