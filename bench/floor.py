"""The floor under the arena tick: the work no arena tick can skip, timed on its own.

Why: issue #3 budgets the whole arena tick at 0.3 / 2.5 / 25 ms for 100 / 1,000 / 10,000
agents. Every tick has to step pymunk, find each agent's nearest others (a k-d tree is what
the issue names) and test those lines of sight. The first two are library calls (C); the
third is tickmind's own box test (numpy: every segment against every box in one pass for up
to 4,096 segments, one pass per box beyond; three broadphases measured slower, bench/RESULTS.md
§12). If these alone take longer than a budget, no Python taken out around them
meets it; this says by how much, on the arena's own states, beside the whole tick measured
in the same run.

Per size: the arena is built and warmed up as in bench/tick.py (same windows, same seed).
Each timed repeat times ``world.step()`` (the tick) and the pymunk step inside it, then, on
the state that tick left:

pymunk     the ``Space.step`` calls the physics system makes in that tick (timed inside it):
           the step alone, without moving velocities in or positions out.
k-d tree   the cheaper of two candidate searches, both timed: (a) a ``cKDTree`` per team
           and one over the cover objects, then every agent's k + 2 nearest of each team
           and of the objects within its sight range (k is the arena's ``perception_cap``; + 2 as
           ``ai.perception._nearest`` asks); (b) one tree over agents and objects and every
           pair within sight range (``query_pairs``, as ``ai.perception._kernel``). The
           search alone, without re-measuring, ordering or writing.
sight      the arena's box line-of-sight test on each agent's k nearest enemies and allies
           from that search: the fewest segments perception must test. (Perception also
           asks further candidates when the nearest are hidden, so it tests more.)

floor = pymunk + k-d tree + sight, each the median of the repeats.

    .venv/bin/python bench/floor.py                          # 100, 1,000 and 10,000 agents
    .venv/bin/python bench/floor.py --sizes 100 1000 --repeats 9
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy.spatial import cKDTree

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ai import Faction, Perceivable, Senses  # noqa: E402
from engine import Position, World  # noqa: E402
from examples.arena import build_arena  # noqa: E402
from nav import BoxSight  # noqa: E402
from physics import PhysicsBridge, Wall  # noqa: E402

sys.path.insert(0, str(ROOT / "bench"))
from _windows import BUDGET_MS, window_for  # noqa: E402

K = 16  # the arena's default perception_cap


@dataclass
class Floor:
    """Per-repeat samples (ms) of one arena size."""

    n: int
    tick: list[float] = field(default_factory=list)
    pymunk: list[float] = field(default_factory=list)
    kdtree: list[float] = field(default_factory=list)
    sight: list[float] = field(default_factory=list)
    segments: int = 0

    def median(self, name: str) -> float:
        return statistics.median(getattr(self, name))

    @property
    def floor(self) -> float:
        return self.median("pymunk") + self.median("kdtree") + self.median("sight")


def timed(call: Callable[[], object]) -> tuple[float, object]:
    start = time.perf_counter()
    out = call()
    return (time.perf_counter() - start) * 1e3, out


class StepTimer:
    """Wraps the world's ``Space.step`` (an instance attribute shadowing the method) and adds
    up the ms its calls take; the physics system calls it as before."""

    def __init__(self, world: World) -> None:
        space = world.resource(PhysicsBridge).space
        self.ms = 0.0
        inner = space.step

        def step(dt: float) -> None:
            start = time.perf_counter()
            inner(dt)
            self.ms += (time.perf_counter() - start) * 1e3

        space.step = step  # type: ignore[method-assign]

    def take(self) -> float:
        ms, self.ms = self.ms, 0.0
        return ms


def nearest_search(world: World) -> tuple[float, np.ndarray, np.ndarray]:
    """ms for the trees and the queries; and the k nearest enemy and ally pairs found, as
    (viewer, target) agent indices, for the sight test."""
    agents = world.get_components(Position, Faction, Senses)
    points = np.array([(p.x, p.y) for _, (p, _, _) in agents])
    teams = np.array([f.team for _, (_, f, _) in agents])
    reach = max(s.range for _, (_, _, s) in agents)
    objects = np.array([(p.x, p.y) for _, (p, _) in world.get_components(Position, Perceivable)]).reshape(-1, 2)

    def search() -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        found = []
        members = {team: np.flatnonzero(teams == team) for team in np.unique(teams).tolist()}
        trees = {team: cKDTree(points[m], balanced_tree=False, compact_nodes=False) for team, m in members.items()}
        for team, viewers in members.items():
            for other, pool in members.items():  # its allies and each enemy team
                _, at = trees[other].query(points[viewers], k=K + 2, distance_upper_bound=reach)
                found.append((viewers, pool, at))
        if len(objects):
            cKDTree(objects, balanced_tree=False, compact_nodes=False).query(points, k=K + 2, distance_upper_bound=reach)
        return found

    def pairs() -> None:
        everything = np.concatenate((points, objects))
        cKDTree(everything, balanced_tree=False, compact_nodes=False).query_pairs(reach, output_type="ndarray")

    ms, found = timed(search)
    ms = min(ms, timed(pairs)[0])
    viewer_parts, target_parts = [], []
    for viewers, pool, at in found:  # type: ignore[union-attr]
        rows, cols = np.nonzero(at < len(pool))
        target = pool[at[rows, cols]]
        keep = target != viewers[rows]
        rows, target = rows[keep], target[keep]
        rank = np.arange(len(rows)) - np.searchsorted(rows, rows)  # position within its row
        first = rank < K
        viewer_parts.append(viewers[rows[first]])
        target_parts.append(target[first])
    return ms, points[np.concatenate(viewer_parts)], points[np.concatenate(target_parts)]


def measure(n: int, seed: int, repeats: int, warmup: int | None) -> Floor:
    window = window_for(n, warmup)
    world = build_arena({"agents": n}, seed)
    world.run(window.warmup)
    sight = BoxSight((w.x0, w.y0, w.x1, w.y1) for _, w in world.get_component(Wall))
    out = Floor(n)
    stepper = StepTimer(world)
    for _ in range(max(repeats, window.repeats)):
        stepper.take()
        out.tick.append(timed(world.step)[0])
        out.pymunk.append(stepper.take())
        ms, starts, ends = nearest_search(world)
        out.kdtree.append(ms)
        out.sight.append(timed(lambda: sight.line_of_sight_many(starts, ends))[0])
        out.segments = len(starts)
    world.close()
    return out


def report(floors: list[Floor]) -> None:
    print("\n## the floor under the arena tick: ms per tick (median of repeats)")
    print(f"{'':26}" + "".join(f"{f'{f.n:,} agents':>16}" for f in floors))

    def row(label: str, values: list[str]) -> None:
        print(f"{label:26}" + "".join(f"{v:>16}" for v in values))

    for name in ("pymunk", "kdtree", "sight"):
        row({"pymunk": "pymunk step", "kdtree": "k-d tree search", "sight": "line of sight"}[name],
            [f"{f.median(name):.3f}" for f in floors])
    row("  segments tested", [f"{f.segments:,}" for f in floors])
    row("floor", [f"{f.floor:.3f}" for f in floors])
    row("budget", [f"{BUDGET_MS[f.n]:g}" if f.n in BUDGET_MS else "-" for f in floors])
    row("floor / budget", [f"{f.floor / BUDGET_MS[f.n]:.2f}x" if f.n in BUDGET_MS else "-" for f in floors])
    row("tick (whole)", [f"{f.median('tick'):.3f}" for f in floors])
    row("tick / floor", [f"{f.median('tick') / f.floor:.1f}x" for f in floors])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1000, 10000])
    parser.add_argument("--repeats", type=int, default=7, help="timed ticks per size (at least bench/tick.py's)")
    parser.add_argument("--warmup", type=int, default=None, help="warm-up ticks for every size (default: bench/tick.py's)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    floors = []
    for n in args.sizes:
        floors.append(measure(n, args.seed, args.repeats, args.warmup))
        print(f"# {n:,} agents measured", file=sys.stderr, flush=True)
    report(floors)


if __name__ == "__main__":
    main()
