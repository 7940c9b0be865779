"""Issue 10, item 22: rectifying a wrong date in a running case recomputes the terms computed from it.

Calendar (Hermosillo): Friday 18 December 2026; 19-20 and 26-27 December weekends; 25 December Navidad
(LFT art. 74). Ley de Violencia Familiar art. 54: 5 días hábiles from the day after the personal notification.
"""

from __future__ import annotations

from typing import Any

import pytest

from engine.errors import Forbidden, InvalidInput
from engine.services.principal import SYSTEM
from tests.procedures.conftest import example, local
from tests.procedures.test_sancion import notificada


def test_rectificar_la_fecha_de_notificacion_recalcula_el_plazo_del_recurso(tramita_any: Any, start: Any) -> None:
    tramita_sqlite = tramita_any  # SQLite and PostgreSQL
    c = notificada(tramita_sqlite, start)
    # Typed as notified Friday 18 December: 21, 22, 23, 24, [25-27], 28 -> Monday 28 December.
    assert local(c.task("interponer_recurso").due_at) == "2026-12-28T23:59:59-07:00"
    # The personal notification was really made on Monday 21 December: 22 (1), 23 (2), 24 (3), [25 Navidad,
    # 26-27 weekend], 28 (4), 29 (5) -> Tuesday 29 December 2026, 23:59:59.
    c.at("2026-12-22T09:00:00")
    tramita_sqlite.cases.rectify(SYSTEM, c.id, "fecha_notificacion", "2026-12-21",
                                 "El acta de notificación personal dice 21 de diciembre; se capturó el 18.")
    assert c.data()["fecha_notificacion"] == "2026-12-21"
    timer = c.timer("plazo_recurso_vencido")
    assert local(timer.due_at) == "2026-12-29T23:59:59-07:00"
    assert timer.deadline["rule"].startswith("Recalculado por la rectificación de «fecha_notificacion» "
                                             "(2026-12-18 → 2026-12-21")
    assert timer.deadline["previous"]["due"] == "2026-12-28T23:59:59-07:00"
    recurso = c.task("interponer_recurso")
    assert local(recurso.due_at) == "2026-12-29T23:59:59-07:00"
    # The computed limit kept as case data follows (it decides later whether a filing was timely).
    assert c.data()["fecha_limite_recurso"] == "2026-12-29T23:59:59-07:00"
    [event] = [e for e in c.detail().events if e.kind == "data_rectified"]
    assert event.detail["before"] == {"fecha_notificacion": "2026-12-18"}
    assert event.detail["changes"] == {"fecha_notificacion": "2026-12-21"}
    assert event.detail["reason"].startswith("El acta de notificación")
    assert event.detail["timers"][0]["new_due"] == "2026-12-29T23:59:59-07:00"
    # A recurso filed on Tuesday 29 December, late under the wrong date, is timely.
    assert c.fire("2026-12-29T00:00:01") == []
    c.do("interponer_recurso", example("sancion_recurso", solicita_suspension=False, garantia="ninguna",
                                       fecha_presentacion_recurso="2026-12-29"), at="2026-12-29T10:00:00")
    assert c.value("calificar_oportunidad_recurso", "recurso_extemporaneo") is False


def test_rectificar_exige_motivo_un_valor_valido_y_un_dato_rectificable(tramita_sqlite: Any, start: Any) -> None:
    c = notificada(tramita_sqlite, start)
    before = len(c.detail().events)
    with pytest.raises(InvalidInput, match="motivo"):
        tramita_sqlite.cases.rectify(SYSTEM, c.id, "fecha_notificacion", "2026-12-21", " ")
    with pytest.raises(InvalidInput, match="fecha"):
        tramita_sqlite.cases.rectify(SYSTEM, c.id, "fecha_notificacion", "21/12/2026", "Acta.")
    with pytest.raises(InvalidInput, match="no es un nombre ni una fecha"):
        tramita_sqlite.cases.rectify(SYSTEM, c.id, "tipo_sancion", "arresto", "Acta.")
    assert len(c.detail().events) == before  # nothing written
    assert local(c.task("interponer_recurso").due_at) == "2026-12-28T23:59:59-07:00"


def test_solo_el_personal_operativo_rectifica(tramita_sqlite: Any, start: Any) -> None:
    from engine.services.principal import UserView

    c = notificada(tramita_sqlite, start)
    manager = UserView(id=99, username="gerente", name="Gerente", role="manager", institution="sistema", groups=())
    with pytest.raises(Forbidden):
        tramita_sqlite.cases.rectify(manager, c.id, "fecha_notificacion", "2026-12-21", "Acta.")
