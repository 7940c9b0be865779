"""Validating submitted task data against the task's JSON-Schema form.

Every error is reported by field, in Spanish, so a page can show it next to the
field and the API can name it. A schema may carry ``x-error`` (a message, e.g. the
article a value breaks) on any subschema; it replaces the generic message there. A
property's ``x-obligatorio`` is the message when it is missing ("Escriba el lugar de
emisión (Reglamento art. 43)."): the problem first, the article second.
Dates are ordered by the ``x-no-futura`` / ``x-despues-de`` / ``x-antes-de`` rules of
``engine.run.date_rules`` (today, another field, case data, a legal parameter).
"""

from __future__ import annotations

import math
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import ValidationError

from engine.errors import InvalidInput
from engine.run import date_rules, form_limits

_FORMAT_CHECKER = FormatChecker()

_MESSAGES = {
    "required": "Este campo es obligatorio.",
    "type": "El valor no tiene el tipo esperado ({expected}).",
    "enum": "Elija una de las opciones permitidas.",
    "const": "El valor no es el permitido.",
    "minimum": "Debe ser mayor o igual que {limit}.",
    "maximum": "Debe ser menor o igual que {limit}.",
    "exclusiveMinimum": "Debe ser mayor que {limit}.",
    "exclusiveMaximum": "Debe ser menor que {limit}.",
    "minLength": "Debe tener al menos {limit} caracteres.",
    "maxLength": "Debe tener como máximo {limit} caracteres.",
    "pattern": "El formato no es válido.",
    "format": "No es una fecha u hora válida ({expected}).",
    "minItems": "Agregue al menos {limit} elemento(s).",
    "maxItems": "Agregue como máximo {limit} elemento(s).",
    "additionalProperties": "Campo no permitido: {extra}.",
    "oneOf": "Elija una de las opciones permitidas.",
    "anyOf": "El valor no cumple ninguna de las opciones permitidas.",
}
_TYPES = {"string": "texto", "integer": "número entero", "number": "número", "boolean": "sí/no",
          "array": "lista", "object": "objeto", "null": "vacío"}


_INT64 = 2**63


def require_json_numbers(data: dict[str, Any]) -> None:
    """Refuse NaN, infinities and integers beyond 64 bits, naming the field.

    Python's json (API bodies) and float() (form fields: "nan", "inf") produce them, JSON
    has no such numbers, and the state's encoder would write NaN as null: the case would
    silently hold another value after its next reload.
    """
    stack: list[tuple[str, Any]] = [(str(k), v) for k, v in data.items()]
    while stack:
        name, value = stack.pop()
        kind = value.__class__
        if kind is float:
            if not math.isfinite(value):
                raise InvalidInput(f"{name}: el valor no es un número válido", field=name, fields={
                    name: "El valor no es un número válido."})
        elif kind is int:
            if not -_INT64 <= value < _INT64:
                raise InvalidInput(f"{name}: el número es demasiado grande", field=name, fields={
                    name: "El número es demasiado grande."})
        elif kind is dict:
            stack.extend((f"{name}.{k}", v) for k, v in value.items())
        elif kind is list:
            stack.extend((f"{name}[{i}]", v) for i, v in enumerate(value))


def context(case: dict[str, Any], parametros: dict[str, Any] | None) -> date_rules.Context:
    """What the date rules compare with: the engine's clock, the case data so far, the parameters in force."""
    from engine.time import clock

    return date_rules.Context(clock.now(), case, parametros or {})


def validate(schema: dict[str, Any], data: dict[str, Any], context: date_rules.Context | None = None) -> None:
    """Raise :class:`InvalidInput` naming every field that is wrong; return quietly otherwise.

    With a ``context`` (the engine's clock, the case data, the parameters) the date rules are checked too.
    """
    if context is not None:  # bounds read from the legal parameters (``x-maximo-parametro``)
        schema = form_limits.resolve(schema, context.parametros) or schema
    validator = Draft202012Validator(schema, format_checker=_FORMAT_CHECKER)
    fields: dict[str, str] = {}
    props = schema.get("properties") or {}
    for error in sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path)):
        name = _field(error)
        missing = props.get(name) if error.validator == "required" and not error.absolute_path else None
        if isinstance(missing, dict) and missing.get("x-obligatorio"):  # what to write, then the article
            fields.setdefault(name, str(missing["x-obligatorio"]))
        fields.setdefault(name, _message(error))
    if context is not None and isinstance(data, dict):
        for name, message in date_rules.check(schema, data, context).items():
            fields.setdefault(name, message)
    if fields:
        first = next(iter(fields))
        raise InvalidInput(f"{first}: {fields[first]}", field=first, fields=fields)


def _field(error: ValidationError) -> str:
    path = [str(p) for p in error.absolute_path]
    if error.validator == "required":
        missing = error.message.split("'")[1] if "'" in error.message else ""
        path.append(missing)
    if error.validator == "additionalProperties" and not path:
        extras = sorted(set(error.instance) - set(error.schema.get("properties", {})))
        path.append(extras[0] if extras else "")
    return ".".join(p for p in path if p) or "data"


def _message(error: ValidationError) -> str:
    custom = error.schema.get("x-error") if isinstance(error.schema, dict) else None
    if custom:
        return str(custom)
    parent = _parent_error_message(error)
    if parent:
        return parent
    template = _MESSAGES.get(str(error.validator))
    if template is None:
        return error.message
    value = error.validator_value
    expected = value if error.validator == "format" else _TYPES.get(str(value), str(value))
    extra = ", ".join(sorted(set(error.instance) - set(error.schema.get("properties", {})))) \
        if error.validator == "additionalProperties" and isinstance(error.instance, dict) else ""
    return template.format(limit=value, expected=expected, extra=extra)


def _parent_error_message(error: ValidationError) -> str | None:
    """An ``x-error`` on an enclosing ``if/then`` or ``allOf`` branch explains a conditional rule."""
    for schema in _schema_chain(error):
        if isinstance(schema, dict) and schema.get("x-error"):
            return str(schema["x-error"])
    return None


def _schema_chain(error: ValidationError) -> list[Any]:
    chain = []
    node: ValidationError | None = error.parent
    while node is not None:
        chain.append(node.schema)
        node = node.parent
    return chain
