"""``python -m engine.cli``: the same as ``tramita``."""

import sys

from engine.cli import main

sys.exit(main())
