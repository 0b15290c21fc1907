"""The error of local model serving, under the one tickmind tree.

    TickmindError          (engine)
    └── ServingError       the local model server cannot be found, built, started or stopped

Its message says what to install, build or free, and for a server that died at start the
last lines of its log, so one message is enough to fix it.
"""

from __future__ import annotations

from engine import TickmindError

__all__ = ["ServingError"]


class ServingError(TickmindError):
    """The local model server could not be found, built or started."""
