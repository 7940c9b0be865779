"""The helpers diagrams may call, and the script engine that offers them.

Legal deadlines are computed here from case data (never as bare durations, which
SpiffWorkflow counts from whenever the engine reached the timer). Each helper
returns an ISO 8601 string with its offset and records the full explanation of the
deadline, which the engine stores beside the timer and the task's due date.
"""

from __future__ import annotations

import contextvars
from typing import Any, Callable

from engine.time import clock
from engine.script.sandbox import RestrictedScriptEngine

_computed: contextvars.ContextVar[dict[str, dict[str, Any]] | None] = contextvars.ContextVar("deadlines", default=None)


# The calendar deadlines are counted on during one transition, asked for once: (version, calendar).
_calendar_source: contextvars.ContextVar[Callable[[], tuple[int | None, Any]] | None] = contextvars.ContextVar(
    "calendar", default=None)


# The newest values by period (the UMA) deployed: a period loaded after a case started lets it go on.
_periods_source: contextvars.ContextVar[Callable[[], tuple[int | None, dict[str, Any]]] | None] = \
    contextvars.ContextVar("periods", default=None)


class DeadlineLog:
    """Collects the explanations of the deadlines computed during one transition, by ISO value.

    ``calendar`` gives the legal calendar in force and its version (the engine's newest deployed
    calendar); it is asked for at most once, when the first deadline is counted, and each
    explanation records the version as ``calendar_version``.
    """

    def __init__(self, calendar: Callable[[], tuple[int | None, Any]] | None = None,
                 periods: Callable[[], tuple[int | None, dict[str, Any]]] | None = None) -> None:
        self._calendar = calendar
        self._periods = periods

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
        self._periods_token = _periods_source.set(self._periods)
        return self._entries

    def __exit__(self, *exc: object) -> None:
        _periods_source.reset(self._periods_token)
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


def plazo_meses(inicio: Any, n: int, regla: str, cita: str | None = None) -> str:
    """A term of ``n`` months (a year is 12) by ``regla``: "administrativa" (LFPA art. 29) or "prescripcion"
    (Código Civil art. 1180). The rule is a cited parameter, never chosen here; see docs/terms.md."""
    from engine.time.months import months

    return _record(months(_versioned_calendar()[1], inicio, n, regla, citation=cita))


def dia_siguiente(fecha: Any) -> str:
    """The calendar day after ``fecha`` (its Hermosillo date), e.g. the first day a barred request is admissible."""
    from datetime import timedelta

    from engine.time.hermosillo import to_local

    return (to_local(fecha).date() + timedelta(days=1)).isoformat()


def uma_vigente(periodos: Any, fecha: Any) -> float | None:
    """The daily UMA in force on ``fecha`` (periods of ``[uma.periodos]``), or None when no period holds it.

    Looked up, never indexed: a date outside the loaded periods is a message on the task, not an error.
    The case's own copy of the parameters is read first; a period loaded after the case started is then
    read from the newest deployed ``periodos`` (a published UMA value never changes), so deploying it lets the case
    go on.
    """
    day = str(fecha)[:10]

    def find(items: Any) -> float | None:
        for p in items or []:
            if isinstance(p, dict) and str(p.get("desde")) <= day <= str(p.get("hasta")):
                return p.get("valor")
        return None

    found = find(periodos)
    source = _periods_source.get()
    if found is None and source is not None:
        found = find(((source()[1].get("uma") or {}).get("periodos")))
    return found


def ahora() -> str:
    from engine.time.hermosillo import HERMOSILLO

    return clock.now().astimezone(HERMOSILLO).isoformat(timespec="seconds")


def hoy() -> str:
    return ahora()[:10]


# Case-level facts every branch of a case reads (workflow globals, like ``parametros``) and scripts
# write with ``publicar``: the protection order in force, which the parallel branches (violations,
# follow-up, vigencia) must all see as it changes (issue, extension, lifting, a new order).
PUBLISHED = ("orden_vigente",)


def publicar(nombre: str, valor: Any) -> bool:
    """Set a case-level fact that every branch of the case reads (``orden_vigente``).

    Task data is copied per parallel branch in SpiffWorkflow, so a value a branch writes is not
    seen by its siblings; a fact about the whole case (the order now in force) is kept once, in
    the case's own data, and read by every expression as a global.
    """
    from engine.script.sandbox import CURRENT_TASK

    if nombre not in PUBLISHED:
        raise ValueError(f"publicar: {nombre!r} no es un dato del caso; use {', '.join(PUBLISHED)}")
    task = CURRENT_TASK.get()
    if task is None:
        raise ValueError("publicar solo puede usarse en una tarea de script")
    task.workflow.top_workflow.data[nombre] = valor
    return True


def hora_local(valor: Any) -> str:
    """An instant as Hermosillo ISO text (``2026-03-05T22:00:00-07:00``), so instants compare as text."""
    from engine.time.hermosillo import to_local

    return to_local(valor).isoformat(timespec="seconds")


HELPERS: dict[str, Callable[..., Any]] = {
    "publicar": publicar,
    "hora_local": hora_local,
    "plazo_habil": plazo_habil,
    "plazo_natural": plazo_natural,
    "plazo_horas": plazo_horas,
    "plazo_meses": plazo_meses,
    "dia_siguiente": dia_siguiente,
    "uma_vigente": uma_vigente,
    "ahora": ahora,
    "hoy": hoy,
}


def script_engine(db: Any = None) -> RestrictedScriptEngine:
    """Diagrams read the legal parameters in force at start as ``parametros`` (workflow data).

    With the database, diagrams may also reserve folios (``folio("OP", "FGJE", fecha_emision)``,
    Reglamento art. 43) and inscribe acts in the register of orders (``inscribir``, art. 28); see
    ``engine.casework.register`` for why a folio is reserved outside the transition's own write.
    """
    from functools import partial

    from engine.casework import register

    helpers = dict(HELPERS, inscribir=register.inscribir)
    if db is not None:
        helpers["folio"] = partial(register.reserve_folio, db)
    return RestrictedScriptEngine(helpers, workflow_globals=("parametros", *PUBLISHED))
