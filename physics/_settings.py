"""How the physics space is tuned. One frozen object so a run's config can record it.

The defaults are chosen for top-down agents (no gravity, no friction, no bounce) and for
speed: they are what ``bench/physics_step.py`` measured as fastest at 100-10,000 bodies
without visible overlap.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ._errors import ShapeError

__all__ = ["PhysicsSettings"]


@dataclass(frozen=True, slots=True)
class PhysicsSettings:
    """Tuning for ``install_physics``.

    - ``iterations``: pymunk solver iterations per step (pymunk's default is 10).
    - ``substeps``: space steps per tick; ``None`` picks the fewest that keep every body's
      per-step travel (at its ``max_speed``) under ``max_travel`` x the smallest radius, so a
      body cannot tunnel through a wall; capped at ``max_substeps``.
    - ``idle_damping``: for bodies without a DesiredVelocity, the fraction of velocity kept
      after one second of coasting (0 stops them at once, 1 lets them glide forever).
    - ``friction``/``elasticity``: of every shape (pymunk multiplies the two shapes' values).
    - ``collision_slop``: overlap (m) pymunk tolerates before pushing bodies apart.
    - ``spatial_hash``: ``(cell_size, cell_count)`` to use pymunk's spatial hash instead of
      its default bounding-box tree (measured slower for our agent densities).
    """

    iterations: int = 10
    substeps: int | None = None
    max_substeps: int = 8
    max_travel: float = 0.5
    idle_damping: float = 0.1
    friction: float = 0.0
    elasticity: float = 0.0
    collision_slop: float = 0.01
    spatial_hash: tuple[float, int] | None = None

    def __post_init__(self) -> None:
        _positive_int("iterations", self.iterations)
        _positive_int("max_substeps", self.max_substeps)
        if self.substeps is not None:
            _positive_int("substeps", self.substeps)
        _in_range("max_travel", self.max_travel, 0.0, 1.0, low_open=True)
        _in_range("idle_damping", self.idle_damping, 0.0, 1.0)
        _in_range("friction", self.friction, 0.0, math.inf)
        _in_range("elasticity", self.elasticity, 0.0, 1.0)
        _in_range("collision_slop", self.collision_slop, 0.0, math.inf)
        if self.spatial_hash is not None:
            cell, count = self.spatial_hash
            _in_range("spatial_hash cell size", cell, 0.0, math.inf, low_open=True)
            _positive_int("spatial_hash cell count", count)


def _positive_int(name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ShapeError(f"PhysicsSettings.{name} must be an int of at least 1, got {value!r}")


def _in_range(name: str, value: object, low: float, high: float, *, low_open: bool = False) -> None:
    number = value if isinstance(value, (int, float)) and not isinstance(value, bool) else math.nan
    inside = (number > low if low_open else number >= low) and number <= high  # False for NaN
    if not (inside and math.isfinite(number)):
        bound = f"({low}, {high}]" if low_open else f"[{low}, {high}]"
        raise ShapeError(f"PhysicsSettings.{name} must be a finite number in {bound}, got {value!r}")
