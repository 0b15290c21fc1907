"""The tick's figures against its floor, one line each (issue #18): what ``bench/tick.py
--summary`` prints last.

Every figure is a ratio (or a time) between two things measured in this run, on the same
arena states, the median of ``repeats``:

tick_over_floor@N     bench/floor.py's whole tick over its floor (pymunk step + k-d tree
                      search + box line of sight), perception every tick.
recorded_over_tick@N  a recorded tick (``start_run``: state hash, hash file and journal)
                      over the same tick unrecorded: two worlds from one config and seed,
                      so in the same state, timed in turns over the same window.
recorded_ms@N         that recorded tick, in ms.
replay_speedup@N      ``engine.verify``'s ticks per second over the recording's, for the
                      same heuristic run of ``REPLAY_TICKS`` from tick 0 (world builds
                      excluded from neither: a user pays both).
"""

from __future__ import annotations

import gc
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from _windows import Window, window_for
from floor import measure as measure_floor

from engine import start_run, verify
from examples.arena import build_arena

__all__ = ["REPLAY_TICKS", "print_summary", "summary"]

REPLAY_TICKS = 300  #: ticks of the 1,000-agent run that recording and verify both play


def _timed(call: Callable[[], object]) -> float:
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def recorded_and_plain(n: int, seed: int, window: Window, repeats: int, out: Path) -> tuple[float, float]:
    """(recorded ms, unrecorded ms) per tick: medians over ``repeats`` turns of each."""
    config = {"agents": n}
    plain = build_arena(config, seed)
    with start_run(build_arena, config, seed, out) as run:
        plain.run(window.warmup)
        run.world.run(window.warmup)
        recorded_ms: list[float] = []
        plain_ms: list[float] = []
        for _ in range(max(repeats, window.repeats)):
            plain_ms.append(_timed(lambda: plain.run(window.ticks)) * 1e3 / window.ticks)
            recorded_ms.append(_timed(lambda: run.world.run(window.ticks)) * 1e3 / window.ticks)
        assert plain.state_hash().root == run.world.state_hash().root, "the two worlds drifted apart"
        run.world.close()
    plain.close()
    return statistics.median(recorded_ms), statistics.median(plain_ms)


def replay_speedup(n: int, seed: int, repeats: int, work: Path) -> float:
    """Verify's ticks per second over recording's, each the median of ``repeats``."""
    record_s: list[float] = []
    verify_s: list[float] = []
    for i in range(repeats):
        out = work / f"replay-{i}"

        def record(out: Path = out) -> None:
            with start_run(build_arena, {"agents": n}, seed, out) as run:
                run.world.run(REPLAY_TICKS)
                run.world.close()

        record_s.append(_timed(record))
        start = time.perf_counter()
        report = verify(out)
        verify_s.append(time.perf_counter() - start)
        assert report.ticks_checked == REPLAY_TICKS and report.divergence is None, report.format()
    return statistics.median(record_s) / statistics.median(verify_s)


def summary(seed: int = 1, repeats: int = 3, warmup: int | None = None) -> dict[str, float]:
    """Every figure, in the order printed."""
    figures: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="tick-summary-") as tmp:
        work = Path(tmp)
        for n in (1_000, 10_000):
            floor = measure_floor(n, seed, repeats, warmup)
            figures[f"tick_over_floor@{n}"] = floor.median("tick") / floor.floor
            gc.collect()
        for n in (1_000, 10_000):
            recorded, plain = recorded_and_plain(n, seed, window_for(n, warmup), repeats, work / f"recorded-{n}")
            if n == 1_000:
                figures[f"recorded_over_tick@{n}"] = recorded / plain
            figures[f"recorded_ms@{n}"] = recorded
            gc.collect()
        figures["replay_speedup@1000"] = replay_speedup(1_000, seed, repeats, work)
    return figures


def print_summary(figures: dict[str, float]) -> None:
    for name, value in figures.items():
        print(f"{name}: {value:.2f}")
