"""The studio's API: lint, versions, diffs and drafts (create, update, submit, approve, reject).

Same service methods, and so the same permissions, as the ``/diseno`` pages.
"""

from __future__ import annotations

from typing import Any

from flask import g, request

from engine.errors import InvalidInput
from web.api import _body, bp, respond, token_required
from web.security import tramita


def findings_body(findings: list[Any]) -> dict[str, Any]:
    errors = sum(f.severity == "error" for f in findings)
    return {"findings": [f.to_dict() for f in findings], "errors": errors, "warnings": len(findings) - errors}


def _int(value: Any, field: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise InvalidInput(f"«{field}» debe ser un número entero.", field=field) from None


@bp.post("/lint")
@token_required
def lint():  # type: ignore[no-untyped-def]
    """A BPMN/DMN file (raw XML, ?name=), ``{"files": [{"name", "content"}]}`` or ``{"draft": id}``."""
    design = tramita().design
    if request.mimetype in ("application/xml", "text/xml"):
        name = request.args.get("name", "diagrama.bpmn")
        return respond(findings_body(design.lint(g.api_user, [(name, request.get_data())])))
    body = _body()
    if "draft" in body:
        return respond(findings_body(design.lint_draft(g.api_user, _int(body["draft"], "draft"))))
    files = body.get("files")
    if not isinstance(files, list) or not files or not all(
            isinstance(f, dict) and isinstance(f.get("name"), str) and isinstance(f.get("content"), str) for f in files):
        raise InvalidInput("Envíe «files»: una lista de objetos con «name» (p. ej. tramite.bpmn) y «content» (el XML), "
                           "o «draft»: el número de un borrador.", field="files")
    return respond(findings_body(design.lint(g.api_user, [(f["name"], f["content"].encode()) for f in files])))


@bp.get("/processes/<key>/versions")
@token_required
def versions(key: str):  # type: ignore[no-untyped-def]
    return respond({"key": key, "versions": tramita().design.versions(g.api_user, key)})


@bp.get("/processes/<key>/diff")
@token_required
def diff(key: str):  # type: ignore[no-untyped-def]
    a, b = _int(request.args.get("from"), "from"), _int(request.args.get("to"), "to")
    d = tramita().design.diff(g.api_user, key, a, b)
    return respond({**d.to_dict(), "lines": d.lines()})


def _draft_body(d: Any) -> dict[str, Any]:
    return {k: v for k, v in d.__dict__.items()}


@bp.post("/drafts")
@token_required
def create_draft():  # type: ignore[no-untyped-def]
    body = _body()
    key = body.get("key")
    if not isinstance(key, str) or not key:
        raise InvalidInput("Falta «key»: la clave del procedimiento.", field="key")
    base = body.get("base_version")
    d = tramita().design.create_draft(g.api_user, key, _int(base, "base_version") if base is not None else None)
    return respond(_draft_body(d), 201)


@bp.get("/drafts/<int:draft_id>")
@token_required
def get_draft(draft_id: int):  # type: ignore[no-untyped-def]
    return respond(_draft_body(tramita().design.draft(g.api_user, draft_id)))


@bp.put("/drafts/<int:draft_id>")
@token_required
def update_draft(draft_id: int):  # type: ignore[no-untyped-def]
    content = _body().get("content")
    if not isinstance(content, str):
        raise InvalidInput("Falta «content»: el XML del diagrama.", field="content")
    return respond(_draft_body(tramita().design.save_draft(g.api_user, draft_id, content)))


@bp.post("/drafts/<int:draft_id>/submit")
@token_required
def submit_draft(draft_id: int):  # type: ignore[no-untyped-def]
    body = _body()
    note = body.get("change_note")
    if not isinstance(note, str):
        raise InvalidInput("Falta «change_note»: la reforma y su fecha de publicación.", field="change_note")
    effective = None
    if body.get("effective_from"):
        from datetime import datetime

        try:
            effective = datetime.fromisoformat(str(body["effective_from"]))
        except ValueError:
            effective = None
        if effective is None or effective.tzinfo is None:
            raise InvalidInput("«effective_from» debe ser una fecha y hora ISO 8601 con desfase, p. ej. "
                               "2027-02-01T00:00:00-07:00.", field="effective_from")
    return respond(_draft_body(tramita().design.submit_draft(g.api_user, draft_id, note, effective)))


@bp.post("/drafts/<int:draft_id>/approve")
@token_required
def approve_draft(draft_id: int):  # type: ignore[no-untyped-def]
    comment = _body().get("comment", "")
    version = tramita().design.approve_draft(g.api_user, draft_id, str(comment))
    return respond({"draft": draft_id, "deployed_version": version})


@bp.post("/drafts/<int:draft_id>/reject")
@token_required
def reject_draft(draft_id: int):  # type: ignore[no-untyped-def]
    comment = _body().get("comment")
    if not isinstance(comment, str):
        raise InvalidInput("Falta «comment»: por qué se rechaza.", field="comment")
    return respond(_draft_body(tramita().design.reject_draft(g.api_user, draft_id, comment)))
