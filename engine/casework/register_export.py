"""The register of orders as people and the Banco Estatal read it, and the annual evaluation (Reglamento arts. 23, 28).

The export's format is documented by ``workflows/registro.schema.json`` (JSON; the CSV has the same
fields, one row per order or per violation). It carries the person each order is issued against, as
art. 28 requires, but never the protected person: the victim is identified in her case file, not in
the register. The annual evaluation (art. 23 III and IV) counts only, and draws no identifying data.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from engine.casework.register import entries, status_now
from engine.store.db import Database
from engine.store.models import Event, Instance, RegisterEntry, Task
from engine.store.states import EventKind
from engine.time import clock
from engine.time.hermosillo import HERMOSILLO

ORDER_FIELDS = ("folio", "estado", "institucion", "tipo_orden", "medidas", "autoridad_emisora", "persona_sujeta",
                "emitida", "vigencia_dias", "vigente_hasta", "prorrogas", "levantada", "sustituida_por",
                "orden_anterior", "motivo_negativa", "informe_a", "ultima_revaloracion", "caso")
VIOLATION_FIELDS = ("clave", "folio", "estado", "fecha_hechos", "fecha_reporte", "intervencion_policial",
                    "sancion_solicitada", "caso_sancion")
FORMATS = ("json", "csv")


@dataclass(frozen=True)
class Export:
    content: bytes
    mimetype: str
    filename: str
    count: int


def _sanction_cases(db: Database, instance_ids: set[int]) -> dict[int, list[int]]:
    """Sanction cases each order case started (messages.toml route), in the order they were started."""
    if not instance_ids:
        return {}
    with db.read() as s:
        rows = s.execute(select(Event.instance_id, Event.detail).where(
            Event.kind == EventKind.CASE_STARTED, Event.instance_id.in_(instance_ids)).order_by(Event.id)).all()
    out: dict[int, list[int]] = {}
    for iid, detail in rows:
        if isinstance(detail, dict) and detail.get("message") == "solicitud_procedimiento_sancion":
            out.setdefault(iid, []).append(int(detail["instance"]))
    return out


def orders(db: Database, *, year: int | None = None, status: str | None = None,
           now: datetime | None = None) -> list[dict[str, Any]]:
    """Every order of the register (issued or denied in ``year``), with its violations, as exported."""
    now = now or clock.now()
    found = entries(db, kind="orden", year=year)
    by_folio: dict[str, list[RegisterEntry]] = {}
    for v in entries(db, kind="violacion"):
        by_folio.setdefault(v.folio, []).append(v)
    sanctions = _sanction_cases(db, {e.instance_id for e in found})
    taken: dict[int, int] = {}
    out = []
    for e in found:
        row: dict[str, Any] = {k: e.data.get(k) for k in ORDER_FIELDS if k not in ("estado", "caso")}
        row["folio"], row["estado"], row["caso"] = e.folio, status_now(e, now), e.instance_id
        row["emitida"] = e.data.get("emitida") or e.data.get("fecha")
        violations = []
        for v in by_folio.get(e.folio, []):
            item = {"clave": v.key, "folio": v.folio, "estado": v.status, "fecha_hechos": v.data.get("fecha"),
                    "fecha_reporte": v.data.get("fecha_reporte"),
                    "intervencion_policial": v.data.get("intervencion_policial"),
                    "sancion_solicitada": v.data.get("sancion_solicitada"), "caso_sancion": None}
            if item["sancion_solicitada"]:
                started = sanctions.get(e.instance_id, [])
                n = taken.get(e.instance_id, 0)
                if n < len(started):
                    item["caso_sancion"], taken[e.instance_id] = started[n], n + 1
            violations.append(item)
        row["violaciones"] = violations
        if status is None or row["estado"] == status:
            out.append(row)
    return out


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "sí" if value else "no"
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


def export(rows: list[dict[str, Any]], fmt: str, content: str = "ordenes") -> Export:
    stamp = clock.now().astimezone(HERMOSILLO)
    name = f"registro-ordenes-{stamp:%Y%m%d-%H%M}"
    if fmt == "json":
        doc = {"generado": stamp.isoformat(timespec="seconds"),
               "fundamento": "Reglamento arts. 23, fracción IV, y 28", "ordenes": rows}
        return Export(json.dumps(doc, ensure_ascii=False, indent=2).encode(), "application/json", name + ".json",
                      len(rows))
    buf = io.StringIO()
    if content == "violaciones":
        fields, items = VIOLATION_FIELDS, [v for r in rows for v in r["violaciones"]]
        name += "-violaciones"
    else:
        fields, items = ORDER_FIELDS + ("violaciones",), [dict(r, violaciones=len(r["violaciones"])) for r in rows]
    writer = csv.writer(buf)
    writer.writerow(fields)
    for item in items:
        writer.writerow([_cell(item.get(f)) for f in fields])
    return Export(("\ufeff" + buf.getvalue()).encode(), "text/csv; charset=utf-8", name + ".csv", len(items))


def _year_of(value: datetime) -> int:
    return value.astimezone(HERMOSILLO).year


def evaluation(db: Database, year: int, now: datetime | None = None) -> dict[str, Any]:
    """Art. 23 III and IV for one year: counts only, no identifying data.

    * III: administrative procedures (sanction cases started in the year) and sanctions (resolutions
      dictated in the year);
    * IV: orders issued, denied, extended, lifted, left without effect and expired; violations of an
      order in force and reports about an order no longer in force; non-compliance (orders with at
      least one violation) and effectiveness (orders issued in the year with no violation, as a share).
    """
    now = now or clock.now()
    rows = orders(db, year=year, now=now)
    issued = [r for r in rows if r["estado"] != "negada"]
    by_status: dict[str, int] = {}
    for r in rows:
        by_status[r["estado"]] = by_status.get(r["estado"], 0) + 1
    violations = [v for v in entries(db, kind="violacion", year=year)]
    with db.read() as s:
        started = [_year_of(t) for (t,) in s.execute(select(Instance.started_at).where(
            Instance.process_key == "sancion")).all()]
        resolved = [_year_of(t) for (t,) in s.execute(select(Task.completed_at).where(
            Task.process_key == "sancion", Task.name == "dictar_resolucion", Task.state == "COMPLETED")).all()]
    breached = sum(1 for r in issued if any(v["estado"] == "violacion" for v in r["violaciones"]))
    return {
        "anio": year,
        "fundamento": "Reglamento art. 23, fracciones III y IV",
        "procedimientos_administrativos": started.count(year),
        "sanciones": resolved.count(year),
        "ordenes_emitidas": len(issued),
        "ordenes_negadas": by_status.get("negada", 0),
        "ordenes_prorrogadas": sum(1 for r in issued if r.get("prorrogas")),
        "ordenes_levantadas": by_status.get("levantada", 0),
        "ordenes_sin_efectos": by_status.get("sin_efectos", 0),
        "ordenes_vencidas": by_status.get("vencida", 0),
        "ordenes_vigentes": by_status.get("vigente", 0) + by_status.get("prorrogada", 0),
        "violaciones": sum(1 for v in violations if v.status == "violacion"),
        "reportes_orden_no_vigente": sum(1 for v in violations if v.status == "reporte_orden_no_vigente"),
        "intervenciones_policiales": sum(1 for v in violations if v.data.get("intervencion_policial")),
        "procedimientos_sancionadores_solicitados": sum(1 for v in violations if v.data.get("sancion_solicitada")),
        "ordenes_incumplidas": breached,
        "efectividad": round((len(issued) - breached) / len(issued), 4) if issued else None,
    }


def evaluation_export(figures: dict[str, Any], fmt: str) -> Export:
    name = f"evaluacion-anual-{figures['anio']}"
    if fmt == "json":
        return Export(json.dumps(figures, ensure_ascii=False, indent=2).encode(), "application/json",
                      name + ".json", 1)
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(["indicador", "valor"])
    for key, value in figures.items():
        writer.writerow([key, _cell(value)])
    return Export(("\ufeff" + buf.getvalue()).encode(), "text/csv; charset=utf-8", name + ".csv", 1)


def years(db: Database) -> list[int]:
    with db.read() as s:
        return [y for (y,) in s.execute(select(RegisterEntry.year).group_by(RegisterEntry.year)
                                        .order_by(func.max(RegisterEntry.year).desc())).all()]
