"""The legal designers' service: deploy procedures and read what each deployed version holds."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable, Sequence

from engine.deploy import catalog, versions
from engine.deploy.catalog import VersionContent, VersionInfo
from engine.deploy.versions import BundleFile, DeployResult
from engine.errors import InvalidInput
from engine.run.runtime import Runtime
from engine.services.principal import Principal, require_role

DESIGN_ROLES = ("legal_designer", "admin")
READ_ROLES = (*DESIGN_ROLES, "manager")


class DesignService:
    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self.db = rt.db

    def deploy(self, user: Principal, files: Sequence[BundleFile]) -> DeployResult:
        """Diagrams are judged first (a bad diagram is refused for its own reasons), then the deployer."""
        require_role(user, *DESIGN_ROLES, field="user", message="Su rol no permite desplegar trámites.")
        result = versions.deploy(self.db, files, user.username)
        self.rt.forget_latest()  # a new calendar or group name is in force at once in this process
        return result

    def deploy_paths(self, user: Principal, paths: Iterable[str | Path]) -> DeployResult:
        return self.deploy(user, versions.collect_files(paths))

    def offered_steps(self, user: Principal) -> dict[tuple[str, str], list[str]]:
        """(procedure, lane) -> the titles of the steps offered to that lane in the latest versions."""
        out: dict[tuple[str, str], list[str]] = {}
        with self.db.read() as s:
            for proc in versions.list_processes(s):
                info = versions.latest_process(s, proc.key).task_info or {}
                for element, item in info.items():
                    if item.get("type") in ("UserTask", "StartEvent") and item.get("lane") and \
                            (item.get("type") == "UserTask" or item.get("process") == proc.key):
                        out.setdefault((proc.key, str(item["lane"])), []).append(str(item.get("title") or element))
        return out

    def affected(self, user: Principal, key: str) -> tuple[int, list[Any]]:
        """Running cases on earlier versions that can still reach an element the newest version removed."""
        from engine.deploy.affected import affected

        require_role(user, "legal_designer", "manager", "admin", field="user",
                     message="Su rol no permite revisar los casos en curso de versiones anteriores.")
        return affected(self.db, self.rt.specs, key)

    def processes(self, user: Principal) -> list[dict[str, Any]]:
        with self.db.read() as s:
            return [{"key": d.key, "version": d.version, "name": d.name, "deployed_at": d.deployed_at,
                     "deployed_by": d.deployed_by} for d in versions.list_processes(s)]

    def versions(self, user: Principal, key: str) -> list[VersionInfo]:
        """Every version of a procedure (or of the legal calendar, ``calendario``, or of the values by
        period, ``periodos``), oldest first."""
        require_role(user, *READ_ROLES, field="user", message="Su rol no permite consultar las versiones.")
        with self.db.read() as s:
            return catalog.versions(s, key)

    def version(self, user: Principal, key: str, version: int | None = None,
                part: str | None = None) -> VersionContent:
        """What version ``version`` (the newest if None) holds; with ``part``, that part alone.

        A part the version does not hold is refused naming those it does (``bpmn``, ``forms`` and
        the files it pins: ``lanes``, ``messages``, ``parameters``, ``datos``...).
        """
        require_role(user, *READ_ROLES, field="user", message="Su rol no permite consultar las versiones.")
        with self.db.read() as s:
            found = catalog.content(s, key, version)
        if part is None:
            return found
        if part not in found.texts:
            raise InvalidInput(f"version {found.info.version} of {key} has no part {part!r}; its parts: "
                               f"{', '.join(sorted(found.texts))}", field="part")
        return VersionContent(found.info, {part: found.texts[part]}, {part: found.files[part]})

