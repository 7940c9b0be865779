"""Documents generated from a case: the protection order (Reglamento art. 43).

The order is its own document and states the date, time and place of issue, its
vigencia, the protected person, the person it is issued against, the type of
order and the issuing authority. ``orden_proteccion.bpmn`` composes it in the
script task «Generar el documento de la orden» (``generar_documento_orden``),
which writes ``documento_orden`` (the document's content), ``registro_orden``
(its entry in the registry of orders, art. 28) and the top-level ``folio_orden``,
``fecha_emision``, ``vigencia_hasta`` and ``numero_orden``; the rest comes from
the issuing form (``emitir_orden``: ``tipo_orden``, ``vigencia_dias``, ``medidas``,
``lugar_emision``, ``autoridad_emisora``, ``persona_agresora``,
``fundamentacion``) and the request (``nombre_victima``). The PDF is rendered
from ``documento_orden``, item by item, and falls back to those top-level keys.
Each extension (LGAMVLV art. 28) is a new version of the document, kept in
``documentos_orden``; ``version`` picks one. The texts around the items come from
``workflows/documentos.toml``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fpdf import FPDF

from engine.time.hermosillo import HERMOSILLO, to_local
from engine.errors import NotFound

# The procedure whose cases produce a protection order, and the key its diagram writes the document to.
PROTECTION_ORDER_PROCESS = "orden_proteccion"
DOCUMENT_KEY = "documento_orden"
REGISTRY_KEY = "registro_orden"

# Art. 43 item -> (key in documento_orden, fallback key in the case data).
ORDER_FIELDS: dict[str, tuple[str, str]] = {
    "folio": ("folio", "folio_orden"),
    "fecha": ("fecha", "fecha_emision"),
    "hora": ("hora", "fecha_emision"),
    "lugar": ("lugar", "lugar_emision"),
    "vigencia_dias": ("vigencia_dias", "vigencia_dias"),
    "vigente_hasta": ("vigente_hasta", "vigencia_hasta"),
    "persona_protegida": ("persona_protegida", "nombre_victima"),
    "persona_contra": ("persona_contra_quien_se_expide", "persona_agresora"),
    "tipo": ("tipo_orden", "tipo_orden"),
    "medidas": ("medidas", "medidas"),
    "autoridad": ("autoridad_emisora", "autoridad_emisora"),
    "fundamento": ("fundamento", ""),
}
# What the order cannot go without (art. 43); without them the PDF is not offered.
REQUIRED = ("persona_protegida", "tipo", "autoridad", "lugar", "vigencia_dias")

# The order types of the issuing form (orden_proteccion_emision.schema.json, Reglamento arts. 41 y 42).
TIPO_LABELS = {"emergencia": "De emergencia", "preventiva": "Preventiva", "naturaleza_civil": "De naturaleza civil"}

LABELS = {
    "fecha": "Fecha de emisión",
    "hora": "Hora de emisión",
    "lugar": "Lugar de emisión",
    "vigencia": "Vigencia",
    "persona_protegida": "Persona protegida",
    "persona_contra": "Persona contra quien se expide",
    "tipo": "Tipo de orden",
    "autoridad": "Autoridad que la emite",
    "medidas": "Medidas de protección que se ordenan",
}


@dataclass(frozen=True)
class DocumentInfo:
    slug: str
    title: str
    citation: str


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def _pick(data: dict[str, Any], item: str) -> Any:
    doc_key, data_key = ORDER_FIELDS[item]
    doc = data.get(DOCUMENT_KEY)
    if isinstance(doc, dict) and not _empty(doc.get(doc_key)):
        return doc[doc_key]
    return data.get(data_key) if data_key else None


def is_protection_order(process_key: str) -> bool:
    return process_key == PROTECTION_ORDER_PROCESS or process_key.startswith(PROTECTION_ORDER_PROCESS + "_")


def available(process_key: str, data: dict[str, Any]) -> list[DocumentInfo]:
    """The documents a case can produce now: the order, once the diagram has generated it."""
    if is_protection_order(process_key) and isinstance(data.get(DOCUMENT_KEY), dict) \
            and all(not _empty(_pick(data, k)) for k in REQUIRED):
        return [DocumentInfo("orden-proteccion", "Orden de protección", "Reglamento art. 43")]
    return []


def _local(value: Any) -> datetime | None:
    if isinstance(value, str) and len(value) >= 16 and "T" in value:
        try:
            return to_local(value)
        except ValueError:
            return None
    return None


def _date(value: Any) -> str:
    when = _local(value)
    if when is not None:
        return when.strftime("%d/%m/%Y")
    if isinstance(value, str) and len(value) == 10 and value[4] == "-":
        try:
            return datetime.fromisoformat(value).strftime("%d/%m/%Y")
        except ValueError:
            pass
    return _text(value)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "Sí" if value else "No"
    if isinstance(value, list):
        return "; ".join(_text(v) for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{k}: {_text(v)}" for k, v in value.items())
    return "" if value is None else str(value)


def order_fields(data: dict[str, Any], issued_at: datetime | None = None) -> dict[str, str]:
    """The art. 43 items as text; date and time fall back to the instant the issuing task was completed."""
    out: dict[str, str] = {}
    fecha, hora = _pick(data, "fecha"), _pick(data, "hora")
    when = _local(fecha) or (issued_at.astimezone(HERMOSILLO) if issued_at else None)
    out["fecha"] = _date(fecha) if fecha and not _local(fecha) else when.strftime("%d/%m/%Y") if when else "—"
    if isinstance(hora, str) and not _local(hora) and len(hora) >= 5:
        out["hora"] = hora[:5] + " horas (hora de Hermosillo)"
    elif when is not None:
        out["hora"] = when.strftime("%H:%M") + " horas (hora de Hermosillo)"
    else:
        out["hora"] = "—"
    for item in ("lugar", "persona_protegida", "persona_contra", "autoridad"):
        value = _pick(data, item)
        out[item] = _text(value) if not _empty(value) else "—"
    tipo = _pick(data, "tipo")
    out["tipo"] = TIPO_LABELS.get(str(tipo), _text(tipo).replace("_", " ").capitalize()) if not _empty(tipo) else "—"
    medidas = _pick(data, "medidas")
    out["medidas"] = "\n".join(f"{n}. {_text(m)}" for n, m in enumerate(medidas, 1)) \
        if isinstance(medidas, list) and medidas else _text(medidas) if not _empty(medidas) else "—"
    dias, hasta = _pick(data, "vigencia_dias"), _pick(data, "vigente_hasta")
    parts = []
    if not _empty(dias):
        parts.append(f"{_text(dias)} {'día natural' if dias == 1 else 'días naturales'}")
    if not _empty(hasta):
        doc = data.get(DOCUMENT_KEY) if isinstance(data.get(DOCUMENT_KEY), dict) else {}
        since = _date(doc["vigente_desde"]) if doc.get("vigente_desde") else out["fecha"]  # an extension's own date
        start = f"del {since} " if since != "—" else ""
        parts.append(f"({start}al {_date(hasta)})")
    extended = data.get("vigencia_hasta")
    if data.get("prorrogas_usadas") and not _empty(extended) and extended != hasta:
        parts.append(f"; prorrogada hasta el {_date(extended)} (LGAMVLV art. 28)")
    out["vigencia"] = " ".join(parts).replace(" ;", ";") or "—"
    folio = _pick(data, "folio")
    out["folio"] = _text(folio) if not _empty(folio) else ""
    fundamento = _pick(data, "fundamento")
    out["fundamento"] = _text(fundamento) if not _empty(fundamento) else "Reglamento art. 43"
    doc = data.get(DOCUMENT_KEY) if isinstance(data.get(DOCUMENT_KEY), dict) else {}
    motivacion = doc.get("fundamentacion") or data.get("fundamentacion")  # an extension's own reasons
    out["fundamentacion"] = _text(motivacion) if not _empty(motivacion) else ""
    registro = data.get(REGISTRY_KEY)
    out["registro"] = _text(registro.get("fundamento")) if isinstance(registro, dict) and registro.get("fundamento") \
        else ""
    return out


def _latin1(text: str) -> str:
    table = {"—": "-", "–": "-", "“": '"', "”": '"', "‘": "'", "’": "'", "…": "...", "•": "*", "−": "-"}
    text = "".join(table.get(c, c) for c in text)
    return text.encode("latin-1", "replace").decode("latin-1")


class _OrderPDF(FPDF):
    """Letter size, with the generation note and the page number at the foot of every page."""

    def __init__(self, note: str) -> None:
        super().__init__(format="Letter")
        self.note = note

    def footer(self) -> None:
        self.set_y(-22)
        self.set_font("Helvetica", "I", 8)
        self.multi_cell(0, 4, self.note, align="C", new_x="LMARGIN", new_y="NEXT")
        self.cell(0, 4, f"Página {self.page_no()} de {{nb}}", align="C")


VERSIONS_KEY = "documentos_orden"


def versions(data: dict[str, Any]) -> list[dict[str, Any]]:
    """Every version of the order (its issue and each extension, LGAMVLV art. 28), oldest first."""
    found = data.get(VERSIONS_KEY)
    return [v for v in found if isinstance(v, dict)] if isinstance(found, list) else []


def version_data(data: dict[str, Any], version: int | None) -> dict[str, Any]:
    """The case data as the PDF of one version reads it: that version's document, its own vigencia."""
    if version is None:
        return data
    found = versions(data)
    if not 1 <= version <= len(found):
        raise NotFound(f"La orden no tiene la versión {version}; tiene {len(found) or 1}.", field="version")
    doc = found[version - 1]
    return {**data, DOCUMENT_KEY: doc, "vigencia_hasta": doc.get("vigente_hasta"), "prorrogas_usadas": 0}


