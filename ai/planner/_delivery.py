"""When plans are asked for and when answers enter the world: lockstep or realtime.

Lockstep waits, at the tick a plan is due to apply, for every job submitted ``delay`` ticks
before: the world is a function of the seed and the model's answers alone, and a live run
is reproducible. Realtime never waits: the tick runs on while the model thinks, an agent
with nothing to do gets a heuristic plan meanwhile, and answers apply at the first tick
after they arrive (never before ``submit + delay``). Both journal every plan, so either
replays bit for bit.
"""

from __future__ import annotations

import time
from typing import Protocol

from engine import World

from .._plan import Plan, PlanStatus, Tier
from ..llm import batch_shape
from ..perception import Perception
from ._config import PlannerConfig
from ._due import AWAITING
from ._groups import Unit
from ._requests import ModelRequests

__all__ = ["Delivery", "LockstepDelivery", "RealtimeDelivery", "delivery_for"]


class Delivery(Protocol):
    @property
    def streams(self) -> bool:
        """Whether answers are read as they stream, plan by plan."""

    def collect(self, world: World, tick: int) -> None:
        """Before due detection: take in what has arrived."""

    def plan(self, world: World, units: list[Unit], tick: int) -> None:
        """The units that fell due this tick."""

    def after(self, world: World, tick: int) -> None:
        """After this tick's asking, before the metrics of the tick are recorded."""

    def settle(self, world: World, tick: int) -> None:
        """Last in the tick: what must be in before the next tick runs."""

    def make_room(self, world: World, job_id: str, tick: int) -> bool:
        """The request queue is full while this tick submits; ``job_id`` is this tick's
        oldest job. Whether room was made (else the jobs that do not fit fall through)."""


class LockstepDelivery:
    streams = False

    def __init__(self, config: PlannerConfig, requests: ModelRequests) -> None:
        self.config = config
        self.requests = requests

    def collect(self, world: World, tick: int) -> None:
        pass

    def plan(self, world: World, units: list[Unit], tick: int) -> None:
        self.requests.ask(world, units, self.config.tier_order[0], tick, submit_tick=tick)

    def after(self, world: World, tick: int) -> None:
        pass

    def settle(self, world: World, tick: int) -> None:
        """Wait for every job whose plans must be submitted this tick (fallback jobs too)."""
        requests = self.requests
        assert requests.executor is not None
        while True:
            due = sorted(j for j, job in requests.jobs.items() if job.submit_tick + self.config.delay - 1 <= tick)
            if not due:
                return
            requests.deliver(world, requests.executor.wait(due, _wait_s(self.config, requests)), tick)

    def make_room(self, world: World, job_id: str, tick: int) -> bool:
        """Settle this tick's oldest job: its plans apply at the same tick either way, so a
        wave larger than the queue goes through the model in queue-sized rounds instead of
        falling through to the heuristic, and no more than ``max_pending`` requests and
        their answers are held at once."""
        assert self.requests.executor is not None
        self.requests.deliver(world, self.requests.executor.wait([job_id], _wait_s(self.config, self.requests)), tick)
        return True


def _wait_s(config: PlannerConfig, requests: ModelRequests) -> float:
    """Seconds a tick waits for jobs it must settle: ``lockstep_timeout``, or the executor's
    request timeout if that is longer, so a request always gets the time it was given."""
    assert requests.executor is not None
    return max(config.lockstep_timeout, requests.executor.timeout)


