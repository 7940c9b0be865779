"""Drafts of a procedure: kept on the server per author (with edited forms and legal scenarios),
submitted with a change note, no lint errors and no failing scenario, approved by another legal
designer (deployed as the next version) or rejected with a comment.
"""

from __future__ import annotations

import json
import re
import tomllib
from datetime import datetime
from typing import Any, Callable, Sequence

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError
from sqlalchemy import select

from engine.bpmn import safe_xml
from engine.deploy import library, versions
from engine.deploy.lint import Finding, errors
from engine.errors import Conflict, Forbidden, InvalidInput, InvalidState, NotFound
from engine.store.drafts import DesignEvent, Draft, VersionNote
from engine.time import clock

EDITABLE = ("draft", "rejected")


def _audit(session: Any, draft: Draft | None, actor: str, action: str, detail: str = "") -> None:
    session.add(DesignEvent(draft_id=draft.id if draft else None, at=clock.now(), actor=actor, action=action,
                            detail=detail))


def get(session: Any, draft_id: int) -> Draft:
    draft = session.get(Draft, draft_id)
    if draft is None or draft.process_key == "calendario":  # the calendar's drafts: engine.deploy.calendar_drafts
        raise NotFound(f"El borrador {draft_id} no existe.", field="draft")
    return draft


def listing(session: Any, key: str | None = None) -> list[Draft]:
    q = select(Draft).order_by(Draft.updated_at.desc())
    if key:
        q = q.where(Draft.process_key == key)
    else:  # the legal calendar's drafts have their own editor (engine.deploy.calendar_drafts)
        q = q.where(Draft.process_key != "calendario")
    return list(session.execute(q).scalars())


def kind_of(draft: Draft) -> str:
    """A draft of a decision table is a .dmn file; of a procedure, a .bpmn file."""
    return "decision" if draft.filename.endswith(".dmn") else "process"


def create(session: Any, author: str, key: str, base_version: int | None, kind: str = "process") -> Draft:
    """The author's open draft of this procedure or decision (resumed), or a new one copied from the version."""
    existing = session.execute(
        select(Draft).where(Draft.process_key == key, Draft.author == author, Draft.status.in_(EDITABLE + ("submitted",)))
        .order_by(Draft.id.desc()).limit(1)).scalar()
    if existing is not None:
        return existing
    d = library.definition(session, key, base_version, kind)
    filename, content = library.source(session, d)
    now = clock.now()
    draft = Draft(process_key=key, filename=filename, base_version=d.version, author=author, content=content,
                  status="draft", change_note="", created_at=now, updated_at=now, review_comment="", forms={})
    session.add(draft)
    session.flush()
    _audit(session, draft, author, "created", f"desde la versión {d.version}")
    return draft


def _own(draft: Draft, user: str) -> None:
    if draft.author != user:
        raise Forbidden("Solo quien escribió el borrador puede modificarlo.", field="draft")


def save(session: Any, draft: Draft, user: str, content: str) -> Draft:
    _own(draft, user)
    if draft.status not in EDITABLE:
        raise InvalidState("El borrador ya se envió a aprobación: espere la revisión para modificarlo.",
                           field="draft")
    try:
        safe_xml.load_xml(content.encode("utf-8"), draft.filename)
    except safe_xml.UnsafeXML as exc:
        raise InvalidInput(f"El diagrama no es XML válido: {exc}", field="content") from None
    draft.content = content
    draft.status = "draft"
    draft.updated_at = clock.now()
    _audit(session, draft, user, "saved")
    return draft


_FORM_NAME = re.compile(r"^[A-Za-z0-9_.-]+\.json$")


def save_form(session: Any, draft: Draft, user: str, name: str, text: str) -> Draft:
    """Keep an edited form (JSON Schema) with the draft: it deploys with the diagram on approval."""
    _own(draft, user)
    if draft.status not in EDITABLE:
        raise InvalidState("El borrador ya se envió a aprobación: espere la revisión para modificarlo.",
                           field="draft")
    if not _FORM_NAME.match(name):
        raise InvalidInput(f"«{name}» no es un nombre de formulario válido (p. ej. tramite_paso.schema.json).",
                           field="name")
    parse_form(text)
    draft.forms = {**(draft.forms or {}), name: text}
    draft.updated_at = clock.now()
    _audit(session, draft, user, "form_saved", name)
    return draft


PARAMETERS = "parameters.toml"
_SCENARIO_NAME = re.compile(r"^scenarios/([A-Za-z0-9_.-]+)/[A-Za-z0-9_-]+\.toml$")


def save_file(session: Any, draft: Draft, user: str, name: str, text: str) -> Draft:
    """Keep an edited bundle file with the draft, like a form: one of its procedure's scenarios
    (``scenarios/<key>/<file>.toml``) or the legal parameters (``parameters.toml``). The caller has
    checked what the text says; here, that it belongs to this draft and is TOML."""

    _own(draft, user)
    if draft.status not in EDITABLE:
        raise InvalidState("El borrador ya se envió a aprobación: espere la revisión para modificarlo.",
                           field="draft")
    found = _SCENARIO_NAME.match(name)
    if name != PARAMETERS and (found is None or found.group(1) != draft.process_key):
        raise InvalidInput(f"«{name}» no es un escenario de {draft.process_key} ni los parámetros legales.",
                           field="name")
    try:
        tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        raise InvalidInput("El archivo no es TOML válido.", field="scenario") from None
    draft.forms = {**(draft.forms or {}), name: text}
    draft.updated_at = clock.now()
    _audit(session, draft, user, "file_saved", name)
    return draft


