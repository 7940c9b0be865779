"""The legal designers' service: deploy procedures and read what each deployed version holds."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable, Sequence

from engine.deploy import versions
from engine.deploy.versions import BundleFile, DeployResult
from engine.run.runtime import Runtime
from engine.services.principal import Principal, require_role

DESIGN_ROLES = ("legal_designer", "admin")


class DesignService:
    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self.db = rt.db

    def deploy(self, user: Principal, files: Sequence[BundleFile]) -> DeployResult:
        """Diagrams are judged first (a bad diagram is refused for its own reasons), then the deployer."""
        require_role(user, *DESIGN_ROLES, field="user", message="Su rol no permite desplegar trámites.")
        return versions.deploy(self.db, files, user.username)

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
