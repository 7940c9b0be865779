"""``/metrics`` in Prometheus' text format (prometheus-client), for an administrator's API token only:
behind a reverse proxy every request comes from localhost, so the address proves nothing.

The engine's figures are read from the database at scrape time (``OversightService.metrics``), so any
worker answers the same. Per-process counters (HTTP requests) use prometheus-client's multiprocess
mode when ``PROMETHEUS_MULTIPROC_DIR`` is set, as under gunicorn: every worker writes its own files
and the scraped worker sums them.
"""

from __future__ import annotations

import os
from typing import Any, Iterator

from flask import Blueprint, Flask, Response, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily

from engine.errors import Forbidden, TramitaError
from web.security import tramita

bp = Blueprint("metrics", __name__)
REQUESTS = Counter("tramita_http_requests", "HTTP requests answered, by method and status", ["method", "status"])


class Unauthorized(TramitaError):
    code = "unauthorized"
    status = 401


class _Database:
    """The engine's figures as Prometheus metric families."""

    def __init__(self, snapshot: Any) -> None:
        self.s = snapshot

    def collect(self) -> Iterator[Any]:
        s = self.s
        transitions = CounterMetricFamily("tramita_transitions", "Audited transitions and actions, by kind", labels=["kind"])
        for kind, n in sorted(s.transitions.items()):
            transitions.add_metric([kind], n)
        yield transitions
        buckets = [(str(le), n) for le, n in s.timer_lateness] + [("+Inf", s.timers_fired)]
        yield HistogramMetricFamily("tramita_timer_lateness_seconds", "How late fired timers fired",
                                    buckets=buckets, sum_value=s.timer_lateness_sum)
        overdue = GaugeMetricFamily("tramita_overdue_tasks", "Open tasks past their due date",
                                    labels=["procedure", "step"])
        for (key, step), n in sorted(s.overdue.items()):
            overdue.add_metric([key, step], n)
        yield overdue
        errors = GaugeMetricFamily("tramita_cases_in_error", "Cases in error", labels=["procedure"])
        for key, n in sorted(s.errors.items()):
            errors.add_metric([key], n)
        yield errors
        yield CounterMetricFamily("tramita_emails_sent", "Deadline e-mails handed to SMTP", value=s.emails_sent)
        yield GaugeMetricFamily("tramita_emails_failed", "Deadline e-mails not yet delivered after a failure",
                                value=s.emails_failed)


def _admin() -> Any:
    scheme, _sep, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("Falta el encabezado Authorization: Bearer <token>.", field="Authorization")
    user = tramita().people.user_for_token(token.strip())
    if user is None:
        raise Unauthorized("Token no válido, revocado o de un usuario deshabilitado.", field="Authorization")
    if user.role != "admin":
        raise Forbidden("Solo la administración consulta las métricas.", field="Authorization")
    return user


@bp.get("/metrics")
def metrics():  # type: ignore[no-untyped-def]
    user = _admin()
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.MultiProcessCollector(registry)
    else:
        registry.register(REQUESTS)
    registry.register(_Database(tramita().oversight.metrics(user)))
    return Response(generate_latest(registry), mimetype=CONTENT_TYPE_LATEST)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)

    @app.after_request
    def _count(response: Response) -> Response:
        REQUESTS.labels(request.method, str(response.status_code)).inc()
        return response
