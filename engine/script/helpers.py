"""The helpers diagrams may call, and the script engine that offers them.

Legal deadlines are computed here from case data (never as bare durations, which
SpiffWorkflow counts from whenever the engine reached the timer). Each helper
returns an ISO 8601 string with its offset and records the full explanation of the
deadline, which the engine stores beside the timer and the task's due date.
"""

from __future__ import annotations

import contextvars
from datetime import date, datetime, time, timedelta
from typing import Any, Callable

from engine.time import clock
from engine.script.sandbox import RestrictedScriptEngine

_computed: contextvars.ContextVar[dict[str, dict[str, Any]] | None] = contextvars.ContextVar("deadlines", default=None)


# The calendar deadlines are counted on during one transition, asked for once: (version, calendar).
_calendar_source: contextvars.ContextVar[Callable[[], tuple[int | None, Any]] | None] = contextvars.ContextVar(
    "calendar", default=None)


class DeadlineLog:
    """Collects the explanations of the deadlines computed during one transition, by ISO value.

    ``calendar`` gives the legal calendar in force and its version (the engine's newest deployed
    calendar); it is asked for at most once, when the first deadline is counted, and each
    explanation records the version as ``calendar_version``.
    """

    def __init__(self, calendar: Callable[[], tuple[int | None, Any]] | None = None) -> None:
        self._calendar = calendar

    def __enter__(self) -> dict[str, dict[str, Any]]:
        self._entries: dict[str, dict[str, Any]] = {}
        self._token = _computed.set(self._entries)
        source = self._calendar
        found: list[tuple[int | None, Any]] = []

        def once() -> tuple[int | None, Any]:
            if not found:
                found.append(source() if source is not None else (None, _default_calendar()))
            return found[0]

        self._calendar_token = _calendar_source.set(once)
        return self._entries

    def __exit__(self, *exc: object) -> None:
        _calendar_source.reset(self._calendar_token)
        _computed.reset(self._token)


_NO_CALENDAR = object()  # a term in months consults no calendar, so it names no calendar version


def _record(deadline: Any, calendar_version: Any = _NO_CALENDAR) -> str:
    iso = deadline.iso()
    entries = _computed.get()
    if entries is not None:
        entries[iso] = deadline.to_dict()
        if calendar_version is not _NO_CALENDAR:
            entries[iso]["calendar_version"] = calendar_version
    return iso


def _default_calendar() -> Any:
    from engine.time.calendar import default_calendar

    return default_calendar()


def _versioned_calendar() -> tuple[int | None, Any]:
    source = _calendar_source.get()
    return source() if source is not None else (None, _default_calendar())


def plazo_habil(inicio: Any, n: int, cita: str | None = None) -> str:
    version, calendar = _versioned_calendar()
    return _record(calendar.business_days(inicio, n, citation=cita), version)


def plazo_natural(inicio: Any, n: int, cita: str | None = None, mover: bool = True) -> str:
    version, calendar = _versioned_calendar()
    return _record(calendar.natural_days(inicio, n, citation=cita, move_if_inhabil=mover), version)


def plazo_horas(inicio: Any, n: int, cita: str | None = None) -> str:
    version, calendar = _versioned_calendar()
    return _record(calendar.hours(inicio, n, citation=cita), version)


_RULE_MONTHS = (
    "Meses: el día de inicio cuenta entero; el plazo se cumple al iniciar (00:00:00, hora de Hermosillo) el "
    "mismo día del mes que corresponda, o el último día de ese mes si no lo tiene. No se recorre por días "
    "inhábiles (p. ej. la prescripción de la facultad de sancionar)."
)


def plazo_meses(inicio: Any, n: int, cita: str | None = None) -> str:
    """A term of ``n`` months (a year is 12): it has run at 00:00 of the same day ``n`` months later.

    For terms counted by months or years from an event, such as the one-year prescription of the
    power to sanction (Ley de Violencia Familiar art. 53); the explanation is recorded like the
    other helpers' so the timer and the due date show how the instant was reached.
    """
    from engine.time.calendar import HERMOSILLO, Deadline, to_local

    if isinstance(n, bool) or not isinstance(n, int) or n <= 0:
        raise ValueError(f"el número de meses del plazo debe ser un entero positivo, no {n!r}")
    begin = to_local(inicio)
    end = date.fromisoformat(sumar_meses(begin.date().isoformat(), n))
    due = datetime.combine(end, time(0, 0), HERMOSILLO)
    return _record(Deadline(begin, "months", n, _RULE_MONTHS, due, (), cita))


def ahora() -> str:
    from engine.time.calendar import HERMOSILLO

    return clock.now().astimezone(HERMOSILLO).isoformat(timespec="seconds")


def hoy() -> str:
    return ahora()[:10]


def sumar_meses(fecha: str, n: int) -> str:
    """The same day n months later (or the month's last day), for bars such as art. 36's six months."""
    day = date.fromisoformat(str(fecha)[:10])
    month_index = day.month - 1 + n
    year, month = day.year + month_index // 12, month_index % 12 + 1
    next_month = date(year + (month == 12), month % 12 + 1, 1)
    return date(year, month, min(day.day, (next_month - timedelta(days=1)).day)).isoformat()


HELPERS: dict[str, Callable[..., Any]] = {
    "plazo_habil": plazo_habil,
    "plazo_natural": plazo_natural,
    "plazo_horas": plazo_horas,
    "plazo_meses": plazo_meses,
    "ahora": ahora,
    "hoy": hoy,
    "sumar_meses": sumar_meses,
}


def script_engine() -> RestrictedScriptEngine:
    """Diagrams read the legal parameters in force at start as ``parametros`` (workflow data)."""
    return RestrictedScriptEngine(HELPERS, workflow_globals=("parametros",))
