"""The caseworker's inbox: my tasks and my groups' unclaimed tasks, by legal deadline.

Claiming puts a task in one person's name (so two people never work the same
step); both claiming and releasing are written to the audit trail. Badges say
"vencida", "vence hoy" or how many días hábiles are left, computed on the legal
calendar in Hermosillo time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import and_, case, false, func, literal_column, or_, select, union_all, update

from engine.casework import paging
from engine.time import clock
from engine.casework.access import task_access
from engine.casework.people import UserView
from engine.time.calendar import default_calendar
from engine.time.hermosillo import HERMOSILLO
from engine.errors import Conflict, Forbidden, InvalidInput
from engine.store.db import Database
from engine.store.models import Definition, Event, Instance, Task
from engine.store.states import EventKind, TaskState

SCOPES = ("all", "mine", "group")

# Open tasks are a small share of the tasks table. Migration 0003 gives them their own covering
# index, partial on ``state = 'READY'`` (``ix_tasks_ready_inbox``), so counts, badges, sorting,
# filters and facets read that small index and never the table. SQLite and PostgreSQL only use a
# partial index when the query names the same constant, so it is written inline, not bound.
_READY = literal_column(f"'{TaskState.READY}'")


def _open():  # type: ignore[no-untyped-def]
    return Task.state == _READY


@dataclass(frozen=True)
class Badge:
    kind: str  # overdue | today | days | none
    label: str
    days_left: int | None = None


@dataclass(frozen=True)
class InboxItem:
    task_id: str
    instance_id: int
    process_key: str
    process_name: str | None
    name: str
    title: str | None
    reference: str | None
    case_title: str | None
    candidate_group: str | None
    assignee: str | None
    created_at: datetime
    due_at: datetime | None
    deadline: dict[str, Any] | None
    badge: Badge
    mine: bool


@dataclass(frozen=True)
class InboxFilters:
    scope: str = "all"
    process_key: str | None = None
    task: str | None = None
    due_from: date | None = None
    due_to: date | None = None
    text: str | None = None


@dataclass(frozen=True)
class InboxPage:
    items: list[InboxItem]
    total: int
    page: int
    per_page: int
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def badge(due_at: datetime | None, overdue_flag: bool = False, now: datetime | None = None) -> Badge:
    """The deadline badge of a task as shown in inboxes and on task pages."""
    if due_at is None:
        return Badge("none", "Sin plazo")
    now = now or clock.now()
    today = now.astimezone(HERMOSILLO).date()
    due_day = due_at.astimezone(HERMOSILLO).date()
    if due_at < now or overdue_flag:
        left = default_calendar().business_days_left(today, due_day)
        return Badge("overdue", "Vencida", min(left, -1) if due_day != today else 0)
    if due_day == today:
        return Badge("today", "Vence hoy", 0)
    left = default_calendar().business_days_left(today, due_day)
    label = "1 día hábil" if left == 1 else f"{left} días hábiles"
    return Badge("days", label, left)


def _scope_branches(user: UserView, scope: str) -> list[Any]:
    """The user's open tasks as disjoint conditions, each one range of ``ix_tasks_ready_inbox``: the
    tasks in their name, and the unclaimed tasks offered to their groups. (Written as one OR, both
    databases read every open task of every group instead.)"""
    mine = Task.assignee == user.username
    groups = list(user.groups)
    offered = [and_(Task.assignee.is_(None), Task.candidate_group.in_(groups))] if groups else []
    if scope == "mine":
        return [mine]
    if scope == "group":
        return offered
    return [mine, *offered]


def _scoped(user: UserView, scope: str, columns: tuple[Any, ...], conds: tuple[Any, ...] = ()) -> Any:
    """The open tasks in the user's scope that meet ``conds``, as one subquery (UNION ALL of the branches)."""
    selects = [select(*columns).where(_open(), branch, *conds) for branch in _scope_branches(user, scope) or [false()]]
    return (selects[0] if len(selects) == 1 else union_all(*selects)).subquery()


def _case_text(text: str) -> Any:
    """Whether the task's case number or case title contains ``text`` (case-insensitive).

    A correlated subquery, so each task in scope looks its case up by key. Written as a join,
    PostgreSQL plans a scan of every case's text instead (60-130 ms at 100,000 cases)."""
    like = f"%{text.strip().lower()}%"
    return (select(or_(func.lower(Instance.reference).like(like), func.lower(Instance.title).like(like)))
            .where(Instance.id == Task.instance_id).correlate(Task).scalar_subquery())


def _local_start(day: date) -> datetime:
    return datetime.combine(day, time(0, 0), HERMOSILLO)


_INBOX_COLUMNS = (Task.id, Task.due_at, Task.created_at, Task.overdue, Task.assignee)


