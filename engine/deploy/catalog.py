"""Reading what is deployed: the spec cache the run layer uses, and the versions of a procedure.

A version is immutable once stored, so a parsed spec and the parts a version pins are cached by
definition id for the life of the process and never go stale.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import defer
from SpiffWorkflow.bpmn.specs.bpmn_process_spec import BpmnProcessSpec

from engine.bpmn import serializer
from engine.deploy import parts
from engine.deploy.parts import VersionParts
from engine.errors import NotFound
from engine.script import sandbox
from engine.store.models import Definition, DefinitionPart, DeployedFile


@dataclass(frozen=True)
class LoadedSpec:
    definition_id: int
    key: str
    version: int
    spec: BpmnProcessSpec
    subprocess_specs: dict[str, BpmnProcessSpec]
    task_info: dict[str, Any]
    parts: VersionParts = parts.NO_PARTS


class SpecCache:
    """Parsed specs, with the parts their version pins, by definition id."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._specs: dict[int, LoadedSpec] = {}

    def peek(self, definition_id: int) -> LoadedSpec | None:
        """The spec if it is already parsed, else None (without touching the database)."""
        return self._specs.get(definition_id)

    def get(self, session: Any, definition_id: int) -> LoadedSpec:
        loaded = self._specs.get(definition_id)
        if loaded is not None:
            return loaded
        definition = session.get(Definition, definition_id)
        if definition is None or definition.spec is None:
            raise NotFound(f"process definition {definition_id} does not exist", field="definition")
        spec, subprocess_specs = serializer.spec_from_dict(definition.spec)
        loaded = LoadedSpec(definition.id, definition.key, definition.version, spec, subprocess_specs,
                            definition.task_info or {}, parts.load_parts(session, definition.id))
        sandbox.set_limits(spec, definition.spec.get("limits"))  # a diagram may lower the server's budget
        with self._lock:
            self._specs[definition_id] = loaded
        return loaded


def latest_process(session: Any, key: str) -> Definition:
    definition = session.execute(
        select(Definition).where(Definition.kind == "process", Definition.key == key)
        .order_by(Definition.version.desc()).limit(1)).scalar()
    if definition is None:
        known = session.execute(select(Definition.key).where(Definition.kind == "process").distinct()).scalars().all()
        hint = f"; deployed: {', '.join(sorted(known))}" if known else "; nothing is deployed yet"
        raise NotFound(f"unknown process key {key!r}{hint}", field="key")
    return definition


def list_processes(session: Any) -> list[Definition]:
    """The newest version of each process (its serialized spec left unloaded: listings don't need it)."""
    latest = (select(Definition.key, func.max(Definition.version).label("v"))
              .where(Definition.kind == "process").group_by(Definition.key).subquery())
    return list(session.execute(
        select(Definition).join(latest, (Definition.key == latest.c.key) & (Definition.version == latest.c.v))
        .where(Definition.kind == "process").order_by(Definition.key).options(defer(Definition.spec), defer(Definition.task_info))).scalars())


# --- the versions of a procedure, for ``tramita versions`` and ``tramita show`` -------------------------


@dataclass(frozen=True)
class VersionInfo:
    """One deployed version: its number, when and by whom, and the digest of everything it holds."""

    key: str
    kind: str
    version: int
    name: str | None
    deployed_at: datetime
    deployed_by: str
    sha256: str
    parts: tuple[str, ...]


@dataclass(frozen=True)
class VersionContent:
    """What one version holds, by part: the diagram (``bpmn``), its forms, and each pinned file's text."""

    info: VersionInfo
    texts: dict[str, str]
    files: dict[str, str]  # part -> the file name it was deployed as


def _kind_of(session: Any, key: str) -> str:
    """Procedures first; the legal calendar (``calendario``) and the values by period (``periodos``) are
    versioned keys too."""
    kinds = set(session.execute(select(Definition.kind).where(Definition.key == key).distinct()).scalars())
    for kind in ("process", *parts.STANDALONE):
        if kind in kinds:
            return kind
    latest_process(session, key)  # raises NotFound naming what is deployed
    raise AssertionError("unreachable")


def _info(session: Any, d: Definition) -> VersionInfo:
    names = [*parts.BUILT_IN] if d.kind == "process" else []
    names += sorted(parts.stored_parts(session, d.id))
    return VersionInfo(d.key, d.kind, d.version, d.name, d.deployed_at, d.deployed_by, d.sha256,
                       tuple(sorted(set(names))))


def versions(session: Any, key: str) -> list[VersionInfo]:
    kind = _kind_of(session, key)
    rows = session.execute(select(Definition).where(Definition.kind == kind, Definition.key == key)
                           .order_by(Definition.version).options(defer(Definition.spec))).scalars()
    return [_info(session, d) for d in rows]


def content(session: Any, key: str, version: int | None) -> VersionContent:
    """Everything version ``version`` (the newest if None) of ``key`` holds, as text."""
    kind = _kind_of(session, key)
    q = select(Definition).where(Definition.kind == kind, Definition.key == key)
    if version is None:
        d = session.execute(q.order_by(Definition.version.desc()).limit(1)).scalar()
    else:
        d = session.execute(q.where(Definition.version == version)).scalar()
        if d is None:
            numbers = session.execute(select(Definition.version).where(Definition.kind == kind,
                                                                       Definition.key == key)).scalars().all()
            raise NotFound(f"{key} has no version {version}; its versions: "
                           f"{', '.join(str(n) for n in sorted(numbers))}", field="version")
    texts: dict[str, str] = {}
    files: dict[str, str] = {}
    if kind == "process":
        diagram = session.get(DeployedFile, d.file_id)
        texts["bpmn"], files["bpmn"] = diagram.content, diagram.name
        forms = {str(item["form"]): item["schema"] for item in (d.task_info or {}).values()
                 if item.get("form") and item.get("schema")}
        texts["forms"] = json.dumps(dict(sorted(forms.items())), ensure_ascii=False, indent=2)
        files["forms"] = ", ".join(sorted(forms))
    for name, text, file_name in session.execute(
            select(DefinitionPart.name, DeployedFile.content, DeployedFile.name)
            .join(DeployedFile, DeployedFile.id == DefinitionPart.file_id)
            .where(DefinitionPart.definition_id == d.id)).all():
        texts[name], files[name] = text, file_name
    return VersionContent(_info(session, d), texts, files)
