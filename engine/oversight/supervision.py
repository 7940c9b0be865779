"""The supervision thresholds of ``workflows/supervision.toml``: per step, with the article that sets them."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
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


def load(path: Path) -> Supervision:
    """Read the file (absent: no thresholds); a malformed entry is refused, naming it."""
    if not path.exists():
        return Supervision({}, {})
    with path.open("rb") as f:
        raw = tomllib.load(f)
    idle: dict[tuple[str, str], Threshold] = {}
    waits: dict[tuple[str, str], Threshold] = {}
    for key, tables in raw.items():
        if not isinstance(tables, dict):
            continue
        for element, entry in (tables.get("sin_actividad") or {}).items():
            t = _threshold(key, element, entry, f"{key}.sin_actividad.{element}")
            if t.unit != "business":
                raise InvalidInput(f"{key}.sin_actividad.{element}: se cuenta en días hábiles.", field=element)
            idle[(key, element)] = t
        for element, entry in (tables.get("espera_mensaje") or {}).items():
            waits[(key, element)] = _threshold(key, element, entry, f"{key}.espera_mensaje.{element}")
    return Supervision(idle, waits)
