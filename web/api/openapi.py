"""The OpenAPI 3.1 description of ``/api/v1``, generated from the routes Flask serves and their contracts.

Nothing here lists the endpoints: :func:`web.api.contract.paths` reads them from the URL map and the
``@operation`` of each view, whose schemas the server itself enforces, so the description cannot
drift from the code (``tests/web/test_api_fuzz.py`` checks the answers against it).
"""

from __future__ import annotations

from typing import Any

from flask import Flask

from web.api import schemas as S
from web.api.contract import paths

COMPONENTS: dict[str, dict[str, Any]] = {
    "Error": S.ERROR, "Transition": S.TRANSITION, "StartRequest": S.START_REQUEST,
    "CompleteRequest": S.COMPLETE_REQUEST, "MessageRequest": S.MESSAGE_REQUEST, "Task": S.TASK,
}


def spec(app: Flask, server: str = "") -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {"title": "Tramita API", "version": "1.0.0",
                 "description": "Sonora's legal procedures on violence against women. Every call needs "
                                "`Authorization: Bearer <token>` (create one with `tramita users token USER`). "
                                "The same access rules as the web pages apply; every case opening is audited."},
        "servers": [{"url": f"{server}/api/v1"}],
        "security": [{"bearer": []}],
        "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
                       "schemas": COMPONENTS},
        "paths": {**paths(app, "api", "/api/v1", COMPONENTS), **paths(app, "api_monitor", "/api/v1", COMPONENTS)},
    }
