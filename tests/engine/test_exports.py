"""Export rules: a field leaves only when its form classifies it general; CSV carries a BOM; XLSX opens."""

from __future__ import annotations

import io

from engine.oversight import exports


def test_classification_is_the_forms_own_then_judged_by_shape() -> None:
    """The class comes from ``x-clasificacion`` (engine.casework.classification), not from a list of names."""
    c = exports.classification
    assert c({"type": "string", "enum": ["a"], "x-clasificacion": "sensible"}) == "sensible"
    assert c({"type": "string", "x-clasificacion": "general"}) == "general"
    assert c({"type": "string", "enum": ["x"], "x-clasificacion": "identificativo"}) == "identificativo"
    assert c({"type": "string"}) == "sensible"  # free text, unclassified
    assert c(None) == "sensible"  # described by no form
    assert c({"type": "string", "enum": ["emergencia", "preventiva"]}) == "general"
    assert c({"type": "integer"}) == "general"
    assert c({"type": "string", "format": "date"}) == "general"
    assert exports.general_fields({"hechos": {"type": "string"}, "urgente": {"type": "boolean"},
                                   "victima_nombre": {"type": "string", "x-clasificacion": "identificativo"},
                                   "riesgo": {"type": "string", "enum": ["alto"], "x-clasificacion": "sensible"}}
                                  ) == ["urgente"]


def test_csv_has_a_bom_and_xlsx_opens_with_openpyxl() -> None:
    from openpyxl import load_workbook

    body = exports.to_csv(["Paso", "¿Vencida?"], [["Valorar el riesgo", True]])
    assert body.startswith(b"\xef\xbb\xbf") and "Sí".encode() in body
    ws = load_workbook(io.BytesIO(exports.to_xlsx("Prueba", ["Paso"], [["Emisión"]]))).active
    assert [[c.value for c in r] for r in ws.iter_rows()] == [["Paso"], ["Emisión"]]
