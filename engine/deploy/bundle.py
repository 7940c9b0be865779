"""What a bundle gives each version besides its diagrams: the parts it pins; and the standalone versions.

``engine.deploy.versions`` parses the diagrams and decides, by digest, whether a process gets a new
version; this module tells it which parts each process would pin (the bundle's, else those of its
previous version), and stores them; and it stores what belongs to no procedure (the legal calendar,
the values by period) as versions of their own.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Mapping, Sequence

from sqlalchemy import select

from engine.deploy import parts
from engine.store.models import DefinitionPart, DeployedFile, Definition


@dataclass(frozen=True)
class PartRef:
    """A part a version will pin: a file of this bundle (``file_name``) or one already stored (``file_id``)."""

    sha256: str
    file_name: str | None = None
    file_id: int | None = None


@dataclass
class BundleParts:
    """The bundle's files that are not diagrams or forms, sorted by what they are."""

    shared: dict[str, Any] = field(default_factory=dict)  # part name -> BundleFile (lanes, messages, ...)
    datos: dict[str, Any] = field(default_factory=dict)  # process key -> BundleFile
    standalone: dict[str, list[Any]] = field(default_factory=dict)  # kind -> BundleFiles of calendar/, periodos/
    scenarios: dict[str, list[Any]] = field(default_factory=dict)  # process key -> its scenarios' BundleFiles

    @classmethod
    def of(cls, files: Sequence[Any]) -> BundleParts:
        found = cls()
        for f in files:
            kind = f.kind
            if kind in ("part", "datos", "scenario", *parts.STANDALONE):
                parts.check(f.name, f.content)
            if kind == "part":
                found.shared[parts.part_name(f.name)] = f
            elif kind == "datos":
                found.datos[parts.datos_key(f.name)] = f
            elif kind == "scenario":
                found.scenarios.setdefault(parts.scenario_key(f.name), []).append(f)
            elif kind in parts.STANDALONE:
                found.standalone.setdefault(kind, []).append(f)
        return found

    def __bool__(self) -> bool:
        return bool(self.shared or self.datos or self.standalone or self.scenarios)

    def for_process(self, session: Any, key: str) -> dict[str, PartRef]:
        """The parts a new version of ``key`` would pin: the bundle's over those of its latest version."""
        latest = session.execute(
            select(Definition.id).where(Definition.kind == "process", Definition.key == key)
            .order_by(Definition.version.desc()).limit(1)).scalar()
        refs: dict[str, PartRef] = {}
        if latest is not None:
            refs = {p.name: PartRef(p.sha256, file_id=p.file_id)
                    for p in parts.stored_parts(session, latest).values()}
        for name, f in self.shared.items():
            refs[name] = PartRef(f.sha256, file_name=f.name)
        if key in self.datos:
            refs["datos"] = PartRef(self.datos[key].sha256, file_name=self.datos[key].name)
        for f in self.scenarios.get(key, []):
            refs[parts.part_name(f.name)] = PartRef(f.sha256, file_name=f.name)
        return refs


def digest_with_parts(base: dict[str, Any], refs: Mapping[str, PartRef]) -> str:
    """A version's digest: its diagram and task info, and (when it has any) the digest of each part."""
    payload = dict(base)
    if refs:
        payload["parts"] = {name: ref.sha256 for name, ref in sorted(refs.items())}
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def store_parts(session: Any, definition_id: int, refs: Mapping[str, PartRef],
                stored: Mapping[str, DeployedFile]) -> None:
    for name, ref in sorted(refs.items()):
        file_id = ref.file_id if ref.file_id is not None else stored[ref.file_name or ""].id
        session.add(DefinitionPart(definition_id=definition_id, name=name, file_id=file_id))


# --- the legal calendar and the values by period --------------------------------------------------


def standalone_digest(files: Sequence[Any]) -> str:
    return hashlib.sha256(json.dumps(sorted((f.name, f.sha256) for f in files)).encode()).hexdigest()


def latest_standalone(session: Any, kind: str) -> Definition | None:
    return session.execute(
        select(Definition).where(Definition.kind == kind, Definition.key == parts.STANDALONE[kind][0])
        .order_by(Definition.version.desc()).limit(1)).scalar()


def store_standalone(session: Any, kind: str, files: Sequence[Any], digest: str, version: int,
                     deployment_id: int, stored: Mapping[str, DeployedFile], now: datetime,
                     deployed_by: str) -> Definition:
    """A new calendar (or values by period) version: every file of its folder in the bundle, each a part
    named by its file; the folder is the whole of it, so a file left out is no longer in force."""
    first = sorted(f.name for f in files)[0]
    key, name = parts.STANDALONE[kind]
    definition = Definition(kind=kind, key=key, version=version, name=name,
                            sha256=digest, executable=False, deployment_id=deployment_id,
                            file_id=stored[first].id, deployed_at=now, deployed_by=deployed_by, spec=None,
                            task_info=None)
    session.add(definition)
    session.flush()
    for f in files:
        session.add(DefinitionPart(definition_id=definition.id, name=f.name, file_id=stored[f.name].id))
    return definition
