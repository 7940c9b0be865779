"""The parts of a deployed version besides its diagrams: lanes, message routes, parameters, data names.

A procedure is one deployed version, whole: what a case runs on must not change under it because
someone edited a file on one web node's disk. So every file of ``workflows/`` that a procedure
needs is stored at deploy and pinned by the version, and the run layer reads it from there.

How a bundle file is classified, by its name (``collect_files`` prefixes the folder for the two
folders whose files are not forms or parts):

- ``*.bpmn``, ``*.dmn``: diagrams and decision tables;
- ``datos/<key>.schema.json``: the data dictionary of procedure ``<key>`` (its part ``datos``);
- ``calendar/*.toml``: the legal calendar, and ``periodos/*.toml``: the values that change by period
  (the UMA); they belong to no procedure and are versioned on their own (``STANDALONE``);
- ``scenarios/<key>/*.toml``: the legal scenarios of procedure ``<key>`` (engine.simulate), each a
  part ``scenarios/<file>.toml`` of that procedure alone;
- any other ``*.toml`` (``lanes.toml``, ``messages.toml``, ``parameters.toml``, ``eventos.toml``...):
  a part named by its stem, given to every procedure deployed with the bundle;
- any other ``*.json``: a form.

A part the bundle lacks is carried over from the procedure's previous version, so deploying one
diagram alone never drops its parameters or its lanes.
"""

from __future__ import annotations

import json
import threading
import tomllib
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Mapping

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError
from sqlalchemy import select

from engine.deploy.parameters import parameter_values
from engine.errors import DeploymentRejected
from engine.store.models import DefinitionPart, DeployedFile
from engine.time.calendar import calendar_from_texts
from engine.time.calendar_file import CalendarError

DATOS = "datos/"
CALENDAR = "calendar/"
CALENDAR_KEY = "calendario"
PERIODOS = "periodos/"
SCENARIOS = "scenarios/"
# What is versioned on its own, by kind (also the folder its files are in): key and name of its versions.
STANDALONE = {"calendar": (CALENDAR_KEY, "Calendario legal"), "periodos": ("periodos", "Valores por periodo")}
FOLDERS = (DATOS.rstrip("/"), CALENDAR.rstrip("/"), PERIODOS.rstrip("/"))
# The parts ``tramita show --part`` names besides the stored ones.
BUILT_IN = ("bpmn", "forms")


def file_kind(name: str) -> str:
    """bpmn | dmn | form | datos | calendar | periodos | part, from the file's (folder-prefixed) name."""
    if name.endswith(".bpmn"):
        return "bpmn"
    if name.endswith(".dmn"):
        return "dmn"
    if name.startswith(DATOS) and name.endswith(".json"):
        return "datos"
    if name.startswith(CALENDAR) and name.endswith(".toml"):
        return "calendar"
    if name.startswith(PERIODOS) and name.endswith(".toml"):
        return "periodos"
    if name.startswith(SCENARIOS) and name.endswith(".toml") and name.count("/") == 2:
        return "scenario"
    if name.endswith(".json"):
        return "form"
    if name.endswith(".toml"):
        return "part"
    raise DeploymentRejected(f"{name}: only .bpmn, .dmn, .json (forms, datos/) and .toml files can be deployed",
                             field="files")


def part_name(name: str) -> str:
    """The part a file is: ``datos`` for a data dictionary, ``scenarios/<file>.toml`` for a scenario,
    else the TOML file's stem (``lanes``)."""
    kind = file_kind(name)
    if kind == "datos":
        return "datos"
    if kind == "scenario":
        return SCENARIOS + name.rsplit("/", 1)[-1]
    return name.rsplit("/", 1)[-1].removesuffix(".toml")


def scenario_key(name: str) -> str:
    """The procedure a scenario belongs to: ``scenarios/sancion/x.toml`` -> ``sancion``."""
    return name.split("/")[1]


def scenario_file(key: str, part: str) -> str:
    """The bundle file name of a procedure's scenario part: (``sancion``, ``scenarios/x.toml``) ->
    ``scenarios/sancion/x.toml``."""
    return f"{SCENARIOS}{key}/{part.removeprefix(SCENARIOS)}"


def datos_key(name: str) -> str:
    """The procedure a data dictionary belongs to: ``datos/sancion.schema.json`` -> ``sancion``."""
    return name.removeprefix(DATOS).removesuffix(".json").removesuffix(".schema")


