"""Who may see which case, which task, and which of the victim's data.

* A caseworker sees the cases of their institution and the cases where they hold
  or held a task; a manager sees their institution's cases; an admin sees every
  case (for support, with the victim's identifying data hidden); a legal designer
  sees no case data at all.
* The victim's identifying data (name, address, contact...) is shown only to the
  roles in ``IDENTIFYING_ROLES``; other roles get it masked, everywhere.
* Every opening of a case file writes an ``events`` row ``case_opened`` (who, when,
  which case). A refusal raises :class:`Forbidden` and writes nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Iterable

from sqlalchemy import ColumnElement, and_, exists, false, func, or_, select, true

from engine.casework import paging
from engine.time import clock
from engine.casework.people import UserView
from engine.errors import Forbidden, NotFound
from engine.store.db import Database
from engine.store.models import Definition, Event, Instance, Task

IDENTIFYING_ROLES = frozenset({"caseworker"})
CASE_ROLES = frozenset({"caseworker", "manager", "admin"})
MASK = "•••••• (dato reservado)"

# Field names that identify a person; a schema may also mark a field with "x-identifying": true.
_IDENTIFYING_NAME = re.compile(
    r"(nombre|apellido|domicilio|direcci[oó]n|tel[eé]fono|celular|correo|email|e_mail|curp|rfc|contacto|"
    r"ubicaci[oó]n|coordenadas|fecha_nacimiento|identificaci[oó]n|ine)", re.IGNORECASE)
# The names of the people in an order or a sanction, as the procedures store them (documento_orden,
# registro_orden, emitir_orden, sancion_registro): exact names, so that e.g. «comparecio_persona_generadora»
# (a yes/no) stays visible.
_IDENTIFYING_NAMES = frozenset({"persona_protegida", "persona_agresora", "persona_contra_quien_se_expide",
                                "persona_sujeta", "persona_generadora", "personas_receptoras", "promovente"})


@dataclass(frozen=True)
class CaseAccess:
    instance_id: int
    identifying: bool  # may see the victim's identifying data
    act: bool  # may act on the case's tasks (caseworkers only)


def can_see_identifying(user: UserView) -> bool:
    return user.role in IDENTIFYING_ROLES


def is_identifying(name: str, schema: dict[str, Any] | None = None) -> bool:
    if isinstance(schema, dict) and "x-identifying" in schema:
        return bool(schema["x-identifying"])
    return name in _IDENTIFYING_NAMES or bool(_IDENTIFYING_NAME.search(name))


def mask_data(data: Any, user: UserView, schemas: dict[str, dict[str, Any]] | None = None) -> Any:
    """A copy of case data with identifying values masked for roles that must not see them."""
    if can_see_identifying(user):
        return data
    return _mask(data, schemas or {})


def _mask(value: Any, schemas: dict[str, dict[str, Any]]) -> Any:
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if is_identifying(str(k), schemas.get(str(k))):
                out[k] = MASK if v not in (None, "", [], {}) else v
            else:
                out[k] = _mask(v, schemas)
        return out
    if isinstance(value, list):
        return [_mask(v, schemas) for v in value]
    return value


def case_filter(user: UserView) -> ColumnElement[bool]:
    """SQL condition on ``Instance`` for the cases this user may see."""
    if user.role == "admin":
        return true()
    if user.role == "manager":
        return Instance.institution == user.institution
    if user.role == "caseworker":
        held = exists().where(Task.instance_id == Instance.id,
                              or_(Task.assignee == user.username, Task.completed_by == user.username))
        return or_(Instance.institution == user.institution, held)
    return false()


def check_case(db: Database, user: UserView, instance_id: int) -> CaseAccess:
    """Whether the user may open the case; raises NotFound/Forbidden and writes nothing."""
    if user.role not in CASE_ROLES:
        raise Forbidden("Su rol no permite consultar expedientes.", field="instance")
    with db.read() as s:
        if s.get(Instance, instance_id) is None:
            raise NotFound(f"El expediente {instance_id} no existe.", field="instance")
        allowed = s.execute(select(Instance.id).where(Instance.id == instance_id, case_filter(user))).first()
    if allowed is None:
        raise Forbidden("No tiene acceso a este expediente.", field="instance")
    return CaseAccess(instance_id, can_see_identifying(user), user.role == "caseworker")


def open_case(db: Database, user: UserView, instance_id: int, via: str = "web") -> CaseAccess:
    """Check access and record the opening in the audit trail (who, when, which case)."""
    access = check_case(db, user, instance_id)
    with db.write() as s:
        s.add(Event(instance_id=instance_id, task_id=None, at=clock.now(), actor=user.username, kind="case_opened",
                    detail={"via": via, "role": user.role, "institution": user.institution}))
    return access


def record(db: Database, user: UserView, instance_id: int, kind: str, detail: dict[str, Any],
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
            return TaskAccess(True, task.state == "READY")
        if task.assignee is None and task.state == "READY" and task.candidate_group in user.groups:
            return TaskAccess(True, True)
        if task.assignee is None and task.state == "READY" and task.candidate_group is None \
                and institution == user.institution:
            return TaskAccess(True, True)
        sees_case = s.execute(select(Instance.id).where(Instance.id == task.instance_id,
                                                        case_filter(user))).first() is not None
        if sees_case:
            return TaskAccess(True, False, "claimed" if task.assignee else "")
        return TaskAccess(False, False, "forbidden")


def require_task(db: Database, user: UserView, task_id: str, *, act: bool = False) -> TaskAccess:
    access = task_access(db, user, task_id)
    if not access.view or (act and not access.act):
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
               text: str | None = None, page: int = 1, per_page: int = 25) -> tuple[list[CaseRow], int]:
    if user.role not in CASE_ROLES:
        raise Forbidden("Su rol no permite consultar expedientes.", field="instance")
    conds = [case_filter(user)]
    if process_key:
        conds.append(Instance.process_key == process_key)
    if status:
        conds.append(Instance.status == status)
    if text:
        like = f"%{text.strip().lower()}%"
        conds.append(or_(func.lower(Instance.reference).like(like), func.lower(Instance.title).like(like)))
    where = and_(*conds)
    open_count = (select(func.count(Task.id)).where(Task.instance_id == Instance.id, Task.state == "READY")
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
