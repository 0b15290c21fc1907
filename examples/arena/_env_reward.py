"""The env's team reward: every agent of a team gets its team's reward for the step.

Per step, for team T (hp counted in units of one full agent, so a kill is worth 1):

    reward_T = DAMAGE * (hp lost by all other teams - hp lost by T)
             + CAPTURE * seconds in the step, if at the step's end T alone has agents
               within the objective's radius (scenarios without an objective: never)
             + WIN on the step the game is decided for T, -WIN for the other teams
               (a draw, "nobody", gives 0)

"hp lost" is measured from the alive agents' hp at the previous step's end; an agent that
died lost all the hp it had then (overkill is not counted). The reward reads only hashed
world state, so it is the same on every replay.
"""

from __future__ import annotations

import math

import numpy as np

from ai import Faction
from engine import Position, World

from ._combat import Health
from ._scenario import Scenario
from ._world import ArenaOutcome

__all__ = ["CAPTURE", "DAMAGE", "WIN", "TeamReward"]

DAMAGE = 1.0
CAPTURE = 0.1
WIN = 10.0


class TeamReward:
    """Tracks the hp each alive agent had at the last step's end; one per episode."""

    def __init__(self, scenario: Scenario, world: World) -> None:
        self.teams = len(scenario.teams)
        self.full_hp = [scenario.team_stats(i).hp for i in range(self.teams)]
        self.objective = scenario.objective
        self.decided = False
        self._last_tick = world.tick
        self._hp = self._hp_now(world)

    def _hp_now(self, world: World) -> dict[int, tuple[int, float]]:
        return {e: (f.team, h.hp) for e, (f, h) in world.get_components(Faction, Health)}

    def step(self, world: World) -> np.ndarray:
        """Each team's reward for the ticks since the last call."""
        now = self._hp_now(world)
        lost = np.zeros(self.teams)
        for entity, (team, before) in self._hp.items():
            after = now[entity][1] if entity in now else 0.0
            lost[team] += (max(before, 0.0) - max(after, 0.0)) / self.full_hp[team]
        reward = DAMAGE * (lost.sum() - 2 * lost)  # others' loss minus own loss
        seconds = (world.tick - self._last_tick) * world.dt
        holder = self._holder(world)
        if holder is not None:
            reward[holder] += CAPTURE * seconds
        outcome = world.resource(ArenaOutcome)
        if outcome.winner is not None and not self.decided:
            self.decided = True
            if outcome.winner in outcome.teams:
                reward -= WIN
                reward[outcome.teams.index(outcome.winner)] += 2 * WIN
        self._hp, self._last_tick = now, world.tick
        return reward

    def _holder(self, world: World) -> int | None:
        """The team alone on the objective, if any."""
        if self.objective is None:
            return None
        x, y, r = self.objective.x, self.objective.y, self.objective.radius
        inside = {
            faction.team
            for _, (faction, pos) in world.get_components(Faction, Position)
            if math.hypot(pos.x - x, pos.y - y) <= r
        }
        return inside.pop() if len(inside) == 1 else None
