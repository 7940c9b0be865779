"""The application for a WSGI server: ``gunicorn --workers 2 web.wsgi:app`` (what ``make run`` serves).

Each worker process builds its own app and database engine (no ``--preload``: a database
connection must not cross a fork). Every worker, on any machine, reads the same secret key
from the database or ``TRAMITA_SECRET_KEY``; timers are fired by ``tramita scheduler``, run as
processes of their own (``TRAMITA_SCHEDULER=1`` would start one more in every worker).
"""

from __future__ import annotations

from web import create_app

app = create_app()
