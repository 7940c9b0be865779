"""The manager console's figures: overview, workload, weekly trends, terms met, and the diagram heatmap.

Every query takes ``scope`` (a condition on ``Instance``) so a manager sees their institution and an
administrator everything. Counts are grouped in SQL; durations (median, p90) are read per element
and summarised here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, func, select, true

from engine.oversight.hooks import BUCKET_HOURS
from engine.store.models import CONSOLE_INDEX, Definition, Instance, StepStat, Task
from engine.time.calendar import HERMOSILLO, LegalCalendar

OPEN_STATUSES = ("running", "suspended", "error")


@dataclass(frozen=True)
class Breakdown:
    process_key: str
    process_name: str | None
    step: str | None
    step_title: str | None
    count: int


@dataclass(frozen=True)
class Overview:
    open_cases: int
    overdue_tasks: int
    due_soon_tasks: int  # due within the next two días hábiles
    error_cases: int
    stalled_cases: int
    overdue_by_step: list[Breakdown] = field(default_factory=list)
    due_soon_by_step: list[Breakdown] = field(default_factory=list)
    open_by_process: list[Breakdown] = field(default_factory=list)
    error_by_process: list[Breakdown] = field(default_factory=list)


@dataclass(frozen=True)
class Load:
    kind: str  # person | group
    who: str
    open_tasks: int
    overdue_tasks: int


@dataclass(frozen=True)
class ElementHeat:
    element: str
    title: str | None
    open_tasks: int
    overdue: int
    completed: int
    median_hours: float | None
    p90_hours: float | None
    within_term: float | None  # share of completed tasks with a term that met it (0..1)


def _hinted(q: Any) -> Any:
    """Reach the case row through ``CONSOLE_INDEX`` on SQLite (see engine.store.models)."""
    return q.with_hint(Instance, f"INDEXED BY {CONSOLE_INDEX}", "sqlite")


def stat_scope(institution: str | None) -> Any:
    """The scope on ``step_stats``: one institution's rows, or all of them (``None``)."""
    return true() if institution is None else StepStat.institution == institution


def process_names(s: Any) -> dict[str, str | None]:
    return dict(s.execute(select(Definition.key, func.max(Definition.name)).where(Definition.kind == "process")
                          .group_by(Definition.key)).all())


def due_soon_limit(now: datetime, calendar: LegalCalendar, days: int = 2) -> datetime:
    """The end of the second business day after today (Hermosillo): "due within two días hábiles"."""
    return calendar.business_days(now, days).due


def overview(s: Any, scope: Any, now: datetime, calendar: LegalCalendar, stalled_cases: int) -> Overview:
    names = process_names(s)
    soon = due_soon_limit(now, calendar)
    ready = and_(Task.state == "READY", Instance.status.in_(OPEN_STATUSES), scope)

    def by_step(cond: Any) -> list[Breakdown]:
        q = _hinted(select(Task.process_key, Task.name, func.max(Task.title), func.count()).join(
            Instance, Instance.id == Task.instance_id).where(ready, cond)
            .group_by(Task.process_key, Task.name).order_by(func.count().desc()))
        return [Breakdown(k, names.get(k), n, t, c) for k, n, t, c in s.execute(q).all()]

    def by_process(cond: Any) -> list[Breakdown]:
        q = (select(Instance.process_key, func.count()).where(scope, cond).group_by(Instance.process_key)
             .order_by(func.count().desc()))
        return [Breakdown(k, names.get(k), None, None, c) for k, c in s.execute(q).all()]

    overdue_steps = by_step(Task.due_at < now)
    soon_steps = by_step(and_(Task.due_at >= now, Task.due_at <= soon))
    open_processes = by_process(Instance.status.in_(OPEN_STATUSES))
    error_processes = by_process(Instance.status == "error")
    return Overview(sum(b.count for b in open_processes), sum(b.count for b in overdue_steps),
                    sum(b.count for b in soon_steps), sum(b.count for b in error_processes), stalled_cases,
                    overdue_steps, soon_steps, open_processes, error_processes)


def workload(s: Any, scope: Any, now: datetime) -> list[Load]:
    """Open and overdue tasks per person (held) and per group (offered, unclaimed)."""
    late = func.sum(case((Task.due_at < now, 1), else_=0))
    base = (Task.state == "READY", Instance.status.in_(OPEN_STATUSES), scope)
    people = _hinted(select(Task.assignee, func.count(), late).join(Instance, Instance.id == Task.instance_id)
                     .where(*base, Task.assignee.is_not(None)).group_by(Task.assignee))
    groups = _hinted(select(Task.candidate_group, func.count(), late).join(Instance, Instance.id == Task.instance_id)
                     .where(*base, Task.assignee.is_(None), Task.candidate_group.is_not(None))
                     .group_by(Task.candidate_group))
    out = [Load("person", w, int(n), int(o or 0)) for w, n, o in s.execute(people).all()]
    out += [Load("group", g, int(n), int(o or 0)) for g, n, o in s.execute(groups).all()]
    out.sort(key=lambda x: (x.kind != "person", -x.overdue_tasks, -x.open_tasks, x.who))
    return out


