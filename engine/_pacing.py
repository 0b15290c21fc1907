"""Pacing ticks to the wall clock, for worlds that plan while they play.

Why the engine has it: a realtime planner applies each plan at the first tick after it
arrives, so how many ticks pass while a model thinks is set by how fast ticks run. Unpaced,
a 4 ms tick lets hundreds of ticks go by during one answer and the model plans almost
nothing; paced to the world's own ``dt``, a second of thinking is a second of game.

Wall time only decides *when* a tick runs, never what it computes: whatever arrives in the
meantime enters the world as journaled inputs, so a paced run replays exactly, unpaced.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

from ._errors import TickmindError

__all__ = ["Pacer"]


class Pacer:
    """Keep tick ``n`` from running before ``n * seconds_per_tick`` of wall time has passed
    since tick ``first_tick`` would have.

    The schedule is fixed at the start: a tick that runs late is not waited for, and the
    ticks after it run at once until the world is back on schedule (as a fixed-step game
    loop catches up), so a slow stretch does not slow the rest of the run.
    """

    def __init__(
        self,
        seconds_per_tick: float,
        first_tick: int = 0,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not _positive(seconds_per_tick):
            raise TickmindError(f"Pacer takes a finite number of wall seconds per tick > 0, got {seconds_per_tick!r}")
        self.seconds_per_tick = float(seconds_per_tick)
        self._clock, self._sleep = clock, sleep
        self._start = clock() - first_tick * self.seconds_per_tick  # a resumed run starts mid-way

    def wait(self, tick: int) -> None:
        """Return once tick ``tick`` may run."""
        ahead = self._start + tick * self.seconds_per_tick - self._clock()
        if ahead > 0:
            self._sleep(ahead)


def check_speed(speed: float) -> float:
    """``speed`` (simulated seconds per wall second) as a float, or a refusal naming it."""
    if not _positive(speed):
        raise TickmindError(
            f"speed is simulated seconds per wall second, a finite number > 0 (1: real time), got {speed!r}"
        )
    return float(speed)


def _positive(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value) and value > 0
