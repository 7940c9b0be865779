"""End-to-end in a real browser: Debian's Chromium driven by Playwright against a real server on 127.0.0.1.

The server runs the real procedures (``workflows/``) with the demo users ``make run``
creates (``web/demo.py``: groups from ``workflows/lanes.toml``), so these tests also
prove a newcomer can carry each procedure with them. Screenshots are saved to
``test-artifacts/`` (gitignored). Where /usr/bin/chromium is missing the tests are
skipped with that reason (``.ci/run`` installs it).
"""

from __future__ import annotations

import os
import re
import threading
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo
from typing import Any, Iterator

import pytest

from tests.web.conftest import REAL_WORKFLOWS, make_tramita

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-gpu", "--disable-component-update",
        "--disable-sync", "--no-first-run"]
HIGHLIGHT = "rgb(217, 119, 6)"  # the stroke of the elements in course (app.css)

if not Path(CHROMIUM).exists():
    pytest.skip(f"{CHROMIUM} is missing: apt-get install chromium chromium-driver (.ci/run does)",
                allow_module_level=True)
if not (ROOT / "node_modules" / "bpmn-js" / "dist").exists():
    pytest.skip("node_modules/bpmn-js is missing: run `npm install` (make does)", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright (the test extra)")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> Iterator[dict[str, Any]]:
    import shutil

    from argon2 import PasswordHasher
    from werkzeug.serving import make_server

    from engine.casework import people as accounts
    from web import create_app, demo

    folder = tmp_path_factory.mktemp("browser")
    db = folder / "tramita.db"
    shutil.copy(sqlite_template, db)
    os.environ["TRAMITA_ATTACHMENTS"] = str(folder / "attachments")
    hasher, accounts._hasher = accounts._hasher, PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    try:
        t = make_tramita(f"sqlite:///{db}", REAL_WORKFLOWS, [])
        demo.ensure(t, REAL_WORKFLOWS)  # the demo users, as `make run` creates them
    finally:
        accounts._hasher = hasher
    app = create_app({"TRAMITA": t, "SECRET_KEY": "navegador", "SESSION_COOKIE_SECURE": False})
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield {"url": f"http://127.0.0.1:{httpd.server_port}", "tramita": t}
    finally:
        httpd.shutdown()
        t.db.dispose()


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page_for(chromium: Any, server: dict[str, Any]) -> Iterator[Any]:
    from web import demo

    contexts = []

    def make(username: str, **ctx: Any) -> Any:
        context = chromium.new_context(locale="es-MX", viewport=ctx.pop("viewport", {"width": 1280, "height": 900}),
                                       **ctx)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15000)
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
        page.js_errors = errors  # type: ignore[attr-defined]
        page.goto(server["url"] + "/entrar")
        page.fill("#username", username)
        page.fill("#password", demo.PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_load_state("networkidle")
        return page

    yield make
    for c in contexts:
        c.close()


def shot(page: Any, name: str, full: bool = True) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True if full else False)


def submit(page: Any, label: str = "Completar tarea") -> None:
    page.click(f"button:has-text('{label}')")
    page.wait_for_load_state("networkidle")


def no_script_errors(page: Any) -> None:
    """No uncaught exception and no CSP refusal (a 422 or 403 answer is logged too, and expected)."""
    assert not [e for e in page.js_errors if "Failed to load resource" not in e], page.js_errors


