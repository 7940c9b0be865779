"""The legal designers' drafts: a change kept on the server by its author, linted, submitted with a
change note, and deployed as the next version only when a second designer approves it. Split from
``DesignService`` (deploy, read, lint) so that each service stays one audience's concern."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from engine.deploy import drafts, library, parameters, parts
from engine.deploy.diff import VersionDiff, diff, diff_dmn
from engine.deploy.lint import Finding
from engine.errors import InvalidInput, NotFound
from engine.run.runtime import Runtime
from engine.services.design import DesignService, designer
from engine.services.principal import Principal
from engine.services.simulator import SimulatorService
from engine.simulate import scenario
from engine.store.drafts import Draft


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


class DraftService:
    """Drafts of procedures and decisions, from creation to the second designer's approval."""

    def __init__(self, rt: Runtime, design: DesignService) -> None:
        self.rt = rt
        self.db = rt.db
        self.design = design

    def drafts(self, user: Principal, key: str | None = None) -> list[DraftView]:
        designer(user)
        with self.db.read() as s:
            return [DraftView.of(d) for d in drafts.listing(s, key)]

    def draft(self, user: Principal, draft_id: int) -> DraftView:
        designer(user)
        with self.db.read() as s:
            return DraftView.of(drafts.get(s, draft_id))

    def create_draft(self, user: Principal, key: str, base_version: int | None = None,
                     kind: str = "process") -> DraftView:
        designer(user)
        with self.db.write() as s:
            return DraftView.of(drafts.create(s, user.username, key, base_version, kind))

    def save_draft(self, user: Principal, draft_id: int, content: str) -> DraftView:
        designer(user)
        with self.db.write() as s:
            return DraftView.of(drafts.save(s, drafts.get(s, draft_id), user.username, content))

    def lint_draft(self, user: Principal, draft_id: int) -> list[Finding]:
        d = self.draft(user, draft_id)
        return self.design.lint(user, [(d.filename, d.content.encode("utf-8"))], draft_forms(d))

    def submit_draft(self, user: Principal, draft_id: int, note: str,
                     effective_from: datetime | None = None) -> DraftView:
        findings = self.lint_draft(user, draft_id)
        # The scenarios run only for a draft that lints clean: one with errors is refused for those first.
        failures = [] if any(f.severity == "error" for f in findings) else \
            SimulatorService(self.rt).draft_failures(draft_id)
        with self.db.write() as s:
            return DraftView.of(drafts.submit(s, drafts.get(s, draft_id), user.username, note, findings,
                                              effective_from, failures))

    def approve_draft(self, user: Principal, draft_id: int, comment: str = "") -> int:
        """Deploy the draft as the next version (the approver is never the author); its version number."""
        designer(user)
        with self.db.write() as s:
            return drafts.approve(s, drafts.get(s, draft_id), user.username, comment)

    def reject_draft(self, user: Principal, draft_id: int, comment: str) -> DraftView:
        designer(user)
        with self.db.write() as s:
            return DraftView.of(drafts.reject(s, drafts.get(s, draft_id), user.username, comment))

    def rebase_draft(self, user: Principal, draft_id: int) -> DraftView:
        designer(user)
        with self.db.write() as s:
            return DraftView.of(drafts.rebase(s, drafts.get(s, draft_id), user.username))

    def draft_diff(self, user: Principal, draft_id: int) -> VersionDiff:
        """What the draft changes against its base version (what the approver reads)."""
        d = self.draft(user, draft_id)
        kind = "decision" if d.filename.endswith(".dmn") else "process"
        params = self.design.context().parameters
        with self.db.read() as s:
            base = library.definition(s, d.process_key, d.base_version, kind)
            if kind == "decision":
                return diff_dmn(d.process_key, base.version, library.source(s, base)[1], 0, d.content)
            reader = library.form_reader(s, base.deployment_id)
            edited = draft_forms(d)
            return diff(d.process_key, base.version, library.source(s, base)[1], 0, d.content, forms_a=reader,
                        forms_b=lambda name: edited.get(name) or reader(name), params=params)

    def draft_form(self, user: Principal, draft_id: int, name: str) -> str:
        """The text of a form as this draft has it: its edit, else the deployed or shipped one."""
        d = self.draft(user, draft_id)
        if name in d.forms:
            return d.forms[name]
        schema = self.design.context().forms.get(name) or self.design.deployed_form(name)
        if schema is None:
            raise NotFound(f"El formulario «{name}» no existe.", field="name")
        return json.dumps(schema, ensure_ascii=False, indent=2)

    def save_draft_form(self, user: Principal, draft_id: int, name: str, text: str) -> DraftView:
        designer(user)
        with self.db.write() as s:
            return DraftView.of(drafts.save_form(s, drafts.get(s, draft_id), user.username, name, text))


    # --- other bundle files a draft edits: its scenarios and the legal parameters ----------------

    def save_draft_scenario(self, user: Principal, draft_id: int, name: str, text: str) -> DraftView:
        """Keep a scenario (``x.toml``) of the draft's procedure with the draft; refused, naming the
        line and field, when it cannot be read."""
        designer(user)
        d = self.draft(user, draft_id)
        sc = scenario.parse_text(text, name)
        if sc.procedure != d.process_key:
            raise InvalidInput(f"El escenario es del procedimiento «{sc.procedure}», no de «{d.process_key}»: "
                               "corrija «procedimiento».", field="procedimiento")
        with self.db.write() as s:
            return DraftView.of(drafts.save_file(s, drafts.get(s, draft_id), user.username,
                                                 f"{parts.SCENARIOS}{d.process_key}/{name}", text))

    def draft_parameters(self, user: Principal, draft_id: int) -> tuple[str, list[dict[str, Any]]]:
        """The legal parameters as the draft has them (its edit, else its base version's): the text and
        the editable rows (path, value, unit, citation, notes)."""
        text = self._parameters_text(self.draft(user, draft_id))
        return text, parameters.parameter_rows(text)

    def save_draft_parameters(self, user: Principal, draft_id: int,
                              changes: dict[str, tuple[str, str]]) -> DraftView:
        """Change values and citations (both required; a number stays a number); deployed with the draft."""
        designer(user)
        text = parameters.edit_parameters(self._parameters_text(self.draft(user, draft_id)), changes)
        with self.db.write() as s:
            return DraftView.of(drafts.save_file(s, drafts.get(s, draft_id), user.username, drafts.PARAMETERS, text))

    def parameter_changes(self, user: Principal, draft_id: int) -> list[str]:
        """The draft's changes to the legal parameters, in words, for the approver."""
        d = self.draft(user, draft_id)
        if drafts.PARAMETERS not in d.forms:
            return []
        return parameters.parameter_changes(self._base_parameters(d), d.forms[drafts.PARAMETERS])

    def _parameters_text(self, d: DraftView) -> str:
        return d.forms.get(drafts.PARAMETERS) or self._base_parameters(d)

    def _base_parameters(self, d: DraftView) -> str:
        with self.db.read() as s:
            base = library.definition(s, d.process_key, d.base_version)
            text = parts.load_parts(s, base.id).texts.get("parameters")
        if text is None:
            raise NotFound(f"La versión {base.version} de {d.process_key} no tiene parámetros legales.",
                           field="parameters")
        return text


def draft_forms(d: DraftView) -> dict[str, dict[str, Any]]:
    """The forms (JSON Schema) the draft edits, parsed; other bundle files it carries are skipped."""
    out = {}
    for name, text in d.forms.items():
        if not name.endswith(".json"):
            continue
        try:
            out[name] = json.loads(text)
        except ValueError:
            continue
    return out
