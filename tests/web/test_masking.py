"""Masking decided by what a datum is (its ``x-clasificacion``), not by its name: a manager or an
administrator never reads a victim's name, an address or a narrative, through any page, API answer,
history row, file name or log line."""

from __future__ import annotations

import logging
from typing import Any

from tests.web.conftest import REAL_ISSUE, REAL_REQUEST, REAL_RISK, Browser, build_app, open_task

NAME = "Mariela Quintanar Ybarra"
ADDRESS = "Calle Tulipanes 4521, colonia Pitic"
AGGRESSOR = "Rodrigo Zamudio Leyva"
SECRETS = (NAME, ADDRESS, AGGRESSOR, "Quintanar", "Zamudio", "Tulipanes")


def _seeded_case(real: Any) -> int:
    """An issued order whose every text field holds a known name or address."""
    request = {**REAL_REQUEST, "nombre_victima": NAME, "hechos": f"{AGGRESSOR} amenazó a {NAME} en {ADDRESS}."}
    iid = real.start("orden_proteccion", request, "mp", reference="OP-MASK-1", institution="FGJE",
                     title=f"Caso {NAME}").instance_id  # a title typed against the form's advice
    real.complete(open_task(real, iid, "valorar_riesgo"), REAL_RISK, "mp")
    issue = {**REAL_ISSUE, "persona_agresora": AGGRESSOR, "lugar_emision": ADDRESS,
             "medidas": [f"Prohibición de acercarse a {NAME} y a {ADDRESS}"]}
    real.complete(open_task(real, iid, "emitir_orden"), issue, "mp")
    real.cases.add_attachment(real.find_user("mp"), iid, f"INE_{NAME.replace(' ', '_')}.pdf",
                              b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")
    return iid


def test_no_name_address_or_narrative_reaches_a_manager(real, caplog) -> None:  # type: ignore[no-untyped-def]
    caplog.set_level(logging.DEBUG)
    iid = _seeded_case(real)
    app = build_app(real)
    # the caseworker who attends the case reads all of it
    mp = Browser(app)
    mp.login("mp")
    page = mp.get(f"/casos/{iid}").get_data(as_text=True)
    assert NAME in page and AGGRESSOR in page and ADDRESS in page

    manager = Browser(app)
    assert manager.login("gerente_fgje").status_code == 302
    seen: list[str] = []
    for url in (f"/casos/{iid}", "/casos", f"/casos?q=OP-MASK", f"/casos/{iid}/diagrama.json"):
        r = manager.get(url)
        assert r.status_code == 200, url
        seen.append(r.get_data(as_text=True))
    token = real.create_token("gerente_fgje")
    api = app.test_client().get(f"/api/v1/instances/{iid}", headers={"Authorization": f"Bearer {token}"})
    assert api.status_code == 200
    body = api.get_data(as_text=True)
    seen.append(body)
    # what a manager needs to answer for the case is still there: its number, its steps, its dates
    assert "OP-MASK-1" in seen[0] and api.get_json()["data"]["tipo_orden"] == "emergencia"
    for text in seen + [caplog.text]:
        for secret in SECRETS:
            assert secret not in text, secret
    # and a manager may not open the files themselves
    attachment = api.get_json()["attachments"][0]
    assert manager.get(f"/casos/{iid}/adjuntos/{attachment['id']}").status_code == 403
