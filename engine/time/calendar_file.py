"""Reading the editable calendar files (``workflows/calendar/*.toml``) of state días inhábiles.

Every state day (Holy Thursday and Good Friday included: nothing beyond the Ley Federal del
Trabajo art. 74 is computed in Python) comes from a file entry with its published source. An
entry whose source says it is *pendiente de confirmar* is read and kept, so explanations can name
it, but it is not a día inhábil until its acuerdo is cited: an invented non-working day lengthens
terms unduly (the file's own rule).
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

__all__ = ["PENDING_MARK", "CalendarError", "FileDay", "read_calendar_file", "is_pending"]

_ENTRY_KEYS = ("date", "end", "reason", "source", "start")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_ONE_DAY = timedelta(days=1)
PENDING_MARK = "pendiente de confirmar"


@dataclass(frozen=True)
class FileDay:
    """One day a calendar file declares, with the reason shown to people and whether it still awaits its acuerdo."""

    day: date
    reason: str
    pending: bool


def is_pending(source: str) -> bool:
    """A source that says «pendiente de confirmar» cites no acuerdo yet (case and accents as written)."""
    return PENDING_MARK in source.casefold()


class CalendarError(ValueError):
    """A calendar file, a deadline request or a date the calendar cannot honour.

    A ValueError so callers validating user/designer input can treat it like
    any other bad value, while still being able to catch it specifically.
    """


def _error(message: str) -> Exception:
    return CalendarError(message)


def _file_date(value: object, where: str, key: str) -> date:
    # TOML datetimes are datetime (a date subclass); a day with a time is not a día.
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str) and _ISO_DATE.match(value.strip()):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise _error(f"{where}: {key!r} no es una fecha válida (AAAA-MM-DD): {value!r}")


def _file_text(entry: Mapping[str, Any], where: str, key: str) -> str:
    if key not in entry:
        raise _error(f"{where}: falta {key!r} (obligatorio en cada día inhábil)")
    value = entry[key]
    if not isinstance(value, str) or not value.strip():
        raise _error(f"{where}: {key!r} debe ser un texto no vacío, no {value!r}")
    return value.strip()


def _load(path: Path) -> dict[str, Any]:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise _error(f"{path}: no se pudo leer el archivo de calendario: {exc}") from None
    try:
        return tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise _error(f"{path}: el archivo no es TOML válido: {exc}") from None


def _span(entry: Mapping[str, Any], where: str) -> tuple[date, date]:
    has_date = "date" in entry
    has_range = "start" in entry or "end" in entry
    if has_date and has_range:
        raise _error(f"{where}: indique 'date' o bien 'start' y 'end', pero no ambos")
    if not has_date and not has_range:
        raise _error(f"{where}: falta la fecha: indique 'date' o bien 'start' y 'end'")
    if has_date:
        day = _file_date(entry["date"], where, "date")
        return day, day
    for key in ("start", "end"):
        if key not in entry:
            raise _error(f"{where}: falta {key!r}; un periodo necesita 'start' y 'end'")
    first = _file_date(entry["start"], where, "start")
    last = _file_date(entry["end"], where, "end")
    if last < first:
        raise _error(f"{where}: 'end' ({last.isoformat()}) es anterior a 'start' ({first.isoformat()})")
    return first, last


def read_calendar_file(path: str | Path) -> list[FileDay]:
    """Parse and fully validate one calendar file into its days.

    Strict on purpose: a typo in a designer-edited file must fail loudly at load time rather than
    silently drop a día inhábil and shorten a term.
    """
    path = Path(path)
    return _days(_load(path), str(path))


def read_calendar_text(text: str, path: str) -> list[FileDay]:
    """The same, from a calendar file's text (as a deployed calendar version holds it)."""
    try:
        return _days(tomllib.loads(text), path)
    except tomllib.TOMLDecodeError as exc:
        raise _error(f"{path}: el archivo no es TOML válido: {exc}") from None


def _days(data: dict[str, Any], path: str) -> list[FileDay]:
    unknown_top = sorted(k for k in data if k != "inhabil")
    if unknown_top:
        raise _error(f"{path}: clave de primer nivel desconocida {', '.join(map(repr, unknown_top))} "
                     "(solo se admite [[inhabil]])")
    entries = data.get("inhabil", [])
    if not isinstance(entries, list):
        raise _error(f"{path}: 'inhabil' debe ser una lista de tablas [[inhabil]]")
    days: list[FileDay] = []
    for index, entry in enumerate(entries, start=1):
        where = f"{path}: [[inhabil]] entrada {index}"
        if not isinstance(entry, dict):
            raise _error(f"{where}: debe ser una tabla [[inhabil]], no {entry!r}")
        unknown = sorted(k for k in entry if k not in _ENTRY_KEYS)
        if unknown:
            raise _error(f"{where}: clave desconocida {', '.join(map(repr, unknown))} "
                         f"(claves permitidas: {', '.join(_ENTRY_KEYS)})")
        first, last = _span(entry, where)
        reason = _file_text(entry, where, "reason")
        pending = is_pending(_file_text(entry, where, "source"))
        day = first
        while day <= last:
            days.append(FileDay(day, reason, pending))
            day += _ONE_DAY
    return days
