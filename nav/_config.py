"""nav's settings, and the map-derived defaults ``install_nav`` fills in."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

from ._errors import NavError
from ._grid import GridMap
from ._search import default_snap_radius

__all__ = ["NavConfig"]


@dataclass(frozen=True)
class NavConfig:
    """nav's settings; ``None`` fields are derived from the map by ``install_nav``."""

    #: agent body radius in metres (default: the map's ``inflate``, else half a cell)
    agent_radius: float | None = None
    #: agents sharing a goal cell from which one flow field replaces per-agent A*. Measured
    #: end to end (planning + 5 s of steering) by bench/nav_pathfinding.py on a 120 x 80 m
    #: room map: fields cost 1.1-1.5x more below 8 agents, 0.8-0.95x at 12, 0.5x at 64.
    flow_threshold: int = 12
    #: centre distance below which neighbours push apart (default: 3 agent radii)
    separation_radius: float | None = None
    #: strength of that push relative to the agent's speed
    separation_weight: float = 1.0
    #: strength, relative to speed, of the push back into free space for an agent pressed
    #: into the inflated band along a wall (0 turns it off)
    wall_weight: float = 1.0
    #: distance over which an agent eases into its final point, metres
    slow_radius: float = 1.0
    #: every this many ticks (staggered by entity id) a path agent checks that it still sees
    #: its waypoint, and replans from where it stands if not (pushed round a corner)
    repath_interval: int = 60
    #: how far a start/goal may be snapped out of the movement-blocked band, metres
    #: (default ``2 * cell_size + inflate``)
    snap_radius: float | None = None
    #: flow fields kept in the LRU cache
    cache_size: int = 8
    #: at most this many agents planned per tick (ascending entity id; the rest keep their
    #: old orders until a later tick); None plans every changed goal at once
    max_plans_per_tick: int | None = None

    def resolved(self, grid: GridMap) -> NavConfig:
        """A copy with every ``None`` replaced by its map-derived default, and checked."""
        radius = self.agent_radius
        if radius is None:
            radius = grid.inflate if grid.inflate > 0 else 0.5 * grid.cell_size
        cfg = dataclasses.replace(
            self,
            agent_radius=float(radius),
            separation_radius=float(self.separation_radius if self.separation_radius is not None else 3.0 * radius),
            snap_radius=float(self.snap_radius if self.snap_radius is not None else default_snap_radius(grid)),
        )
        for name in ("agent_radius", "separation_radius", "snap_radius"):
            value = getattr(cfg, name)
            if not (math.isfinite(value) and value >= 0):
                raise NavError(f"NavConfig.{name} must be a finite number >= 0, got {value!r}")
        if cfg.flow_threshold < 1 or cfg.repath_interval < 1 or cfg.cache_size < 1:
            raise NavError("NavConfig flow_threshold, repath_interval and cache_size must be >= 1")
        if cfg.max_plans_per_tick is not None and cfg.max_plans_per_tick < 1:
            raise NavError("NavConfig.max_plans_per_tick must be >= 1, or None for no limit")
        return cfg