def check(name: str, content: bytes) -> None:
    """Refuse a part that could not be read at run time: bad TOML, bad JSON Schema, bad calendar."""
    kind = file_kind(name)
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError:
        raise DeploymentRejected(f"{name}: not UTF-8 text", field="files") from None
    if kind == "datos":
        try:
            schema = json.loads(text)
        except ValueError as exc:
            raise DeploymentRejected(f"{name}: not valid JSON: {exc}", field="files") from None
        if not isinstance(schema, dict):
            raise DeploymentRejected(f"{name}: a data dictionary must be a JSON Schema object", field="files")
        try:
            Draft202012Validator.check_schema(schema)
        except SchemaError as exc:
            raise DeploymentRejected(f"{name}: not a valid JSON Schema: {exc.message}", field="files") from None
    elif kind in ("part", "scenario", *STANDALONE):
        try:
            tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise DeploymentRejected(f"{name}: not valid TOML: {exc}", field="files") from None
        if kind == "calendar":
            try:
                calendar_from_texts({name: text})
            except CalendarError as exc:
                raise DeploymentRejected(str(exc), field="files") from None


@dataclass(frozen=True)
class VersionParts:
    """The parts one version holds, by name (``lanes``, ``messages``, ``parameters``, ``datos``...), as
    the text deployed; read through the properties, which parse each once."""

    texts: Mapping[str, str]
    _parsed: dict[str, dict[str, Any]] = field(default_factory=dict, compare=False, repr=False)

    def toml(self, name: str) -> dict[str, Any]:
        """A TOML part parsed (once), e.g. ``toml("eventos")``; {} when the version holds no such part."""
        found = self._parsed.get(name)
        if found is None:
            text = self.texts.get(name)
            found = self._parsed[name] = tomllib.loads(text) if text else {}
        return found

    @cached_property
    def lanes(self) -> dict[str, str]:
        """Lane name -> user group (``[lanes]`` of the version's ``lanes.toml``)."""
        return {str(k): str(v) for k, v in self.toml("lanes").get("lanes", {}).items()}

    @cached_property
    def group_names(self) -> dict[str, str]:
        """User group -> its name in Spanish (``[groups.<grupo>]`` of ``lanes.toml``)."""
        return {str(k): str(v.get("name") or k) for k, v in self.toml("lanes").get("groups", {}).items()
                if isinstance(v, dict)}

    def group_for_lane(self, lane: str | None) -> str | None:
        if lane is None:
            return None
        return self.lanes.get(lane, lane)

    def policies(self, process_key: str) -> dict[str, Any]:
        """The lane policies of a procedure (``[policies.<process_key>]`` of ``lanes.toml``), or {}."""
        found = self.toml("lanes").get("policies", {}).get(process_key, {})
        return found if isinstance(found, dict) else {}

    @cached_property
    def message_routes(self) -> dict[str, str]:
        """Message name -> process key it starts (``[start.<mensaje>]`` of ``messages.toml``)."""
        return {name: str(route["process"]) for name, route in self.toml("messages").get("start", {}).items()
                if isinstance(route, dict) and "process" in route}

    @cached_property
    def parameters(self) -> dict[str, Any]:
        """The legal parameters' values (``parameters.toml`` without citations), copied onto each new case."""
        return parameter_values(self.toml("parameters"))

    @cached_property
    def dictionary(self) -> dict[str, Any] | None:
        """The names of the case data no form describes (``datos/<key>.schema.json``)."""
        text = self.texts.get("datos")
        return json.loads(text) if text else None


NO_PARTS = VersionParts({})


@dataclass(frozen=True)
class StoredPart:
    """A part as a version references it: the deployed file, its name and digest."""

    name: str
    file_id: int
    file_name: str
    sha256: str


def stored_parts(session: Any, definition_id: int) -> dict[str, StoredPart]:
    rows = session.execute(
        select(DefinitionPart.name, DeployedFile.id, DeployedFile.name, DeployedFile.sha256)
        .join(DeployedFile, DeployedFile.id == DefinitionPart.file_id)
        .where(DefinitionPart.definition_id == definition_id)).all()
    return {name: StoredPart(name, fid, fname, sha) for name, fid, fname, sha in rows}


def load_parts(session: Any, definition_id: int) -> VersionParts:
    rows = session.execute(
        select(DefinitionPart.name, DeployedFile.content)
        .join(DeployedFile, DeployedFile.id == DefinitionPart.file_id)
        .where(DefinitionPart.definition_id == definition_id)).all()
    return VersionParts({name: content for name, content in rows})


class PartsCache:
    """Parts by definition id: versions are immutable, so entries never go stale."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._parts: dict[int, VersionParts] = {}

    def get(self, session: Any, definition_id: int) -> VersionParts:
        found = self._parts.get(definition_id)
        if found is None:
            found = load_parts(session, definition_id)
            with self._lock:
                self._parts[definition_id] = found
        return found
