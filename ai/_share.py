"""How much of what the agents do follows a model's plan: agent-ticks by their plan's tier.

Plans counted per tier say how often each tier was asked; they do not say who drives the
agents. One long heuristic plan outweighs ten model plans that each ended at once, and a
model plan followed for a minute is not a sign the model plans. So this counts, at the end of
every tick, each planned agent (one with a ``Perception``) under the tier of the plan it is
following, but only while that plan runs and is at most ``max_age_s`` simulated seconds old;
a finished, failed or older plan, or none, counts as ``stale``. The model's share is the
fraction of agent-ticks under the model tiers.

It only reads the world, after a tick: watching a run never changes it, and a replay of the
run counts the same numbers (the tests check that).
"""

from __future__ import annotations

from collections import Counter

from engine import World

from ._plan import Plan, PlanStatus, Tier
from .perception import Perception

__all__ = ["MODEL_TIERS", "STALE", "PlanShare"]

STALE = "stale"
MODEL_TIERS = (Tier.LLM.value, Tier.SIMPLE_LLM.value, Tier.CACHE.value)  #: the tiers whose plans a model wrote


class PlanShare:
    """Agent-ticks by plan tier, observed after each tick (:meth:`observe`)."""

    def __init__(self, max_age_s: float = 10.0) -> None:
        if not max_age_s > 0:
            raise ValueError(f"max_age_s must be positive, got {max_age_s!r}")
        self.max_age_s = max_age_s
        self.counts: Counter[str] = Counter()
        self.ticks = 0

    def observe(self, world: World) -> None:
        """Count the tick ``world`` just ran (``world.tick - 1``)."""
        tick = world.tick - 1
        oldest = tick - int(self.max_age_s / world.dt + 1e-9)
        counts, running, fresh = self.counts, PlanStatus.RUNNING, 0
        for _, (_, plan) in world.get_components(Perception, Plan):
            if plan.status is running and plan.assigned_tick >= oldest:
                counts[plan.tier.value] += 1
                fresh += 1
        counts[STALE] += len(world.get_component(Perception)) - fresh
        self.ticks += 1

    def by_tier(self) -> dict[str, int]:
        """``{tier: agent-ticks}`` for every tier and ``stale``, zeros included."""
        return {**{t.value: self.counts[t.value] for t in Tier}, STALE: self.counts[STALE]}

    @property
    def model_share(self) -> float | None:
        """Agent-ticks under model plans over all agent-ticks (None before any)."""
        total = sum(self.counts.values())
        return sum(self.counts[t] for t in MODEL_TIERS) / total if total else None
