"""The legal designers' service: deploy, lint, read versions and their diffs (drafts and their
approval are ``DraftService``, engine/services/drafts.py). Every method takes the acting user first."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable, Sequence

from sqlalchemy import select

from engine import config
from engine.bpmn import safe_xml
from engine.deploy import catalog, drafts, library, parts, versions
from engine.deploy.diff import VersionDiff, diff
from engine.deploy.lint import Finding, LintContext, lint_files
from engine.deploy.lint.context import from_workflows
from engine.deploy.catalog import VersionContent, VersionInfo
from engine.deploy.versions import BundleFile, DeployResult
from engine.errors import InvalidInput
from engine.run import form_limits
from engine.run.runtime import Runtime
from engine.services.principal import Principal, require_role
from engine.store.models import DeployedFile, DirectoryGroup

DESIGN_ROLES = ("legal_designer", "admin")
READ_ROLES = (*DESIGN_ROLES, "manager")


def designer(user: Principal) -> None:
    """Refused unless the user designs procedures (legal designer, administrator)."""
    require_role(user, *DESIGN_ROLES, field="user", message="Su rol no permite diseñar trámites.")


class DesignService:
    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self.db = rt.db

    # --- deploying -------------------------------------------------------------------------

    def deploy(self, user: Principal, files: Sequence[BundleFile], note: str = "") -> DeployResult:
        """Diagrams are judged first (a bad diagram is refused for its own reasons), then the deployer."""
        require_role(user, *DESIGN_ROLES, field="user", message="Su rol no permite desplegar trámites.")
        if not note:
            return versions.deploy(self.db, files, user.username)
        with self.db.write() as s:
            result = versions.deploy_in(s, files, user.username)
            if result.deployment_id is not None:
                drafts.note_for(s, result.deployment_id, note, user.username)
            return result

    def deploy_paths(self, user: Principal, paths: Iterable[str | Path], note: str = "") -> DeployResult:
        return self.deploy(user, versions.collect_files(paths), note)

    # --- reading -----------------------------------------------------------------------------

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

    def processes(self, user: Principal) -> list[dict[str, Any]]:
        with self.db.read() as s:
            return [{"key": d.key, "version": d.version, "name": d.name, "deployed_at": d.deployed_at,
                     "deployed_by": d.deployed_by} for d in versions.list_processes(s)]

    def catalog(self, user: Principal) -> list[dict[str, Any]]:
        designer(user)
        with self.db.read() as s:
            return library.catalog(s)

    def versions(self, user: Principal, key: str, kind: str = "process") -> list[library.VersionRow]:
        designer(user)
        with self.db.read() as s:
            return library.versions(s, key, kind)

    def version_source(self, user: Principal, key: str, version: int | None = None,
                       kind: str = "process") -> tuple[int, str, str]:
        """(version, file name, exact text) of a deployed version (the latest when none is given)."""
        designer(user)
        with self.db.read() as s:
            d = library.definition(s, key, version, kind)
            name, content = library.source(s, d)
            return d.version, name, content

    def diff(self, user: Principal, key: str, a: int, b: int) -> VersionDiff:
        designer(user)
        with self.db.read() as s:
            da, db_ = library.definition(s, key, a), library.definition(s, key, b)
            return diff(key, a, library.source(s, da)[1], b, library.source(s, db_)[1],
                        forms_a=library.form_reader(s, da.deployment_id),
                        forms_b=library.form_reader(s, db_.deployment_id), params=self.context().parameters)

    def export(self, user: Principal, key: str, version: int | None, folder: Path) -> list[Path]:
        designer(user)
        with self.db.read() as s:
            return library.export(s, key, version, folder)

    def studio_options(self, user: Principal) -> dict[str, Any]:
        """What the studio's Tramita group offers: forms, lane groups, case dates, parameters."""
        designer(user)
        ctx = self.context()
        return {"forms": sorted(ctx.forms), "lanes": ctx.lanes, "groups": sorted(ctx.groups),
                "parameters": _parameter_paths(ctx.parameters)}

    # --- lint ------------------------------------------------------------------------------

    def version_list(self, user: Principal, key: str) -> list[VersionInfo]:
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

    def context(self) -> LintContext:
        """What the rules need beyond the file, from what is deployed (never from disk): the lanes, groups,
        message routes and parameters of the newest version of each procedure, the decisions' outputs, and
        the active groups of the administrator's directory."""
        ctx = LintContext()
        with self.db.read() as s:
            for d in sorted(catalog.list_processes(s), key=lambda d: d.id):
                held = parts.load_parts(s, d.id)
                ctx.lanes.update(held.lanes)
                ctx.groups |= set(held.group_names) | set(held.lanes.values())
                ctx.message_routes.update(held.message_routes)
                ctx.parameters = {**ctx.parameters, **held.toml("parameters")}  # as written: value, citation
            # the administrator's directory: a lane may map to a group added there (engine.casework.directory)
            ctx.groups |= set(s.execute(select(DirectoryGroup.code).where(DirectoryGroup.active)).scalars())
            for (content,) in s.execute(select(DeployedFile.content).where(DeployedFile.kind == "dmn")).all():
                try:
                    ctx.add_dmn(safe_xml.load_xml(content.encode("utf-8"), "decision.dmn"))
                except safe_xml.UnsafeXML:
                    continue
        return ctx

    def _lint_context(self) -> LintContext:
        base = self.context()
        ctx = LintContext(lanes=base.lanes, groups=base.groups, message_routes=base.message_routes,
                          forms=base.forms, decision_outputs=dict(base.decision_outputs), parameters=base.parameters)
        ctx.form_loader = self.deployed_form
        return ctx

    def deployed_form(self, name: str) -> dict[str, Any] | None:
        """A form as the newest deployment holding it has it (what a draft starts from)."""
        with self.db.read() as s:
            return library.form_reader(s, 2 ** 62)(name)

    def lint(self, user: Principal, files: Sequence[tuple[str, bytes]],
             forms: dict[str, dict[str, Any]] | None = None) -> list[Finding]:
        designer(user)
        ctx = self._lint_context()
        ctx.forms = {**ctx.forms, **(forms or {})}
        return lint_files(files, ctx)

    def lint_paths(self, user: Principal, paths: Iterable[str | Path]) -> list[Finding]:
        return lint_paths(user, paths, config.WORKFLOWS_DIR)