def _week(instant: datetime) -> str:
    local = instant.astimezone(HERMOSILLO).date()
    return (local - timedelta(days=local.weekday())).isoformat()


def weekly_cases(s: Any, scope: Any, now: datetime, weeks: int = 12) -> dict[str, Any]:
    """Cases opened and closed per week (Monday, Hermosillo) over the last ``weeks`` weeks."""
    first = now - timedelta(weeks=weeks)
    labels = sorted({_week(first + timedelta(weeks=i)) for i in range(weeks + 1)})
    opened = dict.fromkeys(labels, 0)
    closed = dict.fromkeys(labels, 0)
    for (at,) in s.execute(select(Instance.started_at).where(scope, Instance.started_at >= first)).all():
        opened[_week(at)] = opened.get(_week(at), 0) + 1
    for (at,) in s.execute(select(Instance.ended_at).where(scope, Instance.ended_at >= first)).all():
        closed[_week(at)] = closed.get(_week(at), 0) + 1
    labels = sorted(set(opened) | set(closed))
    return {"labels": labels, "opened": [opened.get(w, 0) for w in labels],
            "closed": [closed.get(w, 0) for w in labels]}


BUCKET_LABELS = [f"≤ {h * 60:.0f} min" if h < 1 else f"≤ {h:g} h" for h in BUCKET_HOURS] + [f"> {BUCKET_HOURS[-1]:g} h"]


def hour_terms(s: Any, institution: str | None) -> dict[str, Any]:
    """Steps whose term runs in hours (the 4-hour protection order): how long completing them took, as a
    histogram of the ``step_stats`` buckets, against the term."""
    rows = s.execute(select(Definition.key, StepStat.element, StepStat.bucket, func.sum(StepStat.completed),
                            func.max(StepStat.term_count))
                     .join(Definition, Definition.id == StepStat.definition_id)
                     .where(stat_scope(institution), StepStat.term_unit == "hours")
                     .group_by(Definition.key, StepStat.element, StepStat.bucket)).all()
    series: dict[tuple[str, str], list[int]] = {}
    terms: dict[tuple[str, str], int] = {}
    for key, element, bucket, n, term in rows:
        series.setdefault((key, element), [0] * len(BUCKET_LABELS))[bucket] += int(n)
        terms[(key, element)] = int(term or 0)
    titles = _titles(s, {k for k, _e in series})
    last = max([b for counts in series.values() for b, n in enumerate(counts) if n] + [bucket_of_term(terms)])
    return {"labels": BUCKET_LABELS[:last + 1], "series": [
        {"element": e, "title": titles.get((k, e)) or e, "term": terms[(k, e)], "counts": counts[:last + 1]}
        for (k, e), counts in sorted(series.items())]}


def bucket_of_term(terms: dict[Any, int]) -> int:
    from engine.oversight.hooks import bucket_of

    return max([bucket_of(float(t)) for t in terms.values()] + [0])


def terms_met(s: Any, institution: str | None) -> list[dict[str, Any]]:
    """Per step with a legal term: completed tasks and the share completed by their due date."""
    q = (select(Definition.key, StepStat.element, func.sum(StepStat.with_term), func.sum(StepStat.within_term))
         .join(Definition, Definition.id == StepStat.definition_id)
         .where(stat_scope(institution), StepStat.with_term > 0)
         .group_by(Definition.key, StepStat.element).order_by(Definition.key, StepStat.element))
    rows = s.execute(q).all()
    titles = _titles(s, {k for k, *_ in rows})
    return [{"process_key": k, "step": n, "title": titles.get((k, n)) or n, "completed": int(c), "within": int(m or 0),
             "share": round(int(m or 0) / int(c), 3) if c else None} for k, n, c, m in rows]


def _titles(s: Any, keys: set[str]) -> dict[tuple[str, str], str]:
    """Element titles from the deployed versions' task info (newest version wins)."""
    out: dict[tuple[str, str], str] = {}
    if not keys:
        return out
    for key, info in s.execute(select(Definition.key, Definition.task_info).where(
            Definition.kind == "process", Definition.key.in_(keys)).order_by(Definition.version)).all():
        for element, i in (info or {}).items():
            if (i or {}).get("title"):
                out[(key, element)] = i["title"]
    return out


