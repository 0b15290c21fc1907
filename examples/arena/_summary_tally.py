"""Counting the plans a world *received*: per tier, over time, with the model's metrics.

Plans are counted as they are applied (``world.on_input_applied``) or, after the fact, from
the journal's ``ai.assign_plan`` records — the same events, so a live run's summary and a
rendered plot of the same run agree, and both equal what ``tickmind verify`` replays. (The
planner's own ``PlannerStats.plans`` counts plans *submitted*, which includes plans still
queued for a tick the run never reached.)

Model metrics are read from each plan's journal ``meta`` when the planner put them there (or
from an ``ai.model_answer`` record's, for an answer no plan carried: streamed or rejected) —
``latency_s`` or ``latency_ms``, ``prompt_tokens``, ``completion_tokens`` — once per model job
(``meta["job"]``), since every agent of a batch shares its request. Missing keys stay unknown.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ai import AssignPlan, ModelAnswer, Tier
from engine import JournalRecord

if TYPE_CHECKING:
    from engine import PendingInput

__all__ = ["TIERS", "PlanTally"]

TIERS = tuple(t.value for t in Tier)  #: best first: llm, simple_llm, heuristic, emergency
ASSIGN_PLAN = AssignPlan.kind
MODEL_ANSWER = ModelAnswer.kind


@dataclass
class PlanTally:
    per_tier: Counter[str] = field(default_factory=Counter)  #: tier -> plans applied
    timeline: list[tuple[int, str]] = field(default_factory=list)  #: (apply tick, tier), in order
    planned: list[int] = field(default_factory=list)  #: the agent of each ``timeline`` plan
    latencies_s: dict[str, tuple[int, float]] = field(default_factory=dict)  #: job -> (tick, seconds)
    prompt_tokens: dict[str, int] = field(default_factory=dict)  #: job -> tokens
    completion_tokens: dict[str, int] = field(default_factory=dict)  #: job -> tokens

    def add(self, tick: int, tier: str, meta: Mapping[str, Any] | None, entity: int = -1) -> None:
        self.per_tier[tier] += 1
        self.timeline.append((tick, tier))
        self.planned.append(entity)
        self.add_answer(tick, meta)

    def add_answer(self, tick: int, meta: Mapping[str, Any] | None) -> None:
        """A model job's latency and tokens, from a plan's meta or a ModelAnswer's."""
        if not meta:
            return
        job = meta.get("job")
        if not isinstance(job, str):
            return
        latency = _number(meta.get("latency_s"))
        if latency is None and (ms := _number(meta.get("latency_ms"))) is not None:
            latency = ms / 1000.0
        if latency is not None:
            self.latencies_s.setdefault(job, (tick, latency))
        for key, store in (("prompt_tokens", self.prompt_tokens), ("completion_tokens", self.completion_tokens)):
            count = _number(meta.get(key))
            if count is not None:
                store.setdefault(job, int(count))

    def on_applied(self, pending: PendingInput) -> None:
        """A ``world.on_input_applied`` listener: count every AssignPlan as it lands."""
        if isinstance(pending.input, AssignPlan):
            self.add(pending.tick, pending.input.tier.value, pending.meta, pending.entity)
        elif isinstance(pending.input, ModelAnswer):
            self.add_answer(pending.tick, pending.meta)

    @classmethod
    def from_journal(cls, records: Iterable[JournalRecord], ticks: int | None = None) -> PlanTally:
        """Count the journal's plans applied before tick ``ticks`` (all when None): a journal may
        also hold plans queued for ticks the run never reached."""
        tally = cls()
        for rec in records:
            if ticks is not None and rec.t >= ticks:
                continue
            if rec.kind == ASSIGN_PLAN:
                tally.add(rec.t, str(rec.data.get("tier")), rec.meta, rec.entity)
            elif rec.kind == MODEL_ANSWER:
                tally.add_answer(rec.t, rec.meta)
        return tally

    def tiers_by_agent(self, ticks: int) -> list[tuple[int, str]]:
        """(agent, tier) of every plan applied before tick ``ticks``."""
        return [(entity, tier) for (t, tier), entity in zip(self.timeline, self.planned) if t < ticks]

    def tokens(self) -> dict[str, int] | None:
        """Prompt and completion tokens over all jobs, or None when no plan carried counts."""
        if not self.prompt_tokens and not self.completion_tokens:
            return None
        return {"prompt": sum(self.prompt_tokens.values()), "completion": sum(self.completion_tokens.values())}


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)
