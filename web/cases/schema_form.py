"""JSON-Schema forms rendered on the server, and submitted values turned back into JSON data.

Supports text and textarea, enums as a select or radio buttons (``enum`` with
``x-enumTitles``, or ``oneOf``/``anyOf`` of ``const`` + ``title``), booleans (Sí/No),
integers and numbers with bounds, dates and date-times (Hermosillo time), arrays
of simple items (checkboxes for enums, one per line otherwise), arrays of objects
(a table of rows, named ``lista.0.campo``), file attachments and nested objects.
Conditional requirements (``allOf`` of ``if``/``then`` on another field's value)
are shown next to the fields they make obligatory ("Obligatorio si ..."). Values
that do not parse are passed through as typed, so the engine's validation reports
them by field in Spanish (with the schema's ``x-error`` where it gives one).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable

from engine.services.terms import HERMOSILLO, DateContext, date_limits, to_local

FILE_PREFIX = "adjunto:"
ADD_ROW = "_agregar_renglon"  # a submit button's name: add a row to the table of that array, save nothing
ROWS_KEY = "__renglones__."  # in raw values: how many rows a table should show
_FILE_FORMATS = {"data-url", "binary", "file", "attachment"}


@dataclass
class Field:
    name: str  # dotted path, also the HTML name
    label: str
    kind: str  # text textarea select radio boolean integer number date datetime lines checkboxes file group
    required: bool = False
    help: str | None = None
    options: list[tuple[str, str]] = field(default_factory=list)
    minimum: Any = None
    maximum: Any = None
    step: str | None = None
    min_length: int | None = None
    max_length: int | None = None
    pattern: str | None = None
    value: Any = None  # as the widget shows it (string, list of strings)
    error: str | None = None
    children: list["Field"] = field(default_factory=list)
    identifying: bool = False
    read_only: bool = False
    required_when: list[str] = field(default_factory=list)  # "«¿Quién solicita?» es «Otra persona»"
    rows: list[list["Field"]] = field(default_factory=list)  # kind "rows": one list of fields per item
    rules: list[str] = field(default_factory=list)  # a date's x-no-futura / x-despues-de / x-antes-de messages

    @property
    def html_id(self) -> str:
        return "f-" + self.name.replace(".", "-")


def _options(schema: dict[str, Any]) -> list[tuple[str, str]] | None:
    if "enum" in schema:
        titles = schema.get("x-enumTitles") or schema.get("x-enumNames") or schema.get("enumNames") or []
        return [(_str(v), str(titles[i]) if i < len(titles) else _str(v)) for i, v in enumerate(schema["enum"])]
    if isinstance(schema.get("const"), str):  # a fixed legal value (art. 54 «personal»): a choice, not free text
        return [(schema["const"], str(schema.get("x-constTitle") or schema["const"].capitalize()))]
    for key in ("oneOf", "anyOf"):
        alts = schema.get(key)
        if isinstance(alts, list) and alts and all(isinstance(a, dict) and "const" in a for a in alts):
            return [(_str(a["const"]), str(a.get("title", a["const"]))) for a in alts]
    return None


def _str(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def _type(schema: dict[str, Any]) -> str:
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
    return (schema.get("format") in _FILE_FORMATS or schema.get("x-widget") == "file"
            or "contentMediaType" in schema or schema.get("x-file") is True)


def build(schema: dict[str, Any] | None, values: dict[str, Any] | None = None, errors: dict[str, str] | None = None,
          *, raw: dict[str, Any] | None = None, identifying: Callable[[str, dict[str, Any]], bool] | None = None,
          prefix: str = "", context: DateContext | None = None) -> list[Field]:
    """The fields of a form, filled from JSON values (or from raw submitted strings when re-rendering).

    ``context`` (today, the case data, the parameters) bounds date inputs with ``min``/``max`` from the
    schema's date rules (engine.run.date_rules), the same rules the engine checks on submission.
    """
    if not schema:
        return []
    props: dict[str, Any] = schema.get("properties") or {}
    order = schema.get("x-order") or schema.get("ui:order") or list(props)
    order = [n for n in order if n in props] + [n for n in props if n not in order]
    required = set(schema.get("required") or [])
    when = conditional_requirements(schema)
    out = []
    for name in order:
        sub = props[name]
        if not isinstance(sub, dict) or sub.get("x-hidden"):
            continue
        path = f"{prefix}{name}"
        f = _field(path, name, sub, name in required, values, raw, errors or {}, identifying)
        if f.kind in ("date", "datetime"):
            titles = {k: str(v.get("title") or k) for k, v in props.items() if isinstance(v, dict)}
            f.minimum, f.maximum, f.rules = date_limits(name, sub, context, titles)
            if f.kind == "datetime":
                f.minimum = f.minimum and f.minimum + "T00:00"
                f.maximum = f.maximum and f.maximum + "T23:59"
        if name not in required:
            f.required_when = when.get(name, [])
        out.append(f)
    return out


def conditional_requirements(schema: dict[str, Any]) -> dict[str, list[str]]:
    """Field -> the conditions (in words) under which an ``if``/``then`` of the schema makes it obligatory."""
    props: dict[str, Any] = schema.get("properties") or {}
    rules = [r for r in schema.get("allOf") or [] if isinstance(r, dict)]
    if "if" in schema:
        rules.append(schema)
    out: dict[str, list[str]] = {}
    for rule in rules:
        cond, then = rule.get("if"), rule.get("then")
        if not isinstance(cond, dict) or not isinstance(then, dict):
            continue
        words = []
        for name, test in (cond.get("properties") or {}).items():
            sub = props.get(name) if isinstance(props.get(name), dict) else {}
            label = str(sub.get("title") or name.replace("_", " ").capitalize())
            if isinstance(test, dict) and "const" in test:
                values = [test["const"]]
            elif isinstance(test, dict) and isinstance(test.get("enum"), list):
                values = test["enum"]
            else:
                words = []
                break
            shown = [_option_title(sub, v) for v in values]
            words.append(f"«{label}» es " + " o ".join(f"«{v}»" for v in shown))
        if not words:
            continue
        text = " y ".join(words)
        for name in then.get("required") or []:
            if text not in out.setdefault(name, []):
                out[name].append(text)
    return out


def _option_title(schema: dict[str, Any], value: Any) -> str:
    if isinstance(value, bool):
        return "Sí" if value else "No"
    return dict(_options(schema) or []).get(_str(value), _str(value))


def _field(path: str, name: str, sub: dict[str, Any], required: bool, values: dict[str, Any] | None,
           raw: dict[str, Any] | None, errors: dict[str, str], identifying: Any) -> Field:
    t = _type(sub)
    label = str(sub.get("title") or name.replace("_", " ").capitalize())
    f = Field(path, label, "text", required, sub.get("description"), read_only=bool(sub.get("readOnly")))
    f.identifying = bool(identifying(name, sub)) if identifying else False
    f.error = errors.get(path)
    value = _lookup(values, path) if values is not None else None
    if value is None and raw is None and "default" in sub:
        value = sub["default"]
    if value is None and raw is None and isinstance(sub.get("const"), str):
        value = sub["const"]
    if t == "object" and isinstance(sub.get("properties"), dict):
        f.kind = "group"
        f.children = build(sub, values, errors, raw=raw, identifying=identifying, prefix=path + ".")
        return f
    opts = _options(sub)
    if t == "array":
        items = sub.get("items") if isinstance(sub.get("items"), dict) else {}
        item_opts = _options(items)
        f.minimum, f.maximum = sub.get("minItems"), sub.get("maxItems")
        if _type(items) == "object" and isinstance(items.get("properties"), dict):
            f.kind = "rows"  # one row of fields per item, plus a blank one to add another
            count = len(_row_indexes(raw, path)) if raw is not None else len(value) if isinstance(value, list) else 0
            wanted = _wanted_rows((raw or {}).get(ROWS_KEY + path), count)
            total = max(count + 1, int(f.minimum or 1), wanted)
            if f.maximum is not None:
                total = max(count, min(total, int(f.maximum)))
            for i in range(total):
                item = value[i] if raw is None and isinstance(value, list) and i < len(value) else None
                f.rows.append(build(items, _nest(path, i, item) if item is not None else None, errors, raw=raw,
                                    identifying=identifying, prefix=f"{path}.{i}."))
            return f
        if item_opts is not None:
            f.kind, f.options = "checkboxes", item_opts
            f.value = raw.get(path, []) if raw is not None else [_str(v) for v in (value or [])]
        else:
            f.kind = "lines"
            f.value = raw.get(path, "") if raw is not None else "\n".join(_str(v) for v in (value or []))
        return f
    if t == "boolean":
        f.kind, f.options = "boolean", [("true", "Sí"), ("false", "No")]
        f.value = raw.get(path, "") if raw is not None else _str(value) if value is not None else ""
        return f
    if opts is not None:
        widget = sub.get("x-widget")
        f.kind = widget if widget in ("radio", "select") else (
            "select" if "const" in sub else "radio" if len(opts) <= 3 else "select")
        f.options = opts
        f.value = raw.get(path, "") if raw is not None else _str(value)
        return f
    if is_file(sub):
        f.kind = "file"
        f.value = raw.get(path, "") if raw is not None else _str(value)
        return f
    if t in ("integer", "number"):
        f.kind = t
        f.minimum = sub.get("minimum", sub.get("exclusiveMinimum"))
        f.maximum = sub.get("maximum", sub.get("exclusiveMaximum"))
        f.step = "1" if t == "integer" else str(sub.get("multipleOf", "any"))
        f.value = raw.get(path, "") if raw is not None else _str(value)
        return f
    fmt = sub.get("format")
    if fmt == "date":
        f.kind = "date"
        f.value = raw.get(path, "") if raw is not None else _str(value)[:10]
        return f
    if fmt == "date-time":
        f.kind = "datetime"
        f.value = raw.get(path, "") if raw is not None else _local_input(value)
        return f
    f.min_length, f.max_length, f.pattern = sub.get("minLength"), sub.get("maxLength"), sub.get("pattern")
    long = sub.get("x-widget") == "textarea" or fmt == "textarea" or (f.max_length or 0) >= 1000 or \
        (f.max_length is None and sub.get("x-multiline"))
    f.kind = "textarea" if long else "text"
    f.value = raw.get(path, "") if raw is not None else _str(value)
    return f


def _nest(path: str, index: int, item: Any) -> dict[str, Any]:
    """Values shaped so that ``path.index.field`` finds the item's fields."""
    node: dict[str, Any] = {str(index): item}
    for part in reversed(path.split(".")):
        node = {part: node}
    return node


