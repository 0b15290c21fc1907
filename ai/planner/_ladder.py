"""The instant tiers below the model: the game's heuristic, then its emergency plan.

A heuristic that raises drops that one agent to the emergency tier; it never costs the tick.
"""

from __future__ import annotations

from typing import Any

from engine import World

from .._actions import ActionStep
from .._plan import Tier
from ._config import PlannerStats, Policies
from ._journal import PlanJournal

__all__ = ["InstantTiers"]


class InstantTiers:
    def __init__(self, policies: Policies, journal: PlanJournal, stats: PlannerStats) -> None:
        self.policies = policies
        self.journal = journal
        self.stats = stats

    def plan(
        self,
        world: World,
        agents: list[tuple[int, str]],
        apply_tick: int,
        meta: dict[str, Any] | None = None,
        from_tier: Tier | None = None,
    ) -> None:
        """Journal an instant plan for each ``(agent, why)``; ``from_tier``: the tier that
        failed them (recorded with ``why`` as the fall-through's reason)."""
        for entity, why in agents:
            extra = dict(meta or {})
            if from_tier is not None:
                extra.update(fallback_from=from_tier.value, reason=why)
            steps = self.steps(world, entity, Tier.HEURISTIC)
            tier = Tier.HEURISTIC if steps else Tier.EMERGENCY
            if not steps:
                steps = self.steps(world, entity, Tier.EMERGENCY)
            self.journal.plan(world, entity, steps, tier, apply_tick, extra)

    def steps(self, world: World, entity: int, tier: Tier) -> tuple[ActionStep, ...]:
        policy = self.policies.heuristic if tier is Tier.HEURISTIC else self.policies.emergency
        try:
            return tuple(policy(world, entity))
        except Exception:
            if tier is Tier.EMERGENCY:
                raise
            self.stats.policy_errors += 1
            return ()