def inbox(db: Database, user: UserView, filters: InboxFilters | None = None, *, page: int = 1,
          per_page: int = 25) -> InboxPage:
    if user.role != "caseworker":
        raise Forbidden("La bandeja de tareas es para el personal operativo.", field="inbox")
    f = filters or InboxFilters()
    if f.scope not in SCOPES:
        raise InvalidInput(f"Vista desconocida {f.scope!r}.", field="scope")
    if f.due_from and f.due_to and f.due_from > f.due_to:
        raise InvalidInput("La fecha inicial del rango es posterior a la final.", field="due_to")
    page, per_page = paging.page_bounds(page, per_page)
    conds = []
    if f.process_key:
        conds.append(Task.process_key == f.process_key)
    if f.task:
        conds.append(Task.name == f.task)
    if f.due_from:
        conds.append(Task.due_at >= _local_start(f.due_from))
    if f.due_to:
        conds.append(Task.due_at < _local_start(f.due_to + timedelta(days=1)))
    if f.text:
        conds.append(_case_text(f.text))
    now = clock.now()
    today = now.astimezone(HERMOSILLO).date()
    tomorrow = _local_start(today + timedelta(days=1))
    with db.read() as s:
        found = _scoped(user, f.scope, _INBOX_COLUMNS, tuple(conds))
        order = (found.c.due_at.is_(None), found.c.due_at, found.c.created_at, found.c.id)
        if f.text:
            # Matching the text costs a case lookup per task in scope: do it once, for the count and
            # the page together (the matches are few; the ids are small).
            matches = list(s.execute(select(found.c.id).order_by(*order)).scalars())
            total = len(matches)
            page_ids: Any = matches[(page - 1) * per_page:page * per_page]
        else:
            total = int(s.execute(select(func.count()).select_from(found)).scalar_one())
            # The page's task ids from the index alone; only those rows are then read and joined.
            page_ids = select(found.c.id).order_by(*order).limit(per_page).offset((page - 1) * per_page)
        every = _scoped(user, "all", _INBOX_COLUMNS)
        overdue = or_(every.c.due_at < now, every.c.overdue.is_(True))
        badges = s.execute(select(
            func.count(),
            func.sum(case((overdue, 1), else_=0)),
            func.sum(case((and_(every.c.due_at >= now, every.c.due_at < tomorrow, every.c.overdue.is_(False)), 1),
                          else_=0)),
            func.sum(case((every.c.assignee == user.username, 1), else_=0)),
        )).one()
        rows = s.execute(
            select(Task, Instance.reference, Instance.title, Definition.name)
            .join(Instance, Instance.id == Task.instance_id)
            .join(Definition, Definition.id == Instance.definition_id)
            .where(Task.id.in_(page_ids))
            .order_by(Task.due_at.is_(None), Task.due_at, Task.created_at, Task.id)).all()
    items = [InboxItem(t.id, t.instance_id, t.process_key, pname, t.name, t.title, ref, ctitle, t.candidate_group,
                       t.assignee, t.created_at, t.due_at, t.deadline, badge(t.due_at, t.overdue, now),
                       t.assignee == user.username) for t, ref, ctitle, pname in rows]
    counts = {"all": int(badges[0] or 0), "overdue": int(badges[1] or 0), "today": int(badges[2] or 0),
              "mine": int(badges[3] or 0)}
    counts["group"] = counts["all"] - counts["mine"]
    return InboxPage(items, total, page, per_page, counts)


def facets(db: Database, user: UserView) -> dict[str, list[tuple[str, str]]]:
    """The procedures and task names present in the user's inbox, for the filter menus."""
    every = _scoped(user, "all", (Task.process_key, Task.name, Task.title))
    with db.read() as s:
        # Keys from the open-task index; their names from the (few) deployed definitions of those
        # keys, rather than through every open task's case.
        keys = list(s.execute(select(every.c.process_key).group_by(every.c.process_key)
                              .order_by(every.c.process_key)).scalars())
        names = dict(s.execute(select(Definition.key, func.max(Definition.name)).where(
            Definition.kind == "process", Definition.key.in_(keys)).group_by(Definition.key)).all()) if keys else {}
        tasks = s.execute(select(every.c.name, func.max(every.c.title)).group_by(every.c.name)
                          .order_by(func.max(every.c.title))).all()
    return {"processes": [(k, names.get(k) or k) for k in keys], "tasks": [(k, n or k) for k, n in tasks]}


def claim(db: Database, user: UserView, task_id: str) -> None:
    grant = task_access(db, user, task_id)
    if not grant.view:
        raise Forbidden("No puede atender esta tarea.", field="task")
    if not grant.act:
        if grant.reason == "claimed" or _held_by_other(db, task_id, user.username):
            raise Conflict("Otra persona tomó esta tarea antes que usted.", field="task")
        raise Forbidden("No puede atender esta tarea.", field="task")
    with db.write() as s:
        task = s.get(Task, str(task_id))
        if task is None or task.state != TaskState.READY:
            raise Conflict("La tarea ya no está abierta.", field="task")
        if task.assignee == user.username:
            return
        n = s.execute(update(Task).where(Task.id == task.id, Task.assignee.is_(None), Task.state == TaskState.READY)
                      .values(assignee=user.username).execution_options(synchronize_session=False)).rowcount
        if n != 1:
            raise Conflict("Otra persona tomó esta tarea antes que usted.", field="task")
        s.add(Event(instance_id=task.instance_id, task_id=task.id, at=clock.now(), actor=user.username,
                    kind=EventKind.TASK_CLAIMED, detail={"task": task.name, "title": task.title}))


def unclaim(db: Database, user: UserView, task_id: str) -> None:
    with db.write() as s:
        task = s.get(Task, str(task_id))
        if task is None:
            from engine.errors import NotFound

            raise NotFound(f"La tarea {task_id} no existe.", field="task")
        if task.assignee != user.username:
            raise Forbidden("Solo quien tomó la tarea puede liberarla.", field="task")
        if task.state != TaskState.READY:
            raise Conflict("La tarea ya no está abierta.", field="task")
        s.execute(update(Task).where(Task.id == task.id, Task.assignee == user.username)
                  .values(assignee=None).execution_options(synchronize_session=False))
        s.add(Event(instance_id=task.instance_id, task_id=task.id, at=clock.now(), actor=user.username,
                    kind=EventKind.TASK_UNCLAIMED, detail={"task": task.name, "title": task.title}))


def _held_by_other(db: Database, task_id: str, username: str) -> bool:
    with db.read() as s:
        task = s.get(Task, str(task_id))
        return task is not None and task.state == TaskState.READY and task.assignee not in (None, username)
