"""Where Tramita finds its database and its legal data, read from the environment."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS_DIR = Path(os.environ.get("TRAMITA_WORKFLOWS", PROJECT_ROOT / "workflows"))
VAR_DIR = Path(os.environ.get("TRAMITA_VAR", PROJECT_ROOT / "var"))


def database_url() -> str:
    """``TRAMITA_DATABASE_URL``, or the embedded SQLite database under ``var/``."""
    url = os.environ.get("TRAMITA_DATABASE_URL")
    if url:
        return url
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{VAR_DIR / 'tramita.db'}"


# --- the budget of diagram code ----------------------------------------------------------------
# Whoever deploys a diagram is who these limits guard against, so they are server settings: a
# diagram may lower them (``tramita:``-prefixed process properties), never raise them.

SCRIPT_LIMITS: dict[str, tuple[str, float]] = {
    # name: (environment variable, default)
    "cpu_seconds": ("TRAMITA_SCRIPT_CPU_SECONDS", 1.0),  # CPU time of one script or expression
    "steps": ("TRAMITA_SCRIPT_MAX_STEPS", 1_000_000),  # loop iterations + function calls of one evaluation
    "int_bits": ("TRAMITA_SCRIPT_MAX_INT_BITS", 16_384),  # size of an integer built by **, *, <<
    "length": ("TRAMITA_SCRIPT_MAX_LENGTH", 1_000_000),  # characters of a string, items of a list built
    "memory_bytes": ("TRAMITA_SCRIPT_MAX_MEMORY", 64 * 2**20),  # bytes built by growing operations
    "instances": ("TRAMITA_SCRIPT_MAX_INSTANCES", 1_000),  # loopCardinality of a multi-instance
    "engine_steps": ("TRAMITA_TRANSITION_MAX_STEPS", 10_000),  # engine passes of one transition
    "transition_seconds": ("TRAMITA_TRANSITION_CPU_SECONDS", 10.0),  # CPU time of one transition's steps
}


def script_limit(name: str) -> float:
    """One limit of :data:`SCRIPT_LIMITS`, from its environment variable (a positive number) or its default."""
    variable, default = SCRIPT_LIMITS[name]
    raw = os.environ.get(variable, "").strip()
    if not raw:
        return default
    try:
        value = float(raw) if isinstance(default, float) else int(raw)
    except ValueError:
        raise ValueError(f"{variable} must be a positive number, not {raw!r}") from None
    if not value > 0 or value != value or value == float("inf"):
        raise ValueError(f"{variable} must be a positive number, not {raw!r}")
    return value
