"""Form limits read from the legal parameters, so that a figure the law sets lives in one place.

A property of a form (JSON Schema) may take its bounds from ``parameters.toml``::

    "vigencia_dias": {
      "type": "integer", "minimum": 1, "maximum": 60,
      "x-maximo-parametro": "orden_proteccion.vigencia_max_dias",
      "x-error": "La vigencia debe ser de 1 a {maximo} días naturales (LGAMVLV art. 28)."
    }

With the parameters of the case's version, ``x-minimo-parametro`` / ``x-maximo-parametro`` (a dotted
path under ``parametros``) replace ``minimum`` / ``maximum``, and ``{minimo}`` / ``{maximo}`` in the
field's ``title``, ``description``, ``x-error`` and ``x-obligatorio`` become the values. The literal
bounds stay as what a reader without parameters (a linter, an example check) falls back to. The
caseworker's page (the ``maxlength``/``max`` it draws, the message it shows) and the server's
validation both read the resolved schema, so changing the parameter changes both.
"""

from __future__ import annotations

import copy
from typing import Any, Mapping

BOUNDS = {"x-minimo-parametro": ("minimum", "minimo"), "x-maximo-parametro": ("maximum", "maximo")}
TEXTS = ("title", "description", "x-error", "x-obligatorio")


def parameter(parametros: Mapping[str, Any], path: str) -> Any:
    """The value at a dotted path (``orden_proteccion.vigencia_max_dias``; a leading ``parametros.`` is
    allowed), or None when the parameters have no such value."""
    node: Any = parametros
    for part in path.removeprefix("parametros.").split("."):
        if not isinstance(node, Mapping) or part not in node:
            return None
        node = node[part]
    return node


def uses_parameters(schema: Any) -> bool:
    """Whether any subschema takes a bound from a parameter (most forms do not: skip the copy)."""
    if isinstance(schema, dict):
        return any(k in schema for k in BOUNDS) or any(uses_parameters(v) for v in schema.values())
    if isinstance(schema, list):
        return any(uses_parameters(v) for v in schema)
    return False


def resolve(schema: dict[str, Any] | None, parametros: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """A copy of ``schema`` with its parameter bounds and their placeholders filled in (without
    parameters, the placeholders take the literal bounds)."""
    if not schema or not uses_parameters(schema):
        return schema
    out = copy.deepcopy(schema)
    _fill(out, parametros or {})
    return out


def _fill(node: Any, parametros: Mapping[str, Any]) -> None:
    if isinstance(node, list):
        for item in node:
            _fill(item, parametros)
        return
    if not isinstance(node, dict):
        return
    values: dict[str, Any] = {}
    for key, (bound, name) in BOUNDS.items():
        if isinstance(node.get(key), str):
            value = parameter(parametros, node[key])
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                node[bound] = value
                values[name] = value
    for name, bound in (("minimo", "minimum"), ("maximo", "maximum")):
        if name not in values and isinstance(node.get(bound), (int, float)):
            values[name] = node[bound]
    if values:
        for text in TEXTS:
            if isinstance(node.get(text), str) and "{" in node[text]:
                node[text] = _format(node[text], values)
    for value in node.values():
        _fill(value, parametros)


def _format(text: str, values: Mapping[str, Any]) -> str:
    for name, value in values.items():
        text = text.replace("{" + name + "}", str(value))
    return text
