"""gunicorn settings for Tramita's metrics in prometheus-client's multiprocess mode.

Run with ``PROMETHEUS_MULTIPROC_DIR`` set to an empty directory the workers can write
(``gunicorn -c web/gunicorn_conf.py 'web:create_app()'``): each worker writes its counters
there, and a dead worker's live gauges are dropped here.
"""

from __future__ import annotations

from typing import Any


def child_exit(server: Any, worker: Any) -> None:
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
