#!/usr/bin/env python
"""The studio's two targets: lint of the largest shipped diagram, server time p95 <= 300 ms; and a studio
page with the modeler interactive in <= 2 s in Chromium.

* lint: ``DesignService.lint`` (what the studio's debounced call and the API run) on the largest
  ``workflows/bpmn/*.bpmn``, with the lanes, forms and decisions of ``workflows/``, 40 times after
  2 warm-up runs; prints p50/p95/max.
* interactive: a werkzeug server on 127.0.0.1 over a fresh SQLite database with the shipped
  procedures and the demo users; headless Chromium (/usr/bin/chromium) signs in as the demo legal
  designer and opens a draft of that procedure 5 times; measured from navigation start to the moment
  the modeler has imported the diagram and shown its first lint (``body[data-studio-ready]``), and
  to the modeler alone (canvas drawn). Prints p50/max.

    .venv/bin/python bench/studio.py [--runs N] [--check]
"""

from __future__ import annotations

import argparse
import math
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

LINT_P95_MS = 300.0
INTERACTIVE_MS = 2000.0


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1)]


def bench_lint(runs: int) -> float:
    from engine.services import SYSTEM, Tramita

    workflows = ROOT / "workflows"
    largest = max((workflows / "bpmn").glob("*.bpmn"), key=lambda p: p.stat().st_size)
    content = largest.read_bytes()
    with tempfile.TemporaryDirectory() as tmp:
        t = Tramita(f"sqlite:///{tmp}/lint.db")
        t.init_db()
        t.runtime.workflows_dir = workflows
        for _ in range(2):
            t.design.lint(SYSTEM, [(largest.name, content)])
        times = []
        for _ in range(runs):
            start = time.perf_counter()
            t.design.lint(SYSTEM, [(largest.name, content)])
            times.append((time.perf_counter() - start) * 1000)
        t.db.dispose()
    p95 = pct(times, 0.95)
    print(f"lint {largest.name} ({len(content) // 1024} KiB), {runs} runs: p50 {statistics.median(times):.0f} ms, "
          f"p95 {p95:.0f} ms, max {max(times):.0f} ms (target p95 <= {LINT_P95_MS:.0f} ms)")
    return p95


def bench_interactive(runs: int) -> float:
    from playwright.sync_api import sync_playwright
    from werkzeug.serving import make_server

    from engine.services import SYSTEM, Tramita
    from web import create_app, demo

    workflows = ROOT / "workflows"
    largest = max((workflows / "bpmn").glob("*.bpmn"), key=lambda p: p.stat().st_size)
    tmp = Path(tempfile.mkdtemp())
    try:
        t = Tramita(f"sqlite:///{tmp}/studio.db")
        t.init_db()
        t.runtime.workflows_dir = workflows
        t.design.deploy_paths(SYSTEM, [workflows])
        demo.ensure(t, workflows)
        designer = next(u for u in demo.demo_users(demo.institutions(workflows)) if u.role == "legal_designer")
        app = create_app({"TRAMITA": t, "SECRET_KEY": "bench", "SESSION_COOKIE_SECURE": False})
        httpd = make_server("127.0.0.1", 0, app, threaded=True)
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
        url = f"http://127.0.0.1:{httpd.server_port}"
        draft = t.drafts.create_draft(t.people.find_user(designer.username), largest.stem)
        ready, drawn = [], []
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium",
                                        args=["--no-sandbox", "--disable-background-networking", "--disable-gpu"])
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(url + "/entrar")
            page.fill("#username", designer.username)
            page.fill("#password", demo.PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_load_state("networkidle")
            for i in range(runs + 1):
                page.goto(f"{url}/diseno/borradores/{draft.id}")
                page.wait_for_selector("body[data-studio-ready]", state="attached", timeout=30000)
                timing = page.evaluate("""() => {
                    const nav = performance.getEntriesByType('navigation')[0];
                    const mark = performance.getEntriesByName('studio-drawn')[0];
                    return {ready: performance.now() - nav.startTime, drawn: mark ? mark.startTime - nav.startTime : null};
                }""")
                if i:  # the first load warms the browser cache, as a designer's second visit
                    ready.append(timing["ready"])
                    drawn.append(timing["drawn"] or timing["ready"])
            browser.close()
        httpd.shutdown()
        t.db.dispose()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"studio page ({largest.stem}), {runs} loads: modeler drawn p50 {statistics.median(drawn):.0f} ms; "
          f"interactive with first lint p50 {statistics.median(ready):.0f} ms, max {max(ready):.0f} ms "
          f"(target <= {INTERACTIVE_MS:.0f} ms)")
    return max(ready)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args()
    lint_p95 = bench_lint(args.runs)
    interactive = bench_interactive(5)
    missed = lint_p95 > LINT_P95_MS or interactive > INTERACTIVE_MS
    return 1 if args.check and missed else 0


if __name__ == "__main__":
    sys.exit(main())
