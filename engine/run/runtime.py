"""What every transition needs at hand: the database, the spec cache, the script engine, the calendar.

Nothing here reads ``workflows/`` from disk: a case's lanes, message routes, parameters and data
names come from the parts its pinned version holds (``LoadedSpec.parts``), and the legal calendar
and the values by period (the UMA) from their newest deployed versions.
"""

from __future__ import annotations

import copy
import threading
import time
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from sqlalchemy import select

from engine.time import clock
from engine.deploy import catalog, eventos, parts
from engine.deploy.catalog import SpecCache
from engine.deploy.eventos import ExternalEvent
from engine.deploy.parts import VersionParts
from engine.script.helpers import script_engine
from engine.script.sandbox import RestrictedScriptEngine
from engine.store.db import Database
from engine.store.models import Definition, DirectoryGroup, Instance
from engine.run.cache import WorkflowCache
from engine.time.calendar import bound_calendar, calendar_from_texts, default_calendar, LegalCalendar

clock.install()

# How long the names of groups and the newest calendar version are trusted before the database is asked
# again: a deploy made by another process is seen within this many seconds.
_FRESH_SECONDS = 2.0


@dataclass
class Runtime:
    db: Database
    clock: clock.Clock | None = None  # this engine's clock; None: the process clock (see engine.time.clock)
    own_calendar: LegalCalendar | None = None  # this engine's own calendar (a dry run); None: the deployed one
    specs: SpecCache = field(default_factory=SpecCache)
    workflows: WorkflowCache = field(default_factory=WorkflowCache)
    _calendars: dict[int, LegalCalendar] = field(default_factory=dict)
    _periods: dict[int, dict[str, Any]] = field(default_factory=dict)
    _latest: dict[str, tuple[float, Any]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @cached_property
    def script_engine(self) -> RestrictedScriptEngine:
        return script_engine(self.db)

    def parts(self, definition_id: int) -> VersionParts:
        """The parts version ``definition_id`` pins (lanes, messages, parameters, datos...)."""
        loaded = self.specs.peek(definition_id)
        if loaded is not None:
            return loaded.parts
        with self.db.read() as s:
            return self.specs.get(s, definition_id).parts

    def instance_definition(self, instance_id: int) -> int | None:
        """The version (definition id) case ``instance_id`` runs on."""
        with self.db.read() as s:
            return s.execute(select(Instance.definition_id).where(Instance.id == instance_id)).scalar()

    def instance_parts(self, instance_id: int) -> VersionParts:
        """The parts of the version case ``instance_id`` runs on (none for an unknown case)."""
        definition_id = self.instance_definition(instance_id)
        return self.parts(definition_id) if definition_id is not None else parts.NO_PARTS

    def _fresh(self, name: str, compute: Any) -> Any:
        now = time.monotonic()
        found = self._latest.get(name)
        if found is not None and now - found[0] < _FRESH_SECONDS:
            return found[1]
        value = compute()
        with self._lock:
            self._latest[name] = (now, value)
        return value

    @property
    def group_names(self) -> dict[str, str]:
        """User group -> its name in Spanish: the administrator's directory (``directory_groups``), and for
        a code it lacks the ``lanes`` part of the newest version of every procedure (a newer one wins)."""
        return self._fresh("groups", self._group_names)

    def _group_names(self) -> dict[str, str]:
        names: dict[str, str] = {}
        with self.db.read() as s:
            for d in sorted(catalog.list_processes(s), key=lambda d: d.id):
                names.update(parts.load_parts(s, d.id).group_names)
            names.update({code: name for code, name in s.execute(select(DirectoryGroup.code, DirectoryGroup.name))})
        return names

    def newest_parts(self, name: str) -> dict[str, dict[str, Any]]:
        """Process key -> the TOML part ``name`` (e.g. ``supervision``) of that procedure's newest version
        ({} where it holds none), in deploy order."""
        def newest() -> dict[str, dict[str, Any]]:
            with self.db.read() as s:
                return {d.key: parts.load_parts(s, d.id).toml(name)
                        for d in sorted(catalog.list_processes(s), key=lambda d: d.id)}
        return self._fresh(f"part:{name}", newest)

    def newest_part(self, name: str) -> dict[str, Any]:
        """The TOML part ``name`` over the newest version of every procedure: each top-level table merged
        entry by entry, a newer procedure's entry winning (as :attr:`group_names`), e.g. the directory of
        groups of ``lanes``."""
        merged: dict[str, Any] = {}
        for part in self.newest_parts(name).values():
            for key, value in part.items():
                before = merged.get(key)
                merged[key] = {**before, **value} if isinstance(before, dict) and isinstance(value, dict) else value
        return merged

    def policies(self, process_key: str, table: str | None = None) -> dict[str, Any] | None:
        """``[policies.<table>]`` (default: the procedure's own) of the ``lanes`` part of the procedure's
        newest version (who may start it, what another institution's task holder sees, who reads the
        register); read by ``engine.casework.policies`` and the register service."""
        name = table or process_key

        def newest() -> dict[str, Any] | None:
            with self.db.read() as s:
                found = [d for d in catalog.list_processes(s) if d.key == process_key]
                return parts.load_parts(s, found[0].id).policies(name) if found else None
        return self._fresh(f"policies:{process_key}:{name}", newest)

    def event_kinds(self, definition_id: int | None = None) -> dict[str, ExternalEvent]:
        """The external events cases wait for, with their texts and articles: the ``eventos`` part of a
        version (``workflows/eventos.toml``), or of the newest version of any procedure."""
        if definition_id is not None:
            return eventos.parse(self.parts(definition_id).toml("eventos"))
        def newest() -> dict[str, ExternalEvent]:
            kinds: dict[str, ExternalEvent] = {}
            with self.db.read() as s:
                for d in sorted(catalog.list_processes(s), key=lambda d: d.id):
                    kinds.update(eventos.parse(parts.load_parts(s, d.id).toml("eventos")))
            return kinds
        return self._fresh("eventos", newest)

    def calendar(self) -> tuple[int | None, LegalCalendar]:
        """The newest deployed legal calendar and its version number.

        Días inhábiles published after a case started apply to it too, so the calendar is not pinned
        by the case's version; each deadline records the version it was counted on. Before any
        calendar is deployed, the shipped Sonora file is used and the version is None.
        """
        if self.own_calendar is not None:  # a dry run's calendar (the one in force plus declared days)
            return None, self.own_calendar
        bound = bound_calendar()
        if bound is not None:
            return None, bound
        latest = self._fresh("calendar", lambda: self._latest_standalone("calendar"))
        if latest is None:
            return None, default_calendar()
        definition_id, version = latest
        calendar = self._calendars.get(definition_id)
        if calendar is None:
            with self.db.read() as s:
                calendar = calendar_from_texts(parts.load_parts(s, definition_id).texts)
            with self._lock:
                self._calendars[definition_id] = calendar
        return version, calendar

    def periods(self) -> tuple[int | None, dict[str, Any]]:
        """The newest deployed values by period (``periodos/*.toml``: the UMA) and their version number;
        a new case copies them into ``parametros`` beside its version's parameters."""
        latest = self._fresh("periodos", lambda: self._latest_standalone("periodos"))
        if latest is None:
            return None, {}
        definition_id, version = latest
        values = self._periods.get(definition_id)
        if values is None:
            with self.db.read() as s:
                texts = parts.load_parts(s, definition_id).texts
            values = {}
            for name in sorted(texts):
                values.update(VersionParts({"parameters": texts[name]}).parameters)
            with self._lock:
                self._periods[definition_id] = values
        return version, values

    def case_parameters(self, version: VersionParts) -> tuple[dict[str, Any], int | None]:
        """What a new case copies as ``parametros``: its version's legal parameters and the newest values
        by period (a table in both is merged, the period's entries winning), with the periods' version."""
        periods_version, periods = self.periods()
        values = dict(version.parameters)
        for name, table in periods.items():
            values[name] = ({**values[name], **table} if isinstance(values.get(name), dict)
                            and isinstance(table, dict) else table)
        return copy.deepcopy(values), periods_version  # the case's own copy: a script never edits the cache

    def _latest_standalone(self, kind: str) -> tuple[int, int] | None:
        with self.db.read() as s:
            row = s.execute(select(Definition.id, Definition.version)
                            .where(Definition.kind == kind, Definition.key == parts.STANDALONE[kind][0])
                            .order_by(Definition.version.desc()).limit(1)).first()
        return (row[0], row[1]) if row is not None else None

    def forget_latest(self) -> None:
        """Ask the database again at the next look-up (after a deploy made by this process)."""
        with self._lock:
            self._latest.clear()

