"""Box line of sight: every segment against every box in one pass, against a pass per box.

Why: ``nav.BoxSight`` takes the one-pass matrix up to ``matrix_segments`` segments and the
per-box loop beyond. This times both ways on the same segments, at sizes around that
threshold, so the threshold is a measurement rather than a guess. The segments are the
arena's shape of sight lines: random starts on a 110 m square with 28 boxes, each line a
few metres to 20 m long.

    .venv/bin/python bench/box_sight.py
    .venv/bin/python bench/box_sight.py --segments 300 3000 50000 --repeats 31
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from nav import BoxSight  # noqa: E402
from nav._box_sight import MATRIX_SEGMENTS  # noqa: E402


def _timed(sight: BoxSight, starts: np.ndarray, ends: np.ndarray, repeats: int) -> tuple[float, list[bool]]:
    """(median ms, the answer)."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        clear = sight.line_of_sight_many(starts, ends)
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3, clear.tolist()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--segments", type=int, nargs="+", default=[300, 1000, 3000, 4096, 8000, 50000])
    parser.add_argument("--repeats", type=int, default=21)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    corners = rng.uniform(0.0, 100.0, (28, 2))
    boxes = [(x, y, x + w, y + h) for (x, y), (w, h) in zip(corners, rng.uniform(1.0, 10.0, (28, 2)))]
    by_box_sight = BoxSight(boxes, matrix_segments=-1)
    at_once_sight = BoxSight(boxes, matrix_segments=max(args.segments))
    print(f"threshold in nav/_box_sight.py: {MATRIX_SEGMENTS} segments\n")
    print("| segments | per box | all boxes at once | per box / at once |")
    print("|---|---|---|---|")
    for n in args.segments:
        starts = rng.uniform(0.0, 110.0, (n, 2))
        ends = starts + rng.normal(0.0, 8.0, (n, 2))
        loop, by_box = _timed(by_box_sight, starts, ends, args.repeats)
        matrix, at_once = _timed(at_once_sight, starts, ends, args.repeats)
        assert by_box == at_once, "the two ways disagree"
        print(f"| {n:,} | {loop:.3f} ms | {matrix:.3f} ms | {loop / matrix:.2f} |")


if __name__ == "__main__":
    main()
