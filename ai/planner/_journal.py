"""Plans into the world: every plan, whatever wrote it, is an ``AssignPlan`` input stamped
with its apply tick and journaled with its tier and how it was made, so a replay re-applies
it without the model, the cache or the game's policies."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from engine import World

from .._actions import ActionStep
from .._plan import AssignPlan, ModelAnswer, Tier
from ..llm import RunMetrics
from ._config import PlannerStats
from ._due import DueAgents

__all__ = ["PlanJournal"]


class PlanJournal:
    """Submits plans and model answers, and counts them."""

    def __init__(self, due: DueAgents, stats: PlannerStats) -> None:
        self.due = due
        self.stats = stats
        self.metrics: RunMetrics | None = None

    def plan(self, world: World, entity: int, steps: Sequence[ActionStep], tier: Tier, apply_tick: int, meta: dict[str, Any]) -> None:
        plan_id = f"{entity}-{apply_tick}-{tier.value}"
        world.submit(
            AssignPlan(entity=entity, plan_id=plan_id, tier=tier, steps=tuple(steps)),
            apply_tick,
            meta={"tier": tier.value, **meta},
        )
        self.stats.plans[tier.value] += 1
        if self.metrics is not None:
            self.metrics.record_plan(tier)
        # Not due again before this plan lands (an ask right after may mark it awaiting instead).
        self.due.coming(entity, apply_tick)

    def answer(self, world: World, apply_tick: int, meta: dict[str, Any]) -> None:
        """An answer none of whose plans carried its text is journaled on its own, for audit."""
        world.submit(ModelAnswer(entity=0), apply_tick, meta=meta)
