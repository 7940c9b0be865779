"""The legal designers' dry runs: a scenario run on real dates against a deployed version or the
procedure files at hand, on a throwaway engine (``engine.simulate``), never on the real cases."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

import tomllib
from typing import Any

from sqlalchemy import func, select

from engine.deploy import drafts, library, versions
from engine.deploy.versions import BundleFile
from engine.errors import NotFound, TramitaError
from engine.run.runtime import Runtime
from engine.services.principal import Principal, require_role
from engine.simulate import runner, scenario
from engine.simulate.runner import Entry
from engine.store.models import DeployedFile, Definition

SIMULATE_ROLES = ("legal_designer", "admin")


@dataclass(frozen=True)
class SimulationView:
    path: str
    procedure: str
    title: str
    version: str  # "v3", or "archivos" for files at hand
    timeline: tuple[Entry, ...]
    failures: tuple[str, ...]
    ends: tuple[str, ...]
    status: str
    flows: frozenset[tuple[str, str]]

    @property
    def passed(self) -> bool:
        return not self.failures


class SimulatorService:
    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self.db = rt.db

    def run(self, user: Principal, path: str | Path, *, version: int | None = None,
            files: Iterable[BundleFile] | None = None) -> SimulationView:
        """Run the scenario at ``path`` on ``version`` of its procedure (default the latest deployed), or
        on ``files`` (a draft, the folder at hand)."""
        require_role(user, *SIMULATE_ROLES, field="user", message="Su rol no permite simular trámites.")
        sc = scenario.load(path)
        if files is not None:
            bundle, label = list(files), "archivos"
        else:
            bundle, number = self._version_files(sc.procedure, version)
            label = f"v{number}"
        result = runner.run(sc, bundle)
        return SimulationView(str(path), sc.procedure, sc.title, label, tuple(result.timeline),
                              tuple(result.failures), tuple(result.ends), result.status, frozenset(result.flows))

    def _version_files(self, key: str, version: int | None) -> tuple[list[BundleFile], int]:
        with self.db.read() as s:
            q = select(Definition).where(Definition.kind == "process", Definition.key == key)
            q = q.where(Definition.version == version) if version is not None else \
                q.order_by(Definition.version.desc()).limit(1)
            definition = s.execute(q).scalars().first()
            if definition is None:
                raise NotFound(f"no hay versión {version or ''} desplegada del procedimiento {key!r}".replace("  ", " "),
                               field="version")
            return _bundle_as_of(s, definition.deployment_id), definition.version

    def draft_failures(self, draft_id: int) -> list[str]:
        """The failing expectations of the scenarios kept with a draft's bundle (the base version's files
        with the draft's diagram and forms in place), each naming its scenario: a draft with one cannot be
        submitted for approval. Only the scenarios of the draft's own procedure run."""
        with self.db.read() as s:
            draft = drafts.get(s, draft_id)
            if drafts.kind_of(draft) != "process":
                return []
            base = library.definition(s, draft.process_key, draft.base_version)
            files = {f.name: f for f in _bundle_as_of(s, base.deployment_id)}
            files[draft.filename] = BundleFile(draft.filename, draft.content.encode("utf-8"))
            for name, text in (draft.forms or {}).items():
                files[name] = BundleFile(name, text.encode("utf-8"))
            key = draft.process_key
        failures = []
        for name, f in sorted(files.items()):
            if not name.endswith(".toml") or ("/" in name and not name.startswith("scenarios/")):
                continue  # scenarios are top-level parts here, or scenarios/<key>/<file>.toml
            raw = tomllib.loads(f.content.decode("utf-8"))
            if raw.get("procedimiento") != key or "actos" not in raw:
                continue  # a part (lanes, parameters...) or another procedure's scenario
            try:
                result = runner.run(scenario.parse(raw, name), list(files.values()))
            except TramitaError as exc:  # the draft does not deploy (lint reports why) or the scenario is malformed
                return failures + [f"{name}: no se pudo simular: {exc.message}"]
            failures += [f"{name}: {failure}" for failure in result.failures]
        return failures


def _bundle_as_of(session: Any, deployment_id: int) -> list[BundleFile]:
    """The whole bundle in force at a deployment: each file's latest text deployed up to it (a deployment
    holds only the files it changed)."""
    latest = (select(DeployedFile.name, func.max(DeployedFile.id).label("id"))
              .where(DeployedFile.deployment_id <= deployment_id).group_by(DeployedFile.name).subquery())
    rows = session.execute(select(DeployedFile.name, DeployedFile.content)
                           .join(latest, latest.c.id == DeployedFile.id)).all()
    return [BundleFile(name, content.encode("utf-8")) for name, content in rows]


def folder_files(paths: Iterable[str | Path]) -> list[BundleFile]:
    """The procedure files of folders at hand (``tramita simulate --files workflows``)."""
    return versions.collect_files(paths)


