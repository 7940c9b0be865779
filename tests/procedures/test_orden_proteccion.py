"""Protection orders (Reglamento arts. 41–44; LGAMVLV arts. 28, 34 Bis, Septies, Decies).

Calendar facts used below (computed by hand, America/Hermosillo, UTC−7):
* 2026-03-02 is a Monday. 15 March is a Sunday and 16 March the third Monday of March
  (LFT art. 74 holiday). 1 May 2026 is a Friday and a holiday; 31 May 2026 is a Sunday.
* Hours run on every day (plazo_horas); the vigencia of an order is counted in natural days
  and is not moved off a día inhábil (protection does not stretch because of a holiday);
  the ratification term is a term in natural days, so its end moves to the next business
  day when it falls on a día inhábil (LFPA art. 29, per the shared legal README).
* Parameters (workflows/parameters.toml): issue within 4 h of learning the facts, vigencia 60 days,
  one extension of 30 days, the reassessment opens 5 natural days before the vigencia ends, a
  contact every 24 h, 6 contacts then a personalised plan, ratification within 5 natural days,
  the police intervene within 1 hour of the report (art. 44, «de inmediato»).
* Folios are per institution and year; every scenario runs on a fresh database, so the first
  order of a scenario is OP-FGJE-2026-000001.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from engine.casework import documents, register
from engine.errors import InvalidInput
from tests.procedures.conftest import Case, deadline_days, example, local

T0 = "2026-03-02T10:00:00"  # the authority learns of the facts on Monday 2 March at 10:00
VICTIMA = example("orden_proteccion_inicio", 0)
TERCERO = example("orden_proteccion_inicio", 1)
TERCERO_CIVIL = example("orden_proteccion_inicio", 2)


def emitida(t: Any, start: Any, inicio: dict[str, Any] = VICTIMA) -> Case:
    """Learned at 10:00, assessed at 10:30 and issued at 11:00 on Monday 2 March; notified at 12:00 and
    reported to the register (art. 28) at 12:30."""
    c = start(t, "orden_proteccion", inicio, T0)
    assert c.open() == ["valorar_riesgo"]
    c.do("valorar_riesgo", example("orden_proteccion_valoracion_riesgo", 0), at="2026-03-02T10:30:00")
    c.do("emitir_orden", example("orden_proteccion_emision", 0), at="2026-03-02T11:00:00")
    assert c.open() == ["notificar_orden"]
    c.do("notificar_orden", example("orden_proteccion_notificacion"), at="2026-03-02T12:00:00")
    assert c.open() == ["informar_orden_registro"]
    c.do("informar_orden_registro", example("orden_proteccion_informe_orden"), at="2026-03-02T12:30:00")
    return c


def notificacion(instante: str) -> dict[str, Any]:
    """The notification form's example, both acts (authorities, person the order is against) done at ``instante``:
    a notification follows the act it notifies and cannot be later than now (item 19)."""
    data = example("orden_proteccion_notificacion", fecha_hora_notificacion=instante)
    data["notificacion_persona_agresora"] = dict(data["notificacion_persona_agresora"], fecha_hora=instante)
    return data


def contactos(c: Case) -> None:
    """LGAMVLV art. 34 Bis, one contact at a time. Issued Monday 2 March 11:00: contact n is due n × 24 h
    later (3 March 11:00 ... 8 March 11:00); contact 1 opens at once, contact n (n ≥ 2) opens when its
    24 hours begin, (n − 1) × 24 h after issue (3 March 11:00 ... 7 March 11:00)."""
    primero = c.task("contactar_victima")
    assert local(primero.due_at) == "2026-03-03T11:00:00-07:00" and primero.deadline["count"] == 24
    c.do("contactar_victima", example("orden_proteccion_contacto"), at="2026-03-03T10:00:00")
    for n in range(2, 7):
        inicio = f"2026-03-{1 + n:02d}T11:00:00"  # (n - 1) days after 2 March
        assert "contactar_victima" not in c.open()  # one at a time: the next waits for its 24 hours
        assert c.fire(inicio) == []
        [fired] = c.fire(inicio[:-2] + "01")
        assert fired.task_name == "espera_contacto"
        tarea = c.task("contactar_victima")
        assert local(tarea.due_at) == f"2026-03-{2 + n:02d}T11:00:00-07:00"
        assert tarea.deadline["citation"] == "LGAMVLV art. 34 Bis" and tarea.deadline["count"] == 24 * n
        c.do("contactar_victima", example("orden_proteccion_contacto", fecha_hora_contacto=inicio + "-07:00"),
             at=inicio[:-5] + "30:00")


def seguimiento_completo(c: Case) -> None:
    """The six daily contacts, then the personalised plan (LGAMVLV art. 34 Bis)."""
    contactos(c)
    c.do("plan_seguimiento", example("orden_proteccion_plan_seguimiento"), at="2026-03-08T10:00:00")


# --- 1. request ----------------------------------------------------------------------------------------

def test_tercero_no_puede_pedir_una_orden_de_naturaleza_civil(tramita_sqlite: Any, start: Any) -> None:
    c = start(tramita_sqlite, "orden_proteccion", TERCERO_CIVIL, T0)
    assert c.status == "completed" and c.open() == []
    assert {"registrar_rechazo_tercero_civil", "fin_rechazo_tercero_civil"} <= c.reached()
    assert "valorar_riesgo" not in c.reached()
    data = c.data()
    assert data["solicitud_rechazada"] is True
    assert data["fecha_rechazo"] == "2026-03-02T10:00:00-07:00"
    assert data["motivo_rechazo"].startswith("Reglamento art. 41, segundo párrafo")


def test_la_victima_si_puede_pedir_una_orden_civil(tramita_sqlite: Any, start: Any) -> None:
    c = start(tramita_sqlite, "orden_proteccion", dict(TERCERO_CIVIL, solicitante_tipo="victima"), T0)
    assert c.open() == ["valorar_riesgo"]


def test_tercero_debe_expresar_el_impedimento(tramita_sqlite: Any, start: Any) -> None:
    bad = {k: v for k, v in TERCERO.items() if k not in ("nombre_solicitante", "motivo_impedimento")}
    with pytest.raises(InvalidInput) as err:
        start(tramita_sqlite, "orden_proteccion", bad, T0)
    assert any("art. 41" in m for m in err.value.fields.values())


# --- 2. assessment (DMN) and 3. issuing limit --------------------------------------------------------

@pytest.mark.parametrize(("inicio", "valoracion", "tipo", "dias"), [
    (VICTIMA, example("orden_proteccion_valoracion_riesgo", 0), "emergencia", 60),       # art. 42 I: life
    (VICTIMA, example("orden_proteccion_valoracion_riesgo", 1), "naturaleza_civil", 60),  # art. 42 I: property
    (TERCERO, example("orden_proteccion_valoracion_riesgo", 1), "preventiva", 60),        # never civil for a third party
    (VICTIMA, {"riesgo_vida": False, "riesgo_integridad": True, "riesgo_patrimonio": False,
               "magnitud_dano": "grave"}, "emergencia", 60),                              # art. 42 I and II
    (VICTIMA, {"riesgo_vida": False, "riesgo_integridad": False, "riesgo_patrimonio": False,
               "magnitud_dano": "sin_dano"}, "ninguna", 0),
])
def test_la_tabla_de_riesgo_recomienda_tipo_y_vigencia(tramita_sqlite: Any, start: Any, inicio: dict[str, Any],
                                                        valoracion: dict[str, Any], tipo: str, dias: int) -> None:
    c = start(tramita_sqlite, "orden_proteccion", inicio, T0)
    c.do("valorar_riesgo", valoracion, at="2026-03-02T10:30:00")
    assert c.open() == ["emitir_orden"]
    assert c.value("evaluar_riesgo", "tipo_recomendado") == tipo
    assert c.value("evaluar_riesgo", "vigencia_recomendada_dias") == dias
    assert re.search(r"\barts?\. 4[12]\b", c.value("evaluar_riesgo", "fundamento_recomendacion"))


def test_la_autoridad_decide_otro_tipo_que_el_recomendado(tramita_sqlite: Any, start: Any) -> None:
    c = start(tramita_sqlite, "orden_proteccion", VICTIMA, T0)
    c.do("valorar_riesgo", example("orden_proteccion_valoracion_riesgo", 0), at="2026-03-02T10:30:00")
    assert c.value("evaluar_riesgo", "tipo_recomendado") == "emergencia"
    c.do("emitir_orden", example("orden_proteccion_emision", 0, tipo_orden="preventiva", vigencia_dias=30),
         at="2026-03-02T11:00:00")
    doc = c.value("generar_documento_orden", "documento_orden")
    assert doc["tipo_orden"] == "preventiva" and doc["vigencia_dias"] == 30
    # 30 natural days from Monday 2 March -> Wednesday 1 April (not moved even if inhábil).
    assert doc["vigente_hasta"] == "2026-04-01T23:59:59-07:00"


def test_un_tercero_nunca_obtiene_una_orden_civil_aunque_la_autoridad_la_elija(tramita_sqlite: Any,
                                                                              start: Any) -> None:
    # Art. 41, second paragraph: the exception for third parties never covers civil orders, so the
    # authority cannot issue one on a third party's request either.
    c = start(tramita_sqlite, "orden_proteccion", TERCERO, T0)
    c.do("valorar_riesgo", example("orden_proteccion_valoracion_riesgo", 1), at="2026-03-02T10:30:00")
    assert c.value("evaluar_riesgo", "tipo_recomendado") == "preventiva"
    c.do("emitir_orden", example("orden_proteccion_emision", 0, tipo_orden="naturaleza_civil"), at="2026-03-02T11:00:00")
    assert c.open() == ["emitir_orden"]  # sent back, with the reason
    assert c.value("verificar_tipo_orden", "aviso_emision").startswith("Reglamento art. 41, segundo párrafo")
    assert "generar_documento_orden" not in c.reached()
    assert local(c.task("emitir_orden").due_at) == "2026-03-02T14:00:00-07:00"  # the same 4-hour limit
    c.do("emitir_orden", example("orden_proteccion_emision", 0, tipo_orden="preventiva"), at="2026-03-02T11:10:00")
    assert c.open() == ["notificar_orden"]
    assert c.value("generar_documento_orden", "documento_orden")["tipo_orden"] == "preventiva"


def test_emision_fuera_del_limite_de_cuatro_horas_escala(tramita_sqlite: Any, start: Any) -> None:
    c = start(tramita_sqlite, "orden_proteccion", VICTIMA, T0)
    # 4 hours (LGAMVLV art. 28, parameter «emision_horas») from 10:00 -> 14:00 the same day.
    valorar = c.task("valorar_riesgo")
    assert local(valorar.due_at) == "2026-03-02T14:00:00-07:00"
    assert valorar.deadline["unit"] == "hours" and valorar.deadline["count"] == 4
    assert valorar.deadline["citation"] == "LGAMVLV art. 28" and valorar.deadline["skipped"] == []
    c.do("valorar_riesgo", example("orden_proteccion_valoracion_riesgo", 0), at="2026-03-02T13:00:00")
    emitir = c.task("emitir_orden")
    assert local(emitir.due_at) == "2026-03-02T14:00:00-07:00"  # the same limit, from the same knowledge
    assert c.fire("2026-03-02T14:00:00") == []
    [fired] = c.fire("2026-03-02T14:00:01")
    assert fired.task_name == "plazo_emision_vencido"
    assert "escalado_emision" in c.reached()
    assert c.task("emitir_orden").overdue
    c.do("emitir_orden", example("orden_proteccion_emision", 1), at="2026-03-02T15:00:00")  # denied
    assert c.status == "completed"
    assert "fin_orden_negada" in c.reached() and "fin_orden_negada_concluye" not in c.reached()


# --- 4. the order document, 5. follow-up, the register ----------------------------------------------------

def test_orden_documento_folio_registro_y_seguimiento(tramita_any: Any, start: Any) -> None:
    c = emitida(tramita_any, start)
    # Art. 43: a separate document with date, time, place, vigencia, protected person, person it is
    # issued against, type and issuing authority. 60 natural days from Monday 2 March: 31 March is
    # day 29, 30 April day 59, Friday 1 May day 60 (a holiday, but the vigencia is not moved).
    doc = c.value("generar_documento_orden", "documento_orden")
    assert doc == {
        "folio": "OP-FGJE-2026-000001", "version": 1, "acto": "emision", "leyenda_acto": "",
        "fecha": "2026-03-02", "hora": "11:00:00", "lugar": "Hermosillo, Sonora",
        "vigencia_dias": 60, "vigente_desde": "2026-03-02T11:00:00-07:00", "vigente_hasta": "2026-05-01T23:59:59-07:00", "persona_protegida": "María López",
        "persona_contra_quien_se_expide": "Pedro Ramírez", "tipo_orden": "emergencia",
        "medidas": ["Prohibición de acercarse al domicilio de la víctima", "Auxilio policiaco de reacción inmediata"],
        "autoridad_emisora": "Agente del Ministerio Público especializado", "fundamento": "Reglamento art. 43"}
    data = c.data()
    assert data["documentos_orden"] == [doc]
    assert documents.available("orden_proteccion", data)  # the PDF can be generated from the case data
    campos = documents.order_fields(data)
    assert campos["persona_protegida"] == "María López" and campos["persona_contra"] == "Pedro Ramírez"
    assert "01/05/2026" in campos["vigencia"]
    assert c.value("notificar_orden", "notificacion_persona_agresora")["por_conducto_de_la_victima"] is False
    # Art. 28: the order is in the register, written with the act, reported to the Instituto (default).
    [orden] = register.entries(c.t.db, kind="orden")
    assert (orden.folio, orden.status, orden.year, orden.instance_id) == ("OP-FGJE-2026-000001", "vigente", 2026, c.id)
    assert orden.data["vigente_hasta"] == "2026-05-01T23:59:59-07:00" and orden.data["informe_a"] == "instituto"
    assert orden.data["persona_sujeta"] == "Pedro Ramírez" and orden.data["institucion"] == "FGJE"
    # LGAMVLV arts. 28, 34 Septies: the reassessment opens 5 days before the end: 55 natural days from
    # 2 March -> Sunday 26 April, 23:59:59; the vigencia itself still ends on 1 May.
    revaloracion = c.timer("inicio_revaloracion")
    assert local(revaloracion.due_at) == "2026-04-26T23:59:59-07:00" and revaloracion.deadline["count"] == 55
    contactos(c)
    assert len(c.all_tasks("contactar_victima")) == 6
    # From day 7 the personalised plan (due 6 × 24 h after issue: Sunday 8 March, 11:00).
    plan = c.task("plan_seguimiento")
    assert local(plan.due_at) == "2026-03-08T11:00:00-07:00"
    c.do("plan_seguimiento", example("orden_proteccion_plan_seguimiento"), at="2026-03-08T10:00:00")
    assert "fin_plan_seguimiento" in c.reached() and c.open() == []
    assert c.fire("2026-03-20T12:00:00") == [] and "contactar_victima" not in c.open()


def test_la_revaloracion_se_abre_antes_del_vencimiento_y_levanta_la_orden(tramita_sqlite: Any, start: Any) -> None:
    c = emitida(tramita_sqlite, start)
    seguimiento_completo(c)
    assert c.fire("2026-04-26T23:59:59") == []
    fired = c.fire("2026-04-27T00:00:00")
    assert "inicio_revaloracion" in [f.task_name for f in fired]
    # The reassessment is due when the vigencia ends (Friday 1 May 23:59:59): 5 days ahead, no gap.
    revalorar = c.task("revalorar_riesgo")
    assert local(revalorar.due_at) == "2026-05-01T23:59:59-07:00" and revalorar.deadline["count"] == 60
    # Still in force while it is reassessed: a violation on 28 April counts.
    c.send("violacion_orden", {"descripcion": "Se presentó en el domicilio."}, at="2026-04-28T09:00:00")
    assert c.open().count("intervenir_policia") == 1
    c.do("revalorar_riesgo", example("orden_proteccion_revaloracion", 0), at="2026-04-29T10:00:00")
    assert {"registrar_levantamiento", "fin_orden_concluida", "fin_vigilancia", "fin_plan_seguimiento"} <= c.reached()
    [orden] = register.entries(c.t.db, kind="orden")
    assert orden.status == "levantada" and orden.data["levantada"] == "2026-04-29T10:00:00-07:00"
    assert orden.data["ultima_revaloracion"]["decision"] == "levantar"
    assert orden.data["ultima_revaloracion"]["fundamentacion"] == "Cesó el riesgo."
    # Item 19: the intervention and the report follow the violation of 28 April (not the example's March dates).
    c.do("intervenir_policia", example("orden_proteccion_intervencion_policial",
                                       fecha_hora_intervencion="2026-04-28T09:20:00-07:00"))
    c.do("informar_violacion", example("orden_proteccion_informe_violacion", fecha_informe="2026-04-29"))
    c.do("valorar_inicio_sancion", example("orden_proteccion_valoracion_sancion", 1))
    assert c.status == "completed"


# --- 1. no order lapses without a new risk assessment -------------------------------------------------------

def test_sin_ratificacion_no_caduca_se_revalora_y_se_mantiene(tramita_sqlite: Any, start: Any) -> None:
    c = emitida(tramita_sqlite, start, TERCERO)
    c.do("contactar_victima", example("orden_proteccion_contacto"), at="2026-03-03T10:00:00")
    # Risk ended Wednesday 4 March, 09:00: 5 natural days -> Monday 9 March (a business day).
    c.send("fin_estado_riesgo", {"fecha_cese": "2026-03-04T09:00:00-07:00"}, at="2026-03-04T12:00:00")
    assert local(c.task("ratificar_solicitud").due_at) == "2026-03-09T23:59:59-07:00"
    fired = c.fire("2026-03-10T00:00:00")
    assert "plazo_ratificacion_vencido" in [f.task_name for f in fired]
    c.do("certificar_ratificacion", example("orden_proteccion_certificacion_ratificacion", 0),
         at="2026-03-10T09:00:00")
    # Art. 41 states no consequence: the order does not lapse; a new risk assessment opens (34 Septies).
    assert {"registrar_falta_ratificacion", "senal_revaloracion", "preparar_revaloracion_ratificacion"} <= c.reached()
    assert "revalorar_riesgo" in c.open()
    assert c.value("preparar_revaloracion_ratificacion", "motivo_revaloracion") == "falta_ratificacion"
    motivo = c.value("registrar_falta_ratificacion", "motivo_falta_ratificacion")
    assert "art. 41" in motivo and "2026-03-09T23:59:59-07:00" in motivo
    [orden] = register.entries(c.t.db, kind="orden")
    assert orden.status == "vigente"  # still in force while reassessed
    c.send("violacion_orden", {"descripcion": "Llamadas."}, at="2026-03-10T10:00:00")
    assert c.open().count("intervenir_policia") == 1  # a violation of an order in force
    # The risk continues (risk to life): the authority keeps the order, with its reasons.
    c.do("revalorar_riesgo", example("orden_proteccion_revaloracion", 2, decision_revaloracion="mantener",
                                     fundamentacion_revaloracion="Persisten amenazas de muerte."),
         at="2026-03-10T11:00:00")
    assert c.value("calificar_revaloracion", "aviso_revaloracion") == ""
    # The vigencia runs again to the same reassessment window (26 April) and end (1 May).
    assert local(c.timer("inicio_revaloracion").due_at) == "2026-04-26T23:59:59-07:00"
    [orden] = register.entries(c.t.db, kind="orden")
    assert orden.data["ultima_revaloracion"]["motivo"] == "falta_ratificacion"
    assert orden.data["ultima_revaloracion"]["decision"] == "mantener"
    assert orden.data["ultima_revaloracion"]["fundamentacion"] == "Persisten amenazas de muerte."


def test_sin_ratificacion_y_sin_riesgo_se_levanta_con_motivos(tramita_sqlite: Any, start: Any) -> None:
    c = emitida(tramita_sqlite, start, TERCERO)
    c.send("fin_estado_riesgo", {"fecha_cese": "2026-03-04"}, at="2026-03-04T09:00:00")
    c.do("ratificar_solicitud", example("orden_proteccion_ratificacion", 1, fecha_ratificacion="2026-03-05"),
         at="2026-03-05T10:00:00")
    assert "revalorar_riesgo" in c.open() and "fin_orden_concluida" not in c.reached()
    assert c.open().count("contactar_victima") == 1  # contact 1, due 3 March 11:00, not yet done
    c.do("revalorar_riesgo", example("orden_proteccion_revaloracion", 0), at="2026-03-05T12:00:00")
    # Lifted on day 3, with contact 2 of the follow-up open: the follow-up ends with the order.
    assert c.status == "completed" and c.open() == []
    assert "fin_seguimiento_interrumpido" in c.reached()
    assert [t.state for t in c.all_tasks("contactar_victima")] == ["CANCELLED"]
    assert [e.status for e in register.entries(c.t.db, kind="orden")] == ["levantada"]


def test_mantener_solo_procede_si_falto_la_ratificacion(tramita_sqlite: Any, start: Any) -> None:
    c = emitida(tramita_sqlite, start)
    c.fire("2026-04-27T00:00:00")
    c.do("revalorar_riesgo", example("orden_proteccion_revaloracion", 1, decision_revaloracion="mantener"),
         at="2026-04-27T09:00:00")
    assert c.open().count("revalorar_riesgo") == 1
    assert "mantenerla solo procede" in c.value("calificar_revaloracion", "aviso_revaloracion")


def _riesgo_cesa_el_10_de_marzo(t: Any, start: Any) -> Case:
    """Third-party order; the risk ends on Tuesday 10 March 2026 at 09:00.

    Deadline by hand (Reglamento art. 41: 5 natural days after the risk ends): 11, 12, 13, 14, 15
    March -> Sunday 15 March; a term cannot end on a día inhábil and Monday 16 March is a holiday
    (third Monday of March), so it ends on Tuesday 17 March 2026 at 23:59:59 Hermosillo."""
    c = emitida(t, start, TERCERO)
    c.send("fin_estado_riesgo", {"fecha_cese": "2026-03-10T09:00:00-07:00"}, at="2026-03-10T12:00:00")
    ratificar = c.task("ratificar_solicitud")
    assert local(ratificar.due_at) == "2026-03-17T23:59:59-07:00"
    assert deadline_days(ratificar.deadline) == [("2026-03-15", "Domingo"),
                                                 ("2026-03-16", "Natalicio de Benito Juárez")]
    return c


def test_ratificacion_oportuna_capturada_tras_el_vencimiento_la_orden_sigue_vigente(tramita_sqlite: Any,
                                                                                   start: Any) -> None:
    c = _riesgo_cesa_el_10_de_marzo(tramita_sqlite, start)
    fired = c.fire("2026-03-18T00:00:01")
    assert "plazo_ratificacion_vencido" in [f.task_name for f in fired]
    c.do("certificar_ratificacion",
         example("orden_proteccion_certificacion_ratificacion", 1, fecha_certificacion="2026-03-18",
                 fecha_ratificacion="2026-03-17"), at="2026-03-18T10:00:00")
    assert c.value("calificar_oportunidad_ratificacion", "ratificacion_extemporanea") is False
    assert "fin_ratificada" in c.reached() and "revalorar_riesgo" not in c.open()
    assert local(c.timer("inicio_revaloracion").due_at) == "2026-04-26T23:59:59-07:00"


def test_ratificacion_extemporanea_abre_la_revaloracion_mostrando_el_plazo(tramita_sqlite: Any,
                                                                          start: Any) -> None:
    c = _riesgo_cesa_el_10_de_marzo(tramita_sqlite, start)
    # She appeared on Wednesday 18 March, one day after the term ended on Tuesday 17 March.
    c.do("ratificar_solicitud", example("orden_proteccion_ratificacion", 0, fecha_ratificacion="2026-03-18"),
         at="2026-03-18T09:00:00")
    assert c.value("calificar_oportunidad_ratificacion", "ratificacion_extemporanea") is True
    motivo = c.value("registrar_falta_ratificacion", "motivo_falta_ratificacion")
    assert "2026-03-18" in motivo and "2026-03-17T23:59:59-07:00" in motivo
    assert "revalorar_riesgo" in c.open() and c.timers("inicio_revaloracion") == []


def test_la_victima_no_necesita_ratificar(tramita_sqlite: Any, start: Any) -> None:
    c = emitida(tramita_sqlite, start)
    assert "fin_sin_ratificacion" in c.reached()
    with pytest.raises(Exception, match="not waiting"):
        c.send("fin_estado_riesgo", {})


# --- 2., 3. extension as a new act, a new order with no gap, the late reassessment -----------------------------

def test_prorroga_es_un_acto_nuevo_y_la_nueva_orden_no_deja_hueco(tramita_sqlite: Any, start: Any) -> None:
    c = emitida(tramita_sqlite, start)
    seguimiento_completo(c)
    c.fire("2026-04-27T00:00:00")
    c.do("revalorar_riesgo", example("orden_proteccion_revaloracion", 1), at="2026-04-28T10:00:00")  # extend
    # Decided on 28 April, before the end (1 May): 60 + 30 natural days from Monday 2 March -> Sunday 31 May.
    assert c.value("aplicar_prorroga", "vigencia_hasta") == "2026-05-31T23:59:59-07:00"
    docs = c.value("aplicar_prorroga", "documentos_orden")
    assert [d["version"] for d in docs] == [1, 2]  # both versions kept
    assert docs[0]["vigente_hasta"] == "2026-05-01T23:59:59-07:00"
    assert docs[1]["vigente_hasta"] == "2026-05-31T23:59:59-07:00" and docs[1]["acto"] == "prorroga"
    assert docs[1]["fecha"] == "2026-04-28" and docs[1]["vigencia_dias"] == 90 and docs[1]["folio"] == docs[0]["folio"]
    assert "LGAMVLV arts. 28 y 34 Septies" in docs[1]["leyenda_acto"]
    [orden] = register.entries(c.t.db, kind="orden")
    assert orden.status == "prorrogada" and orden.data["vigente_hasta"] == "2026-05-31T23:59:59-07:00"
    assert orden.data["versiones"] == 2
    assert [(p["vigente_hasta_anterior"], p["vigente_hasta"]) for p in orden.data["prorrogas"]] == [
        ("2026-05-01T23:59:59-07:00", "2026-05-31T23:59:59-07:00")]
    # A new notification to the enforcing authorities (art. 43).
    assert c.open() == ["notificar_prorroga"]
    c.do("notificar_prorroga", notificacion("2026-04-28T10:45:00-07:00"),
         at="2026-04-28T11:00:00")
    # Reassessment window of the extended order: 85 natural days from 2 March -> Tuesday 26 May.
    assert local(c.timer("inicio_revaloracion").due_at) == "2026-05-26T23:59:59-07:00"
    c.fire("2026-05-27T00:00:00")
    assert local(c.task("revalorar_riesgo").due_at) == "2026-05-31T23:59:59-07:00"
    # A second extension is refused with the reason, and the task comes back.
    c.do("revalorar_riesgo", example("orden_proteccion_revaloracion", 1), at="2026-05-28T08:00:00")
    assert c.open() == ["revalorar_riesgo"]
    assert "ya se prorrogó 1 vez" in c.value("calificar_revaloracion", "aviso_revaloracion")
    # The risk continues: a new order, issued within 4 h of this decision (09:00 -> 13:00).
    c.do("revalorar_riesgo", example("orden_proteccion_revaloracion", 2), at="2026-05-28T09:00:00")
    assert local(c.task("emitir_orden").due_at) == "2026-05-28T13:00:00-07:00"
    c.do("emitir_orden", example("orden_proteccion_emision", 0), at="2026-05-28T10:00:00")
    c.do("notificar_orden", notificacion("2026-05-28T10:30:00-07:00"),
         at="2026-05-28T10:40:00")
    c.do("informar_orden_registro", example("orden_proteccion_informe_orden", fecha_informe_orden="2026-05-28"),
         at="2026-05-28T10:50:00")
    doc = c.value("generar_documento_orden", "documento_orden")
    # 60 natural days from Thursday 28 May: 31 May is day 3, 30 June day 33, 27 July day 60.
    assert doc["folio"] == "OP-FGJE-2026-000002" and doc["vigente_hasta"] == "2026-07-27T23:59:59-07:00"
    # No gap: the first order (in force until 31 May) is left without effect by the second on 28 May.
    ordenes = {e.folio: e for e in register.entries(c.t.db, kind="orden")}
    assert ordenes["OP-FGJE-2026-000001"].status == "sin_efectos"
    assert ordenes["OP-FGJE-2026-000001"].data["sustituida_por"] == "OP-FGJE-2026-000002"
    assert ordenes["OP-FGJE-2026-000002"].status == "vigente"
    assert ordenes["OP-FGJE-2026-000002"].data["orden_anterior"] == "OP-FGJE-2026-000001"
    # A new 6-day follow-up for the new order: contact 1 due 24 h after issue (29 May, 10:00).
    assert local(c.task("contactar_victima").due_at) == "2026-05-29T10:00:00-07:00"


def test_la_prorroga_es_de_hasta_treinta_dias(tramita_sqlite: Any, start: Any) -> None:
    c = emitida(tramita_sqlite, start)
    seguimiento_completo(c)
    c.fire("2026-04-27T00:00:00")
    with pytest.raises(InvalidInput) as err:
        c.do("revalorar_riesgo", example("orden_proteccion_revaloracion", 1, dias_prorroga_acordados=31))
    assert "LGAMVLV art. 28" in err.value.fields["dias_prorroga_acordados"]
    # LGAMVLV art. 28, «hasta 30 días»: 15 days agreed; 60 + 15 natural days from 2 March -> Saturday 16 May.
    c.do("revalorar_riesgo", example("orden_proteccion_revaloracion", 1, dias_prorroga_acordados=15),
         at="2026-04-28T10:00:00")
    assert c.value("aplicar_prorroga", "vigencia_hasta") == "2026-05-16T23:59:59-07:00"
    assert c.value("aplicar_prorroga", "prorrogas_orden")[0]["dias"] == 15
    assert "por 15 días naturales" in c.value("aplicar_prorroga", "documento_orden")["leyenda_acto"]


def test_revaloracion_tardia_escala_y_la_orden_vencida_no_se_prorroga(tramita_sqlite: Any, start: Any) -> None:
    c = emitida(tramita_sqlite, start)
    seguimiento_completo(c)
    c.fire("2026-04-27T00:00:00")
    assert c.fire("2026-05-01T23:59:59") == []
    fired = c.fire("2026-05-02T00:00:00")
    assert "plazo_revaloracion_vencido" in [f.task_name for f in fired]
    assert "escalado_revaloracion" in c.reached() and c.task("revalorar_riesgo").overdue
    # The follow-up ended with the vigencia (LGAMVLV art. 34 Bis): no contact left open after it.
    assert "contactar_victima" not in c.open()
    [orden] = register.entries(c.t.db, kind="orden")
    assert register.status_now(orden, c.clock.now()) == "vencida"
    # Art. 28 / item 4: a report of facts on 2 May (after the end) is not a violation of the order.
    c.send("violacion_orden", {"descripcion": "Llamó por teléfono.", "fecha_hechos": "2026-05-02T08:00:00-07:00"},
           at="2026-05-02T09:00:00")
    assert c.value("registrar_violacion", "violacion_en_vigor") is False
    assert not {"intervenir_policia", "informar_violacion", "valorar_inicio_sancion"} & set(c.open())
    [reporte] = register.entries(c.t.db, kind="violacion")
    assert reporte.status == "reporte_orden_no_vigente" and reporte.folio == "OP-FGJE-2026-000001"
    # An expired order is not extended (that would backdate it): a new order is required.
    c.do("revalorar_riesgo", example("orden_proteccion_revaloracion", 1), at="2026-05-02T10:00:00")
    assert "una orden vencida no se prorroga" in c.value("calificar_revaloracion", "aviso_revaloracion")
    c.do("revalorar_riesgo", example("orden_proteccion_revaloracion", 2), at="2026-05-02T10:30:00")
    assert c.open() == ["emitir_orden"]
    assert c.value("calificar_revaloracion", "revaloracion_tardia") is True


def test_ningun_contacto_queda_abierto_al_terminar_la_vigencia(tramita_sqlite: Any, start: Any) -> None:
    # A 3-day order issued Monday 2 March 11:00 ends Thursday 5 March 23:59:59 (3 natural days). Contact 1
    # (due 3 March 11:00) is neglected; when the vigencia ends the follow-up closes it.
    c = start(tramita_sqlite, "orden_proteccion", VICTIMA, T0)
    c.do("valorar_riesgo", example("orden_proteccion_valoracion_riesgo", 0), at="2026-03-02T10:30:00")
    c.do("emitir_orden", example("orden_proteccion_emision", 0, vigencia_dias=3), at="2026-03-02T11:00:00")
    c.do("notificar_orden", example("orden_proteccion_notificacion"), at="2026-03-02T12:00:00")
    c.do("informar_orden_registro", example("orden_proteccion_informe_orden"), at="2026-03-02T12:30:00")
    assert local(c.timer("fin_vigencia_seguimiento").due_at) == "2026-03-05T23:59:59-07:00"
    # Shorter than the 5-day anticipation: reassessed after its first day (max(3 - 5, 1) = 1 natural day from
    # 2 March -> Tuesday 3 March 23:59:59).
    assert local(c.timer("inicio_revaloracion").due_at) == "2026-03-03T23:59:59-07:00"
    assert c.open() == ["contactar_victima"]
    c.fire("2026-03-06T00:00:00")
    assert "contactar_victima" not in c.open() and "fin_seguimiento_interrumpido" in c.reached()
    assert [t.state for t in c.all_tasks("contactar_victima")] == ["CANCELLED"]


def test_vencimiento_nueva_orden_negada_concluye(tramita_sqlite: Any, start: Any) -> None:
    c = emitida(tramita_sqlite, start)
    c.do("contactar_victima", example("orden_proteccion_contacto"), at="2026-03-03T10:00:00")
    c.fire("2026-04-27T00:00:00")
    c.do("revalorar_riesgo", example("orden_proteccion_revaloracion", 2), at="2026-04-28T09:00:00")
    c.do("emitir_orden", example("orden_proteccion_emision", 1), at="2026-04-28T10:00:00")
    assert c.status == "completed"
    assert {"fin_orden_negada_concluye", "fin_vigilancia"} <= c.reached()
    negada = [e for e in register.entries(c.t.db, kind="orden") if e.status == "negada"]
    assert [e.folio for e in negada] == ["OP-FGJE-2026-000002"]  # a denial has its own folio too


def test_sin_riesgo_no_se_prorroga_ni_se_expide_nueva_orden(tramita_sqlite: Any, start: Any) -> None:
    c = emitida(tramita_sqlite, start)
    c.fire("2026-04-27T00:00:00")
    with pytest.raises(InvalidInput) as err:
        c.do("revalorar_riesgo", example("orden_proteccion_revaloracion", 0, decision_revaloracion="prorrogar"))
    assert "art. 41, tercer párrafo" in err.value.fields["decision_revaloracion"]
    with pytest.raises(InvalidInput) as err:
        c.do("revalorar_riesgo", example("orden_proteccion_revaloracion", 2, decision_revaloracion="levantar"))
    assert "34 Septies" in err.value.fields["decision_revaloracion"]


# --- 4., 7. violations and the police ----------------------------------------------------------------------------

def test_violaciones_registro_policia_informe_y_procedimiento_sancionador(tramita_sqlite: Any, start: Any) -> None:
    c = emitida(tramita_sqlite, start)
    c.send("violacion_orden", {"descripcion": "Llamadas amenazantes."}, at="2026-03-05T22:00:00")
    c.send("violacion_orden", {"descripcion": "Se acercó al domicilio."}, at="2026-03-06T08:00:00")
    abiertas = c.open()
    assert abiertas.count("intervenir_policia") == 2
    assert abiertas.count("informar_violacion") == 2 and abiertas.count("valorar_inicio_sancion") == 2
    # Art. 44 «de inmediato»: due one hour (parameter auxilio_policial.intervencion_horas) after the report,
    # so it is not overdue the moment it opens.
    policia = sorted(c.all_tasks("intervenir_policia"), key=lambda t: t.due_at)
    assert [local(t.due_at) for t in policia] == ["2026-03-05T23:00:00-07:00", "2026-03-06T09:00:00-07:00"]
    assert policia[0].deadline["citation"] == "Reglamento art. 44" and not policia[0].overdue
    assert {t.candidate_group for t in policia} == {"policia"}
    registros = c.values("registrar_violacion", "registro_violacion")
    assert [(r["folio_orden"], r["fecha_hechos"], r["en_vigor"]) for r in registros] == [
        ("OP-FGJE-2026-000001", "2026-03-05T22:00:00-07:00", True),
        ("OP-FGJE-2026-000001", "2026-03-06T08:00:00-07:00", True)]
    # Reported to the recipient chosen on issue (the Instituto, by default), not to both.
    assert {t.title for t in c.all_tasks("informar_violacion")} == {
        "Informar la violación al Instituto o a la Secretaría Ejecutiva de Seguridad Pública"}
    c.t.complete(policia[0].id, example("orden_proteccion_intervencion_policial"), "pruebas")
    c.t.complete(c.all_tasks("informar_violacion")[0].id, example("orden_proteccion_informe_violacion"), "pruebas")
    c.t.complete(c.all_tasks("valorar_inicio_sancion")[0].id, example("orden_proteccion_valoracion_sancion", 0),
                 "pruebas")
    assert "fin_sancion_solicitada" in c.reached()
    [iniciado] = [e for e in c.detail().events if e.kind == "case_started"]
    sancion = Case(c.t, c.clock, iniciado.detail["instance"], "sancion")
    assert sancion.data()["folio_orden_proteccion"] == "OP-FGJE-2026-000001"
    # The register holds each violation with the police intervention and the sanction requested.
    violaciones = register.entries(c.t.db, kind="violacion")
    assert [v.key for v in violaciones] == ["OP-FGJE-2026-000001-V1", "OP-FGJE-2026-000001-V2"]
    primera = violaciones[0].data
    assert primera["intervencion_policial"]["violencia_cesada"] is True
    assert primera["sancion_solicitada"] == "2026-03-06T08:00:00-07:00"


# --- 6. the 4-hour term runs from when the authority learned the facts ----------------------------------------

def test_el_plazo_de_emision_corre_desde_el_conocimiento_de_los_hechos(tramita_sqlite: Any, start: Any) -> None:
    # Learned at 08:30, keyed in at 10:00: 4 hours from 08:30 -> 12:30 (not 14:00).
    c = start(tramita_sqlite, "orden_proteccion", dict(VICTIMA, fecha_hora_conocimiento="2026-03-02T08:30:00-07:00"),
              T0)
    valorar = c.task("valorar_riesgo")
    assert local(valorar.due_at) == "2026-03-02T12:30:00-07:00"
    assert valorar.deadline["start"] == "2026-03-02T08:30:00-07:00"
    assert c.data()["fecha_solicitud"] == "2026-03-02T10:00:00-07:00"


def test_el_conocimiento_no_puede_ser_posterior_a_la_captura(tramita_sqlite: Any, start: Any) -> None:
    with pytest.raises(InvalidInput) as err:
        start(tramita_sqlite, "orden_proteccion", dict(VICTIMA, fecha_hora_conocimiento="2026-03-02T10:00:01-07:00"),
              T0)
    assert "LGAMVLV art. 28" in err.value.fields["fecha_hora_conocimiento"]
    assert tramita_sqlite.instances() == []


def test_la_policia_interviene_ante_la_llamada_de_auxilio_haya_o_no_orden(tramita_sqlite: Any, start: Any) -> None:
    # Art. 44: the duty arises from the victim's call at the moment of the aggression; «de inmediato» is
    # due one hour (parameter auxilio_policial.intervencion_horas) after the call: 21:50 -> 22:50.
    c = start(tramita_sqlite, "auxilio_policial", example("auxilio_policial_inicio", 1), "2026-03-05T21:52:00")
    tarea = c.task("intervenir_auxilio")
    assert local(tarea.due_at) == "2026-03-05T22:50:00-07:00" and not tarea.overdue
    assert tarea.deadline["citation"] == "Reglamento art. 44" and tarea.candidate_group == "policia"
    assert c.fire("2026-03-05T22:50:00") == []
    [fired] = c.fire("2026-03-05T22:50:01")
    assert fired.task_name == "plazo_intervencion_vencido" and "escalado_intervencion" in c.reached()
    c.do("intervenir_auxilio", example("orden_proteccion_intervencion_policial"), at="2026-03-05T23:00:00")
    assert c.status == "completed"
    # With an order, its folio is kept to link the intervention to it.
    d = start(tramita_sqlite, "auxilio_policial", example("auxilio_policial_inicio", 0), "2026-03-05T21:52:00")
    assert d.data()["folio_orden_proteccion"] == "OP-FGJE-2026-000001"


# --- 19. dates a caseworker types follow the acts they answer ---------------------------------------------

def test_las_fechas_de_la_orden_siguen_a_los_actos(tramita_any: Any, start: Any) -> None:
    """Item 19 through the engine as the CLI drives it: a refused date changes nothing and names the act.

    The authority learns of the facts at 10:00 on Monday 2 March; saying it learned at 11:00 while the clock
    reads 10:00 is refused (LGAMVLV art. 28: the 4 hours run from a moment already past). Issued at 11:00; a
    violation on Wednesday 4 March at 21:50 is reported at 22:00: an intervention written at 21:40 precedes
    the facts (Reglamento art. 44) and is refused; at 22:10 it is accepted. The report of the violation to the
    register cannot be dated 3 March, before the violation it reports (Reglamento art. 28).
    """
    with pytest.raises(InvalidInput) as err:
        start(tramita_any, "orden_proteccion", dict(VICTIMA, fecha_hora_conocimiento="2026-03-02T11:00:00-07:00"),
              T0)
    assert err.value.fields == {"fecha_hora_conocimiento": "La fecha y hora en que la autoridad conoció los hechos"
                                                           " no puede ser posterior a este momento (LGAMVLV art. 28)."}
    c = emitida(tramita_any, start)
    c.send("violacion_orden", {"descripcion": "Se presentó en el domicilio.",
                               "fecha_hechos": "2026-03-04T21:50:00-07:00"}, at="2026-03-04T22:00:00")
    antes = example("orden_proteccion_intervencion_policial", fecha_hora_intervencion="2026-03-04T21:40:00-07:00")
    with pytest.raises(InvalidInput) as err:
        c.do("intervenir_policia", antes, at="2026-03-04T22:30:00")
    assert err.value.fields["fecha_hora_intervencion"] == (
        "La intervención no puede ser anterior a los hechos de la violación reportada (Reglamento art. 44).")
    assert "intervenir_policia" in c.open()  # nothing changed
    c.do("intervenir_policia", dict(antes, fecha_hora_intervencion="2026-03-04T22:10:00-07:00"),
         at="2026-03-04T22:30:00")
    assert "intervenir_policia" not in c.open()
    with pytest.raises(InvalidInput) as err:
        c.do("informar_violacion", example("orden_proteccion_informe_violacion", fecha_informe="2026-03-03"),
             at="2026-03-05T09:00:00")
    assert err.value.fields["fecha_informe"].startswith("El informe no puede ser anterior a la violación que informa")
    c.do("informar_violacion", example("orden_proteccion_informe_violacion", fecha_informe="2026-03-05"),
         at="2026-03-05T09:00:00")
    assert "informar_violacion" not in c.open()
