"""How much of what the agents do follows a model's plan: agent-ticks by their plan's tier.

Plans counted per tier say how often each tier was asked; they do not say who drives the
agents. One long heuristic plan outweighs ten model plans that each ended at once, and a
model plan followed for a minute is not a sign the model plans. So this counts, at the end of
every tick, each planned agent (one with a ``Perception``) under the tier of the plan it is
following, but only while that plan runs and is at most ``max_age_s`` simulated seconds old;
a finished, failed or older plan, or none, counts as ``stale``. The model's share is the
fraction of agent-ticks under the model tiers. ``by_team=True`` also keeps the counts per
``Faction`` team, so a game with a planner per team reports each planner's share.

It only reads the world, after a tick: watching a run never changes it, and a replay of the
run counts the same numbers (the tests check that).
"""

from __future__ import annotations

from collections import Counter

from engine import World

from ._plan import Plan, PlanStatus, Tier
from .perception import Faction, Perception

__all__ = ["MODEL_TIERS", "STALE", "PlanShare"]

STALE = "stale"
MODEL_TIERS = (Tier.LLM.value, Tier.SIMPLE_LLM.value, Tier.CACHE.value)  #: the tiers whose plans a model wrote


class PlanShare:
    """Agent-ticks by plan tier, observed after each tick (:meth:`observe`)."""

    def __init__(self, max_age_s: float = 10.0, *, by_team: bool = False) -> None:
        if not max_age_s > 0:
            raise ValueError(f"max_age_s must be positive, got {max_age_s!r}")
        self.max_age_s = max_age_s
        self.counts: Counter[str] = Counter()
        self.ticks = 0
        self.by_team = by_team
        self.team_counts: dict[int, Counter[str]] = {}  #: team index -> tier -> agent-ticks (``by_team``)

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
        if self.by_team:
            self._observe_teams(world, oldest)
        self.ticks += 1

    def _observe_teams(self, world: World, oldest: int) -> None:
        running = PlanStatus.RUNNING
        for entity, (_, faction) in world.get_components(Perception, Faction):
            plan = world.try_component(entity, Plan)
            fresh = plan is not None and plan.status is running and plan.assigned_tick >= oldest
            self.team_counts.setdefault(faction.team, Counter())[plan.tier.value if fresh else STALE] += 1  # type: ignore[union-attr]

    def by_tier(self) -> dict[str, int]:
        """``{tier: agent-ticks}`` for every tier and ``stale``, zeros included."""
        return {**{t.value: self.counts[t.value] for t in Tier}, STALE: self.counts[STALE]}

    @property
    def model_share(self) -> float | None:
        """Agent-ticks under model plans over all agent-ticks (None before any)."""
        return model_share_of(self.counts)

    def team_share(self, team: int) -> float | None:
        """:attr:`model_share` of one team's agents (``by_team``; None before any)."""
        return model_share_of(self.team_counts.get(team, Counter()))


def model_share_of(counts: Counter[str]) -> float | None:
    total = sum(counts.values())
    return sum(counts[t] for t in MODEL_TIERS) / total if total else None
