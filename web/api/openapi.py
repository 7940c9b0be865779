"""The OpenAPI 3.1 description of ``/api/v1``."""

from __future__ import annotations

from typing import Any

_ERROR = {"$ref": "#/components/schemas/Error"}


def _errors(*codes: int) -> dict[str, Any]:
    text = {400: "Bad request (invalid JSON)", 401: "Missing or invalid token", 403: "Not allowed for this user",
            404: "Not found", 409: "Conflict: the task or case changed", 422: "Invalid data; `fields` names each field"}
    return {str(c): {"description": text[c], "content": {"application/json": {"schema": _ERROR}}} for c in codes}


def _ok(description: str, schema: dict[str, Any] | None = None, code: int = 200) -> dict[str, Any]:
    return {str(code): {"description": description,
                        "content": {"application/json": {"schema": schema or {"type": "object"}}}}}


_FORMAT = {"name": "format", "in": "query", "schema": {"enum": ["json", "csv", "xlsx"]},
           "description": "csv (UTF-8 with BOM) or xlsx: no identifying or sensitive data"}
_MANAGERS = "Managers (their institution's cases) and admins (all)."

MONITOR_PATHS: dict[str, Any] = {
    "/monitor/overview": {"get": {"summary": f"Open cases, overdue and due-soon tasks, cases in error and stalled, "
                                             f"by procedure and step. {_MANAGERS}",
                                  "parameters": [_FORMAT], "responses": {**_ok("Overview"), **_errors(401, 403, 422)}}},
    "/monitor/stalled": {"get": {
        "summary": f"Stalled cases with reason (overdue, idle, timer, message, error), step, holder, since. {_MANAGERS}",
        "parameters": [_FORMAT, *({"name": n, "in": "query", "schema": {"type": "string"}}
                                  for n in ("procedimiento", "motivo", "paso", "responsable", "orden", "desc"))],
        "responses": {**_ok("Rows", {"type": "array"}), **_errors(401, 403, 422)}}},
    "/monitor/workload": {"get": {"summary": f"Open and overdue tasks per person and per group. {_MANAGERS}",
                                  "parameters": [_FORMAT], "responses": {**_ok("Rows"), **_errors(401, 403, 422)}}},
    "/monitor/charts": {"get": {"summary": "Weekly cases, hour terms, share within the legal term per step",
                                "parameters": [_FORMAT], "responses": {**_ok("Chart data"), **_errors(401, 403)}}},
    "/monitor/heatmap/{key}": {"get": {
        "summary": "Per element of a version: open, overdue, median and p90 hours, share within term",
        "parameters": [{"name": "key", "in": "path", "required": True, "schema": {"type": "string"}},
                       {"name": "version", "in": "query", "schema": {"type": "integer", "minimum": 1}}],
        "responses": {**_ok("Heatmap"), **_errors(401, 403, 404, 422)}}},
    "/monitor/actions": {"post": {
        "summary": "retry, cancel, suspend or resume cases, each in its own transaction, with a reason; a result "
                   "per case",
        "requestBody": {"required": True, "content": {"application/json": {"schema": {"type": "object", "properties": {
            "action": {"enum": ["retry", "cancel", "suspend", "resume"]},
            "instances": {"type": "array", "items": {"type": "integer"}}, "reason": {"type": "string"}}}}}},
        "responses": {**_ok("Results"), **_errors(400, 401, 403, 422)}}},
    "/monitor/tasks/{id}/reassign": {"post": {
        "summary": "Give an open task to a user of its lane's group (`to`), or release it (`to`: null), with a reason",
        "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}],
        "requestBody": {"required": True, "content": {"application/json": {"schema": {"type": "object", "properties": {
            "to": {"type": ["string", "null"]}, "reason": {"type": "string"}}}}}},
        "responses": {**_ok("Reassigned"), **_errors(400, 401, 403, 404, 409, 422)}}},
}


