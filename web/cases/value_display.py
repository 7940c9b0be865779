"""Stored values as a person reads them: option titles, Sí/No, long dates in Hermosillo time, money.

The case page never shows a raw dump or an ISO string (issue 10, item 23); the
same words serve the form's read-only fields and the case data.
"""

from __future__ import annotations

import re
from typing import Any

from engine.services.terms import to_local
from web.cases.schema_reading import as_text, options


def labels(schema_props: dict[str, dict[str, Any]]) -> dict[str, str]:
    """Each field's title (its name when it has none)."""
    return {k: str(v.get("title") or k) for k, v in schema_props.items()}


_MONTHS = ("enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre", "octubre",
           "noviembre", "diciembre")


def long_date(value: Any, with_time: bool | None = None) -> str:
    """«4 de diciembre de 2026, 23:59» (Hermosillo time); a bare date has no time."""
    text = str(value)
    local = to_local(text)
    day = f"{local.day} de {_MONTHS[local.month - 1]} de {local.year}"
    if with_time is False or (with_time is None and len(text.strip()) == 10):
        return day
    return f"{day}, {local:%H:%M}"


def money(value: Any) -> str:
    """«$5,865.50»: pesos with thousands separators and two decimals, as Mexican documents write them."""
    return f"${float(value):,.2f}"


def display(value: Any, schema: dict[str, Any] | None) -> str:
    """A stored value as a person reads it: option titles, Sí/No, long dates in Hermosillo time, money."""
    schema = schema or {}
    if value is None or value == "" or value == {} or value == []:
        return "—"
    if isinstance(value, bool):
        return "Sí" if value else "No"
    opts = options(schema)
    if opts is not None:
        return dict(opts).get(as_text(value), as_text(value))
    if isinstance(value, list):
        items = schema.get("items") if isinstance(schema.get("items"), dict) else {}
        return ", ".join(display(v, items) for v in value) or "—"
    if isinstance(value, dict):
        props = schema.get("properties") or {}
        return "; ".join(f"{(props.get(k) or {}).get('title') or str(k).replace('_', ' ').capitalize()}: "
                         f"{display(v, props.get(k))}" for k, v in value.items())
    if isinstance(value, (int, float)) and schema.get("x-formato") == "moneda":
        return money(value)
    if isinstance(value, float):
        return f"{value:,.2f}".rstrip("0").rstrip(".") if not value.is_integer() else f"{int(value):,}"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, str) and (schema.get("format") == "date-time" or _ISO_DATETIME.match(value)):
        try:
            return long_date(value, True)
        except ValueError:
            return value
    if isinstance(value, str) and len(value) == 10 and (schema.get("format") == "date" or _ISO_DATE.match(value)):
        try:
            return long_date(value, False)
        except ValueError:
            return value
    return str(value)


# Dates the diagrams' scripts write (ahora(), plazo_natural(...)) carry no schema: recognized by their shape.
_ISO_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
