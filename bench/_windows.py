"""Where the arena benchmarks time a world of each size, shared so that bench/tick.py and
bench/floor.py measure the same states (and bench/tick.py's summary can run the floor)."""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["BUDGET_MS", "WINDOWS", "Window", "window_for"]

BUDGET_MS = {100: 0.3, 1_000: 2.5, 10_000: 25.0}  #: issue #3's budgets for the whole arena tick


@dataclass(frozen=True)
class Window:
    """Ticks run before timing, ticks per timed repeat, repeats (the median is reported)."""

    warmup: int
    ticks: int
    repeats: int


# 100 agents first shoot at about tick 380; 1,000 are still closing in at tick 150 (no shot
# by tick 500 in a probe run, and each tick costs ~0.2 s); 10,000 take seconds per tick, so
# they are timed right after the start-up ticks.
WINDOWS = {100: Window(420, 40, 5), 1_000: Window(150, 10, 3), 10_000: Window(2, 1, 3)}


def window_for(n: int, warmup: int | None) -> Window:
    nearest = min(WINDOWS, key=lambda size: abs(math.log(size / n)))
    w = WINDOWS[nearest]
    return w if warmup is None else Window(warmup, w.ticks, w.repeats)