def test_protection_order_from_request_to_issued_order(page_for: Any, server: dict[str, Any]) -> None:
    """A real request (orden_proteccion_inicio) through risk assessment (DMN), issuing and notification."""
    url = server["url"]
    mp = page_for("operativo.fgje")  # Ministerio Público: lanes «Autoridad emisora» and «Víctima o solicitante»
    assert mp.url.endswith("/bandeja")
    shot(mp, "01-bandeja-vacia")
    # The request (Reglamento art. 41), first by a third party who does not say why the woman cannot ask herself.
    mp.click("nav a:has-text('Procedimientos')")
    mp.click("a[href$='/procedimientos/orden_proteccion/iniciar']")
    assert "Solicitud de orden de protección" in mp.locator("h1").inner_text()
    mp.fill("#f-_reference", "OP-NAV-001")
    mp.fill("#f-_title", "Solicitud presencial")
    mp.check("input[name=solicitante_tipo][value=tercero]")
    mp.check("input[name=forma_solicitud][value=verbal]")
    mp.fill("#f-nombre_victima", "María López Valenzuela")
    mp.fill("#f-fecha_hora_conocimiento", "2026-03-02T10:00")  # LGAMVLV art. 28: the 4 hours run from here
    mp.select_option("#f-tipo_orden_solicitada", "no_especificada")
    mp.fill("#f-hechos", "Amenazas de muerte por su expareja.")
    assert "Obligatorio si «¿Quién solicita?» es «Otra persona (tercero), excepcionalmente»." in \
        mp.locator("#f-nombre_solicitante-wrap").inner_text()
    submit(mp, "Iniciar caso")
    # Problem first, article second (issue 10, item 21).
    assert mp.locator("#f-nombre_solicitante-error").inner_text().endswith("(Reglamento art. 41, primer párrafo).")
    assert mp.locator("#f-motivo_impedimento-error").is_visible()
    assert mp.locator("#f-nombre_victima").input_value() == "María López Valenzuela"  # kept
    shot(mp, "02-solicitud-con-errores")
    mp.check("input[name=solicitante_tipo][value=victima]")  # she asks herself
    submit(mp, "Iniciar caso")
    mp.wait_for_url(re.compile(r"/casos/\d+$"))
    case_url = mp.url
    assert "Caso iniciado: OP-NAV-001." in mp.content()
    # The risk assessment, from the inbox (art. 42); the risk table (DMN) recommends type and vigencia.
    mp.goto(url + "/bandeja")
    shot(mp, "03-bandeja")
    mp.click("a.task-link:has-text('Valorar el riesgo')")
    mp.check("input[name=riesgo_vida][value=true]")
    mp.check("input[name=riesgo_integridad][value=true]")
    mp.check("input[name=riesgo_patrimonio][value=false]")
    mp.check("input[name=magnitud_dano][value=grave]")
    shot(mp, "04-valoracion-riesgo")
    submit(mp)
    mp.wait_for_url(case_url)
    # The case: the issuing task is current in the diagram and its deadline (LGAMVLV art. 28) is explained.
    mp.wait_for_selector("#bpmn[data-ready=true]")
    active = mp.locator(".djs-element.tr-active[data-element-id=emitir_orden]")
    assert active.count() == 1
    assert active.locator(".djs-visual > :first-child").evaluate("e => getComputedStyle(e).stroke") == HIGHLIGHT
    for done in ("valorar_riesgo", "evaluar_riesgo"):  # the user task and the DMN business rule task
        assert mp.locator(f".djs-element.tr-completed[data-element-id={done}]").count() == 1, done
    assert active.is_visible() and active.bounding_box()["width"] > 60  # zoomed to a legible size
    plazos = mp.locator("#plazos .deadline-item.current").inner_text()
    assert "Emitir la orden de protección — Abierta" in plazos and "4 horas" in plazos
    assert "No aplica: las horas corren también en días inhábiles." in plazos and "LGAMVLV art. 28" in plazos
    datos = mp.locator("#datos").inner_text()
    assert "Reglamento art. 42, fracción I: riesgo de perder la vida" in datos
    # Named by workflows/datos/orden_proteccion.schema.json: the decision table's outputs have no form.
    assert "Tipo de orden recomendado\nDe emergencia" in datos and "Vigencia recomendada (días)\n60" in datos
    shot(mp, "05-expediente-emision-en-curso")
    mp.locator("#bpmn").screenshot(path=str(ARTIFACTS / "06-diagrama-tarea-en-curso.png"))
    # Issuing the order (arts. 42 and 43): the art. 43 items are required once it is granted.
    mp.click("a.task-link:has-text('Emitir la orden')")
    assert "Reglamento arts. 42 y 43" in mp.locator(".instructions").inner_text()
    assert "riesgo de perder la vida" in mp.locator("#datos-caso").inner_text()  # the recommendation at hand
    mp.check("input[name=decision_emision][value=otorgar]")
    mp.check("input[name=tipo_orden][value=emergencia]")
    mp.fill("#f-vigencia_dias", "90")
    mp.fill("#f-fundamentacion", "Reglamento arts. 42 y 43; LGAMVLV art. 28.")
    submit(mp)
    assert mp.locator("#f-vigencia_dias-error").inner_text() == \
        "La vigencia debe ser de 1 a 60 días naturales (LGAMVLV art. 28)."
    assert mp.locator("#f-lugar_emision-error").inner_text() == \
        "Escriba el lugar donde se emite la orden (Reglamento art. 43)."
    assert mp.locator("#f-vigencia_dias").input_value() == "90"  # kept
    shot(mp, "07-emision-con-errores")
    mp.fill("#f-vigencia_dias", "60")
    mp.fill("#f-medidas", "Prohibición de acercarse al domicilio de la víctima\nAuxilio policiaco de reacción inmediata")
    mp.fill("#f-lugar_emision", "Hermosillo, Sonora")
    mp.fill("#f-autoridad_emisora", "Agente del Ministerio Público especializado")
    mp.fill("#f-persona_agresora", "Pedro Ramírez Soto")
    submit(mp)
    mp.wait_for_url(case_url)
    # Notifying it (art. 43), never through the victim (LGAMVLV art. 34 Decies).
    mp.click("a.task-link:has-text('Notificar la orden')")
    # Item 19: a notification is not before the order nor later than now (the server runs on the real clock).
    ahora = datetime.now(ZoneInfo("America/Hermosillo"))
    mp.fill("#f-fecha_hora_notificacion", ahora.strftime("%Y-%m-%dT%H:%M"))
    mp.check("input[name=autoridades_notificadas][value=policia_municipal]")
    mp.check("input[name=autoridades_notificadas][value=instituto_sonorense_mujer]")
    mp.select_option("#f-notificacion_persona_agresora-medio", "personal_policia")
    mp.check("input[name='notificacion_persona_agresora.por_conducto_de_la_victima'][value=true]")
    submit(mp)
    assert mp.locator("#f-notificacion_persona_agresora-por_conducto_de_la_victima-error").inner_text() == \
        "La persona agresora nunca se notifica por conducto de la víctima (LGAMVLV art. 34 Decies)."
    shot(mp, "08-notificacion-con-errores")
    mp.check("input[name='notificacion_persona_agresora.por_conducto_de_la_victima'][value=false]")
    submit(mp)
    mp.wait_for_url(case_url)
    # Reported to the register (Reglamento art. 28), to the recipient chosen on issue.
    mp.click("a.task-link:has-text('Informar la orden')")
    mp.fill("#f-fecha_informe_orden", ahora.strftime("%Y-%m-%d"))
    mp.fill("#f-oficio_informe_orden", "MP/OP/10/2026")
    submit(mp)
    mp.wait_for_url(case_url)
    # The issued order: its PDF (art. 43), its vigencia running in the diagram and explained.
    link = mp.locator("a.doc-link")
    assert link.inner_text() == "Orden de protección (PDF)"
    assert "Reglamento art. 43" in mp.locator("#documentos").inner_text()
    pdf = mp.request.get(url + link.get_attribute("href"))
    assert pdf.ok and pdf.headers["content-type"] == "application/pdf" and pdf.body().startswith(b"%PDF")
    (ARTIFACTS / "orden-proteccion.pdf").write_bytes(pdf.body())
    mp.wait_for_selector("#bpmn[data-ready=true]")
    assert mp.locator(".djs-element.tr-completed[data-element-id=notificar_orden]").count() == 1
    assert mp.locator(".djs-element.tr-active[data-element-id=inicio_revaloracion]").count() == 1
    vigencia = mp.locator("#plazos .deadline-item", has_text="Se acerca el fin de la vigencia").inner_text()
    assert "55 días naturales" in vigencia and "LGAMVLV arts. 28 y 34 Septies" in vigencia
    assert "Folio de la orden" in mp.locator("#datos").inner_text()
    shot(mp, "09-orden-emitida")
    mp.locator("#bpmn").screenshot(path=str(ARTIFACTS / "10-diagrama-orden-vigente.png"))
    no_script_errors(mp)


