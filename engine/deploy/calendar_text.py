"""Editing the text of a legal calendar file (``calendar/*.toml``) the way a legal designer would.

A calendar draft is its base version's text plus a list of changes (add a día inhábil, a period or a
vacation; remove the file's days in a range), each with its reason and its published source. The
draft's text is always rebuilt from the base and the changes, so undoing a change is dropping it from
the list. Edits keep the file's comments: an added entry is appended as a ``[[inhabil]]`` table, a
removal drops (or trims) the entries it covers, line by line; the result is read back with the same
strict reader the engine uses, and must declare exactly the days intended.
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Mapping, Sequence

from engine.errors import InvalidInput
from engine.time.calendar import LegalCalendar, calendar_from_texts
from engine.time.calendar_file import CalendarError, is_pending, read_calendar_text

ADD, REMOVE = "agregar", "quitar"
KINDS = {"dia": "Día inhábil", "periodo": "Periodo inhábil", "vacaciones": "Periodo vacacional"}
_ONE_DAY = timedelta(days=1)
MAX_DAYS = 366  # a change longer than a year is a typo in a date, not an acuerdo


@dataclass(frozen=True)
class Change:
    """One change of a calendar draft, as its author wrote it."""

    action: str  # ADD | REMOVE
    kind: str  # a key of KINDS
    first: date
    last: date
    reason: str
    source: str

    def days(self) -> list[date]:
        return [self.first + timedelta(days=n) for n in range((self.last - self.first).days + 1)]

    def covers(self, day: date) -> bool:
        return self.first <= day <= self.last


@dataclass(frozen=True)
class FileEntry:
    """One ``[[inhabil]]`` entry of the file, as the editor lists it."""

    first: date
    last: date
    reason: str
    source: str
    pending: bool


def check_change(action: str, kind: str, first: Any, last: Any, reason: str, source: str) -> Change:
    """A change as typed in the editor, or InvalidInput naming the field (in Spanish)."""
    if action not in (ADD, REMOVE):
        raise InvalidInput("Elija si el día se agrega o se quita.", field="action")
    if kind not in KINDS:
        raise InvalidInput("Elija el tipo: día inhábil, periodo o periodo vacacional.", field="kind")
    start = _day(first, "first", "La fecha inicial")
    end = _day(last, "last", "La fecha final") if (kind != "dia" and str(last or "").strip()) else start
    if kind != "dia" and not str(last or "").strip():
        raise InvalidInput("Falta la fecha final del periodo (AAAA-MM-DD).", field="last")
    if end < start:
        raise InvalidInput("La fecha final es anterior a la inicial.", field="last")
    if (end - start).days >= MAX_DAYS:
        raise InvalidInput(f"El periodo abarca más de {MAX_DAYS} días: revise las fechas.", field="last")
    reason = " ".join(str(reason or "").split())
    source = " ".join(str(source or "").split())
    if not reason:
        raise InvalidInput("Falta el motivo (p. ej. «Vacaciones de invierno»): es el texto que verá quien lea "
                           "el plazo.", field="reason")
    if not source:
        raise InvalidInput("Falta la fuente: cite el acuerdo publicado (Boletín Oficial, tomo, número y fecha).",
                           field="source")
    if is_pending(source):
        raise InvalidInput("La fuente debe citar el acuerdo publicado; un día «pendiente de confirmar» no se "
                           "computa como inhábil.", field="source")
    if len(reason) > 200 or len(source) > 1000:
        raise InvalidInput("El motivo (200 caracteres) o la fuente (1000) son demasiado largos.",
                           field="reason" if len(reason) > 200 else "source")
    return Change(action, kind, start, end, reason, source)


def _day(value: Any, field: str, label: str) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value or "").strip())
    except ValueError:
        raise InvalidInput(f"{label} no es válida: escríbala como AAAA-MM-DD.", field=field) from None


def entries(text: str) -> list[FileEntry]:
    """The file's entries in order (the strict reader has accepted the text before)."""
    out = []
    for entry in tomllib.loads(text).get("inhabil", []):
        first = _as_date(entry.get("date", entry.get("start")))
        last = _as_date(entry.get("date", entry.get("end")))
        out.append(FileEntry(first, last, str(entry["reason"]).strip(), str(entry["source"]).strip(),
                             is_pending(str(entry["source"]))))
    return out


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value).strip())


