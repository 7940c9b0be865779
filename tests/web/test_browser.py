"""End-to-end in a real browser: Debian's Chromium driven by Playwright against a real server on 127.0.0.1.

Screenshots are saved to ``test-artifacts/`` (gitignored). Where /usr/bin/chromium
is missing the tests are skipped with that reason (``.ci/run`` installs it).
"""

from __future__ import annotations

import os
import re
import threading
from pathlib import Path
from typing import Any, Iterator

import pytest

from tests.web.conftest import PASSWORD, make_tramita

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-gpu", "--disable-component-update",
        "--disable-sync", "--no-first-run"]

if not Path(CHROMIUM).exists():
    pytest.skip(f"{CHROMIUM} is missing: apt-get install chromium chromium-driver (.ci/run does)",
                allow_module_level=True)
if not (ROOT / "node_modules" / "bpmn-js" / "dist").exists():
    pytest.skip("node_modules/bpmn-js is missing: run `npm install` (make does)", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright (the test extra)")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> Iterator[dict[str, Any]]:
    import shutil

    from werkzeug.serving import make_server

    from web import create_app

    folder = tmp_path_factory.mktemp("browser")
    db = folder / "tramita.db"
    shutil.copy(sqlite_template, db)
    os.environ["TRAMITA_ATTACHMENTS"] = str(folder / "attachments")
    t = make_tramita(f"sqlite:///{db}")
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
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_load_state("networkidle")
        return page

    yield make
    for c in contexts:
        c.close()


def shot(page: Any, name: str, full: bool = True) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=full)


def test_protection_order_from_request_to_issued_order(page_for: Any, server: dict[str, Any]) -> None:
    url = server["url"]
    ana = page_for("ana")
    assert ana.url.endswith("/bandeja")
    shot(ana, "01-bandeja-vacia")
    # The request (Reglamento art. 41).
    ana.click("nav a:has-text('Procedimientos')")
    ana.click("a:has-text('Iniciar caso')")
    ana.fill("#f-_reference", "OP-NAV-001")
    ana.fill("#f-_title", "Solicitud presencial")
    ana.fill("#f-victima_nombre", "María Pérez Soto")
    ana.fill("#f-victima_telefono", "662 123 4567")
    ana.check("input[name=solicitante][value=victima]")
    ana.fill("#f-hechos", "Amenazas reiteradas en el domicilio.")
    shot(ana, "02-solicitud")
    ana.click("button:has-text('Iniciar caso')")
    ana.wait_for_url(re.compile(r"/casos/\d+$"))
    assert "Caso iniciado: OP-NAV-001." in ana.content()
    # The risk assessment, from the inbox (art. 42).
    ana.goto(url + "/bandeja")
    shot(ana, "03-bandeja")
    ana.click("a.task-link:has-text('Valorar el riesgo')")
    ana.select_option("#f-nivel_riesgo", "alto")
    ana.click("button:has-text('Completar tarea')")  # nothing in "riesgos": the server says so next to the field
    assert ana.locator("#f-riesgos-error").inner_text() == "Agregue al menos 1 elemento(s)."
    assert ana.locator("#f-nivel_riesgo").input_value() == "alto"  # kept
    shot(ana, "04-valoracion-con-errores")
    ana.check("input[name=riesgos][value=vida]")
    ana.fill("#f-numero_agresiones", "3")
    ana.check("input[name=requiere_refugio][value=true]")
    ana.set_input_files("#f-dictamen", files=[{"name": "dictamen.pdf", "mimeType": "application/pdf",
                                               "buffer": b"%PDF-1.4\n% dictamen\n"}])
    ana.click("button:has-text('Completar tarea')")
    ana.wait_for_url(re.compile(r"/casos/\d+$"))
    case_url = ana.url
    # Issuing the order is the Ministerio Público's task (another institution, its group).
    mario = page_for("mario")
    row = mario.locator("tr", has_text="OP-NAV-001")
    row.locator("button:has-text('Tomar')").click()
    mario.wait_for_load_state("networkidle")
    assert "A mi nombre" in mario.locator("tr", has_text="OP-NAV-001").inner_text()
    mario.click("a.task-link:has-text('Emitir la orden')")
    assert "Reglamento art. 43" in mario.content()
    shot(mario, "05-emitir-orden")
    mario.check("input[name=tipo_orden][value=emergencia]")
    mario.fill("#f-vigencia_dias", "30")
    mario.fill("#f-autoridad_emisora", "Ministerio Público de Hermosillo")
    mario.fill("#f-lugar", "Hermosillo, Sonora")
    mario.fill("#f-agresor_nombre", "Juan Ruiz Gómez")
    mario.click("button:has-text('Completar tarea')")
    mario.wait_for_url(re.compile(r"/casos/\d+$"))
    assert "Concluido" in mario.content()
    link = mario.locator("a.doc-link")
    assert link.inner_text().startswith("Orden de protección")
    pdf = mario.request.get(url + link.get_attribute("href"))
    assert pdf.ok and pdf.headers["content-type"] == "application/pdf" and pdf.body().startswith(b"%PDF")
    (ARTIFACTS / "orden-proteccion.pdf").write_bytes(pdf.body())
    mario.wait_for_selector("#bpmn[data-ready=true]")
    shot(mario, "06-orden-emitida")
    ana.goto(case_url)
    ana.wait_for_selector("#bpmn[data-ready=true]")
    assert ana.locator(".djs-element.tr-completed[data-element-id=emitir_orden]").count() == 1
    assert not [e for e in ana.js_errors if "Content Security Policy" in e], ana.js_errors