def _real_case(t: Any, reference: str) -> int:
    from tests.web.conftest import REAL_REQUEST

    return t.start("orden_proteccion", dict(REAL_REQUEST, nombre_victima="Luz Mora Soto"), "operativo.fgje",
                   reference=reference, institution="FGJE").instance_id


def test_a_caseworker_of_another_institution_cannot_see_the_case(page_for: Any, server: dict[str, Any]) -> None:
    iid = _real_case(server["tramita"], "OP-NAV-003")
    ism = page_for("operativo.ism")  # Instituto Sonorense de la Mujer: no lane of this procedure
    ism.goto(server["url"] + "/casos")
    assert "OP-NAV-003" not in ism.content()
    ism.goto(server["url"] + "/bandeja")
    assert "OP-NAV-003" not in ism.content()
    response = ism.goto(f"{server['url']}/casos/{iid}")
    # 404, as for a case that does not exist (issue 11 § 4; it was 403, which told the case exists).
    assert response.status == 404
    assert "No encontrado" in ism.content() and "no existe o no tiene acceso" in ism.content()
    assert "Luz Mora" not in ism.content()
    assert ism.request.get(f"{server['url']}/casos/{iid}/documentos/orden-proteccion.pdf").status == 404
    shot(ism, "11-otra-institucion-404")


