"""What a datum is, as its schema says: ``x-clasificacion`` on every form field and data-dictionary entry.

- ``identificativo``: names, addresses, ID numbers, contact data of a person;
- ``sensible``: narratives, health, sexual life; every free-text field unless its schema says otherwise;
- ``general``: the rest (dates, choices, amounts, yes/no).

The classification is written by the legal designers in ``workflows/`` (forms and ``datos/``) and
deployed with the procedure; this module only reads it and applies the one rule of who sees which
class. A field with no ``x-clasificacion`` is classified by its shape: free text is ``sensible``,
anything else ``general``; a datum no schema describes is ``sensible`` (the safe side).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Iterable

KEYWORD = "x-clasificacion"


class Clasificacion(StrEnum):
    IDENTIFICATIVO = "identificativo"
    SENSIBLE = "sensible"
    GENERAL = "general"


# Who sees which class in a case they may open. Caseworkers attend the victim and see everything;
# coordination and administration answer for cases that stop moving and see only what is general.
VISIBLE: dict[str, frozenset[Clasificacion]] = {
    "caseworker": frozenset(Clasificacion),
    "system": frozenset(Clasificacion),
    "manager": frozenset({Clasificacion.GENERAL}),
    "admin": frozenset({Clasificacion.GENERAL}),
    "legal_designer": frozenset({Clasificacion.GENERAL}),
}

_SHAPED = ("enum", "oneOf", "const", "format", "pattern")


def of(schema: dict[str, Any] | None) -> Clasificacion:
    """The class of a datum described by ``schema`` (``None``: described nowhere)."""
    if not isinstance(schema, dict):
        return Clasificacion.SENSIBLE
    declared = schema.get(KEYWORD)
    if declared is not None:
        return Clasificacion(declared)
    kind = schema.get("type")
    if kind == "string" and not any(k in schema for k in _SHAPED):
        return Clasificacion.SENSIBLE
    if kind is None and "properties" not in schema and "items" not in schema:
        return Clasificacion.SENSIBLE  # a dictionary entry that only names the datum
    return Clasificacion.GENERAL


def sees(role: str, cls: Clasificacion) -> bool:
    return cls in VISIBLE.get(role, frozenset({Clasificacion.GENERAL}))


def sees_everything(role: str) -> bool:
    return VISIBLE.get(role) == frozenset(Clasificacion)


def check(schemas: Iterable[tuple[str, dict[str, Any]]]) -> list[str]:
    """Every ``x-clasificacion`` value that is not one of the three classes, as ``where: value``."""
    problems = []
    for where, schema in schemas:
        for path, sub in _walk(schema, where):
            value = sub.get(KEYWORD)
            if value is not None and value not in {c.value for c in Clasificacion}:
                problems.append(f"{path}: {value!r}")
    return problems


def _walk(schema: dict[str, Any], path: str) -> Iterable[tuple[str, dict[str, Any]]]:
    for name, sub in (schema.get("properties") or {}).items():
        if isinstance(sub, dict):
            yield f"{path}.{name}", sub
            yield from _walk(sub, f"{path}.{name}")
    items = schema.get("items")
    if isinstance(items, dict):
        yield from _walk(items, path + "[]")
