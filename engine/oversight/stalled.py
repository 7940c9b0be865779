"""Which cases stopped moving, why, and since when.

A case is stalled, with one row per reason and step, when

- ``overdue``: an open task is past its legal due date (since: the due date);
- ``idle``: an open task has not moved for N días hábiles, N from ``workflows/supervision.toml``
  for that step, else the step's own legal term when it is counted in días hábiles (since: the end of
  the N-th business day after the step opened; claiming or reassigning it is not progress);
- ``timer``: a timer is past due and has not fired: the timer service is down or failing (since: its
  due date, after a grace of :data:`TIMER_GRACE`);
- ``message``: it waits for a message longer than supervision.toml allows at that event (since: the
  end of that term);
- ``error``: it is in error (since: its unresolved incident, i.e. the last failure; a failed retry
  resolves the old incident and opens a new one).

Only running cases can be stalled for the first four reasons: a suspended case was stopped on purpose.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Iterable

from sqlalchemy import Select, and_, func, or_, select

from engine.oversight.supervision import Supervision
from engine.store.models import CONSOLE_INDEX, Definition, Incident, Instance, MessageWait, Task, Timer
from engine.time.calendar import HERMOSILLO, LegalCalendar

TIMER_GRACE = timedelta(minutes=5)
REASONS = ("overdue", "idle", "timer", "message", "error")
REASON_LABELS = {"overdue": "Plazo legal vencido", "idle": "Sin actividad", "timer": "Temporizador sin disparar",
                 "message": "Espera de mensaje excedida", "error": "Con incidente"}


@dataclass(frozen=True)
class StalledRow:
    instance_id: int
    reference: str | None
    process_key: str
    process_name: str | None
    step: str | None  # BPMN element id
    step_title: str | None
    holder: str | None  # the assignee, else ``grupo:<candidate group>``
    reason: str
    since: datetime
    late_seconds: int
    citation: str | None = None

    @property
    def reason_label(self) -> str:
        return REASON_LABELS[self.reason]


def _rows(s: Any, q: Select[Any]) -> list[Any]:
    return list(s.execute(q).all())


def via_console_index(q: Select[Any]) -> Select[Any]:
    """Reach the case row through ``CONSOLE_INDEX`` on SQLite (see engine.store.models)."""
    return q.with_hint(Instance, f"INDEXED BY {CONSOLE_INDEX}", "sqlite")


def _holder(assignee: str | None, group: str | None) -> str | None:
    return assignee or (f"grupo:{group}" if group else None)


def detect(s: Any, scope: Any, now: datetime, calendar: LegalCalendar, supervision: Supervision,
           process_key: str | None = None) -> list[StalledRow]:
    """Every stalled row visible through ``scope`` (a condition on ``Instance``), oldest first."""
    conds = [scope]
    if process_key:
        conds.append(Instance.process_key == process_key)
    running = and_(Instance.status == "running", *conds)
    names = dict(_rows(s, select(Definition.key, func.max(Definition.name)).where(Definition.kind == "process")
                       .group_by(Definition.key)))
    out: list[StalledRow] = []

    def row(inst_id: int, ref: str | None, key: str, step: str | None, title: str | None, holder: str | None,
            reason: str, since: datetime, citation: str | None = None) -> None:
        out.append(StalledRow(inst_id, ref, key, names.get(key), step, title, holder, reason, since,
                              int((now - since).total_seconds()), citation))

    task_cols = (Task.instance_id, Instance.reference, Task.process_key, Task.name, Task.title, Task.assignee,
                 Task.candidate_group)
    # 1. past the legal due date
    citation = Task.deadline["citation"].as_string()  # the explanation's article, not its whole JSON
    overdue = via_console_index(select(*task_cols, Task.due_at, citation).join(
        Instance, Instance.id == Task.instance_id).where(Task.state == "READY", Task.due_at < now, running))
    late_tasks: set[tuple[int, str]] = set()
    for iid, ref, key, name, title, who, group, due, cited in _rows(s, overdue):
        late_tasks.add((iid, name))
        row(iid, ref, key, name, title, _holder(who, group), "overdue", due, cited)
    # 2. idle at a step: open for at least a whole day, then N días hábiles checked here
    configured = [and_(Task.process_key == k, Task.name == n) for k, n in supervision.idle]
    unit, count = Task.deadline["unit"].as_string(), Task.deadline["count"].as_integer()
    idle = via_console_index(select(*task_cols, Task.created_at, unit, count, citation).join(
        Instance, Instance.id == Task.instance_id).where(
        Task.state == "READY", Task.created_at < now - timedelta(days=1), running,
        or_(Task.deadline.is_not(None), *configured)))
    ends: dict[tuple[Any, int], datetime] = {}  # the term ends at the end of a day: one count per (day, N)
    for iid, ref, key, name, title, who, group, last, term_unit, term_count, cited in _rows(s, idle):
        if (iid, name) in late_tasks:
            continue
        threshold = supervision.idle.get((key, name))
        if threshold is not None:
            n, why = threshold.value, threshold.citation
        elif term_unit == "business" and (term_count or 0) > 0:
            n, why = int(term_count), cited
        else:
            continue
        day = last.astimezone(HERMOSILLO).date()
        since = ends.get((day, n))
        if since is None:
            since = ends[(day, n)] = calendar.business_days(last, n).due
        if since < now:
            row(iid, ref, key, name, title, _holder(who, group), "idle", since, why)
    # 3. timers past due and not fired
    timers = via_console_index(select(Timer.instance_id, Instance.reference, Instance.process_key, Timer.task_name,
                                      Timer.due_at).join(Instance, Instance.id == Timer.instance_id).where(
        Timer.status == "pending", Timer.due_at < now - TIMER_GRACE, running))
    for iid, ref, key, name, due in _rows(s, timers):
        row(iid, ref, key, name, None, None, "timer", due)
    # 4. waiting for a message past its limit
    if supervision.message_waits:
        elements = sorted({element for _key, element in supervision.message_waits})
        waits = via_console_index(select(MessageWait.instance_id, Instance.reference, Instance.process_key,
                                         MessageWait.element, MessageWait.since).select_from(MessageWait).join(
            Instance, Instance.id == MessageWait.instance_id).where(MessageWait.element.in_(elements), running))
        for iid, ref, key, element, since in _rows(s, waits):
            limit = supervision.message_waits.get((key, element))
            if limit is None:
                continue
            end = calendar.deadline(since, limit.value, limit.unit).due
            if end < now:
                row(iid, ref, key, element, None, None, "message", end, limit.citation)
    # 5. in error
    errors = select(Instance.id, Instance.reference, Instance.process_key, func.min(Incident.task_name),
                    func.min(Incident.created_at), Instance.updated_at).outerjoin(
        Incident, and_(Incident.instance_id == Instance.id, Incident.resolved_at.is_(None))).where(
        Instance.status == "error", *conds).group_by(Instance.id, Instance.reference, Instance.process_key,
                                                     Instance.updated_at)
    for iid, ref, key, step, since, updated in _rows(s, errors):
        row(iid, ref, key, step, None, None, "error", since or updated)
    out.sort(key=lambda r: (r.since, r.instance_id))
    return out


SORTS = {"caso": lambda r: (r.reference or "", r.instance_id), "paso": lambda r: (r.step_title or r.step or ""),
         "responsable": lambda r: r.holder or "", "motivo": lambda r: r.reason, "retraso": lambda r: -r.late_seconds}


def select_rows(rows: Iterable[StalledRow], *, reason: str | None = None, step: str | None = None,
                holder: str | None = None, sort: str = "retraso", descending: bool = False) -> list[StalledRow]:
    """Filter by reason, step or holder and sort by one column (``SORTS``)."""
    picked = [r for r in rows if (not reason or r.reason == reason) and (not step or r.step == step)
              and (not holder or r.holder == holder)]
    picked.sort(key=SORTS.get(sort, SORTS["retraso"]), reverse=descending)
    return picked
