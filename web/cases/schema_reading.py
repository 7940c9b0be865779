"""How a form schema is read: its choices, its JSON type, whether a field is a file.

Building a form, parsing a submission and showing a stored value all ask the
schema the same questions; one answer for each keeps a select's options, its
parsed value and its shown title from disagreeing.
"""

from __future__ import annotations

from typing import Any

from engine.services.terms import to_local

_FILE_FORMATS = {"data-url", "binary", "file", "attachment"}


def options(schema: dict[str, Any]) -> list[tuple[str, str]] | None:
    """A field's fixed choices as (value, title), or None when it is free input."""
    if "enum" in schema:
        titles = schema.get("x-enumTitles") or schema.get("x-enumNames") or schema.get("enumNames") or []
        return [(as_text(v), str(titles[i]) if i < len(titles) else as_text(v)) for i, v in enumerate(schema["enum"])]
    if isinstance(schema.get("const"), str):  # a fixed legal value (art. 54 «personal»): a choice, not free text
        return [(schema["const"], str(schema.get("x-constTitle") or schema["const"].capitalize()))]
    for key in ("oneOf", "anyOf"):
        alts = schema.get(key)
        if isinstance(alts, list) and alts and all(isinstance(a, dict) and "const" in a for a in alts):
            return [(as_text(a["const"]), str(a.get("title", a["const"]))) for a in alts]
    return None


def as_text(value: Any) -> str:
    """A JSON value as an HTML input holds it (true/false, '' for none)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def json_type(schema: dict[str, Any]) -> str:
    """The JSON type a field holds; from its choices when the schema names none."""
    t = schema.get("type")
    if isinstance(t, list):
        t = next((x for x in t if x != "null"), "string")
    if t is None:
        opts = schema.get("enum") or [a.get("const") for a in schema.get("oneOf", []) if isinstance(a, dict)]
        if opts and all(isinstance(o, bool) for o in opts):
            return "boolean"
        if opts and all(isinstance(o, int) and not isinstance(o, bool) for o in opts):
            return "integer"
        return "string"
    return str(t)


def is_file(schema: dict[str, Any]) -> bool:
    """Whether a field is an attachment (uploaded, stored apart, referenced by ``adjunto:``)."""
    return (schema.get("format") in _FILE_FORMATS or schema.get("x-widget") == "file"
            or "contentMediaType" in schema or schema.get("x-file") is True)


def option_title(schema: dict[str, Any], value: Any) -> str:
    """The title a person reads for a stored choice."""
    if isinstance(value, bool):
        return "Sí" if value else "No"
    return dict(options(schema) or []).get(as_text(value), as_text(value))


def local_input(value: Any) -> str:
    """A stored instant as a datetime-local input shows it: Hermosillo wall time to the minute."""
    if not value:
        return ""
    try:
        return to_local(str(value)).strftime("%Y-%m-%dT%H:%M")
    except ValueError:
        return str(value)


