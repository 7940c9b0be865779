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
