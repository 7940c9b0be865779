"""The JSON Schemas of the studio's API (lint, versions, diffs, drafts, moving running cases), used by the
routes' ``@operation`` in :mod:`web.api.design` and so by the generated OpenAPI description."""

from __future__ import annotations

from typing import Any

_TEXT = {"type": "string"}
_TEXT_OR_NULL = {"type": ["string", "null"]}
_INT_OR_NULL = {"type": ["integer", "null"]}
_TEXTS = {"type": "array", "items": _TEXT}

FINDING: dict[str, Any] = {
    "type": "object", "required": ["file", "element_id", "rule", "severity", "message"], "properties": {
        "file": _TEXT, "element_id": _TEXT, "element_name": _TEXT, "rule": _TEXT,
        "severity": {"enum": ["error", "warning"], "description": "an error blocks a deploy; a warning does not"},
        "message": {"type": "string", "description": "what is wrong and what to do, in Spanish"}}}
FINDINGS: dict[str, Any] = {
    "type": "object", "required": ["findings", "errors", "warnings"], "properties": {
        "findings": {"type": "array", "items": FINDING}, "errors": {"type": "integer"},
        "warnings": {"type": "integer"}}}
LINT_REQUEST: dict[str, Any] = {
    "type": "object", "description": "either `files` or `draft`; or send one file as raw XML (Content-Type "
                                     "application/xml, ?name=file.bpmn)",
    "properties": {
        "files": {"type": "array", "minItems": 1, "items": {
            "type": "object", "required": ["name", "content"], "properties": {
                "name": {"type": "string", "examples": ["orden_proteccion.bpmn"]},
                "content": {"type": "string", "description": "the file's XML"}}}},
        "draft": {"type": "integer", "description": "a draft's number"}}}
LINT_QUERY: dict[str, dict[str, Any]] = {"name": {"type": "string", "maxLength": 255}}

VERSION: dict[str, Any] = {
    "type": "object", "required": ["key", "version", "deployed_at", "deployed_by"], "properties": {
        "key": _TEXT, "kind": _TEXT, "version": {"type": "integer"}, "name": _TEXT_OR_NULL,
        "deployed_at": _TEXT, "deployed_by": _TEXT, "note": {"type": "string", "description": "the change note"},
        "approved_by": _TEXT_OR_NULL, "open_cases": {"type": "integer"}, "filename": _TEXT,
        "effective_from": _TEXT_OR_NULL}}
VERSIONS: dict[str, Any] = {
    "type": "object", "required": ["key", "versions"], "properties": {
        "key": _TEXT, "versions": {"type": "array", "items": VERSION, "description": "newest first"}}}

DIFF: dict[str, Any] = {
    "type": "object", "required": ["key", "from_version", "to_version", "elements", "lines"], "properties": {
        "key": _TEXT, "from_version": {"type": "integer"}, "to_version": {"type": "integer"},
        "elements": {"type": "array", "items": {"type": "object", "required": ["id", "change"], "properties": {
            "id": _TEXT, "name": _TEXT, "type": _TEXT, "change": {"enum": ["added", "removed", "changed"]},
            "details": _TEXTS}}},
        "general": _TEXTS, "lines": {**_TEXTS, "description": "the same in words a lawyer reads (Spanish)"}}}
DIFF_QUERY: dict[str, dict[str, Any]] = {"from": {"type": "integer", "minimum": 1, "maximum": 1_000_000},
                                         "to": {"type": "integer", "minimum": 1, "maximum": 1_000_000}}

DRAFT: dict[str, Any] = {
    "type": "object", "required": ["id", "process_key", "filename", "author", "status", "content"], "properties": {
        "id": {"type": "integer"}, "process_key": _TEXT, "filename": _TEXT, "base_version": _INT_OR_NULL,
        "author": _TEXT, "status": {"enum": ["draft", "submitted", "approved", "rejected"]},
        "change_note": _TEXT, "content": {"type": "string", "description": "the BPMN (or DMN) text"},
        "created_at": _TEXT, "updated_at": _TEXT, "reviewed_by": _TEXT_OR_NULL, "review_comment": _TEXT,
        "deployed_version": _INT_OR_NULL, "effective_from": _TEXT_OR_NULL,
        "forms": {"type": "object", "additionalProperties": _TEXT, "description": "forms edited in the draft"}}}
