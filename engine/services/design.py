"""The legal designers' service: deploy, lint, read versions and their diffs, and move drafts from
the author to a second designer's approval. Every method takes the acting user first."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Iterable, Sequence

from sqlalchemy import select

from engine import config
from engine.bpmn import safe_xml
from engine.deploy import catalog, drafts, library, parts, versions
from engine.deploy.diff import VersionDiff, diff, diff_dmn
from engine.deploy.lint import Finding, LintContext, lint_files
from engine.deploy.lint.context import from_workflows
from engine.deploy.catalog import VersionContent, VersionInfo
from engine.deploy.versions import BundleFile, DeployResult
from engine.errors import InvalidInput, NotFound
from engine.run.runtime import Runtime
from engine.services.principal import Principal, require_role
from engine.store.drafts import Draft
from engine.store.models import DeployedFile

DESIGN_ROLES = ("legal_designer", "admin")
READ_ROLES = (*DESIGN_ROLES, "manager")


@dataclass(frozen=True)
class DraftView:
    id: int
    process_key: str
    filename: str
    base_version: int | None
    author: str
    status: str
    change_note: str
    content: str
    created_at: datetime
    updated_at: datetime
    reviewed_by: str | None
    review_comment: str
    deployed_version: int | None
    effective_from: datetime | None
    forms: dict[str, str]

    @classmethod
    def of(cls, d: Draft) -> "DraftView":
        return cls(d.id, d.process_key, d.filename, d.base_version, d.author, d.status, d.change_note, d.content,
                   d.created_at, d.updated_at, d.reviewed_by, d.review_comment, d.deployed_version, d.effective_from,
                   dict(d.forms or {}))


def _designer(user: Principal) -> None:
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
        _designer(user)
        with self.db.read() as s:
            return library.catalog(s)

    def versions(self, user: Principal, key: str, kind: str = "process") -> list[library.VersionRow]:
        _designer(user)
        with self.db.read() as s:
            return library.versions(s, key, kind)

    def version_source(self, user: Principal, key: str, version: int | None = None,
                       kind: str = "process") -> tuple[int, str, str]:
        """(version, file name, exact text) of a deployed version (the latest when none is given)."""
        _designer(user)
        with self.db.read() as s:
            d = library.definition(s, key, version, kind)
            name, content = library.source(s, d)
            return d.version, name, content

    def diff(self, user: Principal, key: str, a: int, b: int) -> VersionDiff:
        _designer(user)
        with self.db.read() as s:
            da, db_ = library.definition(s, key, a), library.definition(s, key, b)
            return diff(key, a, library.source(s, da)[1], b, library.source(s, db_)[1],
                        forms_a=library.form_reader(s, da.deployment_id),
                        forms_b=library.form_reader(s, db_.deployment_id), params=self._context.parameters)

    def draft_diff(self, user: Principal, draft_id: int) -> VersionDiff:
        """What the draft changes against its base version (what the approver reads)."""
        d = self.draft(user, draft_id)
        kind = "decision" if d.filename.endswith(".dmn") else "process"
        with self.db.read() as s:
            base = library.definition(s, d.process_key, d.base_version, kind)
            if kind == "decision":
                return diff_dmn(d.process_key, base.version, library.source(s, base)[1], 0, d.content)
            reader = library.form_reader(s, base.deployment_id)
            edited = _draft_forms(d)
            return diff(d.process_key, base.version, library.source(s, base)[1], 0, d.content, forms_a=reader,
                        forms_b=lambda name: edited.get(name) or reader(name), params=self._context.parameters)

    def draft_form(self, user: Principal, draft_id: int, name: str) -> str:
        """The text of a form as this draft has it: its edit, else the deployed or shipped one."""
        d = self.draft(user, draft_id)
        if name in d.forms:
            return d.forms[name]
        schema = self._context.forms.get(name) or self._deployed_form(name)
        if schema is None:
            raise NotFound(f"El formulario «{name}» no existe.", field="name")
        return json.dumps(schema, ensure_ascii=False, indent=2)

    def save_draft_form(self, user: Principal, draft_id: int, name: str, text: str) -> DraftView:
        _designer(user)
        with self.db.write() as s:
            return DraftView.of(drafts.save_form(s, drafts.get(s, draft_id), user.username, name, text))

    def move_previews(self, user: Principal, key: str, to_version: int | None = None,
                      limit: int = 50) -> list[Any]:
        """For each open case on an older version: where its open steps would land in ``to_version``
        (the latest by default), which deadlines change, or why it cannot move."""
        from sqlalchemy import select

        from engine.deploy import moving
        from engine.store.models import Instance

        _designer(user)
        with self.db.read() as s:
            target = library.definition(s, key, to_version)
            rows = s.execute(select(Instance).where(
                Instance.process_key == key, Instance.status.in_(library.OPEN_STATUSES),
                Instance.definition_id != target.id).order_by(Instance.id).limit(limit)).scalars().all()
            diffs: dict[int, VersionDiff] = {}
            out = []
            for inst in rows:
                if inst.definition_id not in diffs:
                    current = s.get(library.Definition, inst.definition_id)
                    diffs[inst.definition_id] = diff(key, current.version, library.source(s, current)[1],
                                                     target.version, library.source(s, target)[1],
                                                     params=self._context.parameters)
                out.append(moving.preview(s, self.rt.specs, inst, target, diffs[inst.definition_id]))
            return out

    def export(self, user: Principal, key: str, version: int | None, folder: Path) -> list[Path]:
        _designer(user)
        with self.db.read() as s:
            return library.export(s, key, version, folder)

    def studio_options(self, user: Principal) -> dict[str, Any]:
        """What the studio's Tramita group offers: forms, lane groups, case dates, parameters."""
        _designer(user)
        ctx = self._context
        return {"forms": sorted(ctx.forms), "lanes": ctx.lanes, "groups": sorted(ctx.groups),
                "parameters": _parameter_paths(ctx.parameters)}

    # --- lint ------------------------------------------------------------------------------

    def affected(self, user: Principal, key: str) -> tuple[int, list[Any]]:
        """Running cases on earlier versions that can still reach an element the newest version removed."""
        from engine.deploy.affected import affected

        require_role(user, "legal_designer", "manager", "admin", field="user",
                     message="Su rol no permite revisar los casos en curso de versiones anteriores.")
        return affected(self.db, self.rt.specs, key)

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

    @property
    def _context(self) -> LintContext:
        """What the rules need beyond the file, from what is deployed (never from disk): the lanes, groups,
        message routes and parameters of the newest version of each procedure, and the decisions' outputs."""
        ctx = LintContext()
        with self.db.read() as s:
            for d in sorted(catalog.list_processes(s), key=lambda d: d.id):
                held = parts.load_parts(s, d.id)
                ctx.lanes.update(held.lanes)
                ctx.groups |= set(held.group_names) | set(held.lanes.values())
                ctx.message_routes.update(held.message_routes)
                ctx.parameters = {**ctx.parameters, **held.toml("parameters")}  # as written: value, citation
            for (content,) in s.execute(select(DeployedFile.content).where(DeployedFile.kind == "dmn")).all():
                try:
                    ctx.add_dmn(safe_xml.load_xml(content.encode("utf-8"), "decision.dmn"))
                except safe_xml.UnsafeXML:
                    continue
        return ctx

    def _lint_context(self) -> LintContext:
        base = self._context
        ctx = LintContext(lanes=base.lanes, groups=base.groups, message_routes=base.message_routes,
                          forms=base.forms, decision_outputs=dict(base.decision_outputs), parameters=base.parameters)
        ctx.form_loader = self._deployed_form
        return ctx

    def _deployed_form(self, name: str) -> dict[str, Any] | None:
        with self.db.read() as s:
            return library.form_reader(s, 2 ** 62)(name)

    def lint(self, user: Principal, files: Sequence[tuple[str, bytes]],
             forms: dict[str, dict[str, Any]] | None = None) -> list[Finding]:
        _designer(user)
        ctx = self._lint_context()
        ctx.forms = {**ctx.forms, **(forms or {})}
        return lint_files(files, ctx)

    def lint_paths(self, user: Principal, paths: Iterable[str | Path]) -> list[Finding]:
        return lint_paths(user, paths, config.WORKFLOWS_DIR)

    def lint_draft(self, user: Principal, draft_id: int) -> list[Finding]:
        d = self.draft(user, draft_id)
        return self.lint(user, [(d.filename, d.content.encode("utf-8"))], _draft_forms(d))

    # --- drafts ----------------------------------------------------------------------------

    def drafts(self, user: Principal, key: str | None = None) -> list[DraftView]:
        _designer(user)
        with self.db.read() as s:
            return [DraftView.of(d) for d in drafts.listing(s, key)]

    def draft(self, user: Principal, draft_id: int) -> DraftView:
        _designer(user)
        with self.db.read() as s:
            return DraftView.of(drafts.get(s, draft_id))

    def create_draft(self, user: Principal, key: str, base_version: int | None = None,
                     kind: str = "process") -> DraftView:
        _designer(user)
        with self.db.write() as s:
            return DraftView.of(drafts.create(s, user.username, key, base_version, kind))

    def save_draft(self, user: Principal, draft_id: int, content: str) -> DraftView:
        _designer(user)
        with self.db.write() as s:
            return DraftView.of(drafts.save(s, drafts.get(s, draft_id), user.username, content))

    def submit_draft(self, user: Principal, draft_id: int, note: str,
                     effective_from: datetime | None = None) -> DraftView:
        findings = self.lint_draft(user, draft_id)
        with self.db.write() as s:
            return DraftView.of(drafts.submit(s, drafts.get(s, draft_id), user.username, note, findings,
                                              effective_from))

    def approve_draft(self, user: Principal, draft_id: int, comment: str = "") -> int:
        """Deploy the draft as the next version (the approver is never the author); its version number."""
        _designer(user)
        with self.db.write() as s:
            return drafts.approve(s, drafts.get(s, draft_id), user.username, comment)

    def reject_draft(self, user: Principal, draft_id: int, comment: str) -> DraftView:
        _designer(user)
        with self.db.write() as s:
            return DraftView.of(drafts.reject(s, drafts.get(s, draft_id), user.username, comment))

    def rebase_draft(self, user: Principal, draft_id: int) -> DraftView:
        _designer(user)
        with self.db.write() as s:
            return DraftView.of(drafts.rebase(s, drafts.get(s, draft_id), user.username))


def _draft_forms(d: DraftView) -> dict[str, dict[str, Any]]:
    out = {}
    for name, text in d.forms.items():
        try:
            out[name] = json.loads(text)
        except ValueError:
            continue
    return out


def parse_form(text: str) -> dict[str, Any]:
    """A form's JSON Schema, or InvalidInput in Spanish (the forms editor's live preview)."""
    return drafts.parse_form(text)


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

    _designer(user)
    paths = list(paths)
    files = [f for f in versions.collect_files(paths) if f.kind in ("bpmn", "dmn", "form")]
    folder = default_folder or config.WORKFLOWS_DIR
    if paths:
        start = Path(paths[0]).resolve()
        folder = next((f for f in [start, *start.parents] if (f / "lanes.toml").is_file()), folder)
    return lint_files([(f.name, f.content) for f in files], from_workflows(folder))
