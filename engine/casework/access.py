"""Who may see which case, which task, and which of the victim's data.

* A caseworker sees the cases of their institution; a manager sees their institution's cases; an
  admin sees every case (for support, with the victim's identifying data hidden); a legal designer
  sees no case data at all.
* A caseworker of another institution never opens the case file: through a task offered to their
  group or held by them they see that task's form and instructions, the case data the form names and
  what the procedure's policy grants (``[policies.<key>]`` of ``workflows/lanes.toml``, see
  ``engine.casework.policies``); after completing it, what they themselves did. They act on the case
  only through that task.
* A case one may not see and one that does not exist get the same answer (``NotFound``, same text), so
  the answer does not tell which cases exist.
* The victim's identifying data (name, address, contact...) is shown only to the roles in
  ``IDENTIFYING_ROLES``; other roles get it masked, everywhere.
* Every opening of a case file writes an ``events`` row ``case_opened`` (who, when, which case, through
  what). Every refusal writes an ``access_log`` row (who, when, what) and nothing else; so does every
  view of a case list or a search (its filters, never a text that could name someone).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Iterable

from sqlalchemy import ColumnElement, and_, false, func, or_, select, true

from engine.casework import classification, paging
from engine.time import clock
from engine.casework.people import UserView
from engine.errors import Forbidden, NotFound
from engine.store.db import Database
from engine.store.accounts import AccessLog
from engine.store.models import Definition, Event, Instance, Task
from engine.store.states import EventKind, TaskState

IDENTIFYING_ROLES = frozenset({"caseworker"})
CASE_ROLES = frozenset({"caseworker", "manager", "admin"})
MASK = "•••••• (dato reservado)"

@dataclass(frozen=True)
class CaseAccess:
    instance_id: int
    identifying: bool  # may see the victim's identifying data
    act: bool  # may act on the case's tasks (caseworkers only)


def can_see_identifying(user: UserView) -> bool:
    return classification.sees_everything(user.role)


def is_reserved(name: str, schema: dict[str, Any] | None = None) -> bool:
    """Whether the datum is identifying or sensitive by its schema's ``x-clasificacion`` (not by its name)."""
    return classification.of(schema) is not classification.Clasificacion.GENERAL


def mask_data(data: Any, user: UserView, schemas: dict[str, dict[str, Any]] | None = None) -> Any:
    """A copy of case data without the values this user's role may not see, by each datum's classification.

    ``schemas`` maps top-level names to their schemas (forms and the data dictionary); nested values
    follow their schema's ``properties``/``items``, and a nested name no schema describes is looked up
    in ``schemas`` by name, else treated as sensitive.
    """
    if can_see_identifying(user):
        return data
    return _mask(data, user.role, schemas or {}, None)


def _mask(value: Any, role: str, names: dict[str, dict[str, Any]], schema: dict[str, Any] | None) -> Any:
    if isinstance(value, dict):
        props = (schema or {}).get("properties") if isinstance(schema, dict) else None
        out = {}
        for k, v in value.items():
            sub = (props or {}).get(str(k)) if props else None
            if sub is None:
                sub = names.get(str(k))
            if not classification.sees(role, classification.of(sub)) and not _is_container(sub):
                out[k] = MASK if v not in (None, "", [], {}) else v
            else:
                out[k] = _mask(v, role, names, sub)
        return out
    if isinstance(value, list):
        items = schema.get("items") if isinstance(schema, dict) else None
        return [_mask(v, role, names, items if isinstance(items, dict) else None) for v in value]
    if schema is None or classification.sees(role, classification.of(schema)):
        return value
    return MASK if value not in (None, "") else value


_EVENT_DATA = ("data", "changes", "payload")  # where a transition's audit row keeps case data
_EVENT_TEXT = ("reason", "filename", "descripcion")  # free text a person wrote, or a file's name


def mask_event(detail: Any, user: UserView, schemas: dict[str, dict[str, Any]] | None = None) -> Any:
    """An audit row's detail as this user may see it: its case data masked like the case's, its free text
    (reasons, file names) masked as sensitive; what the engine itself wrote (kinds, tasks, dates) kept."""
    if can_see_identifying(user) or not isinstance(detail, dict):
        return detail
    out = dict(detail)
    for key in _EVENT_DATA:
        if key in out:
            out[key] = mask_data(out[key], user, schemas)
    for key in _EVENT_TEXT:
        if out.get(key) not in (None, ""):
            out[key] = MASK
    return out


