"""JSON-Schema forms rendered on the server: the fields a page shows, filled and with their errors.

Supports text and textarea, enums as a select or radio buttons (``enum`` with
``x-enumTitles``, or ``oneOf``/``anyOf`` of ``const`` + ``title``), booleans (Sí/No),
integers and numbers with bounds, dates and date-times (Hermosillo time), arrays
of simple items (checkboxes for enums, one per line otherwise), arrays of objects
(a table of rows, named ``lista.0.campo``), file attachments and nested objects.
Conditional requirements (``allOf`` of ``if``/``then`` on another field's value)
are shown next to the fields they make obligatory ("Obligatorio si ...").
Reading a submission back is ``web.cases.form_values``; showing stored values is
``web.cases.value_display``; the questions all three ask a schema are
``web.cases.schema_reading``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from engine.services.terms import DateContext, date_limits
from web.cases.form_values import ROWS_KEY, row_indexes
from web.cases.schema_reading import as_text, is_file, json_type, local_input, option_title, options


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
        f = _field(path, name, sub, name in required, values, raw, errors or {}, identifying, context)
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
            shown = [option_title(sub, v) for v in values]
            words.append(f"«{label}» es " + " o ".join(f"«{v}»" for v in shown))
        if not words:
            continue
        text = " y ".join(words)
        for name in then.get("required") or []:
            if text not in out.setdefault(name, []):
                out[name].append(text)
    return out


def _field(path: str, name: str, sub: dict[str, Any], required: bool, values: dict[str, Any] | None,
           raw: dict[str, Any] | None, errors: dict[str, str], identifying: Any,
           context: DateContext | None = None) -> Field:
    t = json_type(sub)
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
        f.children = build(sub, values, errors, raw=raw, identifying=identifying, prefix=path + ".", context=context)
        return f
    opts = options(sub)
    if t == "array":
        items = sub.get("items") if isinstance(sub.get("items"), dict) else {}
        item_opts = options(items)
        f.minimum, f.maximum = sub.get("minItems"), sub.get("maxItems")
        if json_type(items) == "object" and isinstance(items.get("properties"), dict):
            f.kind = "rows"  # one row of fields per item, plus a blank one to add another
            count = len(row_indexes(raw, path)) if raw is not None else len(value) if isinstance(value, list) else 0
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
            f.value = raw.get(path, []) if raw is not None else [as_text(v) for v in (value or [])]
        else:
            f.kind = "lines"
            f.value = raw.get(path, "") if raw is not None else "\n".join(as_text(v) for v in (value or []))
        return f
    if t == "boolean":
        f.kind, f.options = "boolean", [("true", "Sí"), ("false", "No")]
        f.value = raw.get(path, "") if raw is not None else as_text(value) if value is not None else ""
        return f
    if opts is not None:
        widget = sub.get("x-widget")
        f.kind = widget if widget in ("radio", "select") else (
            "select" if "const" in sub else "radio" if len(opts) <= 3 else "select")
        f.options = opts
        f.value = raw.get(path, "") if raw is not None else as_text(value)
        return f
    if is_file(sub):
        f.kind = "file"
        f.value = raw.get(path, "") if raw is not None else as_text(value)
        return f
    if t in ("integer", "number"):
        f.kind = t
        f.minimum = sub.get("minimum", sub.get("exclusiveMinimum"))
        f.maximum = sub.get("maximum", sub.get("exclusiveMaximum"))
        f.step = "1" if t == "integer" else str(sub.get("multipleOf", "any"))
        f.value = raw.get(path, "") if raw is not None else as_text(value)
        return f
    fmt = sub.get("format")
    if fmt == "date":
        f.kind = "date"
        f.value = raw.get(path, "") if raw is not None else as_text(value)[:10]
        return f
    if fmt == "date-time":
        f.kind = "datetime"
        f.value = raw.get(path, "") if raw is not None else local_input(value)
        return f
    f.min_length, f.max_length, f.pattern = sub.get("minLength"), sub.get("maxLength"), sub.get("pattern")
    long = sub.get("x-widget") == "textarea" or fmt == "textarea" or (f.max_length or 0) >= 1000 or \
        (f.max_length is None and sub.get("x-multiline"))
    f.kind = "textarea" if long else "text"
    f.value = raw.get(path, "") if raw is not None else as_text(value)
    return f


def _nest(path: str, index: int, item: Any) -> dict[str, Any]:
    """Values shaped so that ``path.index.field`` finds the item's fields."""
    node: dict[str, Any] = {str(index): item}
    for part in reversed(path.split(".")):
        node = {part: node}
    return node


MAX_NEW_ROWS = 50


def _wanted_rows(raw: Any, count: int) -> int:
    """How many rows a table asks to show: a number the browser sends, so not trusted past a few new rows."""
    try:
        wanted = int(str(raw or 0)[:12])
    except ValueError:
        return 0
    return max(0, min(wanted, count + MAX_NEW_ROWS))


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


