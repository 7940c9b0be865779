"""The supervision thresholds of ``workflows/supervision.toml``: per step, with the article that sets them.

The file is a part of the bundle like ``lanes.toml``: deployed, pinned by each version, and read from
the newest version of each procedure (``Runtime.newest_parts("supervision")``), never from disk. A
procedure's thresholds are those under its own key in its own newest version.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from engine.errors import InvalidInput


@dataclass(frozen=True)
class Threshold:
    process_key: str
    element: str
    value: int
    unit: str  # business | natural | hours
    citation: str


@dataclass(frozen=True)
class Supervision:
    idle: dict[tuple[str, str], Threshold]  # (process, task) -> N business days without activity
    message_waits: dict[tuple[str, str], Threshold]  # (process, catch event) -> longest wait


def _threshold(key: str, element: str, entry: Any, where: str) -> Threshold:
    if not isinstance(entry, dict) or not isinstance(entry.get("value"), int) or entry["value"] < 1:
        raise InvalidInput(f"{where}: «value» debe ser un entero positivo.", field=where)
    citation = str(entry.get("citation") or "").strip()
    if not citation:
        raise InvalidInput(f"{where}: falta «citation», el artículo que fija el umbral.", field=where)
    unit = str(entry.get("unit") or "business")
    if unit not in ("business", "natural", "hours"):
        raise InvalidInput(f"{where}: unidad desconocida {unit!r}.", field=where)
    return Threshold(key, element, entry["value"], unit, citation)


def parse(raw: dict[str, Any], process_key: str | None = None) -> Supervision:
    """The thresholds of a parsed ``supervision`` part (only ``process_key``'s when given); a malformed
    entry is refused, naming it."""
    idle: dict[tuple[str, str], Threshold] = {}
    waits: dict[tuple[str, str], Threshold] = {}
    for key, tables in raw.items():
        if not isinstance(tables, dict) or (process_key is not None and key != process_key):
            continue
        for element, entry in (tables.get("sin_actividad") or {}).items():
            t = _threshold(key, element, entry, f"{key}.sin_actividad.{element}")
            if t.unit != "business":
                raise InvalidInput(f"{key}.sin_actividad.{element}: se cuenta en días hábiles.", field=element)
            idle[(key, element)] = t
        for element, entry in (tables.get("espera_mensaje") or {}).items():
            waits[(key, element)] = _threshold(key, element, entry, f"{key}.espera_mensaje.{element}")
    return Supervision(idle, waits)


def of_procedures(parts: dict[str, dict[str, Any]]) -> Supervision:
    """Every procedure's thresholds, each from its own part: process key -> its newest ``supervision``."""
    idle: dict[tuple[str, str], Threshold] = {}
    waits: dict[tuple[str, str], Threshold] = {}
    for key, raw in parts.items():
        own = parse(raw, key)
        idle.update(own.idle)
        waits.update(own.message_waits)
    return Supervision(idle, waits)
