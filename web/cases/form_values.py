"""Submitted form values turned back into JSON data shaped by the schema.

Values that do not parse are passed through as typed, so the engine's validation
reports them by field in Spanish (with the schema's ``x-error`` where it gives
one); the raw strings are kept so the page shows back what the person typed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from engine.services.terms import HERMOSILLO
from web.cases.schema_reading import as_text, is_file, json_type, options

FILE_PREFIX = "adjunto:"
ADD_ROW = "_agregar_renglon"  # a submit button's name: add a row to the table of that array, save nothing
ROWS_KEY = "__renglones__."  # in raw values: how many rows a table should show


@dataclass
class Parsed:
    data: dict[str, Any]
    raw: dict[str, Any]  # what the user typed, to show again
    files: dict[str, Any]  # dotted name -> uploaded FileStorage


def parse(schema: dict[str, Any] | None, form: Any, files: Any = None) -> Parsed:
    """Submitted form values -> JSON data shaped by the schema; empty inputs are left out."""
    parsed = Parsed({}, {}, {})
    if schema:
        _parse_into(schema, form, files, "", parsed.data, parsed)
    return parsed


def _parse_into(schema: dict[str, Any], form: Any, files: Any, prefix: str, out: dict[str, Any],
                parsed: Parsed) -> None:
    for name, sub in (schema.get("properties") or {}).items():
        if not isinstance(sub, dict) or sub.get("readOnly") or sub.get("x-hidden"):
            continue
        path = f"{prefix}{name}"
        t = json_type(sub)
        if t == "object" and isinstance(sub.get("properties"), dict):
            inner: dict[str, Any] = {}
            _parse_into(sub, form, files, path + ".", inner, parsed)
            if inner:
                out[name] = inner
            continue
        if t == "array":
            items = sub.get("items") if isinstance(sub.get("items"), dict) else {}
            if json_type(items) == "object" and isinstance(items.get("properties"), dict):
                rows = []
                for i in row_indexes(dict.fromkeys(form.keys()), path):
                    row: dict[str, Any] = {}
                    one = Parsed({}, {}, {})
                    _parse_into(items, form, files, f"{path}.{i}.", row, one)
                    if not row:  # a row left blank is not an item
                        continue
                    n = len(rows)  # renumbered, so the engine's errors (path.n.field) land on the right row
                    parsed.raw.update({renumber(k, path, n): v for k, v in one.raw.items()})
                    parsed.files.update({renumber(k, path, n): v for k, v in one.files.items()})
                    rows.append(row)
                if rows:
                    out[name] = rows
                if form.get(ADD_ROW) == path:
                    parsed.raw[ROWS_KEY + path] = str(len(rows) + 2)
                continue
            if options(items) is not None:
                chosen = [v for v in form.getlist(path) if v != ""]
                parsed.raw[path] = chosen
                if chosen or path + "__present" in form:
                    out[name] = [_coerce(items, v) for v in chosen]
            else:
                text = form.get(path, "")
                parsed.raw[path] = text
                lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
                if lines:
                    out[name] = [_coerce(items, v) for v in lines]
            continue
        if is_file(sub):
            upload = files.get(path) if files is not None else None
            kept = form.get(path + "__kept", "")
            parsed.raw[path] = kept
            if upload is not None and getattr(upload, "filename", ""):
                parsed.files[path] = upload
            elif kept.startswith(FILE_PREFIX):
                out[name] = kept
            continue
        value = form.get(path, "")
        parsed.raw[path] = value
        if value == "":
            continue
        if options(sub) is not None or t == "boolean":
            out[name] = _coerce(sub, value)
        elif sub.get("format") == "date-time":
            out[name] = _datetime(value)
        else:
            out[name] = _coerce(sub, value)


def _coerce(schema: dict[str, Any], value: str) -> Any:
    t = json_type(schema)
    opts = options(schema)
    if opts is not None:  # give back the option's own JSON value
        raw_values = schema.get("enum") or [a.get("const") for a in schema.get("oneOf") or schema.get("anyOf") or []]
        for v in raw_values:
            if as_text(v) == value:
                return v
        return value
    if t == "boolean":
        return {"true": True, "false": False}.get(value, value)
    if t == "integer":
        try:
            return int(value.strip())
        except ValueError:
            return value
    if t == "number":
        try:
            n = float(value.strip().replace(",", "."))
            if not math.isfinite(n):  # "nan", "inf": left as text, so the form says it is not a number
                return value
            return int(n) if n.is_integer() and "." not in value and "," not in value else n
        except ValueError:
            return value
    return value


def _datetime(value: str) -> str:
    """An HTML datetime-local value (Hermosillo wall time) -> ISO 8601 with its offset."""
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return value
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=HERMOSILLO)
    return parsed.isoformat(timespec="seconds")


def renumber(key: str, path: str, n: int) -> str:
    rest = key[len(path) + 1:].split(".", 1)
    return f"{path}.{n}.{rest[1]}" if len(rest) == 2 else key


def row_indexes(raw: dict[str, Any], path: str) -> list[int]:
    """The row numbers submitted for an array of objects (``path.N.field``)."""
    found = set()
    for key in raw:
        if key.startswith(path + "."):
            head = key[len(path) + 1:].split(".", 1)[0]
            if head.isdigit():
                found.add(int(head))
    return sorted(found)
