"""The planner system: who is due to replan, batched model requests, fallback tiers, and
plans entering the world at tick boundaries.

Every tick (stage "ai") the planner

1. collects finished model jobs: in ``realtime`` mode whatever has arrived, applied at the
   first tick after arrival (never before ``submit + delay``); in ``lockstep`` mode it waits
   for the jobs due at this tick, so plans always apply at exactly ``submit + delay``;
2. finds the agents due to replan, in ascending entity id — no plan, plan finished or failed,
   plan older than ``replan_every``, or a salient event the game reports;
3. packs them ``agents_per_request`` to a job and submits the jobs to the batch executor,
   which runs beside the tick on its own thread.

Model output is validated per agent against what that agent saw when asked. An agent whose
plan is missing or invalid, or whose job failed, falls through alone to the next tier: full
LLM -> simplified LLM -> heuristic -> emergency. Every plan, whatever its tier, becomes an
``AssignPlan`` input journaled with its tier (and the raw model text), so a replay needs no
model — while replaying, the planner does nothing at all.
"""

from __future__ import annotations

import math
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from engine import TickContext, TickmindError, World

from ._actions import ActionStep
from ._adaptive import AgentPace, batch_shape
from ._executor import BatchExecutor, BatchJob, JobResult, QueueFull
from ._metrics import RunMetrics
from ._perception import Perception
from ._plan import AssignPlan, ModelAnswer, Plan, PlanStatus, Tier
from ._request import batch_request, wire_for
from ._snapshot import AgentSnapshot, SnapshotConfig, build_snapshot
from ._stream import StreamingPlans
from ._validate import Rejection, ValidPlan, parse_batch_response
from ._view import TierProfile, profile_for, view_of
from ._wire import WIRES, Wire

__all__ = ["Planner", "PlannerConfig", "PlannerStats", "Policies", "Policy"]

