"""Each API route declares its contract once, and both the server and the OpenAPI description use it.

``@operation(...)`` states what a route takes (query parameters and body, as JSON Schema) and what
it answers; the wrapper enforces the request half before the route runs (a parameter out of its
bounds is a 400 naming it, a body that does not fit is a 422 naming the field) and
:func:`paths` builds the OpenAPI ``paths`` from the routes Flask actually serves, so the
description cannot drift from the code.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import wraps
from typing import Any, Callable

from flask import Flask, g, request
from jsonschema import Draft202012Validator

from engine.errors import BadParameter, InvalidInput, NotFound

ERROR_CODES = (400, 401, 403, 404, 409, 422)
_DESCRIPTIONS = {
    400: "A parameter out of its bounds, or a body that is not JSON", 401: "Missing or invalid token",
    403: "Not allowed for this user",
    404: "Not found, or not visible to this user (the same answer, so it does not tell which cases exist)",
    409: "Conflict: the task or case changed, or the case is not in a state that allows it",
    422: "Invalid data; `fields` names each field",
}
MAX_ID = 2**63 - 1  # the database's integers: a larger id cannot exist
_XML = ("application/xml", "text/xml")


@dataclass(frozen=True)
class Operation:
    summary: str
    ok: tuple[int, str, dict[str, Any]]
    query: dict[str, dict[str, Any]] = field(default_factory=dict)
    body: dict[str, Any] | None = None
    body_required: bool = False
    descriptions: dict[str, str] = field(default_factory=dict)  # query or path parameter -> what it is
    check_body: bool = True  # False: the route checks the body itself, with messages by field
    xml: bool = False  # True: the body may also be one XML file (Content-Type application/xml), read by the route
    files: tuple[str, ...] = ()  # other media types the 200 answer may be (a CSV or XLSX export)


def operation(summary: str, *, ok: tuple[int, str, dict[str, Any]], query: dict[str, dict[str, Any]] | None = None,
              body: dict[str, Any] | None = None, body_required: bool = False,
              descriptions: dict[str, str] | None = None, check_body: bool = True, xml: bool = False,
              files: tuple[str, ...] = ()) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Declare a route's contract; the request half is checked before the route runs."""
    op = Operation(summary, ok, dict(query or {}), body, body_required, dict(descriptions or {}), check_body, xml,
                   files)
    body_validator = Draft202012Validator(body if check_body else {"type": "object"}) if body is not None else None

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def checked(*args: Any, **kwargs: Any) -> Any:
            for name, value in kwargs.items():
                if isinstance(value, int) and value > MAX_ID:
                    raise NotFound(f"{name} {value} no existe.", field=name)
            g.query = _query(op.query)
            if body_validator is not None and not (op.xml and request.mimetype in _XML):
                g.body = _body(body_validator, op.body_required)
            return view(*args, **kwargs)

        checked.openapi = op  # type: ignore[attr-defined]
        return checked

    return decorate


def _query(declared: dict[str, dict[str, Any]]) -> dict[str, Any]:
    unknown = sorted(set(request.args) - set(declared))
    if unknown:  # a misspelt filter would otherwise be silently ignored
        known = ", ".join(declared) or "ninguno"
        raise BadParameter(f"Parámetro desconocido «{unknown[0]}» (admitidos: {known}).", field=unknown[0] or "query")
    values: dict[str, Any] = {}
    for name, schema in declared.items():
        raw = request.args.get(name)
        if raw is None:
            if "default" in schema:
                values[name] = schema["default"]
            continue
        value: Any = raw
        if schema.get("type") == "integer":
            if not re.fullmatch(r"-?\d{1,19}", raw.strip()):
                raise BadParameter(f"«{name}» debe ser un número entero.", field=name)
            value = int(raw)
        errors = list(Draft202012Validator(schema).iter_errors(value))
        if errors:
            raise BadParameter(f"«{name}» no es válido: {_bounds(schema)}", field=name)
        values[name] = value
    return values