class RealtimeDelivery:
    """Due agents wait here until a request slot frees, then go out together.

    Snapshots are taken when a unit is asked, not when it fell due, so the model sees the
    freshest state. Which agents share a request depends on when slots free (wall time);
    that only decides what is asked, and every answer is journaled, so replays are unaffected.
    """

    def __init__(self, config: PlannerConfig, requests: ModelRequests) -> None:
        self.config = config
        self.requests = requests
        self.waiting: dict[int, int] = {}  # entity -> tick it fell due
        self._lead: tuple[str, int] | None = None  # (the job asking one unit ahead of its wave, tick)
        self._opened = not config.opening_orders  # whether the opening wave went out

    @property
    def streams(self) -> bool:
        return self.config.stream

    def collect(self, world: World, tick: int) -> None:
        assert self.requests.executor is not None
        self.requests.deliver_early(world, tick)
        self.requests.deliver(world, self.requests.executor.poll(), tick)

    def plan(self, world: World, units: list[Unit], tick: int) -> None:
        if not self._opened:
            self._opened = True
            self._open(world, units, tick)
            return
        due = sorted(member for unit in units for member in unit)
        self._cover_gap(world, due, tick)
        for entity in due:
            self.waiting.setdefault(entity, tick)
            self.requests.due.coming(entity, AWAITING)

    def _open(self, world: World, units: list[Unit], tick: int) -> None:
        """``opening_orders``: ask for every unit now, one unit a request, and wait for the
        answers; those the model gives no valid plan fall through as in any job (a fallback
        model tier is then asked without waiting).

        One a request: the opening's lines are alike (nobody has met anybody yet), and a
        small model answering many alike lines in one request continues a pattern instead of
        reading each ("move_to 12 12", "13 13", "14 14"... down a wave of ten, RESULTS §26);
        with the prefix cached, a unit's own request costs only its user message."""
        requests = self.requests
        assert requests.executor is not None
        jobs = requests.ask(world, units, self.config.tier_order[0], tick, submit_tick=tick, per_request=1)
        start = time.perf_counter()
        answers = requests.executor.wait(jobs, _wait_s(self.config, requests))
        requests.stats.opening_wait_s += time.perf_counter() - start
        requests.deliver(world, answers, tick)

    def after(self, world: World, tick: int) -> None:
        if self.waiting:
            self._ask_waiting(world, tick)
        self._cover_gap(world, self._perceiving(world, self._awaiting_since_before(tick)), tick)

    def settle(self, world: World, tick: int) -> None:
        pass

    def make_room(self, world: World, job_id: str, tick: int) -> bool:
        return False  # agents wait in the planner before they get this far

    def _ask_waiting(self, world: World, tick: int) -> None:
        """Ask for the waiting agents, as far as free request slots go; the rest keep waiting
        (their gap plans keep them busy meanwhile)."""
        requests, due = self.requests, self.requests.due
        assert requests.executor is not None
        alive = set(self._perceiving(world, list(self.waiting)))
        for entity in [e for e in self.waiting if e in due.held or e not in alive]:
            del self.waiting[entity]
            due.pending.pop(entity, None)
        # Jobs not yet collected count as busy: what was learned from an answer (its pace)
        # is known before its slot is reused, whatever the thread timing.
        free = requests.executor.max_concurrency - len(requests.jobs)
        if free <= 0 or not self.waiting or self._lead_is_out(tick):
            return
        since = self.waiting
        units = requests.units(world, sorted(since))
        # Longest-waiting first; among equals, spread over entity ids (a multiplicative hash),
        # so agents spawned together, a whole team say, are not always asked first, nor
        # first in their request: plans stream out in prompt order, and a team listed first
        # every time got its plans a line or more sooner and won all 8 model games in a row.
        order = sorted(units, key=lambda u: (min(since[e] for e in u), (u[0] * 2654435761) % 2**32, u[0]))
        fresh_wave = not requests.jobs and min(since[e] for e in order[0]) == tick  # no backlog: all fell due now
        lead = self.config.lead_request and fresh_wave and len(order) > 1
        if lead:
            k, chosen = 1, [order[0]]
        else:
            k = self.config.agents_per_request or batch_shape(len(order), free)[0]
            if self.config.latency_target_s is not None:
                k = requests.pace.agents_within(self.config.latency_target_s, k)
            chosen = order[: k * free]  # in this order in the prompt too: plans stream out in it
        for unit in chosen:
            for entity in unit:
                del self.waiting[entity]
        jobs = requests.ask(world, chosen, self.config.tier_order[0], tick, submit_tick=tick, per_request=k)
        if lead and jobs:
            self._lead = (jobs[0], tick)

    def _lead_is_out(self, tick: int) -> bool:
        """Whether the wave still waits for its lead job: until the job is collected, not
        just its plan streamed, so the pace it teaches shapes the wave."""
        if self._lead is not None:
            job_id, since = self._lead
            if tick - since < self.config.lead_patience_ticks and job_id in self.requests.jobs:
                return True
            self._lead = None
        return False

    def _awaiting_since_before(self, tick: int) -> list[int]:
        """Agents still waiting for the model that fell due before ``tick`` (those due at
        ``tick`` were just covered): a plan that ends meanwhile must not leave them idle."""
        due = self.requests.due
        waiting = [e for e, since in self.waiting.items() if since < tick]
        asked = self.requests.still_asked(tick)
        return sorted({a for a in (*waiting, *asked) if due.awaiting(a)})

    @staticmethod
    def _perceiving(world: World, agents: list[int]) -> list[int]:
        return [e for e in agents if world.entity_exists(e) and world.has_component(e, Perception)]

    def _cover_gap(self, world: World, due: list[int], tick: int) -> None:
        """An agent with nothing to do gets a heuristic plan while the model thinks. It stays
        awaiting its model plan: journaling the gap plan must not mark it free again, or it
        would fall due (and be asked for) a second time while still waiting."""
        requests = self.requests
        idle = [e for e in due if (p := world.try_component(e, Plan)) is None or p.status is not PlanStatus.RUNNING]
        for entity in idle:
            awaiting = requests.due.awaiting(entity)
            steps = requests.instant.steps(world, entity, Tier.HEURISTIC)
            requests.journal.plan(world, entity, steps, Tier.HEURISTIC, tick + 1, {"gap": True})
            requests.stats.gap_plans += 1
            if awaiting:
                requests.due.coming(entity, AWAITING)


def delivery_for(config: PlannerConfig, requests: ModelRequests) -> LockstepDelivery | RealtimeDelivery:
    return RealtimeDelivery(config, requests) if config.mode == "realtime" else LockstepDelivery(config, requests)
