"""Progress of ``tickmind arena`` while it runs: a live bar on a terminal, plain lines in logs.

Three modes, chosen by :func:`progress_mode`: ``"bar"`` (stdout is a terminal: a rich
progress bar redrawn a few times a second), ``"plain"`` (stdout is a file or pipe: one
ANSI-free status line every ``plain_every`` ticks, so CI logs stay readable) and ``"off"``
(``--quiet``). Everything shown is read from outside the world (the plan tally, the planner's
jobs in flight, the wall clock): watching a run never changes it.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from types import TracebackType
from typing import IO, Literal, Self

from ai import Planner, PlanShare, planners_of
from engine import World

from ._summary_tally import TIERS, PlanTally
from ._world import ArenaOutcome

__all__ = ["ArenaProgress", "ProgressMode", "model_planners", "progress_mode"]

ProgressMode = Literal["bar", "plain", "off"]
_TIER_SHORT = dict(zip(TIERS, ("llm", "simple", "heur", "emerg")))


def progress_mode(stream: IO[str], quiet: bool) -> ProgressMode:
    if quiet:
        return "off"
    isatty = getattr(stream, "isatty", None)
    return "bar" if callable(isatty) and isatty() else "plain"


def model_planners(world: World) -> list[Planner]:
    """The planners that ask a model (several with a planner per team)."""
    return [planner for planner in planners_of(world) if planner.config.llm_tiers]


class ArenaProgress:
    """``update(world)`` after every tick; use as a context manager around the run loop."""

    def __init__(
        self,
        limit: int,
        tally: PlanTally,
        mode: ProgressMode,
        *,
        stream: IO[str] | None = None,
        plain_every: int = 600,
        refresh_per_second: float = 4.0,
        model_status: Callable[[], str] | None = None,
        share: PlanShare | None = None,
    ) -> None:
        self.limit = limit
        self.model_status = model_status  #: a note on the model when it is not answering
        self.share = share  #: agent-ticks by plan tier, for the model's share so far
        self.tally = tally
        self.mode = mode
        self.stream = stream or sys.stdout
        self.plain_every = plain_every
        self._interval = 1.0 / refresh_per_second
        self._last = (0, time.perf_counter())  # (tick, wall) of the last status
        self._next_status = 0.0
        self._bar = None
        self._task = None
        if mode == "bar":
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
            )

            self._bar = Progress(
                TextColumn("[bold]arena"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                TextColumn("{task.fields[status]}"),
                console=Console(file=self.stream),
                refresh_per_second=refresh_per_second,
            )
            self._task = self._bar.add_task("arena", total=limit, status="")

    def __enter__(self) -> Self:
        if self._bar is not None:
            self._bar.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if self._bar is not None:
            self._bar.stop()

    def update(self, world: World) -> None:
        tick = world.tick
        if self.mode == "plain":
            if tick % self.plain_every == 0:
                print(f"  tick {tick:>6}/{self.limit}  {self.status(world)}", file=self.stream, flush=True)
        elif self._bar is not None:
            now = time.perf_counter()
            if now >= self._next_status or tick >= self.limit:
                self._next_status = now + self._interval
                self._bar.update(self._task, completed=tick, status=self.status(world))  # type: ignore[arg-type]

    def status(self, world: World) -> str:
        """One line: sim time, survivors, plans by tier, model requests and waiting agents, ms/tick."""
        tick, now = world.tick, time.perf_counter()
        last_tick, last_wall = self._last
        ms = 1000 * (now - last_wall) / (tick - last_tick) if tick > last_tick else 0.0
        self._last = (tick, now)
        parts = [f"{tick * world.dt:.1f} s"]
        outcome = world.try_resource(ArenaOutcome)
        if outcome is not None and outcome.alive:
            parts.append(" ".join(f"{name} {n}" for name, n in zip(outcome.teams, outcome.alive)))
        plans = " ".join(f"{_TIER_SHORT[t]} {self.tally.per_tier[t]}" for t in TIERS if self.tally.per_tier[t])
        parts.append(f"plans {plans or 0}")
        model_share = self.share.model_share if self.share is not None else None
        asking = model_planners(world)
        if model_share is not None and asking:
            parts.append(f"model share {100 * model_share:.0f}%")
        if asking:
            in_flight, waiting = sum(p.jobs_in_flight for p in asking), sum(p.waiting for p in asking)
            parts.append(f"requests {in_flight}, agents waiting {waiting}")
        parts.append(f"{ms:.1f} ms/tick")
        note = self.model_status() if self.model_status is not None else ""
        if note:
            parts.append(note)
        return "  ".join(parts)