Policy = Callable[[World, int], Sequence[ActionStep]]
Salience = Callable[[World, int, Plan], bool]
_AWAITING = math.inf  # pending until a job answers; its apply tick is not known yet
_LLM_TIERS = (Tier.LLM, Tier.SIMPLE_LLM)


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
    (:func:`ai.batch_shape`): one agent per request on a batching server, the whole wave in
    one request on a serialising one. In realtime mode, agents that fall due while every
    request slot is taken wait in the planner and go out together when one frees, so a
    slow or serialising server gets fewer, larger requests instead of a queue of small ones.
    With ``lead_request``, a realtime wave that starts on an idle server sends one agent
    alone first and the rest once its plan is in: on this machine prompt processing, not
    writing, is most of a wave, so the first plan lands after one agent's prompt instead of
    everyone's (bench/RESULTS.md §17), for a wave about that one request longer; its answer
    also teaches the pace below before the wave is shaped. A lead unanswered after
    ``lead_patience_ticks`` (a stalled server) holds nobody back.
    ``latency_target_s`` (realtime) caps agents per request by the seconds per agent the
    server has been taking (:class:`ai.AgentPace`), so no request should take much longer:
    its last plan would be stale by the time it lands. None: no cap but the shape's.
    ``min_plan_ticks``: an agent whose plan ended sooner than that after it was assigned is
    replanned by the game's heuristic policy (instant, journaled with reason
    ``plan_ended_early``), not the model: a plan that ends as it starts (regroup beside an
    ally) would otherwise ask again at once, and a lockstep world would wait on its model
    every other tick.
    """

    mode: Literal["lockstep", "realtime"] = "lockstep"
    delay: int = 1
    replan_every: int = 240
    min_plan_ticks: int = 0
    agents_per_request: int | None = 4
    max_tokens_per_agent: int = 120
    llm_tiers: tuple[Tier | TierProfile, ...] = _LLM_TIERS
    lockstep_timeout: float = 120.0
    temperature: float = 0.0
    seed: int = 0
    wire: Wire = "json"
    stream: bool = True
    lead_request: bool = True
    lead_patience_ticks: int = 1800
    latency_target_s: float | None = 5.0

    def __post_init__(self) -> None:
        if self.mode not in ("lockstep", "realtime"):
            raise TickmindError(f"planner mode must be 'lockstep' or 'realtime', got {self.mode!r}")
        if self.delay < 1:
            raise TickmindError(f"planner delay must be at least 1 tick, got {self.delay}")
        if (self.agents_per_request is not None and self.agents_per_request < 1) or self.replan_every < 1 or self.max_tokens_per_agent < 1:
            raise TickmindError("agents_per_request, replan_every and max_tokens_per_agent must be >= 1")
        if self.min_plan_ticks < 0:
            raise TickmindError(f"min_plan_ticks must be >= 0, got {self.min_plan_ticks}")
        tiers = [t.tier if isinstance(t, TierProfile) else t for t in self.llm_tiers]
        if any(t not in _LLM_TIERS for t in tiers) or len(set(tiers)) != len(tiers):
            raise TickmindError(
                f"llm_tiers takes distinct tiers of {[t.value for t in _LLM_TIERS]}, each a Tier or a TierProfile"
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
    gap_plans: int = 0  #: realtime: heuristic plans covering agents waiting for the model
    policy_errors: int = 0  #: heuristic policy raised; the agent got the emergency plan


@dataclass(frozen=True)
class _Job:
    profile: TierProfile  # what the prompt offered: the answer is judged by the same profile
    submit_tick: int
    snapshots: tuple[AgentSnapshot, ...]
    wire: Wire
    stream: StreamingPlans | None = None  # realtime streaming: judges entries as they close

    @property
    def tier(self) -> Tier:
        return self.profile.tier

    @property
    def agent_ids(self) -> tuple[int, ...]:
        return tuple(s.agent_id for s in self.snapshots)


class Planner:
    """The ai-stage system. Register it with ``world.add_system(planner, stage="ai", name="planner")``.

    With ``llm_tiers=()`` it plans with the heuristic policy only and needs no model. Otherwise
    it needs ``snapshots`` and, for a live run, an executor (here or via ``attach``); the
    executor's lifecycle is the caller's (start it before the run, stop it after).
    """

    def __init__(
        self,
        policies: Policies,
        *,
        snapshots: SnapshotConfig | None = None,
        executor: BatchExecutor | None = None,
        config: PlannerConfig | None = None,
    ) -> None:
        self.policies = policies
        self.config = config or PlannerConfig()
        if self.config.llm_tiers and snapshots is None:
            raise TickmindError("a planner that asks a model needs snapshots=SnapshotConfig(...)")
        self.snapshots = snapshots
        self.executor: BatchExecutor | None = None
        if executor is not None:
            self.attach(executor)
        self.stats = PlannerStats()
        self._pending: dict[int, float] = {}  # entity -> tick its coming plan applies
        self._jobs: dict[str, _Job] = {}
        self._job_counter = 0
        self._early_lock = threading.Lock()
        self._early: list[tuple[str, ValidPlan]] = []  # streamed plans not yet submitted
        self._delivered: dict[str, set[int]] = {}  # job -> agents already planned from its stream
        self._held: set[int] = set()
        self._waiting: dict[int, int] = {}  # realtime: entity -> tick it fell due, until a slot frees
        self._pace = AgentPace()  # realtime: seconds per agent, for latency_target_s
        self._lead: tuple[str, int] | None = None  # realtime: (the job asking one agent ahead of its wave, tick)
        self.metrics: RunMetrics | None = None  #: optional: plans, parse verdicts, queue per tick

    def attach(self, executor: BatchExecutor) -> None:
        """Give a model-planning planner its (started) executor; a replay never needs one."""
        if not self.config.llm_tiers:
            raise TickmindError("this planner has no LLM tiers (llm_tiers=()); it takes no executor")
        self.executor = executor

    # --- the system ------------------------------------------------------------------------

    def __call__(self, world: World, ctx: TickContext) -> None:
        if world.replaying:
            return  # the journal supplies every plan
        if self.config.llm_tiers and self.executor is None:
            raise TickmindError(
                "the planner asks a model but has no executor: planner.attach(BatchExecutor(client).start()); "
                "a resumed model-planned run needs its model again (for the arena: tickmind arena --resume)"
            )
        tick = ctx.tick
        if self.executor is not None and self.config.mode == "realtime":
            self._deliver_early(world, tick)
            self._deliver(world, self.executor.poll(), tick)
        due, quick = self._due(world, tick)
        if quick:  # plans that ended right away: the game's own policy, no model call
            self._instant(world, [(e, "") for e in quick], tick, tick + self.config.delay, {"reason": "plan_ended_early"})
        if due:
            self._plan(world, due, tick)
        if self._waiting:
            self._ask_waiting(world, tick)
        if self.executor is not None and self.config.mode == "realtime":
            self._cover_gap(world, self._perceiving(world, self._awaiting_since_before(tick)), tick)
        if self.metrics is not None and self.executor is not None:
            self.metrics.record_tick(queue_depth=self.executor.pending, in_flight=self.executor.in_flight)
        if self.executor is not None and self.config.mode == "lockstep":
            self._settle_lockstep(world, tick)

    def hold(self, entities: Iterable[int]) -> None:
        """Stop planning these agents (an outside controller drives them) until released."""
        self._held.update(entities)

    def release(self, entities: Iterable[int] | None = None) -> None:
        """Plan these agents again (None: every held agent)."""
        if entities is None:
            self._held.clear()
        else:
            self._held.difference_update(entities)

    @property
    def held(self) -> frozenset[int]:
        return frozenset(self._held)

    def _due(self, world: World, tick: int) -> tuple[list[int], list[int]]:
        """The perceiving agents due to replan, ascending (no plan, a finished one, a plan
        older than ``replan_every``, or a salient event, unless held or awaiting a plan),
        and apart those whose plan finished within ``min_plan_ticks`` of its assignment.

        One loop with everything it reads bound locally: it visits every agent every tick.
        """
        held, pending, salient = self._held, self._pending, self.policies.salient
        every, plans, least = self.config.replan_every, world.get_component(Plan), self.config.min_plan_ticks
        plan_of = dict(plans) if plans else {}
        running = PlanStatus.RUNNING
        due: list[int] = []
        quick: list[int] = []
        for entity, _ in world.get_component(Perception):
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
        return due, quick

    @property
    def jobs_in_flight(self) -> int:
        return len(self._jobs)

    @property
    def waiting(self) -> int:
        """Realtime: agents due for the model, held here until a request slot frees."""
        return len(self._waiting)

    # --- asking the model --------------------------------------------------------------------

    def _plan(self, world: World, due: list[int], tick: int) -> None:
        if self.executor is None:
            self._instant(world, [(e, "") for e in due], tick, tick + self.config.delay)
            return
        if self.config.mode == "realtime":
            self._cover_gap(world, due, tick)
            for entity in due:
                self._waiting.setdefault(entity, tick)
                self._pending[entity] = _AWAITING
            return
        self._ask(world, due, self.config.tier_order[0], tick, submit_tick=tick)

    def _ask_waiting(self, world: World, tick: int) -> None:
        """Realtime: ask for the waiting agents, as far as free request slots go; the rest keep
        waiting (their gap plans keep them busy meanwhile).

        Snapshots are taken now, not when the agents fell due, so the model sees the freshest
        state. Which agents share a request depends on when slots free (wall time); that only
        decides what is asked, and every answer is journaled, so replays are unaffected.
        """
        assert self.executor is not None
        alive = set(self._perceiving(world, list(self._waiting)))
        for entity in [e for e in self._waiting if e in self._held or e not in alive]:
            del self._waiting[entity]
            self._pending.pop(entity, None)
        # Jobs not yet collected count as busy: what was learned from an answer (its pace)
        # is known before its slot is reused, whatever the thread timing.
        free = self.executor.max_concurrency - len(self._jobs)
        if free <= 0 or not self._waiting or self._lead_is_out(tick):
            return
        # Longest-waiting first; among equals, spread over entity ids (a multiplicative hash),
        # so agents spawned together, a whole team say, are not always asked first.
        order = sorted(self._waiting, key=lambda e: (self._waiting[e], (e * 2654435761) % 2**32, e))
        fresh_wave = not self._jobs and self._waiting[order[0]] == tick  # no backlog: all fell due now
        lead = self.config.lead_request and fresh_wave and len(order) > 1
        if lead:
            k, chosen = 1, [order[0]]
        else:
            k = self.config.agents_per_request or batch_shape(len(order), free)[0]
            if self.config.latency_target_s is not None:
                k = self._pace.agents_within(self.config.latency_target_s, k)
            chosen = sorted(order[: k * free])
        for entity in chosen:
            del self._waiting[entity]
        jobs = self._ask(world, chosen, self.config.tier_order[0], tick, submit_tick=tick, per_request=k)
        if lead and jobs:
            self._lead = (jobs[0], tick)

    def _ask(
        self, world: World, agents: list[int], tier: Tier, tick: int, *, submit_tick: int, per_request: int | None = None
    ) -> list[str]:
        """Submit model jobs for ``agents`` at ``tier``, ``per_request`` agents a job (default:
        the configured or the shaped size); whoever cannot be asked falls through. Returns the
        submitted jobs' ids."""
        assert self.executor is not None and self.snapshots is not None
        profile = self.config.profile(tier)
        askable: list[AgentSnapshot] = []
        cannot: list[tuple[int, str]] = []
        for entity in agents:
            snap = build_snapshot(world, entity, config=self.snapshots)
            if view_of(snap, profile).actions:
                askable.append(snap)
            else:
                cannot.append((entity, "no_action"))
        k = per_request or self.config.agents_per_request
        if k is None:
            k, _ = batch_shape(max(len(askable), 1), self.executor.max_concurrency)
        submitted: list[str] = []
        for start in range(0, len(askable), k):
            chunk = tuple(askable[start : start + k])
            job_id = f"t{submit_tick:09d}-{self._job_counter:06d}-{tier.value}"
            self._job_counter += 1
            job = self._job(chunk, profile, submit_tick)
            try:
                self._submit_job(world, job_id, job, submitted, tick)
            except QueueFull:
                cannot.extend((s.agent_id, "queue_full") for s in chunk)
                continue
            self._jobs[job_id] = job
            submitted.append(job_id)
            self.stats.jobs += 1
            for snap in chunk:
                self._pending[snap.agent_id] = _AWAITING
        if cannot:
            self._fall_through(world, cannot, tier, tick, self._apply_tick(submit_tick, tick))
        return submitted

    def _submit_job(self, world: World, job_id: str, job: _Job, submitted: list[str], tick: int) -> None:
        """Hand ``job`` to the executor. In lockstep, a full request queue first settles the
        oldest job this call submitted (its plans apply at the same tick either way), so a
        wave larger than the queue goes through the model in queue-sized rounds instead of
        falling through to the heuristic, and no more than ``max_pending`` requests and
        their answers are held at once. Raises QueueFull only when there is nothing of this
        call's own to settle (realtime keeps agents waiting before they get this far)."""
        assert self.executor is not None
        batch_job = self._batch_job(job_id, job)
        while True:
            try:
                self.executor.submit(batch_job)
                return
            except QueueFull:
                mine = [j for j in submitted if j in self._jobs]
                if self.config.mode != "lockstep" or not mine:
                    raise
                self._deliver(world, self.executor.wait(mine[:1], self._lockstep_wait()), tick)

    def _job(self, chunk: tuple[AgentSnapshot, ...], profile: TierProfile, submit_tick: int) -> _Job:
        wire = wire_for(chunk, profile, self.config.wire)
        streaming = self.config.stream and self.config.mode == "realtime"
        stream = StreamingPlans([s.agent_id for s in chunk], chunk, tier=profile, wire=wire) if streaming else None
        return _Job(profile, submit_tick, chunk, wire, stream)

    def _batch_job(self, job_id: str, job: _Job) -> BatchJob:
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
        return BatchJob(job_id=job_id, request=request, agent_ids=job.agent_ids, submit_tick=job.submit_tick, on_text=on_text)

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

    def _deliver_early(self, world: World, tick: int) -> None:
        """Realtime: submit the plans streamed since the last tick, job by job in id order."""
        with self._early_lock:
            early, self._early = self._early, []
        for job_id, plan in sorted(early, key=lambda item: item[0]):
            job = self._jobs.get(job_id)
            if job is None or not world.entity_exists(plan.agent_id):
                continue
            self._delivered.setdefault(job_id, set()).add(plan.agent_id)
            if self.metrics is not None:
                self.metrics.record_verdicts([plan])
            self._submit(world, plan.agent_id, plan.steps, job.tier, self._apply_tick(job.submit_tick, tick), {"job": job_id, "streamed": True})

    def _lead_is_out(self, tick: int) -> bool:
        """Whether the wave still waits for its lead job: until the job is collected, not
        just its plan streamed, so the pace it teaches shapes the wave."""
        if self._lead is not None:
            job_id, since = self._lead
            if tick - since < self.config.lead_patience_ticks and job_id in self._jobs:
                return True
            self._lead = None
        return False

    def _awaiting_since_before(self, tick: int) -> list[int]:
        """Agents still waiting for the model that fell due before ``tick`` (those due at
        ``tick`` were just covered): a plan that ends meanwhile must not leave them idle."""
        waiting = [e for e, since in self._waiting.items() if since < tick]
        asked = [a for job in self._jobs.values() if job.submit_tick < tick for a in job.agent_ids]
        return sorted({a for a in (*waiting, *asked) if self._pending.get(a) == _AWAITING})

    def _perceiving(self, world: World, agents: list[int]) -> list[int]:
        return [e for e in agents if world.entity_exists(e) and world.has_component(e, Perception)]

    def _cover_gap(self, world: World, due: list[int], tick: int) -> None:
        """Realtime: an agent with nothing to do gets a heuristic plan while the model thinks."""
        idle = [e for e in due if (p := world.try_component(e, Plan)) is None or p.status is not PlanStatus.RUNNING]
        for entity in idle:
            self._submit(world, entity, self._policy_steps(world, entity, Tier.HEURISTIC), Tier.HEURISTIC, tick + 1, {"gap": True})
            self.stats.gap_plans += 1

    def _settle_lockstep(self, world: World, tick: int) -> None:
        """Wait for every job whose plans must be submitted this tick (fallback jobs too)."""
        assert self.executor is not None
        while True:
            due = sorted(j for j, job in self._jobs.items() if job.submit_tick + self.config.delay - 1 <= tick)
            if not due:
                return
            self._deliver(world, self.executor.wait(due, self._lockstep_wait()), tick)

    def _lockstep_wait(self) -> float:
        """Seconds a lockstep tick waits for its jobs: ``lockstep_timeout``, or the executor's
        request timeout if that is longer, so a request always gets the time it was given (a
        --llm-timeout of 200 s was cut to 120)."""
        assert self.executor is not None
        return max(self.config.lockstep_timeout, self.executor.timeout)

    def _apply_tick(self, submit_tick: int, tick: int) -> int:
        return max(submit_tick + self.config.delay, tick + 1)

    def _deliver(self, world: World, results: list[JobResult], tick: int) -> None:
        for result in results:  # sorted by job id: deterministic given the same arrivals
            job = self._jobs.pop(result.job_id, None)
            if job is None:
                continue
            apply_tick = self._apply_tick(job.submit_tick, tick)
            meta: dict[str, Any] = {"job": result.job_id}
            streamed = self._delivered.pop(result.job_id, set())  # planned from the stream already
            if not result.ok or result.result is None:
                kind = type(result.error).__name__ if result.error is not None else result.status.value
                self.stats.job_errors[kind] += 1
                self._fall_through(world, [(a, kind) for a in job.agent_ids if a not in streamed], job.tier, tick, apply_tick, job.submit_tick)
                continue
            answer = result.result
            self._pace.observe(len(job.agent_ids), answer.total_s)
            # Journaled once per job, for audit and the run summary; never read by the world.
            meta.update(
                raw=answer.text,
                latency_s=round(answer.total_s, 3),
                prompt_tokens=answer.prompt_tokens,
                completion_tokens=answer.completion_tokens,
            )
            outcome = parse_batch_response(result.result.text, job.agent_ids, job.snapshots, tier=job.profile, wire=job.wire)
            if self.metrics is not None:
                self.metrics.record_verdicts(v for v in outcome.results if v.agent_id not in streamed)
            failed: list[tuple[int, str]] = []
            for verdict in outcome.results:
                if verdict.agent_id in streamed:
                    continue
                if isinstance(verdict, ValidPlan):
                    self._submit(world, verdict.agent_id, verdict.steps, job.tier, apply_tick, meta)
                    meta = {"job": result.job_id}  # the answer is journaled once per job
                elif isinstance(verdict, Rejection):
                    self.stats.rejections[verdict.reason_code.value] += 1
                    failed.append((verdict.agent_id, verdict.reason_code.value))
            if "raw" in meta:  # no plan of this answer carried it: it is journaled on its own
                world.submit(ModelAnswer(entity=0), apply_tick, meta=meta)
                meta = {"job": result.job_id}
            if failed:
                self._fall_through(world, failed, job.tier, tick, apply_tick, job.submit_tick, meta)

    # --- falling through the tiers -------------------------------------------------------------

    def _fall_through(
        self,
        world: World,
        agents: list[tuple[int, str]],
        from_tier: Tier,
        tick: int,
        apply_tick: int,
        submit_tick: int | None = None,
        meta: dict[str, Any] | None = None,
    ) -> None:
        next_llm = self._next_llm_tier(from_tier)
        alive = [(e, why) for e, why in agents if world.entity_exists(e)]
        if next_llm is not None and self.executor is not None:
            self._ask(world, [e for e, _ in alive], next_llm, tick, submit_tick=tick if submit_tick is None else submit_tick)
            return
        self._instant(world, alive, tick, apply_tick, meta, from_tier)

    def _next_llm_tier(self, tier: Tier) -> Tier | None:
        """The model tier after ``tier`` in ``llm_tiers``, or None when only instant ones remain."""
        tiers = self.config.tier_order
        later = tiers[tiers.index(tier) + 1 :] if tier in tiers else ()
        return later[0] if later else None

    def _instant(
        self,
        world: World,
        agents: list[tuple[int, str]],
        tick: int,
        apply_tick: int,
        meta: dict[str, Any] | None = None,
        from_tier: Tier | None = None,
    ) -> None:
        for entity, why in agents:
            extra = dict(meta or {})
            if from_tier is not None:
                extra.update(fallback_from=from_tier.value, reason=why)
            steps = self._policy_steps(world, entity, Tier.HEURISTIC)
            tier = Tier.HEURISTIC if steps else Tier.EMERGENCY
            if not steps:
                steps = self._policy_steps(world, entity, Tier.EMERGENCY)
            self._submit(world, entity, steps, tier, apply_tick, extra)

    def _policy_steps(self, world: World, entity: int, tier: Tier) -> tuple[ActionStep, ...]:
        """The game's instant policy; a heuristic that fails drops to emergency, never the tick."""
        policy = self.policies.heuristic if tier is Tier.HEURISTIC else self.policies.emergency
        try:
            return tuple(policy(world, entity))
        except Exception:
            if tier is Tier.EMERGENCY:
                raise
            self.stats.policy_errors += 1
            return ()

    def _submit(
        self, world: World, entity: int, steps: Sequence[ActionStep], tier: Tier, apply_tick: int, meta: dict[str, Any]
    ) -> None:
        plan_id = f"{entity}-{apply_tick}-{tier.value}"
        world.submit(
            AssignPlan(entity=entity, plan_id=plan_id, tier=tier, steps=tuple(steps)),
            apply_tick,
            meta={"tier": tier.value, **meta},
        )
        self.stats.plans[tier.value] += 1
        if self.metrics is not None:
            self.metrics.record_plan(tier)
        # Not due again before this plan lands (an _ask right after may mark it awaiting instead).
        self._pending[entity] = apply_tick
