"""The register of protection orders and their violations (Reglamento arts. 23 III–IV, 28, 43), and folios.

**Folios.** ``reserve_folio`` gives the next number of a series (``OP-FGJE``) and year from
``folio_counters`` with one ``INSERT ... ON CONFLICT DO UPDATE ... RETURNING``: the row's primary
key makes concurrent issuers queue, so no two orders share a folio on either database. Diagram
scripts run *before* a transition takes the write lock (``engine.run.transitions``), so the number
is reserved in a short transaction of its own (or in the transition's, when the script runs inside
one, e.g. ``retry``): folios are unique and increasing, but a transition that fails or is re-run
after a concurrent change leaves a gap. Gaps are harmless (a folio identifies, it does not count)
and cheaper than holding SQLite's single writer lock while a whole diagram step runs.

**Entries.** The register is written from what the scripts of the act inscribe (``inscribir``):
the entries are collected while the transition runs and written by ``flush`` in the same write
transaction as the case's new state, so the register never holds an act the case does not, and a
failed or retried transition leaves no entry. A table (rather than reading every case's data on
each read) keeps the register and its yearly figures one indexed query away.
"""

from __future__ import annotations

import contextvars
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.store.db import Database
from engine.store.models import FolioCounter, RegisterEntry
from engine.store.states import EventKind
from engine.time import clock

KINDS = ("orden", "violacion")
# Reglamento art. 28 and issue 10: the statuses an order can have in the register.
STATUSES = ("vigente", "prorrogada", "levantada", "negada", "sin_efectos", "vencida")
VIOLATION_STATUSES = ("violacion", "reporte_orden_no_vigente")

_pending: contextvars.ContextVar[list[tuple[str, str, dict[str, Any]]] | None] = contextvars.ContextVar(
    "register_pending", default=None)


# --- folios ------------------------------------------------------------------------------------------

def _upsert(session: Session, series: str, year: int) -> int:
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    stmt = insert(FolioCounter).values(series=series, year=year, last_value=1)
    stmt = stmt.on_conflict_do_update(index_elements=["series", "year"],
                                      set_={"last_value": FolioCounter.last_value + 1})
    return int(session.execute(stmt.returning(FolioCounter.last_value)).scalar_one())


def reserve_folio(db: Database, prefix: str, institution: str, when: str, digits: int = 6) -> str:
    """``OP-FGJE-2026-000123``: the next number of ``prefix``-``institution`` in the year of ``when``.

    ``when`` is the ISO instant of the act (Hermosillo time, as ``ahora()`` gives it): its year is
    the year of the folio.
    """
    for name, value in (("prefijo", prefix), ("institucion", institution)):
        if not isinstance(value, str) or not value.isalnum() or not value.isupper():
            raise ValueError(f"folio: {name} debe ser una clave en mayúsculas sin espacios, no {value!r}")
    year = datetime.fromisoformat(str(when)).year
    series = f"{prefix}-{institution}"
    writer = db.current_writer()
    if writer is not None:
        number = _upsert(writer, series, year)
    else:
        with db.write() as s:
            number = _upsert(s, series, year)
    return f"{series}-{year}-{number:0{digits}d}"


# --- entries -----------------------------------------------------------------------------------------

def begin() -> None:
    """Start collecting the entries of one attempt of a transition (a re-run starts afresh)."""
    _pending.set([])


def inscribir(tipo: str, clave: str, datos: dict[str, Any]) -> bool:
    """Diagram helper: inscribe (or update) an entry of the register with this transition's act.

    ``tipo`` is ``orden`` or ``violacion``; ``clave`` identifies the entry (the folio for an order);
    ``datos`` must carry ``folio``, ``estado`` and ``fecha`` (ISO). Later calls for the same entry
    merge their data into it (an extension adds to ``versiones``, a lifting changes ``estado``).
    """
    if tipo not in KINDS:
        raise ValueError(f"inscribir: tipo {tipo!r} desconocido; use {', '.join(KINDS)}")
    if not isinstance(datos, dict) or not {"folio", "estado", "fecha"} <= set(datos):
        raise ValueError("inscribir: los datos deben tener folio, estado y fecha")
    allowed = STATUSES if tipo == "orden" else VIOLATION_STATUSES
    if datos["estado"] not in allowed:
        raise ValueError(f"inscribir: estado {datos['estado']!r} desconocido; use {', '.join(allowed)}")
    pending = _pending.get()
    if pending is None:  # outside a transition (a test evaluating a script): nothing to write
        pending = []
        _pending.set(pending)
    pending.append((tipo, str(clave), dict(datos)))
    return True


def discard() -> None:
    _pending.set([])


def flush(session: Session, instance_id: int) -> None:
    """Write the collected entries in the transition's own transaction."""
    pending = _pending.get() or []
    _pending.set([])
    now = clock.now()
    for kind, key, data in pending:
        at = datetime.fromisoformat(str(data["fecha"]))
        row = session.execute(select(RegisterEntry).where(RegisterEntry.kind == kind, RegisterEntry.key == key)
                              ).scalar_one_or_none()
        if row is None:
            session.add(RegisterEntry(instance_id=instance_id, kind=kind, key=key, folio=str(data["folio"]),
                                      year=at.year, status=str(data["estado"]), at=at, updated_at=now, data=data))
        else:
            row.data = {**row.data, **data}
            row.status = str(data["estado"])
            row.updated_at = now
    session.flush()


def entries(db: Database, *, kind: str | None = None, year: int | None = None,
            folio: str | None = None) -> list[RegisterEntry]:
    with db.read() as s:
        q = select(RegisterEntry).order_by(RegisterEntry.at, RegisterEntry.id)
        if kind:
            q = q.where(RegisterEntry.kind == kind)
        if year:
            q = q.where(RegisterEntry.year == year)
        if folio:
            q = q.where(RegisterEntry.folio == folio)
        return list(s.execute(q).scalars())


def status_now(entry: RegisterEntry, now: datetime) -> str:
    """The status as of ``now``: an order still «vigente» or «prorrogada» whose vigencia has ended is «vencida».

    Derived when read rather than written by a timer, so the register is right even if the scheduler
    was down, and the lapse of an order nobody reassessed in time shows (LGAMVLV art. 34 Septies).
    """
    if entry.kind == "orden" and entry.status in ("vigente", "prorrogada"):
        until = entry.data.get("vigente_hasta")
        if isinstance(until, str) and until and datetime.fromisoformat(until) < now:
            return "vencida"
    return entry.status


def audit(db: Database, actor: str, kind: EventKind, detail: dict[str, Any]) -> None:
    """Every read and export of the register is on the audit trail (who, when, what was asked, how many)."""
    from engine.store.models import Event

    with db.write() as s:
        s.add(Event(instance_id=None, task_id=None, at=clock.now(), actor=actor, kind=kind, detail=detail))
