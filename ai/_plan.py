"""Plans in the world: the ``Plan`` component an agent executes, and the input that sets it.

Every plan, whichever tier produced it (model, heuristic, emergency), reaches the world the
same way: an ``AssignPlan`` input applied at a tick boundary and journaled with its tier.
That single path is why a run replays exactly with no model: the journal *is* the plans.
"""

from __future__ import annotations

from enum import Enum
from typing import Any

from pydantic import field_serializer, field_validator

from engine import Input, World, component

from ._actions import ActionStep, parse_step

__all__ = ["AssignPlan", "ModelAnswer", "Plan", "PlanStatus", "Tier"]


class Tier(str, Enum):
    """Who made a plan, best first. Journaled with every plan."""

    LLM = "llm"
    SIMPLE_LLM = "simple_llm"
    HEURISTIC = "heuristic"
    EMERGENCY = "emergency"
    CACHE = "cache"  #: a model plan reused for a state line it was made for, byte for byte


class PlanStatus(str, Enum):
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


@component
class Plan:
    """The plan an agent is executing. Systems advance ``index`` as steps finish.

    ``step_tick`` is the tick the current step started (timers like Wait count from it).
    """

    plan_id: str
    steps: tuple[ActionStep, ...]
    tier: Tier
    assigned_tick: int
    index: int = 0
    step_tick: int = 0
    progress: int = 0  #: sub-step progress an executor may keep (e.g. a patrol's leg)
    status: PlanStatus = PlanStatus.RUNNING
    reason: str = ""  #: why the plan failed, for the next prompt and the logs

    @property
    def current(self) -> ActionStep | None:
        return self.steps[self.index] if self.status is PlanStatus.RUNNING and self.index < len(self.steps) else None

    def advance(self, tick: int) -> None:
        """The current step is done: move to the next, or finish the plan."""
        self.index += 1
        self.step_tick = tick
        self.progress = 0
        if self.index >= len(self.steps):
            self.status = PlanStatus.DONE

    def fail(self, reason: str) -> None:
        self.status = PlanStatus.FAILED
        self.reason = reason


class AssignPlan(Input):
    """Replace an agent's plan. Ignored if the agent died before the plan's tick came."""

    kind = "ai.assign_plan"
    plan_id: str
    tier: Tier
    steps: tuple[Any, ...]

    @field_validator("steps", mode="before")
    @classmethod
    def _parse_steps(cls, value: Any) -> tuple[ActionStep, ...]:
        if not isinstance(value, list | tuple):  # iterating a number would raise TypeError, not a validation error
            raise ValueError(f"steps must be a list of steps, not {type(value).__name__}")
        return tuple(parse_step(step) for step in value)

    @field_serializer("steps")
    def _dump_steps(self, steps: tuple[ActionStep, ...]) -> list[dict[str, Any]]:
        return [step.model_dump(mode="json") for step in steps]

    def apply(self, world: World) -> None:
        if not world.entity_exists(self.entity):
            return
        world.add_component(
            self.entity,
            Plan(self.plan_id, tuple(self.steps), self.tier, world.tick, step_tick=world.tick),
        )


class ModelAnswer(Input):
    """A model's answer none of whose plans carried it into the journal: every plan had
    already gone out from the stream (realtime), or every agent was rejected. Its ``meta``
    holds the raw text, latency and tokens, as a plan's would; it changes nothing."""

    kind = "ai.model_answer"

    def apply(self, world: World) -> None:
        pass