def _bounds(schema: dict[str, Any]) -> str:
    if "enum" in schema:
        return "debe ser uno de " + ", ".join(str(v) for v in schema["enum"]) + "."
    if "minimum" in schema or "maximum" in schema:
        return f"debe estar entre {schema.get('minimum', '…')} y {schema.get('maximum', '…')}."
    return "revise el valor."


def _body(validator: Draft202012Validator, required: bool) -> dict[str, Any]:
    if not request.data:
        if required:
            raise InvalidInput("Falta el cuerpo JSON de la solicitud.", field="body")
        return {}
    try:
        body = json.loads(request.data)
    except ValueError as exc:
        raise InvalidInput(f"El cuerpo no es JSON válido: {exc}", field="body") from None
    if not isinstance(body, dict):
        raise InvalidInput("El cuerpo debe ser un objeto JSON.", field="body")
    errors = sorted(validator.iter_errors(body), key=lambda e: list(e.absolute_path))
    if errors:
        first = errors[0]
        where = _where(first)
        raise InvalidInput(f"{where}: {first.message}", field=where, fields={_where(e): e.message for e in errors})
    return body


def _where(error: Any) -> str:
    """The dotted path of the field an error concerns; a missing required property is named itself."""
    path = [str(p) for p in error.absolute_path]
    if error.validator == "required" and isinstance(error.instance, dict):
        missing = [name for name in error.validator_value if name not in error.instance]
        path += missing[:1]
    return ".".join(path) or "body"


_CONVERTER = re.compile(r"<(?:(\w+):)?(\w+)>")


def paths(app: Flask, blueprint: str, prefix: str, components: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The OpenAPI ``paths`` of one blueprint, from the rules Flask serves and the contracts of their views.

    A schema that is one of ``components`` (the same object) is written as a ``$ref`` to it."""
    names = {id(schema): name for name, schema in components.items()}

    def ref(schema: dict[str, Any]) -> dict[str, Any]:
        name = names.get(id(schema))
        return {"$ref": f"#/components/schemas/{name}"} if name else schema

    error_schema = ref(components["Error"])
    out: dict[str, Any] = {}
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if not rule.endpoint.startswith(blueprint + "."):
            continue
        op: Operation | None = getattr(app.view_functions[rule.endpoint], "openapi", None)
        if op is None:
            continue
        path = _CONVERTER.sub(r"{\2}", rule.rule[len(prefix):])
        parameters = [{"name": name, "in": "path", "required": True,
                       "schema": {"type": "integer", "minimum": 0, "maximum": MAX_ID} if conv == "int"
                       else {"type": "string"}, **({"description": op.descriptions[name]}
                                                   if name in op.descriptions else {})}
                      for conv, name in _CONVERTER.findall(rule.rule)]
        parameters += [{"name": name, "in": "query", "schema": schema,
                        **({"description": op.descriptions[name]} if name in op.descriptions else {})}
                       for name, schema in op.query.items()]
        code, description, schema = op.ok
        entry: dict[str, Any] = {
            "summary": op.summary, "operationId": rule.endpoint.split(".", 1)[1],
            "responses": {str(code): {"description": description,
                                      "content": {"application/json": {"schema": ref(schema)},
                                                  **{t: {"schema": {"type": "string", "format": "binary"}}
                                                     for t in op.files}}},
                          **{str(c): {"description": _DESCRIPTIONS[c],
                                      "content": {"application/json": {"schema": error_schema}}}
                             for c in ERROR_CODES}}}
        if parameters:
            entry["parameters"] = parameters
        if op.body is not None:
            entry["requestBody"] = {"required": op.body_required,
                                    "content": {"application/json": {"schema": ref(op.body)}}}
            if op.xml:
                entry["requestBody"]["content"]["application/xml"] = {"schema": {"type": "string"}}
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            out.setdefault(path, {})[method.lower()] = entry
    return out
