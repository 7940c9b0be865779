"""What every transition needs at hand: the database, the spec cache, the script engine, the lane map."""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from engine import config
from engine.time import clock
from engine.deploy.versions import SpecCache
from engine.script.helpers import script_engine
from engine.script.sandbox import RestrictedScriptEngine
from engine.store.db import Database
from engine.run.cache import WorkflowCache

clock.install()


@dataclass
class Runtime:
    db: Database
    specs: SpecCache = field(default_factory=SpecCache)
    workflows_dir: Path = field(default_factory=lambda: config.WORKFLOWS_DIR)
    workflows: WorkflowCache = field(default_factory=WorkflowCache)
    _dictionaries: dict[str, dict[str, Any] | None] = field(default_factory=dict)

    @cached_property
    def script_engine(self) -> RestrictedScriptEngine:
        return script_engine(self.db)

    def _toml(self, name: str) -> dict[str, Any]:
        path = self.workflows_dir / name
        if not path.exists():
            return {}
        with path.open("rb") as f:
            return tomllib.load(f)

    @cached_property
    def lanes(self) -> dict[str, str]:
        """Lane name -> user group, from ``workflows/lanes.toml`` (organizational: not part of a version)."""
        return {str(k): str(v) for k, v in self._toml("lanes.toml").get("lanes", {}).items()}

    @cached_property
    def group_names(self) -> dict[str, str]:
        """User group -> its name in Spanish, from ``[groups.<grupo>]`` in ``workflows/lanes.toml``."""
        return {str(k): str(v.get("name") or k) for k, v in self._toml("lanes.toml").get("groups", {}).items()
                if isinstance(v, dict)}

    def group_for_lane(self, lane: str | None) -> str | None:
        if lane is None:
            return None
        return self.lanes.get(lane, lane)

    @cached_property
    def message_routes(self) -> dict[str, str]:
        """Message name -> process key it starts, from ``workflows/messages.toml``."""
        return {name: str(route["process"]) for name, route in self._toml("messages.toml").get("start", {}).items()}

    def data_dictionary(self, process_key: str) -> dict[str, Any] | None:
        """Names (and option titles) for the case data a procedure's scripts and decision tables
        write, which no form describes: ``workflows/datos/<key>.schema.json``. Presentation only,
        so it is read from the files in place rather than deployed with a version."""
        if process_key not in self._dictionaries:
            path = self.workflows_dir / "datos" / f"{process_key}.schema.json"
            self._dictionaries[process_key] = (json.loads(path.read_text(encoding="utf-8"))
                                               if path.is_file() else None)
        return self._dictionaries[process_key]

    @cached_property
    def parameters(self) -> dict[str, Any]:
        from engine.deploy.parameters import load_parameters

        return load_parameters(self.workflows_dir / "parameters.toml")
