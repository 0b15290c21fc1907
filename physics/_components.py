"""The components physics simulates: dynamic circle agents and static axis-aligned boxes.

Why frozen: the bridge reads a Body or Wall when the entity enters the space and keeps what
it needs in arrays (mass, speed limit) so the per-tick step touches no Python object but
Position, Velocity and DesiredVelocity. A frozen component cannot drift out of step with
those arrays; to change one, replace it (``world.add_component(e, replace(body, ...))``)
and the bridge picks the new value up at the next physics tick.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from engine import component

from ._errors import ShapeError

__all__ = ["Body", "Wall"]


@component(name="physics.Body")
@dataclass(frozen=True, slots=True)
class Body:
    """A dynamic circle that never rotates (infinite moment), e.g. an agent.

    The entity also needs an ``engine.Position`` (its start); physics adds a
    ``engine.Velocity`` if it has none and from then on writes both after every step.
    ``max_speed`` (m/s) clamps ``DesiredVelocity``; collisions may still push faster.
    """

    radius: float
    mass: float = 1.0
    max_speed: float = 5.0

    def __post_init__(self) -> None:
        for name in ("radius", "mass", "max_speed"):
            value = _as_float(self, name)
            if not math.isfinite(value) or value < 0 or (value == 0 and name != "max_speed"):
                least = "0 or more" if name == "max_speed" else "more than 0"
                raise ShapeError(f"Body.{name} must be a finite number {least}, got {value!r}")


@component(name="physics.Wall")
@dataclass(frozen=True, slots=True)
class Wall:
    """A static axis-aligned box from (x0, y0) to (x1, y1): walls, cover, obstacles.

    Needs no Position. Give walls some thickness: a body is only stopped while its centre
    stays outside the box, so a sliver thinner than the bodies' step is easier to squeeze
    through under crowd pressure.
    """

    x0: float
    y0: float
    x1: float
    y1: float

    def __post_init__(self) -> None:
        x0, y0, x1, y1 = (_as_float(self, n) for n in ("x0", "y0", "x1", "y1"))
        if not all(map(math.isfinite, (x0, y0, x1, y1))):
            raise ShapeError(f"Wall corners must be finite, got ({x0}, {y0}, {x1}, {y1})")
        if not (x0 < x1 and y0 < y1):
            raise ShapeError(
                f"Wall needs x0 < x1 and y0 < y1 (lower-left, then upper-right corner), got "
                f"({x0}, {y0}, {x1}, {y1}); swap the corners or give the box some size"
            )


def _as_float(obj: object, name: str) -> float:
    """Coerce a field to float in place (Body(1) and Body(1.0) must hash and behave alike)."""
    raw = getattr(obj, name)
    if isinstance(raw, bool) or not isinstance(raw, (int, float)):
        raise ShapeError(f"{type(obj).__name__}.{name} must be a number, got {raw!r}")
    value = float(raw)
    object.__setattr__(obj, name, value)
    return value
