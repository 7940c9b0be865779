"""The studio's API: lint, versions, diffs, drafts (create, update, submit, approve, reject) and moving
running cases to another version.

Same service methods, and so the same permissions, as the ``/diseno`` pages; each route declares its
contract (``@operation``), so the generated OpenAPI describes it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import g, request

from engine.errors import InvalidInput
from web.api import bp, respond, token_required
from web.api import schemas_studio as S
from web.api.contract import operation
from web.security import tramita


def _work() -> Any:
    """The service that holds drafts and their approval."""
    return tramita().drafts


def findings_body(findings: list[Any]) -> dict[str, Any]:
    errors = sum(f.severity == "error" for f in findings)
    return {"findings": [f.to_dict() for f in findings], "errors": errors, "warnings": len(findings) - errors}


def _int(value: Any, field: str) -> int:
    if isinstance(value, bool):
        raise InvalidInput(f"«{field}» debe ser un número entero.", field=field)
    try:
        return int(value)
    except (TypeError, ValueError):
        raise InvalidInput(f"«{field}» debe ser un número entero.", field=field) from None


@bp.post("/lint")
@token_required
@operation("Every finding of BPMN/DMN files (or a draft): element id and name, rule, severity (an error blocks a "
           "deploy, a warning does not) and a Spanish message saying what to do. Send raw XML (Content-Type "
           "application/xml, ?name=file.bpmn), {files: [{name, content}]} or {draft: id}",
           ok=(200, "Findings with counts of errors and warnings", S.FINDINGS), body=S.LINT_REQUEST,
           body_required=True, query=S.LINT_QUERY, descriptions={"name": "the file's name, for raw XML"},
           check_body=False, xml=True)
def lint():  # type: ignore[no-untyped-def]
    design = tramita().design
    if request.mimetype in ("application/xml", "text/xml"):
        name = g.query.get("name") or "diagrama.bpmn"
        return respond(findings_body(design.lint(g.api_user, [(name, request.get_data())])))
    body = g.body
    if "draft" in body:
        return respond(findings_body(_work().lint_draft(g.api_user, _int(body["draft"], "draft"))))
    files = body.get("files")
    if not isinstance(files, list) or not files or not all(
            isinstance(f, dict) and isinstance(f.get("name"), str) and isinstance(f.get("content"), str) for f in files):
        design.lint(g.api_user, [])  # the role is checked before the body is judged
        raise InvalidInput("Envíe «files»: una lista de objetos con «name» (p. ej. tramite.bpmn) y «content» (el XML), "
                           "o «draft»: el número de un borrador.", field="files")
    return respond(findings_body(design.lint(g.api_user, [(f["name"], f["content"].encode()) for f in files])))


@bp.get("/processes/<key>/versions")
@token_required
@operation("The versions of a procedure: who deployed each, when, its change note, who approved it and how many "
           "open cases it still runs", ok=(200, "Versions, newest first", S.VERSIONS))
def versions(key: str):  # type: ignore[no-untyped-def]
    return respond({"key": key, "versions": tramita().design.versions(g.api_user, key)})


@bp.get("/processes/<key>/diff")
@token_required
@operation("What changed between two versions, by element (added, removed, changed with details a lawyer reads: "
           "deadlines, legal basis, forms, lanes) and in lines of text", ok=(200, "The diff", S.DIFF),
           query=S.DIFF_QUERY, descriptions={"from": "the earlier version", "to": "the later version"},
           check_body=False)
def diff(key: str):  # type: ignore[no-untyped-def]
    q = g.query
    if "from" not in q or "to" not in q:
        tramita().design.versions(g.api_user, key)  # the role first
        missing = "from" if "from" not in q else "to"
        raise InvalidInput(f"Falta «{missing}»: el número de versión.", field=missing)
    d = tramita().design.diff(g.api_user, key, q["from"], q["to"])
    return respond({**d.to_dict(), "lines": d.lines()})


def _draft_body(d: Any) -> dict[str, Any]:
    return {k: v for k, v in d.__dict__.items()}


@bp.post("/drafts")
@token_required
@operation("Start (or resume) my draft of a procedure from a version (default: the latest)",
           ok=(201, "The draft", S.DRAFT), body=S.DRAFT_CREATE, body_required=True, check_body=False)
def create_draft():  # type: ignore[no-untyped-def]
    body = g.body
    key = body.get("key")
    base = body.get("base_version")
    if not isinstance(key, str) or not key:
        _work().drafts(g.api_user)  # the role first
        raise InvalidInput("Falta «key»: la clave del procedimiento.", field="key")
    d = _work().create_draft(g.api_user, key, _int(base, "base_version") if base is not None else None)
    return respond(_draft_body(d), 201)


@bp.get("/drafts/<int:draft_id>")
@token_required
@operation("A draft with its BPMN text", ok=(200, "The draft", S.DRAFT))
def get_draft(draft_id: int):  # type: ignore[no-untyped-def]
    return respond(_draft_body(_work().draft(g.api_user, draft_id)))


@bp.put("/drafts/<int:draft_id>")
@token_required
@operation("Replace the draft's BPMN text (its author only, while not under review)", ok=(200, "The draft", S.DRAFT),
           body=S.DRAFT_UPDATE, body_required=True, check_body=False)
def update_draft(draft_id: int):  # type: ignore[no-untyped-def]
    content = g.body.get("content")
    if not isinstance(content, str):
        _work().draft(g.api_user, draft_id)  # the role and the draft first
        raise InvalidInput("Falta «content»: el XML del diagrama.", field="content")
    return respond(_draft_body(_work().save_draft(g.api_user, draft_id, content)))


@bp.post("/drafts/<int:draft_id>/submit")
@token_required
@operation("Send the draft for approval: needs a change note and no lint errors", ok=(200, "The draft, submitted",
                                                                                      S.DRAFT),
           body=S.DRAFT_SUBMIT, body_required=True, check_body=False)
def submit_draft(draft_id: int):  # type: ignore[no-untyped-def]
    body = g.body
    note = body.get("change_note")
    if not isinstance(note, str):
        _work().draft(g.api_user, draft_id)
        raise InvalidInput("Falta «change_note»: la reforma y su fecha de publicación.", field="change_note")
    effective = None
    if body.get("effective_from"):
        try:
            effective = datetime.fromisoformat(str(body["effective_from"]))
        except ValueError:
            effective = None
        if effective is None or effective.tzinfo is None:
            raise InvalidInput("«effective_from» debe ser una fecha y hora ISO 8601 con desfase, p. ej. "
                               "2027-02-01T00:00:00-07:00.", field="effective_from")
    return respond(_draft_body(_work().submit_draft(g.api_user, draft_id, note, effective)))


@bp.post("/drafts/<int:draft_id>/approve")
@token_required
@operation("Approve and deploy as the next version (another legal designer, never the author); 409 when someone "
           "deployed after the draft's base version", ok=(200, "The version deployed", S.APPROVED),
           body=S.DRAFT_APPROVE, check_body=False)
def approve_draft(draft_id: int):  # type: ignore[no-untyped-def]
    comment = g.body.get("comment", "")
    version = _work().approve_draft(g.api_user, draft_id, str(comment))
    return respond({"draft": draft_id, "deployed_version": version})


@bp.post("/drafts/<int:draft_id>/reject")
@token_required
@operation("Reject the draft with a comment (another legal designer)", ok=(200, "The draft, rejected", S.DRAFT),
           body=S.DRAFT_REJECT, body_required=True, check_body=False)
def reject_draft(draft_id: int):  # type: ignore[no-untyped-def]
    comment = g.body.get("comment")
    if not isinstance(comment, str):
        _work().draft(g.api_user, draft_id)
        raise InvalidInput("Falta «comment»: por qué se rechaza.", field="comment")
    return respond(_draft_body(_work().reject_draft(g.api_user, draft_id, comment)))


@bp.get("/processes/<key>/moves")
@token_required
@operation("Before moving running cases to another version: for each open case on another version, where its "
           "open steps and deadlines would land (which deadlines are counted again and why), or why it cannot "
           "move. Writes nothing", ok=(200, "One preview per case", S.MOVE_PREVIEWS), query=S.MOVES_QUERY,
           descriptions={"to": "the version to move to (default: the latest)"})
def move_previews(key: str):  # type: ignore[no-untyped-def]
    previews = tramita().migration.move_previews(g.api_user, key, g.query.get("to"))
    to = previews[0].to_version if previews else tramita().design.versions(g.api_user, key)[0].version
    return respond({"key": key, "to_version": g.query.get("to") or to, "cases": previews})


@bp.post("/processes/<key>/moves")
@token_required
@operation("Move running cases to another version (legal designers): the cases named in `instances`, or every "
           "open case on another version with `all: true`; each in its own audited transaction, with the reason. "
           "The answer says per case whether it moved or why not (a refused case is left as it was)",
           ok=(200, "The result of each case", S.MOVE_RESULTS), body=S.MOVE_REQUEST, body_required=True,
           check_body=False)
def move(key: str):  # type: ignore[no-untyped-def]
    body = g.body
    migration = tramita().migration
    reason, every, chosen = body.get("reason"), body.get("all"), body.get("instances")
    to = body.get("to_version")
    unknown = sorted(set(body) - set(S.MOVE_REQUEST["properties"]))
    if unknown:
        migration.move_previews(g.api_user, key, limit=0)  # the role first
        raise InvalidInput(f"Campo desconocido «{unknown[0]}» (admitidos: to_version, instances, all, reason).",
                           field=unknown[0])
    if every is True and chosen is not None:
        migration.move_previews(g.api_user, key, limit=0)  # the role first
        raise InvalidInput("Envíe «instances» o «all», no ambos.", field="instances")
    if every is not True and chosen is None:
        migration.move_previews(g.api_user, key, limit=0)
        raise InvalidInput("Falta «instances»: los números de los casos (o «all»: true).", field="instances")
    results = migration.move(g.api_user, key, to if to is not None else None, None if every is True else chosen,
                             reason if isinstance(reason, str) else "")
    moved = sum(r.moved for r in results)
    version = results[0].to_version if results else (to or migration_latest(key))
    return respond({"key": key, "to_version": version, "moved": moved, "refused": len(results) - moved,
                    "results": results})


def migration_latest(key: str) -> int:
    return int(tramita().design.versions(g.api_user, key)[0].version)
