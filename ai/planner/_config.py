"""What a planner is told: how it batches, waits and falls back, and what the game supplies."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from typing import Literal, Protocol

from engine import TickmindError, World

from .._actions import ActionStep
from .._plan import Plan, Tier
from ..wire import WIRES, TierProfile, Wire, profile_for

__all__ = ["LLM_TIERS", "PlannerConfig", "PlannerStats", "Policies", "Policy", "Salience"]

class Policy(Protocol):
    """A game's instant planner for one agent: the heuristic or the emergency tier.

    ``policy(world, entity)`` returns the agent's steps now, in microseconds, from the world
    alone (no clock, no unseeded randomness): its plans are journaled like a model's, and a
    replay never calls it. It must always answer; the emergency tier's answer must be safe
    whatever the world looks like (say, ``Wait``)."""

    def __call__(self, world: World, entity: int, /) -> Sequence[ActionStep]: ...


class Salience(Protocol):
    """Whether an agent following ``plan`` should replan now: the situation the plan was
    made for has changed (it was hit, an enemy came into view). Called for every planned
    agent every tick, so keep it cheap; ``plan.assigned_tick`` tells news from old facts."""

    def __call__(self, world: World, entity: int, plan: Plan, /) -> bool: ...
LLM_TIERS = (Tier.LLM, Tier.SIMPLE_LLM)


@dataclass(frozen=True)
class PlannerConfig:
    """How the planner batches, waits and falls back.

    ``delay`` is D, the ticks between a plan's submission and its application. ``llm_tiers``
    lists the model tiers to try in order (empty: heuristic only, no model at all), each a
    ``Tier`` (its library profile, :data:`ai.FULL_TIER` / :data:`ai.SIMPLE_TIER`, which
    offer every registered action) or a :class:`ai.TierProfile` saying which actions that
    tier offers the model: a game that executes only some actions passes profiles naming
    exactly those, so the prompt, the schema or grammar and the validation of the answer
    all offer what it can carry out (see ``examples.arena.arena_tiers``).
    ``wire`` is the answer format: ``"json"`` (constrained by a JSON schema; every backend)
    or ``"lines"`` (plan lines constrained by a GBNF grammar: llama.cpp servers only, about
    a quarter of the output tokens). With ``stream`` in realtime mode, each agent's plan is
    applied at the first tick after its entry closes in the stream, not after the batch.
    ``agents_per_request=None`` sizes each wave's requests to the executor's concurrency
    (:func:`ai.llm.batch_shape`): one unit per request on a batching server, the whole wave in
    one request on a serialising one. In realtime mode, agents that fall due while every
    request slot is taken wait in the planner and go out together when one frees, so a
    slow or serialising server gets fewer, larger requests instead of a queue of small ones.
    With ``lead_request``, a realtime wave that starts on an idle server sends one unit
    alone first and the rest once its plan is in: on this machine prompt processing, not
    writing, is most of a wave, so the first plan lands after one prompt instead of
    everyone's (bench/RESULTS.md §17), for a wave about that one request longer; its answer
    also teaches the pace below before the wave is shaped. A lead unanswered after
    ``lead_patience_ticks`` (a stalled server) holds nobody back.
    ``latency_target_s`` (realtime) caps units per request by the seconds per unit the
    server has been taking (:class:`ai.llm.AgentPace`), so no request should take much longer:
    its last plan would be stale by the time it lands. None: no cap but the shape's.
    ``min_plan_ticks``: an agent whose plan ended sooner than that after it was assigned is
    replanned by the game's heuristic policy (instant, journaled with reason
    ``plan_ended_early``), not the model: a plan that ends as it starts (regroup beside an
    ally) would otherwise ask again at once, and a lockstep world would wait on its model
    every other tick.
    ``cache_size``: answers kept by the exact plan cache (:class:`ai.PlanCache`; 0: none).
    ``opening_orders`` (realtime): the agents due at the first tick the planner plans are
    asked for and waited for within that tick, as in lockstep, so the game opens on the
    model's orders instead of on the heuristic's while the first wave is in flight (seconds
    on a CPU). A realtime clock should start after that tick (the arena's does).
    """

    mode: Literal["lockstep", "realtime"] = "lockstep"
    delay: int = 1
    replan_every: int = 240
    min_plan_ticks: int = 0
    agents_per_request: int | None = 4
    max_tokens_per_agent: int = 120
    llm_tiers: tuple[Tier | TierProfile, ...] = LLM_TIERS
    lockstep_timeout: float = 120.0
    temperature: float = 0.0
    seed: int = 0
    wire: Wire = "json"
    stream: bool = True
    lead_request: bool = True
    lead_patience_ticks: int = 1800
    latency_target_s: float | None = 5.0
    cache_size: int = 0
    opening_orders: bool = False

    def __post_init__(self) -> None:
        if self.mode not in ("lockstep", "realtime"):
            raise TickmindError(f"planner mode must be 'lockstep' or 'realtime', got {self.mode!r}")
        if self.delay < 1:
            raise TickmindError(f"planner delay must be at least 1 tick, got {self.delay}")
        if (self.agents_per_request is not None and self.agents_per_request < 1) or self.replan_every < 1 or self.max_tokens_per_agent < 1:
            raise TickmindError("agents_per_request, replan_every and max_tokens_per_agent must be >= 1")
        if self.min_plan_ticks < 0:
            raise TickmindError(f"min_plan_ticks must be >= 0, got {self.min_plan_ticks}")
        if self.cache_size < 0:
            raise TickmindError(f"cache_size must be >= 0, got {self.cache_size}")
        tiers = [t.tier if isinstance(t, TierProfile) else t for t in self.llm_tiers]
        if any(t not in LLM_TIERS for t in tiers) or len(set(tiers)) != len(tiers):
            raise TickmindError(
                f"llm_tiers takes distinct tiers of {[t.value for t in LLM_TIERS]}, each a Tier or a TierProfile"
            )
        for entry in self.llm_tiers:
            if isinstance(entry, TierProfile):
                entry.action_names()  # an unregistered action fails here, not at the first model call
        if self.lead_patience_ticks < 1:
            raise TickmindError(f"lead_patience_ticks must be >= 1, got {self.lead_patience_ticks!r}")
        if self.latency_target_s is not None and not self.latency_target_s > 0:
            raise TickmindError(f"latency_target_s must be positive (or None), got {self.latency_target_s!r}")
        if self.wire not in WIRES:
            raise TickmindError(f"planner wire must be one of {list(WIRES)}, got {self.wire!r}")

    @property
    def tier_order(self) -> tuple[Tier, ...]:
        """The model tiers in the order they are tried (a profile counts as its tier)."""
        return tuple(profile_for(entry).tier for entry in self.llm_tiers)

    def profile(self, tier: Tier) -> TierProfile:
        """What ``tier`` offers and shows the model: its profile in ``llm_tiers``, else the
        library default. Prompt, schema, grammar and validation all take this one profile,
        so the model is never offered an action that validation would refuse, or the reverse."""
        for entry in self.llm_tiers:
            profile = profile_for(entry)
            if profile.tier == tier:
                return profile
        return profile_for(tier)

    def next_llm_tier(self, tier: Tier) -> Tier | None:
        """The model tier after ``tier`` in ``llm_tiers``, or None when only instant ones remain."""
        tiers = self.tier_order
        later = tiers[tiers.index(tier) + 1 :] if tier in tiers else ()
        return later[0] if later else None


@dataclass(frozen=True)
class Policies:
    """What the game supplies: its instant tiers and what counts as salient."""

    heuristic: Policy
    emergency: Policy
    salient: Salience | None = None


@dataclass
class PlannerStats:
    """Counts for the run summary and metrics (never read by the world)."""

    plans: Counter[str] = field(default_factory=Counter)  #: tier -> plans submitted
    rejections: Counter[str] = field(default_factory=Counter)  #: reason -> agents
    job_errors: Counter[str] = field(default_factory=Counter)  #: error kind -> jobs
    jobs: int = 0
    valid: int = 0  #: units the model gave a valid plan (a squad counts once)
    gap_plans: int = 0  #: realtime: heuristic plans covering agents waiting for the model
    policy_errors: int = 0  #: heuristic policy raised; the agent got the emergency plan
    group_plans: int = 0  #: model or cached plans made for a group of several agents
    share_fallbacks: int = 0  #: group members that could not carry out their group's plan
    #: realtime ``opening_orders``: wall seconds the planner's first call waited for the
    #: model's first wave (inside the planner's system time, once; not a per-tick cost)
    opening_wait_s: float = 0.0

    def __add__(self, other: PlannerStats) -> PlannerStats:
        """Both planners' counts: a world with a planner per team reports them together."""
        return PlannerStats(**{f.name: getattr(self, f.name) + getattr(other, f.name) for f in fields(self)})