def parse_form(text: str) -> dict[str, Any]:
    """A form's JSON Schema, or InvalidInput in Spanish (the forms editor's live preview)."""
    # The preview shows a bound read from a parameter by the schema's literal fallback, never "{maximo}".
    return form_limits.resolve(drafts.parse_form(text), None) or {}


def _parameter_paths(params: dict[str, Any], prefix: str = "parametros") -> list[dict[str, Any]]:
    out = []
    for k, v in params.items():
        if isinstance(v, dict) and "value" in v:
            out.append({"path": f"{prefix}.{k}", "value": v["value"], "unit": v.get("unit", ""),
                        "citation": v.get("citation", "")})
        elif isinstance(v, dict):
            out += _parameter_paths(v, f"{prefix}.{k}")
    return out


def lint_paths(user: Principal, paths: Iterable[str | Path], default_folder: Path | None = None) -> list[Finding]:
    """`tramita lint`: the files named (folders recursively), with the lanes, forms and messages of the
    workflows folder they sit in (else ``default_folder``). Needs no database."""
    from engine import config

    designer(user)
    paths = list(paths)
    files = [f for f in versions.collect_files(paths) if f.kind in ("bpmn", "dmn", "form")]
    folder = default_folder or config.WORKFLOWS_DIR
    if paths:
        start = Path(paths[0]).resolve()
        folder = next((f for f in [start, *start.parents] if (f / "lanes.toml").is_file()), folder)
    return lint_files([(f.name, f.content) for f in files], from_workflows(folder))