def parse_wording(parsed: dict[str, Any]) -> dict[str, str]:
    """The document's texts from the version's ``documentos`` part (``workflows/documentos.toml``,
    ``[orden_proteccion]``), deployed with the procedure; the defaults where it says nothing."""
    return {k: str(v) for k, v in (parsed.get("orden_proteccion") or {}).items()}


def protection_order_pdf(*, instance_id: int, reference: str | None, process_key: str, data: dict[str, Any],
                         issued_at: datetime | None, generated_at: datetime, generated_by: str,
                         version: int | None = None, wording: dict[str, str] | None = None) -> bytes:
    if not available(process_key, data):
        raise NotFound("La orden de protección aún no ha sido emitida en este expediente.", field="document")
    data = version_data(data, version)
    words = wording or {}
    doc = data.get(DOCUMENT_KEY) if isinstance(data.get(DOCUMENT_KEY), dict) else {}
    fields = order_fields(data, issued_at)
    stamp = generated_at.astimezone(HERMOSILLO).strftime("%d/%m/%Y %H:%M")
    pdf = _OrderPDF(_latin1(f"Documento generado por Tramita el {stamp} (hora de Hermosillo) por {generated_by}. "
                            "Reglamento art. 43. Contiene datos personales reservados: su divulgación está "
                            "prohibida."))
    pdf.set_title("Orden de protección" + (f" {fields['folio']}" if fields["folio"] else ""))
    pdf.set_author(_latin1(fields["autoridad"]))
    pdf.set_creator("Tramita")
    pdf.set_margins(22, 16, 22)
    pdf.set_auto_page_break(True, margin=26)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 11)
    pdf.multi_cell(0, 6, _latin1(fields["autoridad"]).upper(), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_font("Helvetica", "B", 16)
    extension = doc.get("acto") == "prorroga"
    title = words.get("titulo_prorroga" if extension else "titulo") or "ORDEN DE PROTECCIÓN"
    pdf.cell(0, 10, _latin1(title), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 10)
    sub = f"Expediente {reference or instance_id}"
    if fields["folio"]:
        sub += f" - Folio {fields['folio']}"
    if doc.get("version"):
        sub += f", versión {doc['version']}" + (f" de {len(versions(data))}" if versions(data) else "")
    pdf.cell(0, 6, _latin1(sub), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(6)
    pdf.set_font("Helvetica", "", 11)
    pdf.multi_cell(0, 6, _latin1(words.get("preambulo") or (
        "Con fundamento en los artículos 41 a 44 del Reglamento de la Ley de Acceso de las Mujeres a una Vida "
        "Libre de Violencia para el Estado de Sonora, la autoridad que suscribe emite la presente orden de "
        "protección, en los términos siguientes:")), new_x="LMARGIN", new_y="NEXT")
    if doc.get("leyenda_acto"):
        pdf.ln(2)
        pdf.set_font("Helvetica", "B", 11)
        pdf.multi_cell(0, 6, _latin1(str(doc["leyenda_acto"])), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", "", 11)
    pdf.ln(3)
    for key in ("fecha", "hora", "lugar", "vigencia", "persona_protegida", "persona_contra", "tipo", "autoridad",
                "medidas"):
        label = {"fecha": "Fecha de la prórroga", "hora": "Hora de la prórroga"}.get(key, LABELS[key]) \
            if extension else LABELS[key]
        label, value = _latin1(label + ":"), _latin1(fields[key])
        pdf.set_font("Helvetica", "B", 11)
        label_lines = len(pdf.multi_cell(60, 6, label, dry_run=True, output="LINES"))
        pdf.set_font("Helvetica", "", 11)
        value_lines = len(pdf.multi_cell(pdf.epw - 62, 6, value, dry_run=True, output="LINES"))
        height = 6 * max(label_lines, value_lines) + 1.5
        if pdf.will_page_break(height):
            pdf.add_page()
        y = pdf.get_y()
        pdf.set_font("Helvetica", "B", 11)
        pdf.multi_cell(60, 6, label, align="L", new_x="RIGHT", new_y="TOP")
        pdf.set_xy(pdf.l_margin + 62, y)
        pdf.set_font("Helvetica", "", 11)
        pdf.multi_cell(pdf.epw - 62, 6, value, align="L", new_x="LMARGIN", new_y="NEXT")
        pdf.set_y(y + height)
        pdf.line(pdf.l_margin, y + height - 1, pdf.w - pdf.r_margin, y + height - 1)
        pdf.ln(1)
    if fields["fundamentacion"]:
        pdf.ln(3)
        pdf.set_font("Helvetica", "B", 11)
        pdf.cell(0, 7, _latin1("Fundamentación y motivación:"), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", "", 11)
        pdf.multi_cell(0, 6, _latin1(fields["fundamentacion"]), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(5)
    pdf.set_font("Helvetica", "", 10)
    closing = words.get("cierre") or (
        "Notifíquese a las autoridades encargadas de auxiliar en su cumplimiento (Reglamento art. 43). La "
        "persona contra quien se expide la orden no será notificada por conducto de la persona protegida "
        "(LGAMVLV art. 34 Decies).")
    if fields["folio"]:
        closing += (f" Inscrita en el registro de órdenes de protección con el folio {fields['folio']}"
                    + (f" ({fields['registro']})." if fields["registro"] else "."))
    pdf.multi_cell(0, 5, _latin1(closing), new_x="LMARGIN", new_y="NEXT")
    if pdf.will_page_break(30):
        pdf.add_page()
    pdf.ln(12)
    pdf.cell(0, 6, "_______________________________________", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.multi_cell(0, 6, _latin1(fields["autoridad"]), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "I", 8)
    pdf.cell(0, 5, _latin1(f"Fundamento del documento: {fields['fundamento']}."), align="C",
             new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
