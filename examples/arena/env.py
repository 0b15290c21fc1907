"""The arena as a PettingZoo-style parallel env, for RL and evaluation code.

    from examples.arena.env import ArenaParallelEnv

    env = ArenaParallelEnv(config={"agents": 10, "env_teams": ["red"]}, record="runs/rl")
    obs, infos = env.reset(seed=0)
    while env.agents:
        actions = {agent: policy(obs[agent]) for agent in env.agents}
        obs, rewards, terminations, truncations, infos = env.step(actions)
    env.close()            # then: tickmind verify runs/rl/episode-0000

Agents are named ``<team>_<i>`` (``red_0``, ``red_1``, ...: the team's agents in entity-id
order, the same for every seed). Each ``step`` applies the actions as journaled
``AssignPlan`` inputs at the next tick boundary and runs ``ticks_per_step`` ticks. An agent
given an action is held from the world's planners for that step; an agent left out of
``actions`` (or not exposed at all: see ``env_teams``) keeps being planned by its team's
planner — the heuristic, or a model with ``planner="llm"``, or each team its own with
``team_planners={"red": "llm", "blue": "heuristic"}`` — so policies act beside them.

Observations: ``_env_obs`` (48 float32 values in [-1, 1]). Actions: ``_env_actions``
(``Discrete(11)``). Rewards: ``_env_reward`` (a shared team reward). An agent is terminated
when it dies or the game is decided, truncated when ``max_ticks`` run out.

``config`` takes every ``build_arena`` key (``scenario``, ``agents``, ``planner``, ...) and:

    ticks_per_step  ticks run per step (default 10: six decisions per simulated second)
    max_ticks       truncate the episode here (default: the scenario's time limit)
    env_teams       the teams whose agents the env exposes (default: every team)

``observation_space``/``action_space`` need gymnasium (``pip install tickmind[env]``); with
pettingzoo installed the env is a ``pettingzoo.ParallelEnv``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from ai import MAX_WAIT_TICKS, Faction, planners_of
from engine import TickmindError, World

from ._env_actions import ACTIONS, action_index, submit_action
from ._env_base import TickEnv
from ._env_obs import OBS_FIELDS, OBS_SIZE, Observer
from ._env_reward import TeamReward
from ._world import CONFIG_KEYS, ArenaOutcome, arena_scenario, build_arena

__all__ = ["ACTIONS", "OBS_FIELDS", "OBS_SIZE", "ArenaParallelEnv"]

ENV_KEYS = frozenset({"ticks_per_step", "max_ticks", "env_teams"})

if TYPE_CHECKING:
    _Base = object
else:
    try:  # a real ParallelEnv when pettingzoo is there, so its wrappers and tools accept it
        from pettingzoo import ParallelEnv as _Base
    except ImportError:
        _Base = object


class ArenaParallelEnv(TickEnv, _Base):
    """The arena in PettingZoo's parallel-env shape; see the module docstring."""

    metadata: ClassVar[dict[str, Any]] = {"name": "tickmind_arena_v0", "render_modes": [], "is_parallelizable": True}

    def __init__(
        self, config: Mapping[str, Any] | None = None, render_mode: str | None = None, *, record: str | Path | None = None
    ) -> None:
        config = dict(config or {})
        unknown = sorted(set(config) - CONFIG_KEYS - ENV_KEYS)
        if unknown:
            raise TickmindError(f"unknown env config key(s) {unknown}; known: {sorted(CONFIG_KEYS | ENV_KEYS)}")
        arena = {k: v for k, v in config.items() if k not in ENV_KEYS}
        if "scenario" in arena:
            arena["scenario"] = str(Path(arena["scenario"]).resolve())  # so verify works from anywhere
        self.scenario = arena_scenario(arena)
        teams = [t.name for t in self.scenario.teams]
        exposed = config.get("env_teams", teams)
        if isinstance(exposed, str) or not set(exposed) <= set(teams) or not exposed:
            raise TickmindError(f"env_teams must be a non-empty list of team names from {teams}; got {exposed!r}")
        super().__init__(
            build_arena,
            arena,
            ticks_per_step=int(config.get("ticks_per_step", 10)),
            max_ticks=int(config.get("max_ticks", self.scenario.sim.max_ticks)),
            record=record,
            render_mode=render_mode,
        )
        self.possible_agents = [
            f"{name}_{i}" for team, name in enumerate(teams) if name in exposed for i in range(self.scenario.team_counts[team])
        ]
        self.entity: dict[str, int] = {}  #: agent name -> entity id in the current episode
        self._spaces = _spaces()
        self._observer = Observer(self.scenario)
        self._reward: TeamReward | None = None

    # --- spaces ------------------------------------------------------------------------------

    def observation_space(self, agent: str) -> Any:
        """``Box(-1, 1, (48,), float32)``, the same object for every agent."""
        return self._space(agent, 0)

    def action_space(self, agent: str) -> Any:
        """``Discrete(11)`` (``ACTIONS``), the same object for every agent."""
        return self._space(agent, 1)

    def _space(self, agent: str, which: int) -> Any:
        if agent not in self.possible_agents:
            raise TickmindError(f"no agent {agent!r} in this env; agents are named like {self.possible_agents[:2]}")
        if self._spaces is None:
            raise TickmindError("spaces need gymnasium: pip install 'tickmind[env]'")
        return self._spaces[which]

    def state(self) -> np.ndarray:
        """Every possible agent's observation, stacked (a global state for centralised critics)."""
        return np.stack([self._observer.observe(self.world, self.entity[a]) for a in self.possible_agents])

    # --- TickEnv hooks -----------------------------------------------------------------------

    def _bind(self, world: World) -> None:
        names = [t.name for t in self.scenario.teams]
        counts = [0] * len(names)
        self.entity = {}
        for entity, faction in world.get_component(Faction):
            self.entity[f"{names[faction.team]}_{counts[faction.team]}"] = entity
            counts[faction.team] += 1
        missing = [a for a in self.possible_agents if a not in self.entity]
        if missing:
            raise TickmindError(f"the arena world has no agent(s) {missing[:5]}: its factory spawned other teams")
        self._observer = Observer(self.scenario)
        self._reward = TeamReward(self.scenario, world)
        self._planners = planners_of(world)

    def _act(self, world: World, actions: Mapping[str, Any]) -> None:
        chosen = {agent: action_index(agent, action) for agent, action in actions.items()}
        for planner in self._planners:  # the policy drives these agents this step, not the planners
            planner.release()
            planner.hold(self.entity[a] for a in chosen)
        hold_ticks = min(self.ticks_per_step, MAX_WAIT_TICKS)
        for agent in sorted(chosen, key=self.entity.__getitem__):
            submit_action(world, agent, self.entity[agent], chosen[agent], hold_ticks)

    def _observe(self, world: World, agent: str) -> np.ndarray:
        return self._observer.observe(world, self.entity[agent])

    def _rewards(self, world: World) -> dict[str, float]:
        assert self._reward is not None
        team_reward = self._reward.step(world)
        names = [t.name for t in self.scenario.teams]
        return {a: float(team_reward[names.index(a.rpartition("_")[0])]) for a in self.agents}

    def _finished(self, world: World, agent: str) -> bool:
        return world.resource(ArenaOutcome).winner is not None or not world.entity_exists(self.entity[agent])

    def _info(self, world: World, agent: str) -> dict[str, Any]:
        return {"tick": world.tick, "entity": self.entity[agent], "team": agent.rpartition("_")[0]}


def _spaces() -> tuple[Any, Any] | None:
    """(observation space, action space), or None without gymnasium."""
    try:
        from gymnasium import spaces
    except ImportError:
        return None
    return spaces.Box(-1.0, 1.0, (OBS_SIZE,), np.float32), spaces.Discrete(len(ACTIONS))
