"""Asking the model: units into jobs, jobs to the executor, answers back into plans.

A job is one request: the snapshots of its units (an agent, or a group, see
:mod:`._groups`), taken when it is submitted, with the tier profile and wire its prompt used,
so the answer is judged against exactly what the model was shown, whenever it arrives. A
unit the answer gives no valid plan, or whose job failed, falls through on its own to the
next model tier, then to the game's instant tiers. How a delivery strategy waits for answers
(lockstep or realtime) is its own business (:mod:`._delivery`); this module only needs to
know whether answers stream and what to do with a full request queue.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from engine import World

from .._actions import ActionStep
from .._plan import Tier
from ..clients import CompletionRequest
from ..llm import AgentPace, BatchExecutor, BatchJob, JobResult, QueueFull, RunMetrics, batch_request, batch_shape, wire_for
from ..wire import (
    AgentSnapshot,
    MapBounds,
    Rejection,
    SnapshotConfig,
    StreamingPlans,
    TierProfile,
    ValidPlan,
    Wire,
    build_snapshot,
    map_line,
    parse_batch_response,
    system_prompt,
    view_of,
)
from ._cache import PlanCache
from ._config import PlannerConfig, PlannerStats
from ._due import AWAITING, DueAgents
from ._groups import GroupOrders, Unit
from ._journal import PlanJournal
from ._ladder import InstantTiers

if TYPE_CHECKING:
    from ._delivery import Delivery

__all__ = ["ModelJob", "ModelRequests"]


@dataclass(frozen=True)
class ModelJob:
    profile: TierProfile  # what the prompt offered: the answer is judged by the same profile
    submit_tick: int
    snapshots: tuple[AgentSnapshot, ...]  # one per unit, named by the unit's first member
    units: tuple[Unit, ...]
    wire: Wire
    stream: StreamingPlans | None = None  # realtime streaming: judges entries as they close

    @property
    def tier(self) -> Tier:
        return self.profile.tier

    @property
    def unit_ids(self) -> tuple[int, ...]:
        return tuple(s.agent_id for s in self.snapshots)

    @property
    def members(self) -> tuple[int, ...]:
        return tuple(member for unit in self.units for member in unit)

    def unit(self, unit_id: int) -> Unit:
        return self.units[self.unit_ids.index(unit_id)]


class ModelRequests:
    """The jobs in flight and everything that turns answers into journaled plans."""

    def __init__(
        self,
        config: PlannerConfig,
        snapshots: SnapshotConfig | None,
        due: DueAgents,
        journal: PlanJournal,
        instant: InstantTiers,
        stats: PlannerStats,
        groups: GroupOrders | None,
    ) -> None:
        self.config = config
        self.snapshots = snapshots
        self.due = due
        self.journal = journal
        self.instant = instant
        self.stats = stats
        self.groups = groups
        self.cache = PlanCache(config.cache_size) if config.cache_size else None
        self.executor: BatchExecutor | None = None
        self.delivery: Delivery | None = None
        self.pace = AgentPace()  # seconds per unit, for latency_target_s
        self.jobs: dict[str, ModelJob] = {}
        self._job_counter = 0
        self._early_lock = threading.Lock()
        self._early: list[tuple[str, ValidPlan]] = []  # streamed plans not yet submitted
        self._delivered: dict[str, set[int]] = {}  # job -> units already planned from its stream

    @property
    def metrics(self) -> RunMetrics | None:
        return self.journal.metrics

    # --- units -----------------------------------------------------------------------------

    def units(self, world: World, agents: list[int]) -> list[Unit]:
        """``agents`` as planning units: groups under group orders, else one each."""
        if self.groups is None:
            return [(agent,) for agent in agents]
        return self.groups.units(world, agents)

    def still_asked(self, before_tick: int) -> list[int]:
        """Members of jobs submitted before ``before_tick`` whose plans have not come yet
        (a streaming job's units that were already planned from its stream are not)."""
        out: list[int] = []
        for job_id, job in self.jobs.items():
            if job.submit_tick < before_tick:
                delivered = self._delivered.get(job_id, ())
                out.extend(m for unit_id, unit in zip(job.unit_ids, job.units, strict=True) if unit_id not in delivered for m in unit)
        return out

    def _snapshot(self, world: World, unit: Unit) -> AgentSnapshot:
        assert self.snapshots is not None
        if self.groups is None:
            return build_snapshot(world, unit[0], config=self.snapshots)
        return self.groups.snapshot(world, unit, self.snapshots)

    # --- asking ----------------------------------------------------------------------------

    def warm(self, world: World, timeout: float) -> int:
        """Prefill the server's prompt cache, one request per request slot, with the first
        tier's system prompt (the part every request shares) over the map line; see
        :meth:`BatchExecutor.warm`. Returns the requests answered."""
        assert self.executor is not None and self.snapshots is not None
        profile = self.config.profile(self.config.tier_order[0])
        bounds = self.snapshots.bounds
        user = map_line(bounds if isinstance(bounds, MapBounds) else bounds(world))
        system = system_prompt(profile, self.config.wire)
        requests = [
            CompletionRequest(request_id=f"warm-{i}", system=system, user=user, max_tokens=1, seed=self.config.seed)
            for i in range(self.executor.max_concurrency)
        ]
        return self.executor.warm(requests, timeout)

    def ask(
        self, world: World, units: list[Unit], tier: Tier, tick: int, *, submit_tick: int, per_request: int | None = None
    ) -> list[str]:
        """Submit model jobs for ``units`` at ``tier``, ``per_request`` units a job (default:
        the configured or the shaped size); a cached unit is planned at once, and whoever
        cannot be asked falls through. Returns the submitted jobs' ids."""
        assert self.executor is not None
        profile = self.config.profile(tier)
        apply_tick = self.apply_tick(submit_tick, tick)
        askable: list[tuple[Unit, AgentSnapshot]] = []
        cannot: list[tuple[int, str]] = []
        for unit in units:
            snap = self._snapshot(world, unit)
            view = view_of(snap, profile)
            if not view.actions:
                cannot.extend((member, "no_action") for member in unit)
            elif self.cache is not None and (steps := self.cache.get(PlanCache.line_key(view.line, profile, self.config.wire))):
                self.plan_unit(world, unit, steps, Tier.CACHE, apply_tick, {"cached_from": tier.value}, profile)
            else:
                askable.append((unit, snap))
        k = per_request or self.config.agents_per_request
        if k is None:
            k, _ = batch_shape(max(len(askable), 1), self.executor.max_concurrency)
        submitted: list[str] = []
        for start in range(0, len(askable), k):
            chunk = askable[start : start + k]
            job_id = f"t{submit_tick:09d}-{self._job_counter:06d}-{tier.value}"
            self._job_counter += 1
            job = self._job(tuple(s for _, s in chunk), tuple(u for u, _ in chunk), profile, submit_tick)
            try:
                self._submit_job(world, job_id, job, submitted, tick)
            except QueueFull:
                cannot.extend((member, "queue_full") for member in job.members)
                continue
            self.jobs[job_id] = job
            submitted.append(job_id)
            self.stats.jobs += 1
            for member in job.members:
                self.due.coming(member, AWAITING)
        if cannot:
            self.fall_through(world, cannot, tier, tick, apply_tick)
        return submitted

    def _submit_job(self, world: World, job_id: str, job: ModelJob, submitted: list[str], tick: int) -> None:
        """Hand ``job`` to the executor; on a full queue the delivery strategy may make room
        (lockstep settles this call's oldest job), else QueueFull propagates."""
        assert self.executor is not None and self.delivery is not None
        batch_job = self._batch_job(job_id, job)
        while True:
            try:
                self.executor.submit(batch_job)
                return
            except QueueFull:
                mine = [j for j in submitted if j in self.jobs]
                if not mine or not self.delivery.make_room(world, mine[0], tick):
                    raise

    def _job(self, snapshots: tuple[AgentSnapshot, ...], units: tuple[Unit, ...], profile: TierProfile, submit_tick: int) -> ModelJob:
        assert self.delivery is not None
        wire = wire_for(snapshots, profile, self.config.wire)
        streaming = self.config.stream and self.delivery.streams
        ids = [s.agent_id for s in snapshots]
        stream = StreamingPlans(ids, snapshots, tier=profile, wire=wire) if streaming else None
        return ModelJob(profile, submit_tick, snapshots, units, wire, stream)

    def _batch_job(self, job_id: str, job: ModelJob) -> BatchJob:
        config = self.config
        request = batch_request(
            job_id,
            job.snapshots,
            tier=job.profile,
            wire=job.wire,
            max_tokens_per_agent=config.max_tokens_per_agent,
            temperature=config.temperature,
            seed=config.seed,
            stream=job.stream is not None,
        )
        on_text = None if job.stream is None else self._stream_reader(job_id, job.stream)
        return BatchJob(job_id=job_id, request=request, agent_ids=job.unit_ids, submit_tick=job.submit_tick, on_text=on_text)

    def _stream_reader(self, job_id: str, stream: StreamingPlans) -> Callable[[str, int, str], None]:
        """The executor-thread callback that judges ``job_id``'s entries as they close."""
        attempts = [1]

        def read(_job_id: str, attempt: int, chunk: str) -> None:
            if attempt != attempts[0]:
                attempts[0] = attempt
                stream.reset()
            plans = [v for v in stream.feed(chunk) if isinstance(v, ValidPlan)]
            if plans:
                with self._early_lock:
                    self._early.extend((job_id, plan) for plan in plans)

        return read

    # --- answers into plans ------------------------------------------------------------------

    def apply_tick(self, submit_tick: int, tick: int) -> int:
        return max(submit_tick + self.config.delay, tick + 1)

    def plan_unit(
        self,
        world: World,
        unit: Unit,
        steps: tuple[ActionStep, ...],
        tier: Tier,
        apply_tick: int,
        meta: dict[str, Any],
        profile: TierProfile,
    ) -> bool:
        """Journal ``unit``'s plan, as each member's share of it under group orders; a member
        that cannot carry out its share falls through alone. Returns whether any plan was
        journaled (the first carries ``meta``, so a job's answer is journaled once)."""
        if self.groups is None:
            self.journal.plan(world, unit[0], steps, tier, apply_tick, meta)
            return True
        assert self.snapshots is not None
        shares = self.groups.member_steps(world, unit, steps, self.snapshots, profile)
        group = {"group": unit[0]} if len(unit) > 1 else {}
        journaled = False
        for member in sorted(shares):
            share = shares[member]
            if share is None:
                self.stats.share_fallbacks += 1
                self.instant.plan(world, [(member, "group_share")], apply_tick, group, from_tier=tier)
                continue
            first = {} if journaled else meta  # the job's answer rides on its first plan only
            self.journal.plan(world, member, share, tier, apply_tick, {**first, **group})
            journaled = True
        if len(unit) > 1 and journaled:
            self.stats.group_plans += 1
        return journaled

    def _accept(self, job: ModelJob, plan: ValidPlan) -> None:
        """Count a valid model plan and cache it, keyed by the wire asked for, as lookups are
        (a job may have fallen back to JSON)."""
        self.stats.valid += 1
        if self.cache is not None:
            snapshot = job.snapshots[job.unit_ids.index(plan.agent_id)]
            self.cache.put(PlanCache.key(snapshot, job.profile, self.config.wire), plan.steps)

    def deliver_early(self, world: World, tick: int) -> None:
        """Submit the plans streamed since the last tick, job by job in id order."""
        with self._early_lock:
            early, self._early = self._early, []
        for job_id, plan in sorted(early, key=lambda item: item[0]):
            job = self.jobs.get(job_id)
            if job is None or not world.entity_exists(plan.agent_id):
                continue
            self._delivered.setdefault(job_id, set()).add(plan.agent_id)
            if self.metrics is not None:
                self.metrics.record_verdicts([plan])
            self._accept(job, plan)
            apply_tick = self.apply_tick(job.submit_tick, tick)
            self.plan_unit(world, job.unit(plan.agent_id), plan.steps, job.tier, apply_tick, {"job": job_id, "streamed": True}, job.profile)

    def deliver(self, world: World, results: list[JobResult], tick: int) -> None:
        for result in results:  # sorted by job id: deterministic given the same arrivals
            job = self.jobs.pop(result.job_id, None)
            if job is None:
                continue
            apply_tick = self.apply_tick(job.submit_tick, tick)
            meta: dict[str, Any] = {"job": result.job_id}
            streamed = self._delivered.pop(result.job_id, set())  # planned from the stream already
            if not result.ok or result.result is None:
                kind = type(result.error).__name__ if result.error is not None else result.status.value
                self.stats.job_errors[kind] += 1
                lost = [(m, kind) for unit in job.units if unit[0] not in streamed for m in unit]
                self.fall_through(world, lost, job.tier, tick, apply_tick, job.submit_tick)
                continue
            answer = result.result
            self.pace.observe(len(job.unit_ids), answer.total_s)
            # Journaled once per job, for audit and the run summary; never read by the world.
            meta.update(
                raw=answer.text,
                latency_s=round(answer.total_s, 3),
                prompt_tokens=answer.prompt_tokens,
                completion_tokens=answer.completion_tokens,
            )
            outcome = parse_batch_response(answer.text, job.unit_ids, job.snapshots, tier=job.profile, wire=job.wire)
            if self.metrics is not None:
                self.metrics.record_verdicts(v for v in outcome.results if v.agent_id not in streamed)
            failed: list[tuple[int, str]] = []
            for verdict in outcome.results:
                if verdict.agent_id in streamed:
                    continue
                if isinstance(verdict, ValidPlan):
                    self._accept(job, verdict)
                    if self.plan_unit(world, job.unit(verdict.agent_id), verdict.steps, job.tier, apply_tick, meta, job.profile):
                        meta = {"job": result.job_id}  # the answer is journaled once per job
                elif isinstance(verdict, Rejection):
                    self.stats.rejections[verdict.reason_code.value] += 1
                    failed.extend((m, verdict.reason_code.value) for m in job.unit(verdict.agent_id))
            if "raw" in meta:  # no plan of this answer carried it: it is journaled on its own
                self.journal.answer(world, apply_tick, meta)
                meta = {"job": result.job_id}
            if failed:
                self.fall_through(world, failed, job.tier, tick, apply_tick, job.submit_tick, meta)

    # --- falling through the tiers -------------------------------------------------------------

    def fall_through(
        self,
        world: World,
        agents: list[tuple[int, str]],
        from_tier: Tier,
        tick: int,
        apply_tick: int,
        submit_tick: int | None = None,
        meta: dict[str, Any] | None = None,
    ) -> None:
        """``agents`` (with why) go to the next model tier, regrouped, or to the instant tiers."""
        next_llm = self.config.next_llm_tier(from_tier)
        alive = [(e, why) for e, why in agents if world.entity_exists(e)]
        if next_llm is not None and self.executor is not None:
            units = self.units(world, [e for e, _ in alive])
            self.ask(world, units, next_llm, tick, submit_tick=tick if submit_tick is None else submit_tick)
            return
        self.instant.plan(world, alive, apply_tick, meta, from_tier)