def spec(server: str = "") -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {"title": "Tramita API", "version": "1.0.0",
                 "description": "Sonora's legal procedures on violence against women. Every call needs "
                                "`Authorization: Bearer <token>` (create one with `tramita users token USER`). "
                                "The same access rules as the web pages apply; every case opening is audited."},
        "servers": [{"url": f"{server}/api/v1"}],
        "security": [{"bearer": []}],
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "Error": {"type": "object", "required": ["error", "message"], "properties": {
                    "error": {"type": "string", "examples": ["invalid", "forbidden", "conflict", "not_found"]},
                    "message": {"type": "string"},
                    "field": {"type": "string", "description": "the field the error concerns"},
                    "fields": {"type": "object", "additionalProperties": {"type": "string"},
                               "description": "every invalid field with its message (Spanish)"}}},
                "Transition": {"type": "object", "properties": {
                    "instance_id": {"type": "integer"}, "status": {"type": "string"},
                    "revision": {"type": "integer"}, "open_tasks": {"type": "array", "items": {"type": "string"}}}},
                "StartRequest": {"type": "object", "properties": {
                    "data": {"type": "object", "description": "values for the process's start form"},
                    "reference": {"type": "string", "description": "case number"},
                    "title": {"type": "string"}}},
                "WaitingMessage": {"type": "object", "properties": {
                    "name": {"type": "string", "examples": ["violacion_orden", "fin_estado_riesgo",
                                                             "norma_reformada"]},
                    "element": {"type": "string", "description": "the diagram's receive task"},
                    "title": {"type": "string"}, "label": {"type": "string", "description": "what a person does"},
                    "documentation": {"type": "string", "description": "what it means, with the article cited"},
                    "payload_keys": {"type": "array", "items": {"type": "string"},
                                     "description": "the payload keys the diagram reads"}}},
                "MessageRequest": {"type": "object", "required": ["payload"], "additionalProperties": False,
                                   "properties": {
                    "payload": {"type": "object", "description":
                                "what happened: `descripcion` (text, required) and `fecha` (ISO 8601 date-time, "
                                "e.g. 2026-03-02T10:00:00-07:00; without offset it is Hermosillo time; not in "
                                "the future nor before the case started). For `fin_estado_riesgo` the date is "
                                "also sent as `fecha_cese`, from which the 5 natural days of ratification run "
                                "(Reglamento art. 41). Other keys are kept as sent.",
                                "properties": {"descripcion": {"type": "string", "maxLength": 4000},
                                               "fecha": {"type": "string", "format": "date-time"}},
                                "required": ["descripcion", "fecha"]},
                    "revision": {"type": "integer", "description": "the case's revision as you read it (GET "
                                 "/instances/{id}/messages); if it changed meanwhile, 409 and nothing is written"}}},
                "CompleteRequest": {"type": "object", "required": ["data"], "properties": {
                    "data": {"type": "object", "description": "values for the task's form"}}},
            },
        },
        "paths": {
            "/processes": {"get": {"summary": "Deployed procedures with their start forms",
                                   "responses": {**_ok("Procedures"), **_errors(401)}}},
            "/processes/{key}/instances": {"post": {
                "summary": "Start a case of a procedure",
                "parameters": [{"name": "key", "in": "path", "required": True, "schema": {"type": "string"}}],
                "requestBody": {"content": {"application/json": {"schema": {
                    "$ref": "#/components/schemas/StartRequest"}}}},
                "responses": {**_ok("Started", {"$ref": "#/components/schemas/Transition"}, 201),
                              **_errors(400, 401, 403, 404, 422)}}},
            "/instances/{id}": {"get": {
                "summary": "A case: data (identifying data masked for roles that may not see it), tasks, "
                           "timers, audit trail",
                "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}],
                "responses": {**_ok("The case"), **_errors(401, 403, 404)}}},
            "/instances/{id}/messages": {"get": {
                "summary": "The external events the case waits for now (e.g. a violation of the order)",
                "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}],
                "responses": {**_ok("Waiting messages, and whether this user may send them", {
                    "type": "object", "properties": {
                        "instance_id": {"type": "integer"}, "status": {"type": "string"},
                        "revision": {"type": "integer"}, "can_send": {"type": "boolean"},
                        "messages": {"type": "array", "items": {"$ref": "#/components/schemas/WaitingMessage"}}}}),
                              **_errors(401, 403, 404)}}},
            "/instances/{id}/messages/{name}": {"post": {
                "summary": "Register an event the case waits for (sends its message): only users who may act "
                           "on the case; 409 with field `message` if the case does not wait for it",
                "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}},
                               {"name": "name", "in": "path", "required": True, "schema": {"type": "string"},
                                "description": "the message, e.g. violacion_orden"}],
                "requestBody": {"required": True, "content": {"application/json": {"schema": {
                    "$ref": "#/components/schemas/MessageRequest"}}}},
                "responses": {**_ok("Registered; the tasks it opened are among `open_tasks`",
                                    {"$ref": "#/components/schemas/Transition"}),
                              **_errors(400, 401, 403, 404, 409, 422)}}},
            "/tasks": {"get": {
                "summary": "My tasks and my groups' unclaimed tasks, by legal deadline",
                "parameters": [
                    {"name": "scope", "in": "query", "schema": {"enum": ["all", "mine", "group"]}},
                    {"name": "process", "in": "query", "schema": {"type": "string"}},
                    {"name": "task", "in": "query", "schema": {"type": "string"}},
                    {"name": "q", "in": "query", "schema": {"type": "string"},
                     "description": "text in the case number or title"},
                    {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1}},
                    {"name": "per_page", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 100}}],
                "responses": {**_ok("A page of tasks with counts"), **_errors(401, 403, 422)}}},
            "/tasks/{id}": {"get": {
                "summary": "A task with its form (JSON Schema), instructions and deadline",
                "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}],
                "responses": {**_ok("The task"), **_errors(401, 403, 404)}}},
            "/tasks/{id}/complete": {"post": {
                "summary": "Complete a task with its form data",
                "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}],
                "requestBody": {"required": True, "content": {"application/json": {"schema": {
                    "$ref": "#/components/schemas/CompleteRequest"}}}},
                "responses": {**_ok("Completed", {"$ref": "#/components/schemas/Transition"}),
                              **_errors(400, 401, 403, 404, 409, 422)}}},
            **MONITOR_PATHS,
        },
    }
