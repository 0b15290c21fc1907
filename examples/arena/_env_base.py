"""A PettingZoo-parallel-shaped episode loop over any tickmind run factory.

Why a base apart from the arena: the episode bookkeeping (seeds, recording each episode into
its own run directory, stepping k ticks per decision, retiring finished agents) is the same
for every simulation; only the agents, observations, actions and rewards are a game's. A
non-arena sim subclasses ``TickEnv`` and fills in the five ``_hooks``.

The world is never touched except through the factory and journaled inputs, so an episode is
an ordinary run: recorded with ``record=DIR`` it replays with ``tickmind verify DIR/episode-0000``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from engine import Run, TickmindError, World, start_run

__all__ = ["TickEnv"]

Factory = Callable[[Mapping[str, Any], int], World]  #: a run factory, as ``start_run`` takes


class TickEnv:
    """Episodes of ``factory(config, seed)`` stepped ``ticks_per_step`` ticks per ``step``.

    Subclasses set ``possible_agents`` in ``__init__`` and implement ``_bind``, ``_act``,
    ``_observe``, ``_rewards`` and ``_finished``. Seeds: ``reset(seed=s)`` plays seed ``s``;
    ``reset()`` plays the seed after the last one (the first is 0), so a sequence of resets is
    reproducible without the caller choosing seeds.
    """

    metadata: ClassVar[dict[str, Any]] = {"render_modes": [], "is_parallelizable": True}
    possible_agents: list[str]

    def __init__(
        self,
        factory: Factory,
        config: Mapping[str, Any],
        *,
        ticks_per_step: int,
        max_ticks: int,
        record: str | Path | None = None,
        render_mode: str | None = None,
    ) -> None:
        if render_mode is not None:
            raise TickmindError(f"render_mode {render_mode!r} is not supported; this env renders nothing (use None)")
        if ticks_per_step < 1 or max_ticks < 1:
            raise TickmindError(f"ticks_per_step and max_ticks must be >= 1, got {ticks_per_step} and {max_ticks}")
        self.render_mode = render_mode
        self.factory = factory
        self.config = dict(config)
        self.ticks_per_step = ticks_per_step
        self.max_ticks = max_ticks
        self.record = Path(record) if record is not None else None
        self.agents: list[str] = []
        self.episodes = 0  #: episodes started (the next recording is episode-<episodes>)
        self.seed: int | None = None
        self._world: World | None = None
        self._run: Run | None = None

    # --- what a subclass supplies ------------------------------------------------------------

    def _bind(self, world: World) -> None:
        """A fresh episode's world is built: map agent names to its entities."""
        raise NotImplementedError

    def _act(self, world: World, actions: Mapping[str, Any]) -> None:
        """Turn this step's actions into inputs submitted for ``world.tick``."""
        raise NotImplementedError

    def _observe(self, world: World, agent: str) -> np.ndarray:
        raise NotImplementedError

    def _rewards(self, world: World) -> dict[str, float]:
        """Every live agent's reward for the step that just ran (called once per step)."""
        raise NotImplementedError

    def _finished(self, world: World, agent: str) -> bool:
        """Whether ``agent`` is terminated (dead, or the game is decided)."""
        raise NotImplementedError

    def _info(self, world: World, agent: str) -> dict[str, Any]:
        return {"tick": world.tick}

    # --- the parallel-env API ----------------------------------------------------------------

    @property
    def world(self) -> World:
        """The current episode's world (read it; change it only through inputs)."""
        if self._world is None:
            raise TickmindError("call reset() before using the env")
        return self._world

    @property
    def unwrapped(self) -> TickEnv:
        return self

    @property
    def num_agents(self) -> int:
        return len(self.agents)

    @property
    def max_num_agents(self) -> int:
        return len(self.possible_agents)

    def reset(
        self, seed: int | None = None, options: Mapping[str, Any] | None = None
    ) -> tuple[dict[str, np.ndarray], dict[str, dict[str, Any]]]:
        """Start an episode (``options`` is accepted and unused)."""
        self.close()
        if seed is None:
            seed = 0 if self.seed is None else self.seed + 1
        self.seed = seed
        if self.record is not None:
            out = self.record / f"episode-{self.episodes:04d}"
            self._run = start_run(self.factory, self.config, seed, out, force=True)
            self._world = self._run.world
        else:
            self._world = self.factory(self.config, seed)
        self.episodes += 1
        self._bind(self._world)
        self.agents = list(self.possible_agents)
        world = self._world
        return {a: self._observe(world, a) for a in self.agents}, {a: self._info(world, a) for a in self.agents}

    def step(
        self, actions: Mapping[str, Any]
    ) -> tuple[
        dict[str, np.ndarray], dict[str, float], dict[str, bool], dict[str, bool], dict[str, dict[str, Any]]
    ]:
        """Apply ``actions`` at the next tick boundary, run ``ticks_per_step`` ticks (fewer if
        every agent finishes first) and report on the agents that were live before the step."""
        world = self.world
        if not self.agents:
            raise TickmindError("the episode is over (no live agents); call reset()")
        unknown = sorted(set(actions) - set(self.agents))
        if unknown:
            raise TickmindError(f"actions for agents that are not live: {unknown[:5]}; live agents are env.agents")
        self._act(world, actions)
        live = self.agents
        for _ in range(min(self.ticks_per_step, self.max_ticks - world.tick)):
            world.step()
            if all(self._finished(world, a) for a in live):
                break
        truncated = world.tick >= self.max_ticks
        rewards = self._rewards(world)
        obs = {a: self._observe(world, a) for a in live}
        terminations = {a: self._finished(world, a) for a in live}
        truncations = {a: truncated and not terminations[a] for a in live}
        infos = {a: self._info(world, a) for a in live}
        self.agents = [a for a in live if not (terminations[a] or truncations[a])]
        if not self.agents and self._run is not None:
            self._run.close()  # the episode's record is complete; the world stays readable
            self._run = None
        return obs, {a: rewards.get(a, 0.0) for a in live}, terminations, truncations, infos

    def render(self) -> None:
        return None

    def close(self) -> None:
        """Finish the current episode's recording and drop its world."""
        if self._run is not None:
            self._run.close()
            self._run = None
        if self._world is not None:
            self._world.close()
            self._world = None
