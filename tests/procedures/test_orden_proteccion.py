"""Protection orders (Reglamento arts. 41–44; LGAMVLV arts. 28, 34 Bis, Septies, Decies).

Calendar facts used below (computed by hand, America/Hermosillo, UTC−7):
* 2026-03-02 is a Monday. 15 March is a Sunday and 16 March the third Monday of March
  (LFT art. 74 holiday). 1 May 2026 is a Friday and a holiday; 31 May 2026 is a Sunday.
* Hours run on every day (plazo_horas); the vigencia of an order is counted in natural days
  and is not moved off a día inhábil (protection does not stretch because of a holiday);
  the ratification term is a term in natural days, so its end moves to the next business
  day when it falls on a día inhábil (LFPA art. 29, per the shared legal README).
* Parameters (workflows/parameters.toml): issue within 4 h, vigencia 60 days, one extension
  of 30 days, a contact every 24 h, 6 contacts, ratification within 5 natural days.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from engine.casework import documents
from engine.errors import InvalidInput
from tests.procedures.conftest import Case, deadline_days, example, local

T0 = "2026-03-02T10:00:00"  # the authority learns of the facts on Monday 2 March at 10:00
VICTIMA = example("orden_proteccion_inicio", 0)
TERCERO = example("orden_proteccion_inicio", 1)
TERCERO_CIVIL = example("orden_proteccion_inicio", 2)


def emitida(t: Any, start: Any, inicio: dict[str, Any] = VICTIMA) -> Case:
    """Assessed at 10:30 and issued at 11:00 on Monday 2 March; notified at 12:00."""
    c = start(t, "orden_proteccion", inicio, T0)
    assert c.open() == ["valorar_riesgo"]
    c.do("valorar_riesgo", example("orden_proteccion_valoracion_riesgo", 0), at="2026-03-02T10:30:00")
    c.do("emitir_orden", example("orden_proteccion_emision", 0), at="2026-03-02T11:00:00")
    assert c.open() == ["notificar_orden"]
    c.do("notificar_orden", example("orden_proteccion_notificacion"), at="2026-03-02T12:00:00")
    return c


def contactos(c: Case, dias: list[str]) -> None:
    """The cycle timer fires once a day: one contact task per occurrence, completed the same day."""
    for dia in dias:
        assert c.fire(f"{dia}T11:00:00") == []  # the occurrence instant itself: not yet past
        [fired] = c.fire(f"{dia}T11:00:01")
        assert fired.task_name == "contacto_24_horas" and fired.outcome == "fired"
        assert c.open().count("contactar_victima") == 1
        c.do("contactar_victima", example("orden_proteccion_contacto", fecha_hora_contacto=f"{dia}T11:30:00-07:00"))


SEIS_DIAS = ["2026-03-03", "2026-03-04", "2026-03-05", "2026-03-06", "2026-03-07", "2026-03-08"]


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


# --- 4. the order document, 5. follow-up, 8. expiry ------------------------------------------------------

def test_orden_documento_seguimiento_y_levantamiento(tramita_any: Any, start: Any) -> None:
    c = emitida(tramita_any, start)
    # Art. 43: a separate document with date, time, place, vigencia, protected person, person it is
    # issued against, type and issuing authority. 60 natural days from Monday 2 March: 31 March is
    # day 29, 30 April day 59, Friday 1 May day 60 (a holiday, but the vigencia is not moved).
    doc = c.value("generar_documento_orden", "documento_orden")
    assert doc == {
        "folio": "OP-20260302-1", "fecha": "2026-03-02", "hora": "11:00:00", "lugar": "Hermosillo, Sonora",
        "vigencia_dias": 60, "vigente_hasta": "2026-05-01T23:59:59-07:00", "persona_protegida": "María López",
        "persona_contra_quien_se_expide": "Pedro Ramírez", "tipo_orden": "emergencia",
        "medidas": ["Prohibición de acercarse al domicilio de la víctima", "Auxilio policiaco de reacción inmediata"],
        "autoridad_emisora": "Agente del Ministerio Público especializado", "fundamento": "Reglamento art. 43"}
    registro = c.value("generar_documento_orden", "registro_orden")
    assert registro["folio"] == "OP-20260302-1" and "art" in registro["fundamento"]
    data = c.data()
    assert documents.available("orden_proteccion", data)  # the PDF can be generated from the case data
    campos = documents.order_fields(data)
    assert campos["persona_protegida"] == "María López" and campos["persona_contra"] == "Pedro Ramírez"
    assert campos["lugar"] == "Hermosillo, Sonora" and "emergencia" in campos["tipo"].lower()
    assert "01/05/2026" in campos["vigencia"]
    # The enforcing authorities were notified, and not through the victim (LGAMVLV art. 34 Decies).
    assert c.value("notificar_orden", "notificacion_persona_agresora")["por_conducto_de_la_victima"] is False

    vigencia = c.timer("vencimiento_vigencia")
    assert local(vigencia.due_at) == "2026-05-01T23:59:59-07:00"
    assert vigencia.deadline["unit"] == "natural" and vigencia.deadline["count"] == 60
    assert vigencia.deadline["skipped"] == []  # not moved off the 1 May holiday
    # LGAMVLV art. 34 Bis: a contact 24 h after issue (Tuesday 3 March, 11:00) and every 24 h, 6 times.
    ciclo = c.timer("contacto_24_horas")
    assert ciclo.kind == "cycle" and local(ciclo.due_at) == "2026-03-03T11:00:00-07:00"
    assert ciclo.deadline["citation"] == "LGAMVLV art. 34 Bis"
    assert ciclo.deadline["unit"] == "hours" and ciclo.deadline["count"] == 24
    assert ciclo.deadline["start"] == "2026-03-02T11:00:00-07:00"
    contactos(c, SEIS_DIAS)
    assert len(c.all_tasks("contactar_victima")) == 6
    assert c.fire("2026-03-10T11:00:01") == [] and "contactar_victima" not in c.open()
    assert c.timers("contacto_24_horas") == []

    # Expiry: at the end of the vigencia the risk is assessed again before lifting (art. 34 Septies).
    assert c.fire("2026-05-01T23:59:59") == []
    c.fire("2026-05-02T00:00:00")
    assert c.open() == ["revalorar_riesgo"]
    # While it is being reassessed the order is still in force: a violation is still caught.
    c.send("violacion_orden", {"descripcion": "Se presentó en el domicilio."}, at="2026-05-02T09:00:00")
    assert c.open() == ["informar_violacion", "intervenir_policia", "revalorar_riesgo", "valorar_inicio_sancion"]
    c.do("revalorar_riesgo", example("orden_proteccion_revaloracion", 0), at="2026-05-02T10:00:00")
    assert {"fin_orden_concluida", "fin_vigilancia"} <= c.reached()
    c.do("intervenir_policia", example("orden_proteccion_intervencion_policial"))
    c.do("informar_violacion", example("orden_proteccion_informe_violacion"))
    c.do("valorar_inicio_sancion", example("orden_proteccion_valoracion_sancion", 1))
    assert c.status == "completed"
    assert {"fin_sin_sancion", "fin_intervencion", "fin_informe_violacion", "fin_sin_ratificacion"} <= c.reached()


def test_seguimiento_atrasado_se_pone_al_dia_en_una_pasada(tramita_sqlite: Any, start: Any) -> None:
    c = emitida(tramita_sqlite, start)
    # The scheduler was down from Monday to Tuesday 10 March: one pass catches up all six
    # occurrences (3-8 March, 11:00), one transition and one audit event each, and nothing more.
    fired = c.fire("2026-03-10T12:00:00")
    assert [(f.task_name, f.outcome) for f in fired] == [("contacto_24_horas", "fired")] * 6
    assert [local(f.due_at) for f in fired] == [f"{d}T11:00:00-07:00" for d in SEIS_DIAS]
    assert c.open().count("contactar_victima") == 6
    eventos = [e for e in c.detail().events if e.kind == "timer_fired"]
    assert [e.detail["due_at"] for e in eventos] == [f"{d}T18:00:00+00:00" for d in SEIS_DIAS]
    assert [e.detail["tasks_created"] for e in eventos] == [["contactar_victima"]] * 6
    assert [t.status for t in c.detail().timers if t.task_name == "contacto_24_horas"] == ["fired"] * 6
    assert c.timers("contacto_24_horas") == []
    assert c.fire("2026-03-20T12:00:00") == []
    assert c.open().count("contactar_victima") == 6


def test_fire_due_adelantado_al_reloj_no_dispara_ni_se_cicla(tramita_sqlite: Any, start: Any) -> None:
    from engine.run import firing as timers

    c = emitida(tramita_sqlite, start)
    # as_of ahead of the clock (the clock still says 12:00 on 2 March): nothing is due by the clock,
    # so nothing fires, no row is duplicated, and the call returns.
    fired = timers.fire_due(c.t.runtime, as_of=c.clock.now().replace(year=2027), worker="w")
    assert fired and all(f.outcome == "skipped" for f in fired)
    assert c.open() == []
    assert len(c.timers("contacto_24_horas")) == 1 and len(c.timers("vencimiento_vigencia")) == 1


# --- 6. ratification ------------------------------------------------------------------------------------

def test_tercero_la_victima_ratifica_en_cinco_dias_naturales(tramita_sqlite: Any, start: Any) -> None:
    c = emitida(tramita_sqlite, start, TERCERO)
    assert c.open() == []
    # The risk ends on Tuesday 10 March at 09:00 (message). 5 natural days: Sunday 15 March; a term
    # cannot end on a día inhábil, and Monday 16 March is a holiday -> Tuesday 17 March.
    c.send("fin_estado_riesgo", {"fecha_cese": "2026-03-10T09:00:00-07:00"}, at="2026-03-10T12:00:00")
    ratificar = c.task("ratificar_solicitud")
    assert local(ratificar.due_at) == "2026-03-17T23:59:59-07:00"
    assert ratificar.deadline["citation"] == "Reglamento art. 41, primer párrafo"
    assert ratificar.deadline["unit"] == "natural" and ratificar.deadline["count"] == 5
    assert deadline_days(ratificar.deadline) == [("2026-03-15", "Domingo"),
                                                 ("2026-03-16", "Natalicio de Benito Juárez")]
    assert c.value("registrar_cese_riesgo", "fecha_limite_ratificacion") == "2026-03-17T23:59:59-07:00"
    c.do("ratificar_solicitud", example("orden_proteccion_ratificacion", 0, fecha_ratificacion="2026-03-13"),
         at="2026-03-13T10:00:00")
    assert "fin_ratificada" in c.reached() and "registrar_caducidad" not in c.reached()
    assert local(c.timer("vencimiento_vigencia").due_at) == "2026-05-01T23:59:59-07:00"  # still in force


def test_tercero_sin_ratificacion_la_orden_caduca(tramita_sqlite: Any, start: Any) -> None:
    c = emitida(tramita_sqlite, start, TERCERO)
    # Risk ended Wednesday 4 March, 09:00: 5 natural days -> Monday 9 March (a business day).
    c.send("fin_estado_riesgo", {"fecha_cese": "2026-03-04T09:00:00-07:00"}, at="2026-03-04T12:00:00")
    ratificar = c.task("ratificar_solicitud")
    assert local(ratificar.due_at) == "2026-03-09T23:59:59-07:00" and ratificar.deadline["skipped"] == []
    # (Follow-up contacts of 3-9 March fire too whenever the clock passes them: not asserted here.)
    assert "plazo_ratificacion_vencido" not in [f.task_name for f in c.fire("2026-03-09T23:59:59")]
    assert c.open().count("ratificar_solicitud") == 1
    fired = c.fire("2026-03-10T00:00:00")
    assert "plazo_ratificacion_vencido" in [f.task_name for f in fired]
    # The timer no longer declares the lapse by itself (a ratification made on time may not have been
    # captured yet): the authority first certifies that none was received, and only then it lapses.
    assert "registrar_caducidad" not in c.reached() and c.open().count("certificar_ratificacion") == 1
    c.do("certificar_ratificacion", example("orden_proteccion_certificacion_ratificacion", 0),
         at="2026-03-10T09:00:00")
    assert {"registrar_caducidad", "fin_caducidad", "fin_orden_caducada", "fin_vigilancia"} <= c.reached()
    data = c.value("registrar_caducidad", "orden_caducada")
    assert data is True
    # Recorded when the authority certified the lapse (it used to be the timer pass at midnight).
    assert c.value("registrar_caducidad", "fecha_caducidad") == "2026-03-10T09:00:00-07:00"
    motivo = c.value("registrar_caducidad", "motivo_caducidad")
    assert "art. 41" in motivo and "2026-03-09T23:59:59-07:00" in motivo
    # The order lapsed: no expiry, no reassessment, no more violations awaited.
    assert c.timers("vencimiento_vigencia") == []
    with pytest.raises(Exception, match="not waiting"):
        c.send("violacion_orden", {"descripcion": "x"})
    assert "revalorar_riesgo" not in c.open()


def _riesgo_cesa_el_10_de_marzo(t: Any, start: Any) -> Case:
    """Third-party order; the risk ends on Tuesday 10 March 2026 at 09:00.

    Deadline by hand (Reglamento art. 41: 5 natural days after the risk ends): 11, 12, 13, 14, 15
    March -> Sunday 15 March; a term cannot end on a día inhábil and Monday 16 March is a holiday
    (third Monday of March), so it ends on Tuesday 17 March 2026 at 23:59:59 Hermosillo."""
    c = emitida(t, start, TERCERO)
    c.send("fin_estado_riesgo", {"fecha_cese": "2026-03-10T09:00:00-07:00"}, at="2026-03-10T12:00:00")
    assert local(c.task("ratificar_solicitud").due_at) == "2026-03-17T23:59:59-07:00"
    return c


def test_ratificacion_oportuna_capturada_tras_el_vencimiento_la_orden_sigue_vigente(tramita_sqlite: Any,
                                                                                   start: Any) -> None:
    c = _riesgo_cesa_el_10_de_marzo(tramita_sqlite, start)
    # The victim ratified on Tuesday 17 March (the last day) but nobody captured it before the
    # scheduler's pass at midnight: the timer fires and asks for a certification, not a lapse.
    assert "plazo_ratificacion_vencido" not in [f.task_name for f in c.fire("2026-03-17T23:59:59")]
    fired = c.fire("2026-03-18T00:00:01")
    assert "plazo_ratificacion_vencido" in [f.task_name for f in fired]
    assert "ratificar_solicitud" not in c.open() and c.open().count("certificar_ratificacion") == 1
    c.do("certificar_ratificacion",
         example("orden_proteccion_certificacion_ratificacion", 1, fecha_certificacion="2026-03-18",
                 fecha_ratificacion="2026-03-17"), at="2026-03-18T10:00:00")
    assert c.value("calificar_oportunidad_ratificacion", "ratificacion_extemporanea") is False
    assert "fin_ratificada" in c.reached()
    assert not {"registrar_caducidad", "fin_orden_caducada"} & c.reached()
    # The order stays in force: its expiry (60 natural days from 2 March) is still pending.
    assert local(c.timer("vencimiento_vigencia").due_at) == "2026-05-01T23:59:59-07:00"
    assert c.status != "completed"


def test_ratificacion_extemporanea_certificada_la_orden_caduca_mostrando_el_plazo(tramita_sqlite: Any,
                                                                                 start: Any) -> None:
    c = _riesgo_cesa_el_10_de_marzo(tramita_sqlite, start)
    c.fire("2026-03-18T00:00:01")
    # She appeared on Wednesday 18 March, one day after the term ended on Tuesday 17 March.
    c.do("certificar_ratificacion",
         example("orden_proteccion_certificacion_ratificacion", 1, fecha_certificacion="2026-03-18",
                 fecha_ratificacion="2026-03-18"), at="2026-03-18T10:00:00")
    assert c.value("calificar_oportunidad_ratificacion", "ratificacion_extemporanea") is True
    assert {"registrar_caducidad", "fin_caducidad", "fin_orden_caducada"} <= c.reached()
    assert "fin_ratificada" not in c.reached()
    motivo = c.value("registrar_caducidad", "motivo_caducidad")
    assert motivo.startswith("Reglamento art. 41, primer párrafo")
    assert "2026-03-18" in motivo and "2026-03-17T23:59:59-07:00" in motivo
    assert c.timers("vencimiento_vigencia") == []


def test_ratificacion_extemporanea_capturada_antes_del_vencimiento_caduca(tramita_sqlite: Any,
                                                                          start: Any) -> None:
    """Timeliness is judged by the date of the appearance, not by the clock: a ratification made on
    Wednesday 18 March is late even if it is captured before any timer pass closed the term."""
    c = _riesgo_cesa_el_10_de_marzo(tramita_sqlite, start)
    c.do("ratificar_solicitud", example("orden_proteccion_ratificacion", 0, fecha_ratificacion="2026-03-18"),
         at="2026-03-18T09:00:00")
    assert {"registrar_caducidad", "fin_orden_caducada"} <= c.reached()
    assert "2026-03-17T23:59:59-07:00" in c.value("registrar_caducidad", "motivo_caducidad")
    assert c.timers("vencimiento_vigencia") == []


def test_sin_ratificacion_certificada_la_orden_caduca(tramita_sqlite: Any, start: Any) -> None:
    c = _riesgo_cesa_el_10_de_marzo(tramita_sqlite, start)
    c.fire("2026-03-18T00:00:01")
    c.do("certificar_ratificacion",
         example("orden_proteccion_certificacion_ratificacion", 0, fecha_certificacion="2026-03-18"),
         at="2026-03-18T10:00:00")
    assert {"registrar_caducidad", "fin_orden_caducada"} <= c.reached()
    assert "calificar_oportunidad_ratificacion" not in c.reached()
    assert "2026-03-17T23:59:59-07:00" in c.value("registrar_caducidad", "motivo_caducidad")
    assert c.timers("vencimiento_vigencia") == []


def test_certificacion_de_ratificacion_exige_la_fecha(tramita_sqlite: Any, start: Any) -> None:
    c = _riesgo_cesa_el_10_de_marzo(tramita_sqlite, start)
    c.fire("2026-03-18T00:00:01")
    with pytest.raises(InvalidInput) as err:
        c.do("certificar_ratificacion", {"fecha_certificacion": "2026-03-18", "ratificacion_recibida": True})
    assert any("Reglamento art. 41" in m for m in err.value.fields.values())
    assert c.open().count("certificar_ratificacion") == 1


def test_tercero_la_victima_no_ratifica(tramita_sqlite: Any, start: Any) -> None:
    c = emitida(tramita_sqlite, start, TERCERO)
    c.send("fin_estado_riesgo", {"fecha_cese": "2026-03-04"}, at="2026-03-04T09:00:00")
    c.do("ratificar_solicitud", example("orden_proteccion_ratificacion", 1, fecha_ratificacion="2026-03-05"))
    assert {"registrar_caducidad", "fin_orden_caducada"} <= c.reached()
    assert c.timers("vencimiento_vigencia") == []


def test_la_victima_no_necesita_ratificar(tramita_sqlite: Any, start: Any) -> None:
    c = emitida(tramita_sqlite, start)
    assert "fin_sin_ratificacion" in c.reached()
    with pytest.raises(Exception, match="not waiting"):
        c.send("fin_estado_riesgo", {})


# --- 7. violations --------------------------------------------------------------------------------------

def test_violaciones_registro_policia_informe_y_procedimiento_sancionador(tramita_sqlite: Any, start: Any) -> None:
    c = emitida(tramita_sqlite, start)
    c.send("violacion_orden", {"descripcion": "Llamadas amenazantes."}, at="2026-03-05T22:00:00")
    c.send("violacion_orden", {"descripcion": "Se acercó al domicilio."}, at="2026-03-06T08:00:00")
    abiertas = c.open()
    assert abiertas.count("intervenir_policia") == 2
    assert abiertas.count("informar_violacion") == 2 and abiertas.count("valorar_inicio_sancion") == 2
    # Art. 44: the police must intervene immediately: due the instant the violation is reported.
    policia = sorted(c.all_tasks("intervenir_policia"), key=lambda t: t.due_at)
    assert [local(t.due_at) for t in policia] == ["2026-03-05T22:00:00-07:00", "2026-03-06T08:00:00-07:00"]
    assert {t.candidate_group for t in policia} == {"policia"}
    # Arts. 23 IV and 28: each violation is inscribed in the register with the order's folio.
    registros = c.values("registrar_violacion", "registro_violacion")
    assert [(r["folio_orden"], r["fecha_reporte"], r["descripcion"]) for r in registros] == [
        ("OP-20260302-1", "2026-03-05T22:00:00-07:00", "Llamadas amenazantes."),
        ("OP-20260302-1", "2026-03-06T08:00:00-07:00", "Se acercó al domicilio.")]
    # Reported to the Instituto and the Secretaría Ejecutiva de Seguridad Pública.
    assert {t.title for t in c.all_tasks("informar_violacion")} == {
        "Informar al Instituto y a la Secretaría Ejecutiva de Seguridad Pública"}
    c.t.complete(policia[0].id, example("orden_proteccion_intervencion_policial"), "pruebas")
    informar = c.all_tasks("informar_violacion")[0]
    c.t.complete(informar.id, example("orden_proteccion_informe_violacion"), "pruebas")
    valorar = c.all_tasks("valorar_inicio_sancion")[0]
    c.t.complete(valorar.id, example("orden_proteccion_valoracion_sancion", 0), "pruebas")
    assert "fin_sancion_solicitada" in c.reached()
    # It starts a sanction case (procedure 3), routed by workflows/messages.toml.
    [iniciado] = [e for e in c.detail().events if e.kind == "case_started"]
    assert iniciado.detail["message"] == "solicitud_procedimiento_sancion" and iniciado.detail["process"] == "sancion"
    sancion = Case(c.t, c.clock, iniciado.detail["instance"], "sancion")
    assert sancion.detail().instance.process_key == "sancion"
    assert sancion.open() == ["registrar_infraccion"]
    pedido = sancion.data()
    assert pedido["origen"] == "violacion_orden_proteccion" and pedido["folio_orden_proteccion"] == "OP-20260302-1"
    assert pedido["hechos_iniciales"] == "Llamadas amenazantes."
    # Still in force: violations keep being caught.
    c.send("violacion_orden", {"descripcion": "Tercera."}, at="2026-03-07T08:00:00")
    assert c.open().count("intervenir_policia") == 2  # one done, two open
    assert len(c.values("registrar_violacion", "registro_violacion")) == 3


# --- 8. expiry: extension once, new order, denial ---------------------------------------------------------

def test_vencimiento_prorroga_una_sola_vez_y_nueva_orden(tramita_sqlite: Any, start: Any) -> None:
    c = emitida(tramita_sqlite, start)
    contactos(c, SEIS_DIAS)
    c.fire("2026-05-02T00:00:00")
    c.do("revalorar_riesgo", example("orden_proteccion_revaloracion", 1), at="2026-05-02T10:00:00")  # extend
    # 60 + 30 natural days from Monday 2 March: Sunday 31 May (vigencia not moved).
    assert c.value("aplicar_prorroga", "vigencia_hasta") == "2026-05-31T23:59:59-07:00"
    assert c.value("aplicar_prorroga", "prorrogas_usadas") == 1
    vigencia = c.timer("vencimiento_vigencia")
    assert local(vigencia.due_at) == "2026-05-31T23:59:59-07:00" and vigencia.deadline["count"] == 90
    assert c.open() == []
    c.fire("2026-06-01T00:00:00")
    # A second extension is refused, and the reason is recorded.
    c.do("revalorar_riesgo", example("orden_proteccion_revaloracion", 1), at="2026-06-01T08:00:00")
    assert c.open() == ["revalorar_riesgo"]
    assert "ya se prorrogó una vez" in c.value("rechazar_prorroga", "aviso_revaloracion")
    assert c.timers("vencimiento_vigencia") == []
    # The risk continues: a new order (art. 41, third paragraph), issued within 4 h of this decision.
    c.do("revalorar_riesgo", example("orden_proteccion_revaloracion", 2), at="2026-06-01T09:00:00")
    emitir = c.task("emitir_orden")
    assert local(emitir.due_at) == "2026-06-01T13:00:00-07:00"  # 09:00 + 4 h
    c.do("emitir_orden", example("orden_proteccion_emision", 0), at="2026-06-01T10:00:00")
    c.do("notificar_orden", example("orden_proteccion_notificacion"))
    doc = c.value("generar_documento_orden", "documento_orden")
    # The second order of the case; 60 natural days from Monday 1 June -> Friday 31 July.
    assert doc["folio"] == "OP-20260601-2" and doc["vigente_hasta"] == "2026-07-31T23:59:59-07:00"
    assert local(c.timer("vencimiento_vigencia").due_at) == "2026-07-31T23:59:59-07:00"
    # A new 6-day follow-up for the new order: first contact Tuesday 2 June, 10:00.
    assert local(c.timer("contacto_24_horas").due_at) == "2026-06-02T10:00:00-07:00"
    for dia in ["2026-06-02", "2026-06-03", "2026-06-04", "2026-06-05", "2026-06-06", "2026-06-07"]:
        c.fire(f"{dia}T10:00:01")
        c.do("contactar_victima", example("orden_proteccion_contacto"))
    assert len(c.all_tasks("contactar_victima")) == 12
    # The new order can be extended once again (the count restarts with each order).
    c.fire("2026-08-01T00:00:00")
    c.do("revalorar_riesgo", example("orden_proteccion_revaloracion", 0))
    assert c.status == "completed" and {"fin_orden_concluida", "fin_vigilancia"} <= c.reached()


def test_vencimiento_nueva_orden_negada_concluye(tramita_sqlite: Any, start: Any) -> None:
    c = emitida(tramita_sqlite, start)
    contactos(c, SEIS_DIAS)
    c.fire("2026-05-02T00:00:00")
    c.do("revalorar_riesgo", example("orden_proteccion_revaloracion", 2), at="2026-05-04T09:00:00")
    c.do("emitir_orden", example("orden_proteccion_emision", 1), at="2026-05-04T10:00:00")
    assert c.status == "completed"
    assert {"fin_orden_negada_concluye", "fin_vigilancia"} <= c.reached()
    assert "fin_orden_negada" not in c.reached()


def test_sin_riesgo_no_se_prorroga_ni_se_expide_nueva_orden(tramita_sqlite: Any, start: Any) -> None:
    c = emitida(tramita_sqlite, start)
    c.fire("2026-05-02T00:00:00")
    with pytest.raises(InvalidInput) as err:
        c.do("revalorar_riesgo", example("orden_proteccion_revaloracion", 0, decision_revaloracion="prorrogar"))
    assert "art. 41, tercer párrafo" in err.value.fields["decision_revaloracion"]
    with pytest.raises(InvalidInput) as err:
        c.do("revalorar_riesgo", example("orden_proteccion_revaloracion", 2, decision_revaloracion="levantar"))
    assert "34 Septies" in err.value.fields["decision_revaloracion"]