def _renumber(key: str, path: str, n: int) -> str:
    rest = key[len(path) + 1:].split(".", 1)
    return f"{path}.{n}.{rest[1]}" if len(rest) == 2 else key


MAX_NEW_ROWS = 50


def _wanted_rows(raw: Any, count: int) -> int:
    """How many rows a table asks to show: a number the browser sends, so not trusted past a few new rows."""
    try:
        wanted = int(str(raw or 0)[:12])
    except ValueError:
        return 0
    return max(0, min(wanted, count + MAX_NEW_ROWS))


def _row_indexes(raw: dict[str, Any], path: str) -> list[int]:
    """The row numbers submitted for an array of objects (``path.N.field``)."""
    found = set()
    for key in raw:
        if key.startswith(path + "."):
            head = key[len(path) + 1:].split(".", 1)[0]
            if head.isdigit():
                found.add(int(head))
    return sorted(found)


def _lookup(values: dict[str, Any] | None, path: str) -> Any:
    node: Any = values
    for part in path.split("."):
        if isinstance(node, list) and part.isdigit():
            node = node[int(part)] if int(part) < len(node) else None
        elif isinstance(node, dict):
            node = node.get(part)
        else:
            return None
    return node


def _local_input(value: Any) -> str:
    if not value:
        return ""
    try:
        return to_local(str(value)).strftime("%Y-%m-%dT%H:%M")
    except ValueError:
        return str(value)


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
        t = _type(sub)
        if t == "object" and isinstance(sub.get("properties"), dict):
            inner: dict[str, Any] = {}
            _parse_into(sub, form, files, path + ".", inner, parsed)
            if inner:
                out[name] = inner
            continue
        if t == "array":
            items = sub.get("items") if isinstance(sub.get("items"), dict) else {}
            if _type(items) == "object" and isinstance(items.get("properties"), dict):
                rows = []
                for i in _row_indexes(dict.fromkeys(form.keys()), path):
                    row: dict[str, Any] = {}
                    one = Parsed({}, {}, {})
                    _parse_into(items, form, files, f"{path}.{i}.", row, one)
                    if not row:  # a row left blank is not an item
                        continue
                    n = len(rows)  # renumbered, so the engine's errors (path.n.field) land on the right row
                    parsed.raw.update({_renumber(k, path, n): v for k, v in one.raw.items()})
                    parsed.files.update({_renumber(k, path, n): v for k, v in one.files.items()})
                    rows.append(row)
                if rows:
                    out[name] = rows
                if form.get(ADD_ROW) == path:
                    parsed.raw[ROWS_KEY + path] = str(len(rows) + 2)
                continue
            if _options(items) is not None:
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
        if _options(sub) is not None or t == "boolean":
            out[name] = _coerce(sub, value)
        elif sub.get("format") == "date-time":
            out[name] = _datetime(value)
        else:
            out[name] = _coerce(sub, value)


def _coerce(schema: dict[str, Any], value: str) -> Any:
    t = _type(schema)
    opts = _options(schema)
    if opts is not None:  # give back the option's own JSON value
        raw_values = schema.get("enum") or [a.get("const") for a in schema.get("oneOf") or schema.get("anyOf") or []]
        for v in raw_values:
            if _str(v) == value:
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


def attach_errors(fields: list[Field], errors: dict[str, str]) -> dict[str, str]:
    """Put each error on its field (or nearest enclosing one); return the errors no field took."""
    names: dict[str, Field] = {}

    def walk(fs: list[Field]) -> None:
        for f in fs:
            names[f.name] = f
            if f.kind == "rows":
                for row in f.rows:
                    walk(row)
            else:
                walk(f.children)

    walk(fields)
    left = {}
    for key, message in errors.items():
        parts = key.split(".")
        for n in range(len(parts), 0, -1):
            target = names.get(".".join(parts[:n]))
            if target is not None:
                target.error = target.error or message
                break
        else:
            left[key] = message
    return left


def labels(schema_props: dict[str, dict[str, Any]]) -> dict[str, str]:
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
    opts = _options(schema)
    if opts is not None:
        return dict(opts).get(_str(value), _str(value))
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
