"""What the web needs to throttle sign-in through Flask-Limiter with its counts in our database.

Importing this module registers the ``tramita-db://`` storage (``engine.store.ratelimit``); the web
passes ``storage_options(tramita)`` so the storage writes to the same database as everything else.
"""

from __future__ import annotations

from typing import Any

from engine.casework.people import LOCKOUT, MAX_FAILURES
from engine.store import ratelimit
from engine.store.ratelimit import account_key

STORAGE_URI = f"{ratelimit.SCHEME}://"
# Failures per account name (existing or not) and per client address within ``LOCKOUT``.
ACCOUNT_LIMIT = f"{MAX_FAILURES} per {int(LOCKOUT.total_seconds() // 60)} minutes"
ADDRESS_FAILURES = 30
ADDRESS_LIMIT = f"{ADDRESS_FAILURES} per {int(LOCKOUT.total_seconds() // 60)} minutes"

__all__ = ["ACCOUNT_LIMIT", "ADDRESS_LIMIT", "LOCKOUT", "MAX_FAILURES", "STORAGE_URI", "account_key",
           "storage_options"]


def storage_options(tramita: Any) -> dict[str, Any]:
    return {"database": tramita.db}