def _is_container(schema: dict[str, Any] | None) -> bool:
    """An object or array whose own parts are classified: masked part by part, not as a whole."""
    return isinstance(schema, dict) and classification.KEYWORD not in schema and (
        "properties" in schema or isinstance(schema.get("items"), dict))


def case_filter(user: UserView) -> ColumnElement[bool]:
    """SQL condition on ``Instance`` for the cases this user may see."""
    if user.role == "admin":
        return true()
    if user.role == "manager":
        return Instance.institution == user.institution
    if user.role == "caseworker":
        # Holding or having held a task of another institution's case does not open it (issue 11 § 3).
        return Instance.institution == user.institution
    return false()


def case_not_found(instance_id: int) -> NotFound:
    """The one answer for a case that does not exist and for one this user may not see."""
    return NotFound(f"El expediente {instance_id} no existe o no tiene acceso a él.", field="instance")


def visible(db: Database, user: UserView, instance_id: int) -> bool:
    """Whether the user may open the case file (a question, not an attempt: nothing is logged)."""
    if user.role not in CASE_ROLES:
        return False
    with db.read() as s:
        return s.execute(select(Instance.id).where(Instance.id == instance_id, case_filter(user))).first() is not None


def check_case(db: Database, user: UserView, instance_id: int, *, action: str = "case",
               via: str = "web") -> CaseAccess:
    """Whether the user may open the case; a refusal raises (``NotFound`` whether or not the case
        exists; ``Forbidden`` for a role that sees no case at all) and is written to the access log."""
    if user.role not in CASE_ROLES:
        log_access(db, user, action, "refused", via, instance_id=instance_id, detail={"reason": "role"})
        raise Forbidden("Su rol no permite consultar expedientes.", field="instance")
    if not visible(db, user, instance_id):
        log_access(db, user, action, "refused", via, instance_id=instance_id)
        raise case_not_found(instance_id)
    return CaseAccess(instance_id, can_see_identifying(user), user.role == "caseworker")


def log_access(db: Database, user: UserView, action: str, outcome: str, via: str = "web", *,
               instance_id: int | None = None, target: str | None = None,
               detail: dict[str, Any] | None = None) -> None:
    """One row of the access log: a refusal, or a view of a list or a search."""
    with db.write() as s:
        s.add(AccessLog(at=clock.now(), actor=user.username, role=user.role, institution=user.institution,
                        action=action, outcome=outcome, via=via, instance_id=instance_id, target=target,
                        detail=detail))


# A case number as Tramita writes them (``OP-20260302-1A2B``) or as people type them: no spaces, a digit.
_REFERENCE = re.compile(r"^(?=.*\d)[A-Za-z0-9][A-Za-z0-9/_.-]{1,40}$")


def search_text_for_log(text: str | None) -> str | None:
    """What the access log keeps of a search text: a case number as typed, never words that may name
    someone (victims' names are what people search for)."""
    if not text or not text.strip():
        return None
    text = text.strip()
    return text if _REFERENCE.match(text) else "(texto omitido)"


def holds_open_task(db: Database, user: UserView, instance_id: int) -> bool:
    """Whether a caseworker may act now on an open task of the case (held by them, or offered to them)."""
    if user.role != "caseworker":
        return False
    mine = or_(Task.assignee == user.username,
               and_(Task.assignee.is_(None), Task.candidate_group.in_(list(user.groups) or [""])))
    with db.read() as s:
        return s.execute(select(Task.id).where(Task.instance_id == instance_id, Task.state == TaskState.READY, mine)
                         .limit(1)).first() is not None


def instance_head(db: Database, instance_id: int) -> tuple[str, str, str | None] | None:
    """(process key, status, institution) of a case, or None."""
    with db.read() as s:
        row = s.execute(select(Instance.process_key, Instance.status, Instance.institution)
                        .where(Instance.id == instance_id)).first()
        return (row[0], row[1], row[2]) if row else None


def open_case(db: Database, user: UserView, instance_id: int, via: str = "web") -> CaseAccess:
    """Check access and record the opening in the audit trail (who, when, which case, through what)."""
    access = check_case(db, user, instance_id, via=via)
    with db.write() as s:
        s.add(Event(instance_id=instance_id, task_id=None, at=clock.now(), actor=user.username,
                    kind=EventKind.CASE_OPENED,
                    detail={"via": via, "role": user.role, "institution": user.institution}))
    return access


def record(db: Database, user: UserView, instance_id: int, kind: EventKind, detail: dict[str, Any],
           task_id: str | None = None) -> None:
    """An audit row for an act that is not a workflow transition (download, claim...)."""
    with db.write() as s:
        s.add(Event(instance_id=instance_id, task_id=task_id, at=clock.now(), actor=user.username, kind=kind,
                    detail=detail))


