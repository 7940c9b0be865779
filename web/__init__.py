"""Tramita's web application: pages for caseworkers and a JSON API for other systems."""

from __future__ import annotations

import os
from typing import Any

from flask import Flask, jsonify

from engine.services import Tramita


def create_app(config: dict[str, Any] | None = None) -> Flask:
    app = Flask(__name__)
    app.config.from_mapping(TRAMITA_DATABASE_URL=os.environ.get("TRAMITA_DATABASE_URL"))
    app.config.update(config or {})
    tramita = Tramita(app.config["TRAMITA_DATABASE_URL"])
    app.extensions["tramita"] = tramita

    @app.get("/health")
    def health():  # type: ignore[no-untyped-def]
        return jsonify(status="ok", processes=[p["key"] for p in tramita.processes()])

    return app
