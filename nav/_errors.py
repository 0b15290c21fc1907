"""nav's errors: one branch of the engine's tree.

    TickmindError                 (engine)
    └── NavError                  a map or nav setting that cannot work (names the fix)

Only set-up mistakes raise. Inside the tick nothing does: an unreachable or malformed goal
becomes ``NavStatus("unreachable")``, because one agent's bad order must not stop a world.
"""

from __future__ import annotations

from engine import TickmindError

__all__ = ["NavError"]


class NavError(TickmindError):
    """A grid map or nav configuration that cannot work; the message names the fix."""
