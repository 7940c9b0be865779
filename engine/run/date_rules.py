"""Plausible dates: the one syntax form schemas use to order a date against others.

A date or date-time property of a form schema may carry:

- ``"x-no-futura": true`` (or a message): the date records an act already done, so it cannot be
  later than today (the engine's clock, Hermosillo time);
- ``"x-despues-de": REF`` or a list of REFs: not earlier than each reference;
- ``"x-antes-de": REF`` or a list of REFs: not later than each reference.

A REF names exactly one source and carries the Spanish message shown next to the field, which names
the field or act the date must follow::

    {"campo": "fecha_citacion", "mensaje": "La audiencia no puede ser anterior a la citación (art. 50)."}
    {"dato": "fecha_notificacion", "mensaje": "..."}          # case data written by an earlier task
    {"parametro": "sancion.ley_vigente_desde", "mensaje": "..."}  # a legal parameter (workflows/parameters.toml)
    {"hoy": true, "mensaje": "..."}                          # today
    ... "estricto": true                                     # strictly after / before (not the same day)

Dates compare as Hermosillo calendar days when either side is a bare date, as instants otherwise (a date
that must follow an instant may fall in the same minute: people type minutes, the engine stamps seconds). A
reference with no value (an optional field left empty, data not yet written) is skipped. The server
validation (``engine.run.forms``) and the page renderer (``web.cases.schema_form``: min/max on the
input, the rules as hints) read the same keywords through :func:`rules` and :func:`limits`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Iterator, Mapping

from engine.time.calendar_file import CalendarError
from engine.time.hermosillo import HERMOSILLO, to_local

KEYWORDS = ("x-no-futura", "x-despues-de", "x-antes-de")
SOURCES = ("campo", "dato", "parametro", "hoy")


@dataclass(frozen=True)
class Context:
    """What a date can be compared with besides the submitted form: today, the case and the parameters."""

    now: datetime
    case: Mapping[str, Any]
    parametros: Mapping[str, Any]


@dataclass(frozen=True)
class Rule:
    field: str
    direction: str  # "after" (x-despues-de) or "before" (x-antes-de / x-no-futura)
    source: str
    ref: Any
    message: str
    strict: bool = False


def _title(schema: Mapping[str, Any], name: str) -> str:
    return str(schema.get("title") or name.replace("_", " ").capitalize())


def rules(name: str, schema: Mapping[str, Any], titles: Mapping[str, str] | None = None) -> Iterator[Rule]:
    """The date rules a property declares, each with its message (a default one names what it compares with)."""
    titles = titles or {}
    label = _title(schema, name)
    nf = schema.get("x-no-futura")
    if nf:
        yield Rule(name, "before", "hoy", True,
                   nf if isinstance(nf, str) else f"«{label}» registra un acto ya ocurrido: no puede ser posterior a hoy.")
    for key, direction in (("x-despues-de", "after"), ("x-antes-de", "before")):
        refs = schema.get(key)
        for ref in refs if isinstance(refs, list) else [refs] if isinstance(refs, dict) else []:
            source = next((s for s in SOURCES if s in ref), None)
            if source is None:
                raise ValueError(f"{name}: {key} necesita una de {', '.join(SOURCES)}: {ref!r}")
            target = ref[source]
            other = "hoy" if source == "hoy" else f"«{titles.get(str(target), str(target).replace('_', ' '))}»"
            default = (f"«{label}» no puede ser {'anterior' if direction == 'after' else 'posterior'} a {other}.")
            yield Rule(name, direction, source, target, str(ref.get("mensaje") or default), bool(ref.get("estricto")))


def _parametro(parametros: Mapping[str, Any], path: str) -> Any:
    node: Any = parametros
    for part in str(path).split("."):
        node = node.get(part) if isinstance(node, Mapping) else None
    return node


def reference(rule: Rule, form: Mapping[str, Any], ctx: Context) -> Any:
    """The value a rule compares with, or None when it is not known (yet)."""
    if rule.source == "hoy":
        return ctx.now
    if rule.source == "campo":
        return form.get(rule.ref)
    if rule.source == "dato":
        return ctx.case.get(rule.ref)
    return _parametro(ctx.parametros, rule.ref)


def _pair(value: Any, other: Any) -> tuple[Any, Any] | None:
    """Both sides made comparable: days if either is a bare date, instants otherwise."""
    try:
        a, b = to_local(value if not isinstance(value, str) else value.strip()), to_local(
            other if not isinstance(other, str) else other.strip())
    except (CalendarError, ValueError, TypeError):
        return None
    bare = any(isinstance(v, str) and len(v.strip()) == 10 or (isinstance(v, date) and not isinstance(v, datetime))
               for v in (value, other))
    return (a.date(), b.date()) if bare else (a, b)


def broken(rule: Rule, value: Any, form: Mapping[str, Any], ctx: Context) -> bool:
    """Whether ``value`` breaks the rule (False when either side is unknown or not a date)."""
    other = reference(rule, form, ctx)
    if value in (None, "") or other in (None, ""):
        return False
    pair = _pair(value, other)
    if pair is None:
        return False
    a, b = pair
    if rule.direction == "after":
        if isinstance(b, datetime):  # typed «11:00» follows an act the engine stamped at 11:00:40
            b = b.replace(second=0, microsecond=0)
        return a <= b if rule.strict else a < b
    return a >= b if rule.strict else a > b


def check(schema: Mapping[str, Any], data: Mapping[str, Any], ctx: Context, prefix: str = "") -> dict[str, str]:
    """Field -> message for every date of ``data`` that breaks a rule of its schema.

    A date inside an object (the notification of the person an order is issued against) is checked too, named
    by its dotted path; its ``campo`` references name fields of the same object.
    """
    props = schema.get("properties") or {}
    titles = {k: _title(v, k) for k, v in props.items() if isinstance(v, Mapping)}
    errors: dict[str, str] = {}
    for name, sub in props.items():
        if not isinstance(sub, Mapping) or name not in data:
            continue
        if isinstance(sub.get("properties"), Mapping) and isinstance(data[name], Mapping):
            errors.update(check(sub, data[name], ctx, f"{prefix}{name}."))
            continue
        if not any(k in sub for k in KEYWORDS):
            continue
        for rule in rules(name, sub, titles):
            if broken(rule, data[name], data, ctx):
                errors.setdefault(prefix + name, rule.message)
    return errors


def limits(name: str, schema: Mapping[str, Any], ctx: Context | None,
           titles: Mapping[str, str] | None = None) -> tuple[str | None, str | None, list[str]]:
    """For a page: the ``min``/``max`` a date input can carry (bounds known before typing) and every rule's message."""
    low: date | None = None
    high: date | None = None
    messages = []
    for rule in rules(name, schema, titles):
        messages.append(rule.message)
        if ctx is None or rule.source == "campo":
            continue  # another field of the same form: checked when the form is sent
        other = reference(rule, {}, ctx)
        try:
            day = to_local(other).date() if other not in (None, "") else None
        except (CalendarError, ValueError, TypeError):
            day = None
        if day is None:
            continue
        if rule.direction == "after":
            day = day if not rule.strict else date.fromordinal(day.toordinal() + 1)
            low = day if low is None or day > low else low
        else:
            day = day if not rule.strict else date.fromordinal(day.toordinal() - 1)
            high = day if high is None or day < high else high
    return (low.isoformat() if low else None, high.isoformat() if high else None, messages)


def today(ctx: Context) -> date:
    return ctx.now.astimezone(HERMOSILLO).date()
