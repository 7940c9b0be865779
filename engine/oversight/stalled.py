"""Which cases stopped moving, why, and since when.

A case is stalled, with one row per reason and step, when

- ``overdue``: an open task is past its legal due date (since: the due date);
- ``idle``: an open task has not moved for N días hábiles, N from the procedure's deployed
  ``supervision`` part (``workflows/supervision.toml``) for that step, else the step's own legal term
  when it is counted in días hábiles (since: the end of the N-th business day after the step opened;
  claiming or reassigning it is not progress);
- ``timer``: a timer is past due and has not fired: the timer service is down or failing (since: its
  due date, after a grace of :data:`TIMER_GRACE`);
- ``message``: it waits for a message longer than its ``supervision`` part allows at that event
  (since: the end of that term);
- ``error``: it is in error (since: its unresolved incident, i.e. the last failure; a failed retry
  resolves the old incident and opens a new one).

Only running cases can be stalled for the first four reasons: a suspended case was stopped on purpose.
This module holds the rows and their order; ``engine.oversight.stalled_sql`` finds them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Iterable

from sqlalchemy import Select

from engine.store.models import CONSOLE_INDEX, Instance

TIMER_GRACE = timedelta(minutes=5)
REASONS = ("overdue", "idle", "timer", "message", "error")
REASON_LABELS = {"overdue": "Plazo legal vencido", "idle": "Sin actividad", "timer": "Temporizador sin disparar",
                 "message": "Espera de mensaje excedida", "error": "Con incidente"}


@dataclass(frozen=True)
class StalledRow:
    instance_id: int
    reference: str | None
    process_key: str
    process_name: str | None
    step: str | None  # BPMN element id
    step_title: str | None
    holder: str | None  # the assignee, else ``grupo:<candidate group>``
    reason: str
    since: datetime
    late_seconds: int
    citation: str | None = None

    @property
    def reason_label(self) -> str:
        return REASON_LABELS[self.reason]


def via_console_index(q: Select[Any]) -> Select[Any]:
    """Reach the case row through ``CONSOLE_INDEX`` on SQLite (see engine.store.models)."""
    return q.with_hint(Instance, f"INDEXED BY {CONSOLE_INDEX}", "sqlite")


SORTS = {"caso": lambda r: (r.reference or "", r.instance_id), "paso": lambda r: (r.step_title or r.step or ""),
         "responsable": lambda r: r.holder or "", "motivo": lambda r: r.reason, "retraso": lambda r: -r.late_seconds}


def select_rows(rows: Iterable[StalledRow], *, reason: str | None = None, step: str | None = None,
                holder: str | None = None, sort: str = "retraso", descending: bool = False) -> list[StalledRow]:
    """Filter by reason, step or holder and sort by one column (``SORTS``)."""
    picked = [r for r in rows if (not reason or r.reason == reason) and (not step or r.step == step)
              and (not holder or r.holder == holder)]
    picked.sort(key=SORTS.get(sort, SORTS["retraso"]), reverse=descending)
    return picked
