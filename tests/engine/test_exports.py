"""Export rules: a field leaves only when its form classifies it general; CSV carries a BOM; XLSX opens."""

from __future__ import annotations

import io

from engine.oversight import exports


def test_classification_declared_first_then_judged_by_what_the_field_can_hold() -> None:
    c = exports.classification
    assert c("tipo_orden", {"type": "string", "enum": ["a"], "x-clasificacion": "sensible"}) == "sensible"
    assert c("hechos", {"type": "string", "x-clasificacion": "general"}) == "general"
    assert c("nombre_victima", {"type": "string", "enum": ["x"]}) == "identificativo"  # by its name
    assert c("hechos", {"type": "string"}) == "sensible"  # free text, unclassified
    assert c("medidas", {"type": "array", "items": {"type": "string"}}) == "sensible"
    assert c("tipo_orden", {"type": "string", "enum": ["emergencia", "preventiva"]}) == "general"
    assert c("vigencia_dias", {"type": "integer"}) == "general"
    assert c("fecha_emision", {"type": "string", "format": "date"}) == "general"
    assert exports.general_fields({"hechos": {"type": "string"}, "urgente": {"type": "boolean"}}) == ["urgente"]


def test_csv_has_a_bom_and_xlsx_opens_with_openpyxl() -> None:
    from openpyxl import load_workbook

    body = exports.to_csv(["Paso", "¿Vencida?"], [["Valorar el riesgo", True]])
    assert body.startswith(b"\xef\xbb\xbf") and "Sí".encode() in body
    ws = load_workbook(io.BytesIO(exports.to_xlsx("Prueba", ["Paso"], [["Emisión"]]))).active
    assert [[c.value for c in r] for r in ws.iter_rows()] == [["Paso"], ["Emisión"]]
