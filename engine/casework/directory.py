"""The organisation's directory of groups: the administrator's data (``directory_groups``).

Who belongs to a group is the users' own data (``engine.casework.people``); which group a lane's tasks go
to is procedure data (``[lanes]`` of ``lanes.toml``). This module keeps the groups themselves: add or
edit one (name, institution, notes), disable or enable it, each change an audit event
(``directory_changed``, no case) with what it was and what it became. A group that a lane of a
procedure's newest version still maps to cannot be disabled: a task must never land in no inbox.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from engine.deploy import catalog, parts
from engine.errors import Conflict, InvalidInput, NotFound
from engine.store.db import Database
from engine.store.models import DirectoryGroup, Event
from engine.store.states import EventKind
from engine.time import clock

CODE = re.compile(r"^[a-z][a-z0-9_]{1,40}$")


@dataclass(frozen=True)
class Group:
    """One group of the directory, as the pages and ``tramita directory list`` show it."""

    group: str
    name: str
    institution: str
    notes: str
    active: bool


def _view(g: DirectoryGroup) -> Group:
    return Group(g.code, g.name, g.institution, g.notes or "", bool(g.active))


def _audit(s: Any, actor: str, detail: dict[str, Any]) -> None:
    s.add(Event(instance_id=None, task_id=None, at=clock.now(), actor=actor, kind=EventKind.DIRECTORY_CHANGED,
                detail=detail))


def list_groups(db: Database) -> list[Group]:
    with db.read() as s:
        return [_view(g) for g in s.execute(select(DirectoryGroup).order_by(DirectoryGroup.institution,
                                                                            DirectoryGroup.name)).scalars()]


def save_group(db: Database, actor: str, code: str, name: str, institution: str, notes: str = "") -> Group:
    """Add the group ``code`` or edit its name, institution and notes (its active flag stays)."""
    code, name, institution, notes = (code or "").strip(), (name or "").strip(), (institution or "").strip(), \
        (notes or "").strip()
    if not CODE.match(code):
        raise InvalidInput("Clave no válida: use de 2 a 41 letras minúsculas, dígitos o guiones bajos, empezando "
                           "por una letra (p. ej. ism_atencion).", field="code")
    if not name or len(name) > 255:
        raise InvalidInput("Falta el nombre del grupo (máximo 255 caracteres).", field="name")
    if not institution or len(institution) > 255:
        raise InvalidInput("Falta la institución del grupo (máximo 255 caracteres).", field="institution")
    if len(notes) > 2000:
        raise InvalidInput("Notas demasiado largas: máximo 2000 caracteres.", field="notes")
    with db.write() as s:
        row = s.get(DirectoryGroup, code)
        before = None if row is None else {"name": row.name, "institution": row.institution, "notes": row.notes}
        if row is None:
            row = DirectoryGroup(code=code, active=True)
            s.add(row)
        row.name, row.institution, row.notes = name, institution, notes
        row.updated_at, row.updated_by = clock.now(), actor
        _audit(s, actor, {"group": code, "action": "added" if before is None else "edited", "before": before,
                          "after": {"name": name, "institution": institution, "notes": notes}})
        s.flush()
        return _view(row)


def mapped_lanes(session: Any, code: str) -> list[tuple[str, str]]:
    """(procedure, lane) for each lane of a procedure's newest version that maps to ``code``."""
    found = []
    for d in catalog.list_processes(session):
        found += [(d.key, lane) for lane, group in parts.load_parts(session, d.id).lanes.items() if group == code]
    return found


def set_active(db: Database, actor: str, code: str, active: bool) -> Group:
    with db.write() as s:
        row = s.get(DirectoryGroup, (code or "").strip())
        if row is None:
            raise NotFound("El grupo no existe en el directorio.", field="code")
        if not active and row.active and (lanes := mapped_lanes(s, row.code)):
            key, lane = lanes[0]
            raise Conflict(f"No se puede deshabilitar el grupo: el carril «{lane}» del procedimiento {key} le "
                           "asigna tareas; cambie antes ese carril en lanes.toml.", field="code")
        if bool(row.active) != active:
            row.active, row.updated_at, row.updated_by = active, clock.now(), actor
            _audit(s, actor, {"group": row.code, "action": "enabled" if active else "disabled"})
        s.flush()
        return _view(row)