DRAFT_CREATE: dict[str, Any] = {
    "type": "object", "required": ["key"], "properties": {
        "key": {"type": "string", "minLength": 1, "description": "the procedure"},
        "base_version": {"type": "integer", "minimum": 1, "description": "default: the latest"}}}
DRAFT_UPDATE: dict[str, Any] = {"type": "object", "required": ["content"], "properties": {
    "content": {"type": "string", "description": "the diagram's XML"}}}
DRAFT_SUBMIT: dict[str, Any] = {"type": "object", "required": ["change_note"], "properties": {
    "change_note": {"type": "string", "description": "the reform and its publication date"},
    "effective_from": {"type": "string", "format": "date-time",
                       "description": "when it enters into force (ISO 8601 with offset); default: on approval"}}}
DRAFT_APPROVE: dict[str, Any] = {"type": "object", "properties": {"comment": _TEXT}}
DRAFT_REJECT: dict[str, Any] = {"type": "object", "required": ["comment"], "properties": {
    "comment": {"type": "string", "description": "why it is rejected"}}}
APPROVED: dict[str, Any] = {"type": "object", "required": ["draft", "deployed_version"], "properties": {
    "draft": {"type": "integer"}, "deployed_version": {"type": "integer"}}}

MOVE_PREVIEWS: dict[str, Any] = {
    "type": "object", "required": ["key", "to_version", "cases"], "properties": {
        "key": _TEXT, "to_version": {"type": "integer"},
        "cases": {"type": "array", "items": {"type": "object", "required": ["instance_id", "can_move", "lines"],
                                             "properties": {
            "instance_id": {"type": "integer"}, "reference": _TEXT_OR_NULL, "from_version": {"type": "integer"},
            "to_version": {"type": "integer"}, "can_move": {"type": "boolean"},
            "lines": {**_TEXTS, "description": "where each open step and deadline lands, or why it cannot "
                                               "move (Spanish)"},
            "reachable_removed": {**_TEXTS, "description": "elements of its version that the newest version "
                                                           "removed and the case can still reach"}}}}}}
MOVES_QUERY: dict[str, dict[str, Any]] = {"to": {"type": "integer", "minimum": 1, "maximum": 1_000_000}}
MOVE_REQUEST: dict[str, Any] = {
    "type": "object", "required": ["reason"], "additionalProperties": False, "properties": {
        "to_version": {"type": "integer", "minimum": 1, "description": "default: the latest version"},
        "instances": {"type": "array", "minItems": 1, "maxItems": 1000,
                      "items": {"type": "integer", "minimum": 1, "maximum": 2**63 - 1},
                      "description": "the cases to move; `all: true` instead moves every open case on another "
                                     "version"},
        "all": {"type": "boolean"},
        "reason": {"type": "string", "minLength": 1, "maxLength": 2000,
                   "description": "why they move (kept in each case's audit trail)"}}}
MOVE_RESULTS: dict[str, Any] = {
    "type": "object", "required": ["key", "to_version", "moved", "refused", "results"], "properties": {
        "key": _TEXT, "to_version": {"type": "integer"}, "moved": {"type": "integer"}, "refused": {"type": "integer"},
        "results": {"type": "array", "items": {"type": "object", "required": ["instance_id", "moved", "reason"],
                                               "properties": {
            "instance_id": {"type": "integer"}, "reference": _TEXT_OR_NULL, "moved": {"type": "boolean"},
            "from_version": _INT_OR_NULL, "to_version": {"type": "integer"},
            "reason": {"type": "string", "description": "why it was refused ('' when it moved); nothing changed "
                                                        "in a refused case"},
            "lines": _TEXTS}}}}}
