"""Axis-aligned boxes: walls, cover and spawn zones are all one shape.

Coordinates are metres with the origin at the map's lower-left corner and y up (the same
convention as ``engine.Position``). A box is written by its lower-left corner and its size,
as most 2-D tools do, so ``{x = 14, y = 0, w = 1, h = 9}`` spans 14..15 along x and 0..9
along y. Boxes that merely touch do not overlap, so walls may meet end to end to form corners.
"""

from __future__ import annotations

import math

from pydantic import Field

from ._scenario_base import MAX_EXTENT, ScenarioPart

__all__ = ["Box"]


class Box(ScenarioPart):
    """An axis-aligned rectangle on the map (a wall, a cover object, a spawn zone)."""

    x: float = Field(ge=0, le=MAX_EXTENT, description="Left edge, metres from the map's x = 0 side.")
    y: float = Field(ge=0, le=MAX_EXTENT, description="Bottom edge, metres from the map's y = 0 side.")
    w: float = Field(gt=0, le=MAX_EXTENT, description="Width along x, metres.")
    h: float = Field(gt=0, le=MAX_EXTENT, description="Height along y, metres.")

    @property
    def right(self) -> float:
        return self.x + self.w

    @property
    def top(self) -> float:
        return self.y + self.h

    def overlaps(self, other: Box) -> bool:
        """True when the two boxes share some area (touching edges do not count)."""
        return self.x < other.right and other.x < self.right and self.y < other.top and other.y < self.top

    def fits_in(self, width: float, height: float) -> bool:
        """True when the whole box lies on a ``width`` x ``height`` map."""
        return self.right <= width and self.top <= height

    def distance_to(self, x: float, y: float) -> float:
        """Distance from the point to the box (0 inside it): a disc of radius r centred at
        (x, y) is clear of the box exactly when this is at least r."""
        dx = max(self.x - x, 0.0, x - self.right)
        dy = max(self.y - y, 0.0, y - self.top)
        return math.hypot(dx, dy)

    def label(self) -> str:
        """The box as a user wrote it, for error messages."""
        return f"x={self.x:g}, y={self.y:g}, w={self.w:g}, h={self.h:g}"
