"""Front-end packages served from ``node_modules`` (installed by ``npm install``, never committed)."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, abort, send_from_directory

from engine.services import config

bp = Blueprint("vendor", __name__)
NODE_MODULES = Path(config.PROJECT_ROOT) / "node_modules"

# Only these files are served: nothing else in node_modules is reachable.
FILES = {
    "bpmn-js/viewer.js": ("bpmn-js/dist", "bpmn-navigated-viewer.production.min.js"),
    "bpmn-js/diagram-js.css": ("bpmn-js/dist/assets", "diagram-js.css"),
    "bpmn-js/bpmn-js.css": ("bpmn-js/dist/assets", "bpmn-js.css"),
    "htmx/htmx.min.js": ("htmx.org/dist", "htmx.min.js"),
    "chart.js/chart.umd.js": ("chart.js/dist", "chart.umd.js"),
}


@bp.get("/vendor/<path:name>")
def asset(name: str):  # type: ignore[no-untyped-def]
    entry = FILES.get(name)
    if entry is None:
        abort(404)
    folder, filename = entry
    directory = NODE_MODULES / folder
    if not (directory / filename).exists():
        abort(404, description="Run `npm install` (make does it) to install the front-end packages.")
    return send_from_directory(directory, filename, max_age=3600)
