"""The legal designers' dry runs: a scenario run on real dates against a deployed version or the
procedure files at hand, on a throwaway engine (``engine.simulate``), never on the real cases."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from sqlalchemy import select

from engine.deploy import drafts, versions
from engine.deploy.versions import BundleFile
from engine.errors import InvalidInput, NotFound, TramitaError
from engine.run.runtime import Runtime
from engine.services.principal import Principal, require_role
from engine.simulate import bundles, runner, scenario
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


@dataclass(frozen=True)
class ScenarioSet:
    """The scenarios of a procedure version (or of a draft: its edits over its base version), with
    the diagram they run on, for the studio."""

    procedure: str
    version: int | None  # None: a draft
    draft_id: int | None
    xml: str
    scenarios: dict[str, str]  # file name (x.toml) -> its text


def _designer(user: Principal) -> None:
    require_role(user, *SIMULATE_ROLES, field="user", message="Su rol no permite simular trámites.")


class SimulatorService:
    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self.db = rt.db

    def run(self, user: Principal, path: str | Path, *, version: int | None = None,
            files: Iterable[BundleFile] | None = None, draft_id: int | None = None) -> SimulationView:
        """Run the scenario at ``path`` on ``version`` of its procedure (default the latest deployed), on
        a draft (its edits over its base version), or on ``files`` (the folder at hand)."""
        require_role(user, *SIMULATE_ROLES, field="user", message="Su rol no permite simular trámites.")
        sc = scenario.load(path)
        if draft_id is not None:
            texts, _, _ = self._bundle(sc.procedure, None, draft_id)
            bundle, label = bundles.as_files(texts), f"borrador {draft_id}"
        elif files is not None:
            bundle, label = list(files), "archivos"
        else:
            bundle, number = self._version_files(sc.procedure, version)
            label = f"v{number}"
        result = runner.run(sc, bundle)
        return SimulationView(str(path), sc.procedure, sc.title, label, tuple(result.timeline),
                              tuple(result.failures), tuple(result.ends), result.status, frozenset(result.flows))

    def scenarios(self, user: Principal, key: str, version: int | None = None, *,
                  draft_id: int | None = None) -> ScenarioSet:
        """The scenarios a version (the latest by default) holds, or those of a draft (its edits on top)."""
        _designer(user)
        texts, number, xml_name = self._bundle(key, version, draft_id)
        return ScenarioSet(key, None if draft_id is not None else number, draft_id, texts[xml_name],
                           bundles.scenarios_of(texts, key))

    def run_text(self, user: Principal, key: str, name: str, text: str, *, version: int | None = None,
                 draft_id: int | None = None) -> SimulationView:
        """Run a scenario as typed in the studio (not necessarily saved) on a version or a draft; its
        errors in Spanish naming the line and the field."""
        _designer(user)
        sc = scenario.parse_text(text, name)
        if sc.procedure != key:
            raise InvalidInput(f"El escenario es del procedimiento «{sc.procedure}», no de «{key}»: corrija "
                               "«procedimiento» en la primera línea.", field="procedimiento")
        texts, number, _ = self._bundle(key, version, draft_id)
        result = runner.run(sc, bundles.as_files(texts))
        label = "borrador" if draft_id is not None else f"v{number}"
        return SimulationView(name, sc.procedure, sc.title, label, tuple(result.timeline), tuple(result.failures),
                              tuple(result.ends), result.status, frozenset(result.flows))

    def _bundle(self, key: str, version: int | None, draft_id: int | None) -> tuple[dict[str, str], int, str]:
        """(file name -> text, version number, the diagram's file name) for a version or a draft."""
        with self.db.read() as s:
            edits: dict[str, str] = {}
            if draft_id is not None:
                draft = drafts.get(s, draft_id)
                if draft.process_key != key:
                    raise NotFound(f"El borrador {draft_id} no es de «{key}».", field="draft")
                version = draft.base_version
                edits = {draft.filename: draft.content, **(draft.forms or {})}
            definition = self._definition(s, key, version)
            texts = bundles.version_bundle(s, definition)
            name = s.get(DeployedFile, definition.file_id).name
            texts.update(edits)
            return texts, definition.version, name

    @staticmethod
    def _definition(s: object, key: str, version: int | None) -> Definition:
        q = select(Definition).where(Definition.kind == "process", Definition.key == key)
        q = q.where(Definition.version == version) if version is not None else \
            q.order_by(Definition.version.desc()).limit(1)
        definition = s.execute(q).scalars().first()  # type: ignore[attr-defined]
        if definition is None:
            raise NotFound(f"no hay versión {version or ''} desplegada del procedimiento {key!r}".replace("  ", " "),
                           field="version")
        return definition

    def _version_files(self, key: str, version: int | None) -> tuple[list[BundleFile], int]:
        with self.db.read() as s:
            definition = self._definition(s, key, version)
            return bundles.as_files(bundles.version_bundle(s, definition)), definition.version

    def draft_failures(self, draft_id: int) -> list[str]:
        """The failing expectations of the scenarios kept with a draft's bundle (the base version's files
        with the draft's diagram, forms, parameters and scenarios in place), each naming its scenario: a
        draft with one cannot be submitted for approval. Only the draft's own procedure's scenarios run."""
        with self.db.read() as s:
            draft = drafts.get(s, draft_id)
            if drafts.kind_of(draft) != "process":
                return []
            key = draft.process_key
        texts, _, _ = self._bundle(key, None, draft_id)
        files = bundles.as_files(texts)
        failures: list[str] = []
        for name, text in bundles.scenarios_of(texts, key).items():
            try:
                result = runner.run(scenario.parse_text(text, name), files)
            except TramitaError as exc:  # the draft does not deploy (lint reports why) or the scenario is malformed
                return failures + [f"{name}: no se pudo simular: {exc.message}"]
            failures += [f"{name}: {failure}" for failure in result.failures]
        return failures


def folder_files(paths: Iterable[str | Path]) -> list[BundleFile]:
    """The procedure files of folders at hand (``tramita simulate --files workflows``)."""
    return versions.collect_files(paths)


