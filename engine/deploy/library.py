"""Reading what is deployed for the studio: each procedure's versions, their text, notes, open cases."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from engine.errors import NotFound
from engine.store.drafts import VersionNote
from engine.store.models import DeployedFile, Definition, Instance

OPEN_STATUSES = ("running", "suspended", "error")


@dataclass(frozen=True)
class VersionRow:
    key: str
    kind: str
    version: int
    name: str | None
    deployed_at: datetime
    deployed_by: str
    note: str
    approved_by: str | None
    open_cases: int
    filename: str
    effective_from: datetime | None = None  # the reform's entry into force: new cases use it from then on


def versions(session: Any, key: str, kind: str = "process") -> list[VersionRow]:
    """Newest first: who deployed each version, when, its change note and how many cases it still runs."""
    rows = session.execute(
        select(Definition, DeployedFile.name, VersionNote.note, VersionNote.approved_by, VersionNote.effective_from)
        .join(DeployedFile, DeployedFile.id == Definition.file_id)
        .outerjoin(VersionNote, VersionNote.deployment_id == Definition.deployment_id)
        .where(Definition.kind == kind, Definition.key == key).order_by(Definition.version.desc())).all()
    if not rows:
        raise NotFound(f"No hay ningún procedimiento o decisión con la clave «{key}».", field="key")
    counts = dict(session.execute(
        select(Instance.definition_id, func.count()).where(
            Instance.process_key == key, Instance.status.in_(OPEN_STATUSES)).group_by(Instance.definition_id)).all())
    return [VersionRow(d.key, d.kind, d.version, d.name, d.deployed_at, d.deployed_by, note or "", approved,
                       int(counts.get(d.id, 0)), filename, effective)
            for d, filename, note, approved, effective in rows]


def catalog(session: Any) -> list[dict[str, Any]]:
    """Every procedure and decision with its latest version (the studio's home)."""
    latest = (select(Definition.kind, Definition.key, func.max(Definition.version).label("v"))
              .group_by(Definition.kind, Definition.key).subquery())
    rows = session.execute(
        select(Definition.kind, Definition.key, Definition.name, Definition.version, Definition.deployed_at,
               Definition.deployed_by)
        .join(latest, (Definition.kind == latest.c.kind) & (Definition.key == latest.c.key)
              & (Definition.version == latest.c.v)).order_by(Definition.kind.desc(), Definition.key)).all()
    return [dict(r._mapping) for r in rows]


def definition(session: Any, key: str, version: int | None, kind: str = "process") -> Definition:
    q = select(Definition).where(Definition.kind == kind, Definition.key == key)
    q = q.where(Definition.version == version) if version else q.order_by(Definition.version.desc()).limit(1)
    found = session.execute(q).scalar()
    if found is None:
        what = f"la versión {version} de «{key}»" if version else f"«{key}»"
        raise NotFound(f"No existe {what}.", field="version" if version else "key")
    return found


def source(session: Any, d: Definition) -> tuple[str, str]:
    """(file name, exact deployed text) of a version."""
    f = session.get(DeployedFile, d.file_id)
    return f.name, f.content


def form_reader(session: Any, deployment_id: int) -> Any:
    """The forms as deployed up to a deployment: a version's diff reads its own forms."""
    def read(name: str) -> dict[str, Any] | None:
        row = session.execute(
            select(DeployedFile.content).where(DeployedFile.kind == "form", DeployedFile.name == name,
                                               DeployedFile.deployment_id <= deployment_id)
            .order_by(DeployedFile.id.desc()).limit(1)).scalar()
        return json.loads(row) if row else None
    return read


def export(session: Any, key: str, version: int | None, folder: Path) -> list[Path]:
    """Write a deployed version back as workflows/ files: the diagram and the forms it uses."""
    d = definition(session, key, version)
    name, content = source(session, d)
    written = []
    target = folder / ("dmn" if name.endswith(".dmn") else "bpmn") / name
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(content, encoding="utf-8")
    written.append(target)
    read = form_reader(session, d.deployment_id)
    for form in sorted({str(i["form"]) for i in (d.task_info or {}).values() if i.get("form")}):
        schema_row = session.execute(
            select(DeployedFile.content).where(DeployedFile.kind == "form", DeployedFile.name == form,
                                               DeployedFile.deployment_id <= d.deployment_id)
            .order_by(DeployedFile.id.desc()).limit(1)).scalar()
        if schema_row is not None and read(form) is not None:
            path = folder / "forms" / form
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(schema_row, encoding="utf-8")
            written.append(path)
    return written