def parse_form(text: str) -> dict[str, Any]:
    """The JSON Schema of a form, or InvalidInput saying (in Spanish) what is wrong and where."""
    try:
        schema = json.loads(text)
    except ValueError as exc:
        raise InvalidInput(f"El formulario no es JSON válido: {exc.msg} (línea {exc.lineno}, columna {exc.colno}).",
                           field="schema") from None
    if not isinstance(schema, dict):
        raise InvalidInput("El formulario debe ser un objeto JSON Schema ({…}).", field="schema")
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        where = "/".join(str(p) for p in exc.path) or "la raíz"
        raise InvalidInput(f"El esquema no es válido en {where}: {exc.message}", field="schema") from None
    return schema


def submit(session: Any, draft: Draft, user: str, note: str, findings: Sequence[Finding],
           effective_from: datetime | None = None, scenario_failures: Sequence[str] = ()) -> Draft:
    """Send the draft for approval: it needs a change note, no lint error and no failing legal scenario
    (``scenario_failures``: "<file>: <expectation, expected and actual>", from the simulator)."""
    _own(draft, user)
    if draft.status not in EDITABLE:
        raise InvalidState("El borrador ya está en revisión.", field="draft")
    if not note.strip():
        raise InvalidInput("Escriba la nota del cambio (p. ej. la reforma y su fecha de publicación).",
                           field="change_note")
    errs = errors(findings)
    if errs:
        raise InvalidInput(f"El diagrama tiene {len(errs)} error(es): corríjalos antes de enviarlo "
                           f"(el primero: {errs[0].element_id} — {errs[0].message})", field="content")
    if scenario_failures:
        raise InvalidInput(f"{len(scenario_failures)} expectativa(s) de los escenarios legales no se cumplen con "
                           f"el borrador: corríjalas antes de enviarlo (la primera: {scenario_failures[0]})",
                           field="scenarios")
    draft.change_note = note.strip()
    draft.effective_from = effective_from
    draft.status = "submitted"
    draft.updated_at = clock.now()
    _audit(session, draft, user, "submitted", draft.change_note)
    return draft


def _reviewable(session: Any, draft: Draft, user: str) -> None:
    if draft.status != "submitted":
        raise InvalidState("El borrador no está en espera de aprobación.", field="draft")
    if draft.author == user:
        raise Forbidden("Otra persona diseñadora debe revisar el borrador: nadie aprueba su propio cambio.",
                        field="user")


def approve(session: Any, draft: Draft, user: str, comment: str,
            deploy: Callable[[Any, Sequence[versions.BundleFile], str], versions.DeployResult]
            = versions.deploy_in) -> int:
    """Deploy the draft as the next version; refused when someone deployed after its base."""
    _reviewable(session, draft, user)
    kind = kind_of(draft)
    latest = library.definition(session, draft.process_key, None, kind)
    if draft.base_version is not None and latest.version != draft.base_version:
        raise Conflict(f"El borrador parte de la versión {draft.base_version}, pero ya existe la versión "
                       f"{latest.version}: quien lo escribió debe actualizarlo sobre la versión vigente.",
                       field="base_version")
    files = [versions.BundleFile(draft.filename, draft.content.encode("utf-8"))]
    files += [versions.BundleFile(name, text.encode("utf-8")) for name, text in sorted((draft.forms or {}).items())]
    result = deploy(session, files, draft.author)
    mine = [d for d in result.definitions if d.kind == kind and d.key == draft.process_key]
    if result.deployment_id is None or not mine or not mine[0].created:
        raise InvalidState("El borrador no cambia nada respecto de la versión vigente: no hay qué desplegar.",
                           field="content")
    session.add(VersionNote(deployment_id=result.deployment_id, note=draft.change_note, approved_by=user,
                            draft_id=draft.id, effective_from=draft.effective_from))
    draft.status = "approved"
    draft.reviewed_by, draft.reviewed_at, draft.review_comment = user, clock.now(), comment.strip()
    draft.deployed_version = mine[0].version
    draft.updated_at = clock.now()
    _audit(session, draft, user, "approved", f"versión {mine[0].version}; {comment.strip()}")
    return mine[0].version


def reject(session: Any, draft: Draft, user: str, comment: str) -> Draft:
    _reviewable(session, draft, user)
    if not comment.strip():
        raise InvalidInput("Escriba por qué se rechaza, para que quien lo escribió sepa qué corregir.",
                           field="comment")
    draft.status = "rejected"
    draft.reviewed_by, draft.reviewed_at, draft.review_comment = user, clock.now(), comment.strip()
    draft.updated_at = clock.now()
    _audit(session, draft, user, "rejected", comment.strip())
    return draft


def rebase(session: Any, draft: Draft, user: str) -> Draft:
    """Move the draft onto the latest version (its text stays; the author re-checks the diff)."""
    _own(draft, user)
    latest = library.definition(session, draft.process_key, None, kind_of(draft))
    draft.base_version = latest.version
    draft.status = "draft"
    draft.updated_at = clock.now()
    _audit(session, draft, user, "rebased", f"sobre la versión {latest.version}")
    return draft


def note_for(session: Any, deployment_id: int, note: str, user: str) -> None:
    session.add(VersionNote(deployment_id=deployment_id, note=note, approved_by=None))
    _audit(session, None, user, "deployed", note)
