"""The planner system: who is due to replan, batched model requests, fallback tiers, and
plans entering the world at tick boundaries.

Every tick (stage "ai") the planner

1. collects finished model jobs (:mod:`._delivery`: lockstep waits for the jobs due at
   this tick, so plans apply at exactly ``submit + delay``; realtime takes what has arrived);
2. finds the agents due to replan, in ascending entity id (:mod:`._due`);
3. forms them into planning units, one agent each or groups under group orders
   (:mod:`._groups`), and asks the model for them, ``agents_per_request`` units a job, on
   the batch executor's thread beside the tick (:mod:`._requests`).

Model output is validated per unit against what that unit saw when asked. A unit whose
plan is missing or invalid, or whose job failed, falls through alone to the next tier: full
LLM -> simplified LLM -> heuristic -> emergency (:mod:`._ladder`). Every plan, whatever its
tier, becomes an ``AssignPlan`` input journaled with its tier (and the raw model text), so a
replay needs no model; while replaying, the planner does nothing at all (:mod:`._journal`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import Protocol

from engine import TickContext, TickmindError, World

from ..llm import BatchExecutor, RunMetrics
from ..wire import SnapshotConfig, Wire
from ._cache import PlanCache
from ._config import PlannerConfig, PlannerStats, Policies
from ._delivery import LockstepDelivery, RealtimeDelivery, delivery_for
from ._due import DueAgents, Planned
from ._groups import GroupOrders
from ._journal import PlanJournal
from ._ladder import InstantTiers
from ._requests import ModelRequests

__all__ = ["ModelLink", "Planner", "planners_of"]


class ModelLink(Protocol):
    """A model connection: a started executor and the wire its server speaks
    (:class:`ai.serving.ModelConnection` is one)."""

    @property
    def executor(self) -> BatchExecutor: ...

    @property
    def wire(self) -> Wire: ...


class Planner:
    """The ai-stage system. Register it with ``world.add_system(planner, stage="ai", name="planner")``.

    With ``llm_tiers=()`` it plans with the heuristic policy only and needs no model. Otherwise
    it needs ``snapshots`` and, for a live run, an executor (here or via ``attach``); the
    executor's lifecycle is the caller's (start it before the run, stop it after). With
    ``groups`` the model plans squads, not agents (:class:`ai.GroupOrders`). ``planned``
    says which entities it plans: the holders of a component type, or the agents (entities
    with a ``Faction``) a predicate ``(world, entity) -> bool`` picks; by default every entity
    with ``Perception``. A planned agent needs ``Position`` and ``Faction``, and ``Senses``
    to see anything.
    """

    def __init__(
        self,
        policies: Policies,
        *,
        snapshots: SnapshotConfig | None = None,
        executor: BatchExecutor | None = None,
        config: PlannerConfig | None = None,
        groups: GroupOrders | None = None,
        planned: Planned | None = None,
    ) -> None:
        self.policies = policies
        self._config = config or PlannerConfig()
        if self.config.llm_tiers and snapshots is None:
            raise TickmindError("a planner that asks a model needs snapshots=SnapshotConfig(...)")
        self.snapshots = snapshots
        self.stats = PlannerStats()
        self._due = DueAgents(self.config, policies, planned)
        self._journal = PlanJournal(self._due, self.stats)
        self._instant = InstantTiers(policies, self._journal, self.stats)
        self._requests = ModelRequests(self.config, snapshots, self._due, self._journal, self._instant, self.stats, groups)
        self.groups = groups
        self._delivery: LockstepDelivery | RealtimeDelivery = delivery_for(self.config, self._requests)
        self._requests.delivery = self._delivery
        self.executor: BatchExecutor | None = None
        if executor is not None:
            self.attach(executor)

    def attach(self, model: BatchExecutor | ModelLink) -> None:
        """Give a model-planning planner its model: a started executor, or a connection
        (:func:`ai.serving.connect_model`), whose wire the planner then asks over. A replay
        never needs one."""
        if not self.config.llm_tiers:
            raise TickmindError("this planner has no LLM tiers (llm_tiers=()); it takes no executor")
        if isinstance(model, BatchExecutor):
            executor = model
        else:
            executor = model.executor
            if model.wire != self.config.wire:
                self.config = replace(self.config, wire=model.wire)
        self.executor = executor
        self._requests.executor = executor

    def warm(self, world: World, timeout: float = 30.0) -> int:
        """Prefill the model server's prompt cache before the run's clock starts: one request
        per request slot with this planner's own prompt prefix, answers dropped, nothing
        journaled, the world untouched. Without it the first plans of a realtime game wait
        for every slot's cold prefill of the system prompt (seconds on a CPU). Returns the
        requests answered."""
        if self.executor is None:
            raise TickmindError("warm() needs a model: attach(executor) first")
        return self._requests.warm(world, timeout)

    @property
    def config(self) -> PlannerConfig:
        return self._config

    @config.setter
    def config(self, config: PlannerConfig) -> None:
        """A new config reaches every part (tests and tools tune a planner between ticks)."""
        self._config = self._due.config = self._requests.config = self._delivery.config = config

    @property
    def groups(self) -> GroupOrders | None:
        """Group orders, or None: every agent is planned alone."""
        return self._requests.groups

    @groups.setter
    def groups(self, groups: GroupOrders | None) -> None:
        self._requests.groups = groups

    @property
    def metrics(self) -> RunMetrics | None:
        """Optional: plans, parse verdicts, queue per tick (never read by the world)."""
        return self._journal.metrics

    @metrics.setter
    def metrics(self, metrics: RunMetrics | None) -> None:
        self._journal.metrics = metrics

    @property
    def cache(self) -> PlanCache | None:
        """The exact plan cache (``PlannerConfig.cache_size``), for its hit rate."""
        return self._requests.cache

    # --- the system ------------------------------------------------------------------------

    def __call__(self, world: World, ctx: TickContext) -> None:
        if world.replaying:
            return  # the journal supplies every plan
        if self.config.llm_tiers and self.executor is None:
            raise TickmindError(
                "the planner asks a model but has no executor: planner.attach(BatchExecutor(client).start()); "
                "a resumed model-planned run needs its model again: tickmind resume-planned RUN_DIR --ticks N "
                "(the arena: tickmind arena --resume)"
            )
        tick = ctx.tick
        delivery = self._delivery if self.executor is not None else None
        if delivery is not None:
            delivery.collect(world, tick)
        found = self._due.find(world, tick)
        if found.quick:  # plans that ended right away: the game's own policy, no model call
            self._instant.plan(world, [(e, "") for e in found.quick], tick + self.config.delay, {"reason": "plan_ended_early"})
        if found.due:
            if delivery is None:
                self._instant.plan(world, [(e, "") for e in found.due], tick + self.config.delay)
            else:
                delivery.plan(world, self._due_units(world, found.due, found.idle), tick)
        if delivery is not None:
            delivery.after(world, tick)
            if self.metrics is not None:
                assert self.executor is not None
                self.metrics.record_tick(queue_depth=self.executor.pending, in_flight=self.executor.in_flight)
            delivery.settle(world, tick)

    def _due_units(self, world: World, due: list[int], idle: list[int]) -> list[tuple[int, ...]]:
        """The units to ask for: each due agent alone, or under group orders every group
        with a due member, its idle members with it (a squad replans together)."""
        if self.groups is None:
            return [(agent,) for agent in due]
        wanted = set(due)
        return [unit for unit in self._requests.units(world, sorted(due + idle)) if wanted.intersection(unit)]

    def hold(self, entities: Iterable[int]) -> None:
        """Stop planning these agents (an outside controller drives them) until released."""
        self._due.hold(entities)

    def release(self, entities: Iterable[int] | None = None) -> None:
        """Plan these agents again (None: every held agent)."""
        self._due.release(entities)

    @property
    def held(self) -> frozenset[int]:
        return frozenset(self._due.held)

    @property
    def planned(self) -> Planned | None:
        """Whom this planner plans (``Planner(planned=...)``; None: every agent with ``Perception``)."""
        return self._due.planned

    @property
    def jobs_in_flight(self) -> int:
        return len(self._requests.jobs)

    @property
    def waiting(self) -> int:
        """Realtime: agents due for the model, held here until a request slot frees."""
        return len(self._delivery.waiting) if isinstance(self._delivery, RealtimeDelivery) else 0


def planners_of(world: World) -> tuple[Planner, ...]:
    """The planners installed in ``world``, in the order they run.

    A world may run several (one per team, each with its own model or none: the arena's
    ``team_planners``), so tools that attach a model, hold agents or read stats go through
    this rather than a single ``Planner`` resource."""
    return tuple(spec.fn for spec in world.schedule.systems() if isinstance(spec.fn, Planner))
