"""The legal designers' dry runs: a scenario run on real dates against a deployed version or the
procedure files at hand, on a throwaway engine (``engine.simulate``), never on the real cases."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from sqlalchemy import select

from engine.deploy import versions
from engine.deploy.versions import BundleFile
from engine.errors import NotFound
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
            rows = s.execute(select(DeployedFile.name, DeployedFile.content)
                             .where(DeployedFile.deployment_id == definition.deployment_id)).all()
            return [BundleFile(name, content.encode("utf-8")) for name, content in rows], definition.version


def folder_files(paths: Iterable[str | Path]) -> list[BundleFile]:
    """The procedure files of folders at hand (``tramita simulate --files workflows``)."""
    return versions.collect_files(paths)


