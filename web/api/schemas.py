"""The JSON Schemas of the API's requests and answers, used by the routes (``@operation``) and so by
the OpenAPI description that :mod:`web.api.contract` generates from them."""

from __future__ import annotations

from typing import Any

ERROR: dict[str, Any] = {
    "type": "object", "required": ["error", "message"], "properties": {
        "error": {"type": "string", "examples": ["invalid", "forbidden", "conflict", "not_found"]},
        "message": {"type": "string"},
        "field": {"type": "string", "description": "the field the error concerns"},
        "fields": {"type": "object", "additionalProperties": {"type": "string"},
                   "description": "every invalid field with its message (Spanish)"}}}

_TEXT_OR_NULL = {"type": ["string", "null"]}
_OBJECT_OR_NULL = {"type": ["object", "null"]}

TRANSITION: dict[str, Any] = {
    "type": "object", "required": ["instance_id", "status", "revision", "open_tasks"], "properties": {
        "instance_id": {"type": "integer"}, "status": {"type": "string"}, "revision": {"type": "integer"},
        "open_tasks": {"type": "array", "items": {"type": "string"}}}}

START_REQUEST: dict[str, Any] = {
    "type": "object", "properties": {
        "data": {"type": "object", "description": "values for the process's start form"},
        "reference": {"type": "string", "description": "case number"},
        "title": {"type": "string"}}}

COMPLETE_REQUEST: dict[str, Any] = {
    "type": "object", "properties": {
        "data": {"type": "object", "description": "values for the task's form"}}}

MESSAGE_REQUEST: dict[str, Any] = {
    "type": "object", "required": ["payload"], "additionalProperties": False, "properties": {
        "payload": {"type": "object", "description":
                    "what happened: `descripcion` (text, required) and `fecha` (ISO 8601 date-time, e.g. "
                    "2026-03-02T10:00:00-07:00; without offset it is Hermosillo time; not in the future nor "
                    "before the case started). For `fin_estado_riesgo` the date is also sent as `fecha_cese`, "
                    "from which the 5 natural days of ratification run (Reglamento art. 41). Other keys are "
                    "kept as sent.",
                    "properties": {"descripcion": {"type": "string", "maxLength": 4000},
                                   "fecha": {"type": "string", "format": "date-time"}},
                    "required": ["descripcion", "fecha"]},
        "revision": {"type": "integer", "description": "the case's revision as you read it (GET "
                     "/instances/{instance_id}/messages); if it changed meanwhile, 409 and nothing is written"}}}

TASK: dict[str, Any] = {
    "type": "object", "required": ["id", "instance_id", "process_key", "name", "state"], "properties": {
        "id": {"type": "string"}, "instance_id": {"type": "integer"}, "process_key": {"type": "string"},
        "name": {"type": "string"}, "title": _TEXT_OR_NULL, "lane": _TEXT_OR_NULL, "state": {"type": "string"},
        "assignee": _TEXT_OR_NULL, "candidate_group": _TEXT_OR_NULL, "created_at": {"type": "string"},
        "due_at": _TEXT_OR_NULL, "deadline": _OBJECT_OR_NULL, "completed_at": _TEXT_OR_NULL,
        "completed_by": _TEXT_OR_NULL, "overdue": {"type": "boolean"}}}

PROCESSES: dict[str, Any] = {
    "type": "object", "required": ["processes"], "properties": {"processes": {"type": "array", "items": {
        "type": "object", "required": ["key", "version"], "properties": {
            "key": {"type": "string"}, "version": {"type": "integer"}, "name": _TEXT_OR_NULL,
            "start_form": _OBJECT_OR_NULL, "documentation": _TEXT_OR_NULL}}}}}

INSTANCE: dict[str, Any] = {
    "type": "object", "required": ["instance", "data", "tasks", "timers", "events", "incidents"], "properties": {
        "instance": {"type": "object", "required": ["id", "process_key", "status", "revision"]},
        "data": {"type": "object"}, "tasks": {"type": "array", "items": TASK},
        "timers": {"type": "array", "items": {"type": "object"}},
        "events": {"type": "array", "items": {"type": "object"}},
        "incidents": {"type": "array", "items": {"type": "object"}},
        "attachments": {"type": "array"}, "documents": {"type": "array", "items": {"type": "string"}},
        "identifying_data_visible": {"type": "boolean"}}}

TASK_PAGE: dict[str, Any] = {
    "type": "object", "required": ["items", "total", "page", "per_page", "pages"], "properties": {
        "items": {"type": "array", "items": {"type": "object"}}, "total": {"type": "integer"},
        "page": {"type": "integer"}, "per_page": {"type": "integer"}, "pages": {"type": "integer"},
        "counts": {"type": "object"}}}

TASK_DETAIL: dict[str, Any] = {
    "type": "object", "required": ["task", "form", "can_complete"], "properties": {
        "task": {"type": "object"}, "form": {"type": "object"}, "can_complete": {"type": "boolean"}}}

WAITING: dict[str, Any] = {
    "type": "object", "required": ["instance_id", "status", "revision", "can_send", "messages"], "properties": {
        "instance_id": {"type": "integer"}, "status": {"type": "string"}, "revision": {"type": "integer"},
        "can_send": {"type": "boolean"}, "messages": {"type": "array", "items": {
            "type": "object", "required": ["name"], "properties": {
                "name": {"type": "string", "examples": ["violacion_orden", "fin_estado_riesgo", "norma_reformada"]},
                "element": {"type": "string", "description": "the diagram's receive task"},
                "title": _TEXT_OR_NULL, "label": {"type": "string", "description": "what a person does"},
                "documentation": _TEXT_OR_NULL,
                "payload_keys": {"type": "array", "items": {"type": "string"}}}}}}}

SENT: dict[str, Any] = {**TRANSITION, "properties": {**TRANSITION["properties"], "message": {"type": "string"},
                                                     "payload": {"type": "object"}}}

TASKS_QUERY: dict[str, dict[str, Any]] = {
    "scope": {"enum": ["all", "mine", "group"], "default": "all"},
    "process": {"type": "string"},
    "task": {"type": "string"},
    "q": {"type": "string", "maxLength": 200},
    "page": {"type": "integer", "minimum": 1, "maximum": 100_000, "default": 1},
    "per_page": {"type": "integer", "minimum": 1, "maximum": 100, "default": 25},
}


RECTIFY_REQUEST: dict[str, Any] = {
    "type": "object", "required": ["field", "value", "reason"], "additionalProperties": False,
    "properties": {"field": {"type": "string", "description": "the datum to correct (a name or a date)"},
                   "value": {"type": "string", "description": "the corrected value"},
                   "reason": {"type": "string", "description": "why it is corrected (the request, the document)"}}}


REGISTER_QUERY: dict[str, dict[str, Any]] = {
    "anio": {"type": "integer", "minimum": 2000, "maximum": 2100, "description": "year of issue"},
    "estado": {"enum": ["vigente", "prorrogada", "levantada", "negada", "sin_efectos", "vencida"]},
}
REGISTER_ORDERS: dict[str, Any] = {"type": "object", "required": ["ordenes", "total"], "properties": {
    "ordenes": {"type": "array", "items": {"type": "object"}}, "total": {"type": "integer"}}}
EVALUATION_QUERY: dict[str, dict[str, Any]] = {"anio": REGISTER_QUERY["anio"]}
