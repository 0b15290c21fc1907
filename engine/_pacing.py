"""Pacing ticks to the wall clock, for worlds that plan while they play.

Why the engine has it: a realtime planner applies each plan at the first tick after it
arrives, so how many ticks pass while a model thinks is set by how fast ticks run. Unpaced,
a 4 ms tick lets hundreds of ticks go by during one answer and the model plans little;
paced to the world's own ``dt``, a second of thinking is a second of game.

Wall time only decides *when* a tick runs, never what it computes: whatever arrives in the
meantime enters the world as journaled inputs, so a paced run replays exactly, unpaced.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

from ._errors import TickmindError

__all__ = ["Pacer"]

#: How far behind its schedule a paced world may fall and still catch up (as Bevy's
#: ``Time<Virtual>`` caps its delta): beyond it, the lag is forgiven instead of run off in
#: one burst of ticks.
MAX_LAG_S = 0.25


class Pacer:
    """A fixed schedule: tick ``first_tick`` may run now, and each tick after it
    ``seconds_per_tick`` later than the one before. ``World.run(ticks, speed=...)`` uses
    one; a loop of your own (progress lines, checks between ticks) does as it does::

        world.step()  # the first tick: it may wait for a model's opening plans
        pacer = Pacer(world.dt / speed, world.tick)  # made after it, or the wait counts as lag
        while world.tick < end:
            pacer.wait(world.tick)
            world.step()

    A tick that runs late is not waited for, and the ticks after it run at once until the
    world is back on schedule (as a fixed-step game loop catches up), so one slow stretch
    does not slow the rest of the run. A world more than ``max_lag`` seconds behind is
    moved back to ``max_lag`` behind: a world that cannot keep up runs as fast as it can,
    and one that was held up (a long pause between calls) does not make up for it all at once.
    """

    def __init__(
        self,
        seconds_per_tick: float,
        first_tick: int = 0,
        *,
        max_lag: float = MAX_LAG_S,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not _positive(seconds_per_tick):
            raise TickmindError(f"Pacer takes a finite number of wall seconds per tick > 0, got {seconds_per_tick!r}")
        if not (_positive(max_lag) or max_lag == 0):
            raise TickmindError(f"Pacer(max_lag=...) takes a finite number of seconds >= 0, got {max_lag!r}")
        self.seconds_per_tick = float(seconds_per_tick)
        self.max_lag = max_lag
        self._clock, self._sleep = clock, sleep
        self._start = clock() - first_tick * self.seconds_per_tick  # a resumed run starts mid-way

    def wait(self, tick: int) -> None:
        """Return once tick ``tick`` may run."""
        ahead = self._start + tick * self.seconds_per_tick - self._clock()
        if ahead > 0:
            self._sleep(ahead)
        elif ahead < -self.max_lag:
            self._start -= ahead + self.max_lag


def check_speed(speed: float) -> float:
    """``speed`` (simulated seconds per wall second) as a float, or a refusal naming it."""
    if not _positive(speed):
        raise TickmindError(
            f"speed is simulated seconds per wall second, a finite number > 0 (1: real time), got {speed!r}"
        )
    return float(speed)


def _positive(value: object) -> bool:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False
    return not isinstance(value, bool | str | bytes) and math.isfinite(number) and number > 0
