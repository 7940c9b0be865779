"""Documents generated from a case: the protection order (Reglamento art. 43).

The order is its own document and states the date, time and place of issue, its
vigencia, the protected person, the person it is issued against, the type of
order and the issuing authority. Its content comes from the case data; which
data key holds each item is looked up among the names the procedure's forms use.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fpdf import FPDF

from engine.calendar import HERMOSILLO, to_local
from engine.errors import NotFound

# Procedures whose cases produce a protection order (by key prefix: orden_proteccion and its variants).
PROTECTION_ORDER_PREFIX = "orden_"

# What art. 43 requires -> the data keys that may hold it, in order of preference.
ORDER_FIELDS: dict[str, tuple[str, ...]] = {
    "fecha_emision": ("fecha_emision", "fecha_hora_emision", "emitida_en", "fecha_orden", "fecha"),
    "hora_emision": ("hora_emision", "hora"),
    "lugar": ("lugar_emision", "lugar", "lugar_expedicion", "municipio"),
    "vigencia": ("vigencia", "vigencia_texto", "vigencia_dias", "vigencia_horas", "duracion_dias", "duracion"),
    "vigencia_inicio": ("vigencia_inicio", "inicio_vigencia"),
    "vigencia_fin": ("vigencia_fin", "fin_vigencia", "vence_el", "vigencia_hasta"),
    "persona_protegida": ("persona_protegida", "victima_nombre", "nombre_victima", "nombre_persona_protegida"),
    "persona_contra": ("persona_contra", "agresor_nombre", "nombre_agresor", "persona_agresora",
                       "nombre_persona_agresora", "contra_quien"),
    "tipo": ("tipo_orden", "tipo", "tipo_orden_emitida", "medidas"),
    "autoridad": ("autoridad_emisora", "autoridad", "autoridad_que_emite"),
    "folio": ("folio_orden", "numero_orden", "folio"),
    "medidas": ("medidas", "medidas_ordenadas", "medidas_proteccion"),
}
REQUIRED = ("persona_protegida", "persona_contra", "tipo", "autoridad")

LABELS = {
    "fecha_emision": "Fecha de emisión",
    "hora_emision": "Hora de emisión",
    "lugar": "Lugar de emisión",
    "vigencia": "Vigencia",
    "persona_protegida": "Persona protegida",
    "persona_contra": "Persona contra quien se emite",
    "tipo": "Tipo de orden",
    "autoridad": "Autoridad emisora",
    "medidas": "Medidas ordenadas",
}


@dataclass(frozen=True)
class DocumentInfo:
    slug: str
    title: str
    citation: str


def _pick(data: dict[str, Any], key: str) -> Any:
    for name in ORDER_FIELDS[key]:
        value = data.get(name)
        if value not in (None, "", [], {}):
            return value
    for nested in ("orden", "orden_proteccion", "emision"):
        if isinstance(data.get(nested), dict):
            found = _pick(data[nested], key)
            if found not in (None, ""):
                return found
    return None


def available(process_key: str, data: dict[str, Any], status: str = "running") -> list[DocumentInfo]:
    """The documents a case can produce now (the order once it has been issued)."""
    if process_key.startswith(PROTECTION_ORDER_PREFIX) and all(_pick(data, k) not in (None, "") for k in REQUIRED):
        return [DocumentInfo("orden-proteccion", "Orden de protección", "Reglamento art. 43")]
    return []


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "Sí" if value else "No"
    if isinstance(value, list):
        return "; ".join(_text(v) for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{k}: {_text(v)}" for k, v in value.items())
    if isinstance(value, str):
        try:
            if len(value) >= 16 and value[4] == "-" and "T" in value:
                return to_local(value).strftime("%d/%m/%Y %H:%M")
            if len(value) == 10 and value[4] == "-" and value[7] == "-":
                return datetime.fromisoformat(value).strftime("%d/%m/%Y")
        except ValueError:
            pass
    return str(value)


def order_fields(data: dict[str, Any], issued_at: datetime | None = None) -> dict[str, str]:
    """The art. 43 items as text, falling back to the issuing instant for date and time."""
    out: dict[str, str] = {}
    issued = _pick(data, "fecha_emision")
    when = None
    if isinstance(issued, str) and "T" in issued:
        try:
            when = to_local(issued)
        except ValueError:
            when = None
    if when is None and issued_at is not None:
        when = issued_at.astimezone(HERMOSILLO)
    out["fecha_emision"] = when.strftime("%d/%m/%Y") if when and not (isinstance(issued, str) and "T" not in issued) \
        else _text(issued) if issued else "—"
    hora = _pick(data, "hora_emision")
    out["hora_emision"] = _text(hora) if hora else (when.strftime("%H:%M") + " (hora de Hermosillo)" if when else "—")
    for key in ("lugar", "persona_protegida", "persona_contra", "tipo", "autoridad", "medidas"):
        value = _pick(data, key)
        out[key] = _text(value) if value not in (None, "") else "—"
    vig = _pick(data, "vigencia")
    start, end = _pick(data, "vigencia_inicio"), _pick(data, "vigencia_fin")
    parts = []
    if vig not in (None, ""):
        parts.append(_text(vig) + (" días" if isinstance(vig, int) and not isinstance(vig, bool) else ""))
    if start:
        parts.append(f"desde {_text(start)}")
    if end:
        parts.append(f"hasta {_text(end)}")
    out["vigencia"] = " ".join(parts) or "—"
    folio = _pick(data, "folio")
    out["folio"] = _text(folio) if folio else ""
    return out


def _latin1(text: str) -> str:
    table = {"—": "-", "–": "-", "“": '"', "”": '"', "‘": "'", "’": "'", "…": "...", "•": "*"}
    text = "".join(table.get(c, c) for c in text)
    return text.encode("latin-1", "replace").decode("latin-1")


def protection_order_pdf(*, instance_id: int, reference: str | None, process_key: str, data: dict[str, Any],
                         issued_at: datetime | None, generated_at: datetime, generated_by: str) -> bytes:
    if not available(process_key, data):
        raise NotFound("La orden de protección aún no ha sido emitida en este expediente.", field="document")
    fields = order_fields(data, issued_at)
    pdf = FPDF(format="Letter")
    pdf.set_title("Orden de protección")
    pdf.set_author(_latin1(fields["autoridad"]))
    pdf.set_creator("Tramita")
    pdf.set_margins(22, 20, 22)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 11)
    pdf.cell(0, 6, _latin1(fields["autoridad"]).upper(), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_font("Helvetica", "B", 16)
    pdf.cell(0, 10, _latin1("ORDEN DE PROTECCIÓN"), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 10)
    sub = f"Expediente {reference or instance_id}"
    if fields["folio"]:
        sub += f" - Folio {fields['folio']}"
    pdf.cell(0, 6, _latin1(sub), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(6)
    pdf.set_font("Helvetica", "", 11)
    pdf.multi_cell(0, 6, _latin1(
        "Con fundamento en los artículos 41 a 44 del Reglamento de la Ley de Acceso de las Mujeres a una Vida "
        "Libre de Violencia para el Estado de Sonora, la autoridad que suscribe emite la presente orden de "
        "protección, en los términos siguientes:"), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    for key in ("fecha_emision", "hora_emision", "lugar", "vigencia", "persona_protegida", "persona_contra", "tipo",
                "autoridad", "medidas"):
        if key == "medidas" and fields[key] in ("—", fields["tipo"]):
            continue
        pdf.set_font("Helvetica", "B", 11)
        pdf.cell(62, 8, _latin1(LABELS[key] + ":"), border="B")
        pdf.set_font("Helvetica", "", 11)
        pdf.multi_cell(0, 8, _latin1(fields[key]), border="B", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(6)
    pdf.set_font("Helvetica", "", 10)
    pdf.multi_cell(0, 5, _latin1(
        "Notifíquese a las autoridades encargadas de su ejecución. La persona contra quien se emite la orden "
        "no será notificada por conducto de la persona protegida (LGAMVLV art. 34 Decies). El incumplimiento de "
        "esta orden se sancionará en términos de los artículos 23 fracción IV, 28 y 44 del Reglamento."),
        new_x="LMARGIN", new_y="NEXT")
    pdf.ln(18)
    pdf.cell(0, 6, "_______________________________________", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.cell(0, 6, _latin1(fields["autoridad"]), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_y(-25)
    pdf.set_font("Helvetica", "I", 8)
    stamp = generated_at.astimezone(HERMOSILLO).strftime("%d/%m/%Y %H:%M")
    pdf.multi_cell(0, 4, _latin1(f"Documento generado por Tramita el {stamp} (hora de Hermosillo) por "
                                 f"{generated_by}. Reglamento art. 43. Contiene datos personales "
                                 "reservados: su divulgación está prohibida."), align="C")
    return bytes(pdf.output())
