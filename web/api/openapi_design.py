"""OpenAPI paths of the studio's endpoints (lint, versions, diff, drafts), merged into ``openapi.spec``."""

from __future__ import annotations

from typing import Any


def paths(ok: Any, errors: Any) -> dict[str, Any]:
    key = {"name": "key", "in": "path", "required": True, "schema": {"type": "string"}}
    draft = {"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}

    def body(props: dict[str, Any], required: list[str]) -> dict[str, Any]:
        return {"required": True, "content": {"application/json": {"schema": {
            "type": "object", "required": required, "properties": props}}}}

    return {
        "/lint": {"post": {
            "summary": "Every finding of BPMN/DMN files (or a draft): element id and name, rule, severity "
                       "(error blocks a deploy, warning does not) and a Spanish message saying what to do. Send raw "
                       "XML (Content-Type application/xml, ?name=file.bpmn), {files: [{name, content}]} or {draft: id}",
            "responses": {**ok("Findings with counts of errors and warnings"), **errors(401, 403, 422)}}},
        "/processes/{key}/versions": {"get": {
            "summary": "The versions of a procedure: who deployed each, when, its change note, who approved it "
                       "and how many open cases it still runs",
            "parameters": [key], "responses": {**ok("Versions, newest first"), **errors(401, 403, 404)}}},
        "/processes/{key}/diff": {"get": {
            "summary": "What changed between two versions, by element (added, removed, changed with details a "
                       "lawyer reads: deadlines, legal basis, forms, lanes) and in lines of text",
            "parameters": [key, {"name": "from", "in": "query", "required": True, "schema": {"type": "integer"}},
                           {"name": "to", "in": "query", "required": True, "schema": {"type": "integer"}}],
            "responses": {**ok("The diff"), **errors(401, 403, 404, 422)}}},
        "/drafts": {"post": {
            "summary": "Start (or resume) my draft of a procedure from a version (default: the latest)",
            "requestBody": body({"key": {"type": "string"}, "base_version": {"type": "integer"}}, ["key"]),
            "responses": {**ok("The draft", code=201), **errors(401, 403, 404, 422)}}},
        "/drafts/{id}": {
            "get": {"summary": "A draft with its BPMN text", "parameters": [draft],
                    "responses": {**ok("The draft"), **errors(401, 403, 404)}},
            "put": {"summary": "Replace the draft's BPMN text (its author only, while not under review)",
                    "parameters": [draft], "requestBody": body({"content": {"type": "string"}}, ["content"]),
                    "responses": {**ok("The draft"), **errors(401, 403, 404, 409, 422)}}},
        "/drafts/{id}/submit": {"post": {
            "summary": "Send the draft for approval: needs a change note and no lint errors",
            "parameters": [draft], "requestBody": body({"change_note": {"type": "string"}}, ["change_note"]),
            "responses": {**ok("The draft, submitted"), **errors(401, 403, 404, 409, 422)}}},
        "/drafts/{id}/approve": {"post": {
            "summary": "Approve and deploy as the next version (another legal designer, never the author); 409 when "
                       "someone deployed after the draft's base version",
            "parameters": [draft], "requestBody": body({"comment": {"type": "string"}}, []),
            "responses": {**ok("The version deployed"), **errors(401, 403, 404, 409, 422)}}},
        "/drafts/{id}/reject": {"post": {
            "summary": "Reject the draft with a comment (another legal designer)",
            "parameters": [draft], "requestBody": body({"comment": {"type": "string"}}, ["comment"]),
            "responses": {**ok("The draft, rejected"), **errors(401, 403, 404, 409, 422)}}},
    }