@dataclass(frozen=True)
class TaskAccess:
    view: bool
    act: bool
    reason: str = ""


def task_access(db: Database, user: UserView, task_id: str) -> TaskAccess:
    """A caseworker may open a task offered to one of their groups, held by them, or of a case they see."""
    with db.read() as s:
        row = s.execute(select(Task, Instance.institution).join(Instance, Instance.id == Task.instance_id)
                        .where(Task.id == str(task_id))).first()
        if row is None:
            raise NotFound(f"La tarea {task_id} no existe.", field="task")
        task, institution = row
        if user.role != "caseworker":
            sees_case = s.execute(select(Instance.id).where(Instance.id == task.instance_id,
                                                            case_filter(user))).first() is not None
            return TaskAccess(sees_case, False, "" if sees_case else "forbidden")
        if task.assignee == user.username or task.completed_by == user.username:
            return TaskAccess(True, task.state == TaskState.READY)
        if task.assignee is None and task.state == TaskState.READY and task.candidate_group in user.groups:
            return TaskAccess(True, True)
        if task.assignee is None and task.state == TaskState.READY and task.candidate_group is None \
                and institution == user.institution:
            return TaskAccess(True, True)
        sees_case = s.execute(select(Instance.id).where(Instance.id == task.instance_id,
                                                        case_filter(user))).first() is not None
        if sees_case:
            return TaskAccess(True, False, "claimed" if task.assignee else "")
        return TaskAccess(False, False, "forbidden")


def require_task(db: Database, user: UserView, task_id: str, *, act: bool = False, action: str = "task",
                 via: str = "web") -> TaskAccess:
    """The user's access to a task, or ``Forbidden`` (written to the access log)."""
    access = task_access(db, user, task_id)
    if not access.view or (act and not access.act):
        log_access(db, user, action, "refused", via, target=str(task_id))
        raise Forbidden("No puede atender esta tarea.", field="task")
    return access


@dataclass(frozen=True)
class CaseRow:
    id: int
    process_key: str
    process_name: str | None
    reference: str | None
    title: str | None
    status: str
    institution: str | None
    started_at: Any
    updated_at: Any
    open_tasks: int


def list_cases(db: Database, user: UserView, *, process_key: str | None = None, status: str | None = None,
               text: str | None = None, page: int = 1, per_page: int = 25,
               via: str = "web") -> tuple[list[CaseRow], int]:
    """A page of the cases the user may see; the view (who, when, which filters) is logged."""
    filters = {k: v for k, v in {"procedimiento": process_key, "estado": status,
                                 "texto": search_text_for_log(text), "pagina": page}.items() if v}
    if user.role not in CASE_ROLES:
        log_access(db, user, "case_list", "refused", via, detail=filters)
        raise Forbidden("Su rol no permite consultar expedientes.", field="instance")
    log_access(db, user, "case_list", "viewed", via, detail=filters)
    conds = [case_filter(user)]
    if process_key:
        conds.append(Instance.process_key == process_key)
    if status:
        conds.append(Instance.status == status)
    if text:
        like = f"%{text.strip().lower()}%"
        conds.append(or_(func.lower(Instance.reference).like(like), func.lower(Instance.title).like(like)))
    where = and_(*conds)
    open_count = (select(func.count(Task.id)).where(Task.instance_id == Instance.id, Task.state == TaskState.READY)
                  .correlate(Instance).scalar_subquery())
    page, per_page = paging.page_bounds(page, per_page)
    with db.read() as s:
        total = int(s.execute(select(func.count(Instance.id)).where(where)).scalar_one())
        rows = s.execute(select(Instance, Definition.name, open_count).join(Definition, Definition.id ==
                                                                          Instance.definition_id)
                         .where(where).order_by(Instance.updated_at.desc(), Instance.id.desc())
                         .limit(per_page).offset((page - 1) * per_page)).all()
        return [CaseRow(i.id, i.process_key, name, i.reference, i.title, i.status, i.institution, i.started_at,
                        i.updated_at, int(n or 0)) for i, name, n in rows], total


def schema_properties(schemas: Iterable[dict[str, Any] | None]) -> dict[str, dict[str, Any]]:
    """Every top-level field of a set of forms, by name (the first form to define it wins)."""
    props: dict[str, dict[str, Any]] = {}
    for schema in schemas:
        for name, sub in ((schema or {}).get("properties") or {}).items():
            if isinstance(sub, dict):
                props.setdefault(name, sub)
    return props
