"""Tramita's web application: pages for caseworkers and a JSON API for other systems.

``create_app()`` wires the engine facade (``engine.services.Tramita``), sign-in,
CSRF, languages, security headers and the blueprints: ``auth``, ``inbox``,
``cases``, ``registro`` and ``api``. With ``TRAMITA_SCHEDULER=1`` it also runs the timer
service in a background thread of this process.
"""

from __future__ import annotations

import atexit
import logging
import os
from datetime import timedelta
from typing import Any

from flask import Flask, g, jsonify

from engine.services import Tramita
from web import i18n, security, views
from web.extensions import csrf, login_manager

log = logging.getLogger("tramita.web")


def create_app(config: dict[str, Any] | None = None) -> Flask:
    app = Flask(__name__)
    app.config.from_mapping(
        TRAMITA_DATABASE_URL=os.environ.get("TRAMITA_DATABASE_URL"),
        SESSION_COOKIE_NAME="tramita_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=os.environ.get("TRAMITA_COOKIE_SECURE", "1") != "0",
        PERMANENT_SESSION_LIFETIME=timedelta(minutes=int(os.environ.get("TRAMITA_SESSION_MINUTES", "30"))),
        SESSION_REFRESH_EACH_REQUEST=True,
        REMEMBER_COOKIE_DURATION=timedelta(0),
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the session, which itself times out
        WTF_CSRF_SSL_STRICT=False,
        MAX_CONTENT_LENGTH=int(float(os.environ.get("TRAMITA_MAX_UPLOAD_MB", "10")) * 1024 * 1024) + 256 * 1024,
        BABEL_DEFAULT_LOCALE="es_MX",
        BABEL_DEFAULT_TIMEZONE="America/Hermosillo",
        TRAMITA_SCHEDULER=os.environ.get("TRAMITA_SCHEDULER") == "1",
        TRAMITA_INBOX_PAGE_SIZE=25,
    )
    app.config.update(config or {})
    tramita = app.config.get("TRAMITA") or Tramita(app.config["TRAMITA_DATABASE_URL"])
    app.extensions["tramita"] = tramita
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = tramita.secret_key()  # shared by every process on this database

    csrf.init_app(app)
    login_manager.init_app(app)
    i18n.init_app(app)
    security.init_app(app)
    views.init_app(app)

    from web import admin, api, auth, cases, design, inbox, monitor, registro, vendor
    from web.design import scenarios as design_scenarios

    app.register_blueprint(auth.bp)
    app.register_blueprint(inbox.bp)
    app.register_blueprint(cases.bp)
    app.register_blueprint(registro.bp)
    app.register_blueprint(design.bp)
    app.register_blueprint(design_scenarios.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(vendor.bp)
    monitor.init_app(app)
    from web import metrics

    metrics.init_app(app)
    from web.api import monitor as api_monitor

    app.register_blueprint(api_monitor.bp)
    csrf.exempt(api_monitor.bp)
    csrf.exempt(api.bp)
    auth.init_app(app)

    @app.before_request
    def _bind_clock() -> None:
        """Every request reads the engine's clock (a test server's frozen clock, the system's otherwise)."""
        g.tramita_clock = tramita.bound()
        g.tramita_clock.__enter__()

    @app.teardown_request
    def _unbind_clock(_exc: BaseException | None) -> None:
        bound = g.pop("tramita_clock", None)
        if bound is not None:
            bound.__exit__(None, None, None)

    @app.get("/health")
    def health():  # type: ignore[no-untyped-def]
        # Up or not, and nothing else: which procedures run here is not for anonymous callers.
        return jsonify(status="ok")

    if app.config["TRAMITA_SCHEDULER"]:
        _start_scheduler(app, tramita)
    return app


def _start_scheduler(app: Flask, tramita: Tramita) -> None:
    service = tramita.timer_service()
    service.start()
    app.extensions["tramita_scheduler"] = service
    atexit.register(lambda: service.stop() if service.running else None)
    log.info("timer service started inside the web process")