def apply(base: str, name: str, changes: Sequence[Change]) -> str:
    """The base text with ``changes`` applied in order; InvalidInput if the result would not load."""
    text = base
    for change in changes:
        text = _add(text, change) if change.action == ADD else _remove(text, change)
    try:
        read_calendar_text(text, name)
    except CalendarError as exc:
        raise InvalidInput(f"El calendario resultante no es válido: {exc}", field="calendar") from None
    return text


def _block(first: date, last: date, reason: str, source: str, note: str = "") -> str:
    lines = [f"# {note}"] if note else []
    lines.append("[[inhabil]]")
    if first == last:
        lines.append(f'date = "{first.isoformat()}"')
    else:
        lines += [f'start = "{first.isoformat()}"', f'end = "{last.isoformat()}"']
    lines += [f"reason = {_toml_string(reason)}", f"source = {_toml_string(source)}"]
    return "\n".join(lines) + "\n"


def _toml_string(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)  # a JSON string is a TOML basic string


def _add(text: str, change: Change) -> str:
    return text.rstrip("\n") + "\n\n" + _block(change.first, change.last, change.reason, change.source,
                                              f"{KINDS[change.kind]} agregado en el editor de calendario")


def _remove(text: str, change: Change) -> str:
    """Drop the file's days inside the change's range: entries inside it go, entries across it are trimmed."""
    lines = text.splitlines(keepends=True)
    found = entries(text)
    blocks = _blocks(lines)
    if len(blocks) != len(found):
        raise InvalidInput("El archivo de calendario no tiene la forma habitual ([[inhabil]] por entrada): "
                           "edítelo a mano.", field="calendar")
    if not any(e.first <= change.last and change.first <= e.last for e in found):
        raise InvalidInput("El calendario no declara ningún día inhábil en esas fechas: no hay qué quitar "
                           "(los sábados, domingos y días del art. 74 de la Ley Federal del Trabajo no se "
                           "quitan).", field="first")
    for (start, end), e in sorted(zip(blocks, found), key=lambda pair: -pair[0][0]):
        if not (e.first <= change.last and change.first <= e.last):
            continue
        kept = []
        if e.first < change.first:
            kept.append(_block(e.first, change.first - _ONE_DAY, e.reason, e.source))
        if e.last > change.last:
            kept.append(_block(change.last + _ONE_DAY, e.last, e.reason, e.source))
        lines[start:end] = ["\n".join(kept)] if kept else []
    return "".join(lines)


def _blocks(lines: list[str]) -> list[tuple[int, int]]:
    """(first line, line after the last) of each ``[[inhabil]]`` table: its header and its key lines."""
    out = []
    i = 0
    while i < len(lines):
        if lines[i].strip() == "[[inhabil]]":
            j = i + 1
            while j < len(lines) and lines[j].strip() and not lines[j].lstrip().startswith(("#", "[")):
                j += 1
            out.append((i, j))
            i = j
        else:
            i += 1
    return out


def calendar_of(texts: Mapping[str, str]) -> LegalCalendar:
    return calendar_from_texts(dict(texts))


def changed_days(old: LegalCalendar, new: LegalCalendar, changes: Sequence[Change]) -> dict[date, str]:
    """The days the changes touch whose standing differs between the two calendars, with the new reason
    ("día hábil de nuevo" for a day restored)."""
    out: dict[date, str] = {}
    for change in changes:
        for day in change.days():
            before, after = old.inhabil_reason(day), new.inhabil_reason(day)
            if before != after:
                out[day] = after or "día hábil de nuevo"
    return out