def test_the_other_procedures_start_in_the_browser(page_for: Any, server: dict[str, Any]) -> None:
    """Agravio (Instituto) and sanción (autoridad sancionadora): start form, conditional rule, first task."""
    url = server["url"]
    ism = page_for("operativo.ism")
    ism.goto(url + "/procedimientos/agravio/iniciar")
    ism.fill("#f-_reference", "AG-NAV-001")
    ism.fill("#f-fecha_recepcion", "2026-03-02")
    ism.check("input[name=presentada_por_escrito][value=true]")
    submit(ism, "Iniciar caso")
    ism.wait_for_url(re.compile(r"/casos/\d+$"))
    ism.click("a.task-link:has-text('Registrar la solicitud')")
    ism.check("input[name=solicitud_previa_desechada][value=true]")
    submit(ism)
    assert ism.locator("#f-fecha_desechamiento_previo-error").inner_text() == \
        "Indique la fecha del desechamiento anterior (Reglamento art. 36, tercer párrafo)."
    assert ism.locator("#f-tipo_solicitante-error").inner_text() == "Este campo es obligatorio."
    shot(ism, "12-agravio-registro-con-errores")
    sanc = page_for("operativo.autoridad-sancionadora")
    sanc.goto(url + "/procedimientos/sancion/iniciar")
    sanc.fill("#f-_reference", "SA-NAV-001")
    sanc.select_option("#f-origen", "violacion_orden_proteccion")
    submit(sanc, "Iniciar caso")
    assert sanc.locator("#f-folio_orden_proteccion-error").inner_text().endswith("(Reglamento art. 28).")
    sanc.fill("#f-folio_orden_proteccion", "OP-FGJE-2026-000001")
    submit(sanc, "Iniciar caso")
    sanc.wait_for_url(re.compile(r"/casos/\d+$"))
    sanc.click("a.task-link:has-text('Registrar la infracción')")
    assert sanc.locator("#f-fecha_infraccion").get_attribute("type") == "date"
    # Item 19: the same date rules the engine checks bound the input: the law in force since 30 January 2000
    # (parameter sancion.ley_vigente_desde) and today (the engine's clock, Hermosillo).
    from engine.services.terms import HERMOSILLO, now

    today = now().astimezone(HERMOSILLO).date().isoformat()
    assert sanc.locator("#f-fecha_infraccion").get_attribute("min") == "2000-01-30"
    assert sanc.locator("#f-fecha_infraccion").get_attribute("max") == today
    assert "no puede ser anterior a la entrada en vigor" in sanc.locator("#f-fecha_infraccion-wrap").inner_text()
    sanc.fill("#f-fecha_infraccion", "2030-03-10")
    submit(sanc)
    assert sanc.locator("#f-fecha_infraccion-error").inner_text() == \
        "La infracción ya ocurrió: su fecha no puede ser posterior a hoy (Ley de Violencia Familiar art. 46)."
    assert sanc.locator("input[name=tipos_maltrato][type=checkbox]").count() == 8
    shot(sanc, "13-sancion-registro")
    no_script_errors(ism)
    no_script_errors(sanc)


def test_inbox_on_a_phone_and_in_english(page_for: Any, server: dict[str, Any]) -> None:
    _real_case(server["tramita"], "OP-NAV-004")
    mp = page_for("operativo.fgje", viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    mp.goto(server["url"] + "/bandeja")
    assert "OP-NAV-004" in mp.content()
    shot(mp, "14-bandeja-movil")
    width = mp.evaluate("document.documentElement.scrollWidth")
    assert width <= 400, f"the page scrolls sideways on a phone ({width}px)"
    mp.click("text=English")
    mp.wait_for_load_state("networkidle")
    assert "My inbox" in mp.content()
    shot(mp, "15-inbox-english")
