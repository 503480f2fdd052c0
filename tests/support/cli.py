"""The `cmsfeed` command as a subprocess, from whatever environment runs the tests."""

from __future__ import annotations

import sys

# The interpreter running pytest has cmsfeed installed (editable, or a wheel): starting it with
# `-m cmsfeed` runs that installation, wherever the virtual environment lives.
CMSFEED = (sys.executable, "-m", "cmsfeed")
