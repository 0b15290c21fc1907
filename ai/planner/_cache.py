"""The exact plan cache: a unit whose state line is byte for byte one the model already
answered, for the same tier, wire and system prompt, gets that answer's plan without a call.

Nothing approximate: a plan made for another state is a plan for the wrong state. The key
leaves out only the line's own ``A<id>`` (a plan names what the line lists, never the
agent itself), so two agents in the same state share a plan. A hit is journaled like any
plan, under the ``cache`` tier; a replay re-applies it and needs no cache. In lockstep the
cache fills as answers are delivered, at ticks the journal fixes, so what hits is the same
on every live run of the same seed. Oldest entries go first beyond ``size``.
"""

from __future__ import annotations

from collections import OrderedDict

from .._actions import ActionStep
from ..wire import AgentSnapshot, TierProfile, Wire, system_prompt, view_of

__all__ = ["PlanCache"]

CacheKey = tuple[str, str, str, str]


class PlanCache:
    def __init__(self, size: int) -> None:
        self.size = size
        self._plans: OrderedDict[CacheKey, tuple[ActionStep, ...]] = OrderedDict()
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._plans)

    @staticmethod
    def key(snapshot: AgentSnapshot, profile: TierProfile, wire: Wire) -> CacheKey:
        return PlanCache.line_key(view_of(snapshot, profile).line, profile, wire)

    @staticmethod
    def line_key(line: str, profile: TierProfile, wire: Wire) -> CacheKey:
        """The key of a state line already rendered for ``profile`` (``view_of(...).line``)."""
        return (profile.tier.value, wire, system_prompt(profile, wire), line.partition(" ")[2])

    def get(self, key: CacheKey) -> tuple[ActionStep, ...] | None:
        steps = self._plans.get(key)
        if steps is None:
            self.misses += 1
            return None
        self.hits += 1
        self._plans.move_to_end(key)
        return steps

    def put(self, key: CacheKey, steps: tuple[ActionStep, ...]) -> None:
        if self.size <= 0:
            return
        self._plans[key] = steps
        self._plans.move_to_end(key)
        while len(self._plans) > self.size:
            self._plans.popitem(last=False)

    @property
    def hit_rate(self) -> float | None:
        asked = self.hits + self.misses
        return self.hits / asked if asked else None