def _quantile(counts: list[int], q: float) -> float | None:
    """The ``q`` quantile (hours) of a duration histogram, interpolated inside its bucket."""
    total = sum(counts)
    if not total:
        return None
    target, seen = q * total, 0
    for i, n in enumerate(counts):
        if n and seen + n >= target:
            low = BUCKET_HOURS[i - 1] if i > 0 else 0.0
            high = BUCKET_HOURS[i] if i < len(BUCKET_HOURS) else BUCKET_HOURS[-1] * 2
            return round(low + (high - low) * (target - seen) / n, 2)
        seen += n
    return float(BUCKET_HOURS[-1])


def heatmap(s: Any, scope: Any, definition_id: int, now: datetime, institution: str | None) -> list[ElementHeat]:
    """Per element of one version: open, overdue, median and p90 hours spent, share within term.

    Open and overdue tasks are counted live (the partial index of open tasks); finished ones come from
    the ``step_stats`` histogram the transitions keep, per institution.
    """
    late = func.sum(case((Task.due_at < now, 1), else_=0))
    opened = {n: (t, int(c), int(o or 0)) for n, t, c, o in s.execute(_hinted(
        select(Task.name, func.max(Task.title), func.count(), late)
        .join(Instance, Instance.id == Task.instance_id)
        .where(Task.state == "READY", Instance.definition_id == definition_id, scope)
        .group_by(Task.name))).all()}
    hist: dict[str, list[int]] = {}
    terms: dict[str, list[int]] = {}
    for element, bucket, completed, with_term, within in s.execute(
            select(StepStat.element, StepStat.bucket, StepStat.completed, StepStat.with_term, StepStat.within_term)
            .where(StepStat.definition_id == definition_id, stat_scope(institution))).all():
        hist.setdefault(element, [0] * (len(BUCKET_HOURS) + 1))[bucket] += completed
        t = terms.setdefault(element, [0, 0])
        t[0] += with_term
        t[1] += within
    titles = {n: v[0] for n, v in opened.items()}
    missing = set(hist) - set(titles)
    if missing:  # titles of finished-only elements, from the version's task info
        info = (s.get(Definition, definition_id).task_info or {})
        titles.update({n: (info.get(n) or {}).get("title") for n in missing})
    out = []
    for name in sorted(set(opened) | set(hist)):
        counts = hist.get(name, [])
        with_term, within = terms.get(name, [0, 0])
        _title, n_open, n_late = opened.get(name, (None, 0, 0))
        out.append(ElementHeat(name, titles.get(name), n_open, n_late, sum(counts), _quantile(counts, 0.5),
                               _quantile(counts, 0.9), round(within / with_term, 3) if with_term else None))
    return out


def monthly(s: Any, scope: Any) -> tuple[list[str], list[list[Any]]]:
    """Rows of the monthly report (Hermosillo months): cases by outcome, then steps by terms met."""
    from collections import Counter

    names = process_names(s)
    cases: Counter[tuple[str, str, str, str]] = Counter()
    for started, key, institution, status in s.execute(
            select(Instance.started_at, Instance.process_key, Instance.institution, Instance.status).where(scope)).all():
        cases[(started.astimezone(HERMOSILLO).strftime("%Y-%m"), key, institution or "", status)] += 1
    steps: Counter[tuple[str, str, str]] = Counter()
    within: Counter[tuple[str, str, str]] = Counter()
    for done, key, title, due in s.execute(
            select(Task.completed_at, Task.process_key, Task.title, Task.due_at).join(
                Instance, Instance.id == Task.instance_id).where(scope, Task.state == "COMPLETED",
                                                                 Task.completed_at.is_not(None))).all():
        k = (done.astimezone(HERMOSILLO).strftime("%Y-%m"), key, title or "")
        steps[k] += 1
        within[k] += int(due is not None and done <= due)
    headers = ["Mes", "Procedimiento", "Institución", "Paso", "Resultado", "Cantidad", "Dentro del plazo legal"]
    rows: list[list[Any]] = [[m, names.get(k) or k, inst, "", OUTCOMES.get(st, st), n, None]
                             for (m, k, inst, st), n in sorted(cases.items())]
    rows += [[m, names.get(k) or k, "", title, "Pasos completados", n, within[(m, k, title)]]
             for (m, k, title), n in sorted(steps.items())]
    return headers, rows


OUTCOMES = {"running": "En trámite", "suspended": "Suspendido", "error": "Con incidente", "completed": "Concluido",
            "cancelled": "Cancelado"}
