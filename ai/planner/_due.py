"""Who is due to replan: the one loop that visits every planned agent every tick.

The planned agents are the holders of a component the game names, or the agents a
predicate picks (``Planner(planned=...)``); by default, every entity with ``Perception``
(that is, ``Senses``).

An agent is due with no plan, a finished or failed one, a plan older than ``replan_every``,
or a salient event the game reports, unless it is held (an outside controller drives it)
or a plan is already coming for it. Agents come out in ascending entity id, the order the
world's components iterate in, so what is asked and when never depends on anything but the
world.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from engine import World

from .._plan import Plan, PlanStatus
from ..perception import Faction, Perception
from ._config import PlannerConfig, Policies

__all__ = ["AWAITING", "Due", "DueAgents", "Planned"]

#: Which entities a planner plans: holders of a component type, or a predicate on agents.
Planned = type | Callable[[World, int], bool]

AWAITING = math.inf  #: pending until a job answers; its apply tick is not known yet


@dataclass
class Due:
    """One tick's verdict: ``due`` to replan; ``quick``, whose plan ended within
    ``min_plan_ticks`` (the heuristic replans them); ``idle``, free to be asked but not due
    (group orders pull them in with a due squad mate). All ascending."""

    due: list[int] = field(default_factory=list)
    quick: list[int] = field(default_factory=list)
    idle: list[int] = field(default_factory=list)


class DueAgents:
    """The held agents, the plans coming (entity -> the tick it applies, or ``AWAITING``),
    and each tick's :class:`Due`."""

    def __init__(self, config: PlannerConfig, policies: Policies, planned: Planned | None = None) -> None:
        self.config = config
        self.policies = policies
        self.planned = planned
        self.pending: dict[int, float] = {}
        self.held: set[int] = set()

    def hold(self, entities: Iterable[int]) -> None:
        self.held.update(entities)

    def release(self, entities: Iterable[int] | None) -> None:
        if entities is None:
            self.held.clear()
        else:
            self.held.difference_update(entities)

    def coming(self, entity: int, apply_tick: float) -> None:
        """A plan for ``entity`` applies at ``apply_tick`` (``AWAITING``: once a job answers)."""
        self.pending[entity] = apply_tick

    def awaiting(self, entity: int) -> bool:
        return self.pending.get(entity) == AWAITING

    def agents(self, world: World) -> Iterator[int]:
        """The planned agents, ascending."""
        planned = self.planned
        if planned is None:
            return (entity for entity, _ in world.get_component(Perception))
        if isinstance(planned, type):
            return (entity for entity, _ in world.get_component(planned))
        return (entity for entity, _ in world.get_component(Faction) if planned(world, entity))

    def find(self, world: World, tick: int) -> Due:
        """This tick's :class:`Due`. Everything the loop reads is bound locally."""
        held, pending, salient = self.held, self.pending, self.policies.salient
        every, least = self.config.replan_every, self.config.min_plan_ticks
        plans = world.get_component(Plan)
        plan_of = dict(plans) if plans else {}
        running = PlanStatus.RUNNING
        out = Due()
        due, quick, idle = out.due, out.quick, out.idle
        for entity in self.agents(world):
            if entity in held:
                continue
            coming = pending.get(entity)
            if coming is not None:
                if coming >= tick:
                    continue
                del pending[entity]
            plan = plan_of.get(entity)
            if plan is None:
                due.append(entity)
            elif plan.status is not running:
                (due if tick - plan.assigned_tick >= least else quick).append(entity)
            elif tick - plan.assigned_tick >= every or (salient is not None and salient(world, entity, plan)):
                due.append(entity)
            else:
                idle.append(entity)
        return out