def test_case_page_highlights_the_current_task_and_explains_the_deadline(page_for: Any,
                                                                       server: dict[str, Any]) -> None:
    t = server["tramita"]
    iid = t.start("orden_prueba", {"victima_nombre": "Rosa Díaz", "solicitante": "victima", "hechos": "Golpes."},
                  "ana", reference="OP-NAV-002", institution="ISM").instance_id
    [task] = t.tasks(instance_id=iid)
    t.complete(task.id, {"nivel_riesgo": "alto", "riesgos": ["vida"]}, "ana")
    ana = page_for("ana")
    ana.goto(f"{server['url']}/casos/{iid}")
    ana.wait_for_selector("#bpmn[data-ready=true]")
    active = ana.locator(".djs-element.tr-active[data-element-id=emitir_orden]")
    assert active.count() == 1
    assert ana.locator(".djs-element.tr-completed[data-element-id=valorar_riesgo]").count() == 1
    stroke = active.locator(".djs-visual > :first-child").evaluate("e => getComputedStyle(e).stroke")
    assert stroke == "rgb(217, 119, 6)"  # the highlight colour
    plazos = ana.locator("#plazos").inner_text()
    assert "Días inhábiles no computados" in plazos and "Reglamento art. 42, párrafo segundo" in plazos
    assert "2 días hábiles" in plazos and "Vence:" in plazos
    shot(ana, "07-expediente-diagrama")
    ana.locator("#bpmn").screenshot(path=str(ARTIFACTS / "08-diagrama.png"))
    assert not ana.js_errors, ana.js_errors


def test_a_caseworker_of_another_institution_cannot_see_the_case(page_for: Any, server: dict[str, Any]) -> None:
    t = server["tramita"]
    iid = t.start("orden_prueba", {"victima_nombre": "Luz Mora", "solicitante": "victima", "hechos": "Amenazas."},
                  "ana", reference="OP-NAV-003", institution="ISM").instance_id
    dora = page_for("dora")
    dora.goto(server["url"] + "/casos")
    assert "OP-NAV-003" not in dora.content()
    dora.goto(server["url"] + "/bandeja")
    assert "OP-NAV-003" not in dora.content()
    response = dora.goto(f"{server['url']}/casos/{iid}")
    assert response.status == 403
    assert "Acceso denegado" in dora.content() and "Luz Mora" not in dora.content()
    shot(dora, "09-otra-institucion-403")


def test_inbox_on_a_phone_and_in_english(page_for: Any, server: dict[str, Any]) -> None:
    ana = page_for("ana", viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    ana.goto(server["url"] + "/bandeja")
    shot(ana, "10-bandeja-movil")
    width = ana.evaluate("document.documentElement.scrollWidth")
    assert width <= 400, f"the page scrolls sideways on a phone ({width}px)"
    ana.click("text=English")
    ana.wait_for_load_state("networkidle")
    assert "My inbox" in ana.content()
    shot(ana, "11-inbox-english")
