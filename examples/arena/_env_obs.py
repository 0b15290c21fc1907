"""What an arena agent observes in the env: a fixed-length float32 vector from its perception.

It is built from the same ``Perception`` component the planner's prompt comes from (what the
agent saw at its last perception refresh), so an RL policy sees what a model would see, in
numbers. Every value lies in [-1, 1]; relative positions are divided by the agent's sight
range, map positions by the map size. A dead agent observes all zeros. The layout
(``OBS_SIZE`` = 48 values, slot names in ``OBS_FIELDS``):

=======  =====================================================================================
index    meaning
=======  =====================================================================================
0, 1     own x / map width, own y / map height
2        own hp / max hp
3        own ammo / starting ammo
4        weapon ready (1) or cooling down (0)
5, 6     own team's capture point (or hunt target) minus own position, / map width, height
7, 8     alive fraction of own team, of all other teams together
9-28     the 4 nearest visible enemies, 5 values each: present (1/0), dx / sight, dy / sight,
         hp / max hp, within weapon range (1/0); absent slots are all 0
29-44    the 4 nearest visible allies, 4 values each: present, dx / sight, dy / sight, hp / max hp
45-47    the nearest visible cover: present, dx / sight, dy / sight
=======  =====================================================================================
"""

from __future__ import annotations

import numpy as np

from ai import Faction, Perception, Senses
from engine import Position, World

from ._combat import Health, Weapon
from ._heuristic import Objectives, nearest_cover
from ._scenario import Scenario

__all__ = ["NOTHING_SEEN", "OBS_FIELDS", "OBS_SIZE", "Observer"]

NOTHING_SEEN = Perception(tick=-1)
"""What an agent has seen before its first perception refresh (tick 0 has not run)."""

NEAREST = 4
_SELF = ("x", "y", "hp", "ammo", "ready", "goal_dx", "goal_dy", "own_alive", "enemy_alive")
_ENEMY = ("present", "dx", "dy", "hp", "in_range")
_ALLY = ("present", "dx", "dy", "hp")
_COVER = ("present", "dx", "dy")

OBS_FIELDS: tuple[str, ...] = (
    _SELF
    + tuple(f"enemy{i}_{f}" for i in range(NEAREST) for f in _ENEMY)
    + tuple(f"ally{i}_{f}" for i in range(NEAREST) for f in _ALLY)
    + tuple(f"cover_{f}" for f in _COVER)
)
"""The name of every slot of an observation, in order."""

OBS_SIZE = len(OBS_FIELDS)


class Observer:
    """Builds observations for one episode's world; team counts are cached per tick."""

    def __init__(self, scenario: Scenario) -> None:
        self.width = scenario.map.width
        self.height = scenario.map.height
        self.team_sizes = np.array(scenario.team_counts, dtype=np.float64)
        self.ammo = [scenario.team_stats(i).ammo for i in range(len(scenario.teams))]
        self._counted_tick = -1
        self._alive = self.team_sizes

    def observe(self, world: World, entity: int) -> np.ndarray:
        obs = np.zeros(OBS_SIZE, dtype=np.float32)
        if not world.entity_exists(entity):
            return obs
        pos = world.component_for_entity(entity, Position)
        team = world.component_for_entity(entity, Faction).team
        health = world.component_for_entity(entity, Health)
        weapon = world.component_for_entity(entity, Weapon)
        seen = world.try_component(entity, Perception) or NOTHING_SEEN  # none before tick 0 ran
        sight = max(world.component_for_entity(entity, Senses).range, 1e-9)
        goal_x, goal_y = world.resource(Objectives).capture[team]
        alive = self._team_alive(world)
        others = float(alive.sum() - alive[team])
        obs[:9] = (
            pos.x / self.width,
            pos.y / self.height,
            health.hp / health.max_hp,
            weapon.ammo / max(self.ammo[team], 1),
            1.0 if world.tick >= weapon.ready_tick else 0.0,
            (goal_x - pos.x) / self.width,
            (goal_y - pos.y) / self.height,
            alive[team] / self.team_sizes[team],
            others / max(float(self.team_sizes.sum() - self.team_sizes[team]), 1.0),
        )
        at = len(_SELF)
        for i, enemy in enumerate(seen.enemies[:NEAREST]):
            dx, dy, hp = _relative(world, pos, enemy, sight)
            in_range = (dx * dx + dy * dy) * sight * sight <= weapon.range * weapon.range
            obs[at + i * 5 : at + i * 5 + 5] = (1.0, dx, dy, hp, float(in_range))
        at += NEAREST * len(_ENEMY)
        for i, ally in enumerate(seen.allies[:NEAREST]):
            obs[at + i * 4 : at + i * 4 + 4] = (1.0, *_relative(world, pos, ally, sight))
        at += NEAREST * len(_ALLY)
        cover = nearest_cover(world, seen)
        if cover is not None:
            cover_pos = world.component_for_entity(cover, Position)
            obs[at : at + 3] = (1.0, (cover_pos.x - pos.x) / sight, (cover_pos.y - pos.y) / sight)
        return np.clip(obs, -1.0, 1.0, out=obs)

    def _team_alive(self, world: World) -> np.ndarray:
        if self._counted_tick != world.tick:
            alive = np.zeros_like(self.team_sizes)
            for _, faction in world.get_component(Faction):
                alive[faction.team] += 1
            self._alive, self._counted_tick = alive, world.tick
        return self._alive


def _relative(world: World, pos: Position, other: int, sight: float) -> tuple[float, float, float]:
    """(dx / sight, dy / sight, hp fraction) of another agent seen from ``pos``."""
    at = world.component_for_entity(other, Position)
    health = world.try_component(other, Health)
    hp = health.hp / health.max_hp if health is not None else 0.0
    return (at.x - pos.x) / sight, (at.y - pos.y) / sight, hp

