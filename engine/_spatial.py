"""The spatial vocabulary every world system shares.

Why in the engine: physics, nav and perception must agree on where things are without
importing each other. nav writes ``DesiredVelocity``; physics turns it into motion and writes
``Position``/``Velocity`` back; perception and the AI read ``Position``.
"""

from __future__ import annotations

from ._components import component

__all__ = ["DesiredVelocity", "Position", "Velocity"]


@component(columns=True)
class Position:
    """World coordinates, in metres (y up, origin at the map's lower-left corner)."""

    x: float
    y: float


@component(columns=True)
class Velocity:
    """Actual velocity after the last physics step, in metres per second."""

    vx: float
    vy: float


@component(columns=True)
class DesiredVelocity:
    """The velocity steering asks for this tick; physics clamps and applies it."""

    vx: float
    vy: float
