"""Pathfinding and nav costs, as ratios against baselines measured in the same run.

    .venv/bin/python bench/nav_pathfinding.py            # full (about a minute)
    .venv/bin/python bench/nav_pathfinding.py --quick    # fewer queries

1. Single-agent planning on room maps with walls (120x80 and 400x400 cells, 1 m cells,
   agent radius 0.4 m): nav's own heapq A* (the baseline, ratio 1.00), scipy's
   ``csgraph.dijkstra`` from the start, and whichever PyPI packages import here
   (``pyastar2d``, ``tcod``, ``pathfinding``). Besides time, each row says whether the paths
   are optimal for nav's costs and how many diagonal steps cut a wall corner (nav forbids it).
2. Flow field versus A*: one field build in units of one ``find_path``; then K end to end:
   n agents ordered to one point, nav's whole cost over 5 s with fields forced off and on.
3. Line of sight: ``line_of_sight_many`` against a Python loop of ``line_of_sight``.
4. The per-tick nav system (following + separation) at 100, 1,000 and 10,000 moving agents,
   as a multiple of the whole arena tick budget (0.3 / 2.5 / 25 ms).

Absolute times are printed for orientation only; compare the ratios.
"""

from __future__ import annotations

import argparse
import importlib.util
import itertools
import math
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from scipy.sparse import csgraph

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine import DesiredVelocity, Position, TickContext, World
from nav import FlowField, GridMap, NavConfig, NavGoal, find_cell_path, find_path, install_nav
from nav._search import DIAGONAL, STRAIGHT, grid_graph, octile, path_cost

Cell = tuple[int, int]
Planner = Callable[[Cell, Cell], "list[Cell] | None"]


def rooms_map(nx: int, ny: int, room: int, seed: int) -> GridMap:
    """Rooms of ``room`` metres separated by 0.5 m walls with 3 m doors, plus crates."""
    rng = np.random.default_rng(seed)
    boxes: list[tuple[float, float, float, float]] = []
    for x in range(room, nx, room):  # vertical walls, one door per room
        for y0 in range(0, ny, room):
            door = y0 + float(rng.uniform(1, room - 4))
            boxes += [(x - 0.25, y0, x + 0.25, door), (x - 0.25, door + 3, x + 0.25, min(y0 + room, ny))]
    for y in range(room, ny, room):
        for x0 in range(0, nx, room):
            door = x0 + float(rng.uniform(1, room - 4))
            boxes += [(x0, y - 0.25, door, y + 0.25), (door + 3, y - 0.25, min(x0 + room, nx), y + 0.25)]
    for _ in range(nx * ny // 400):
        x, y = rng.uniform(0, nx - 3), rng.uniform(0, ny - 3)
        boxes.append((x, y, x + float(rng.uniform(1, 3)), y + float(rng.uniform(1, 3))))
    return GridMap.from_boxes(nx, ny, 1.0, boxes, inflate=0.4)


def queries(grid: GridMap, n: int, seed: int, max_octile: float = math.inf) -> list[tuple[Cell, Cell]]:
    """Random start/goal pairs in the largest connected free region (at most ``max_octile``
    apart, in cells, if given: the short moves an agent is mostly ordered to make)."""
    _, labels = csgraph.connected_components(grid_graph(grid), directed=False)
    free = np.flatnonzero(~grid.inflated.ravel())
    main = np.bincount(labels[free]).argmax()
    cells = free[labels[free] == main]
    rng = np.random.default_rng(seed)
    out: list[tuple[Cell, Cell]] = []
    while len(out) < n:
        a, b = (int(v) for v in rng.choice(cells, size=2))
        s, g = (a % grid.nx, a // grid.nx), (b % grid.nx, b // grid.nx)
        if octile(s, g) <= max_octile * STRAIGHT:
            out.append((s, g))
    return out


# --- planners ------------------------------------------------------------------------------


def heapq_astar(grid: GridMap) -> Planner:
    return lambda s, g: find_cell_path(grid, s, g, astar_budget=1 << 62)


def nav_dijkstra(grid: GridMap) -> Planner:
    return lambda s, g: find_cell_path(grid, s, g, astar_budget=0)


def nav_hybrid(grid: GridMap) -> Planner:
    return lambda s, g: find_cell_path(grid, s, g)


def scipy_dijkstra(grid: GridMap) -> Planner:
    graph = grid_graph(grid)
    nx = grid.nx

    def plan(s: Cell, g: Cell) -> list[Cell] | None:
        _, pred = csgraph.dijkstra(graph, directed=False, indices=s[1] * nx + s[0], return_predecessors=True)
        node = g[1] * nx + g[0]
        if pred[node] < 0 and s != g:
            return None
        out = [node]
        while out[-1] != s[1] * nx + s[0]:
            out.append(int(pred[out[-1]]))
        return [(c % nx, c // nx) for c in reversed(out)]

    return plan


def pyastar2d_planner(grid: GridMap) -> Planner:
    import pyastar2d

    weights = np.where(grid.inflated, np.inf, 1.0).astype(np.float32)

    def plan(s: Cell, g: Cell) -> list[Cell] | None:
        path = pyastar2d.astar_path(weights, (s[1], s[0]), (g[1], g[0]), allow_diagonal=True)
        return None if path is None else [(int(c), int(r)) for r, c in path]

    return plan


def tcod_no_cut_planner(grid: GridMap) -> Planner:
    """tcod with nav's exact graph: diagonal edges conditioned on both orthogonals free."""
    import tcod.path

    from nav._search import _shifted

    free = ~grid.inflated
    cost = free.astype(np.int8)
    graph = tcod.path.CustomGraph(cost.shape)
    for dy, dx in ((0, 1), (1, 0), (0, -1), (-1, 0)):
        graph.add_edge((dy, dx), STRAIGHT, cost=cost)
    for dy, dx in ((1, 1), (1, -1), (-1, 1), (-1, -1)):
        corner = (_shifted(free, dx, 0) & _shifted(free, 0, dy)).astype(np.int8)
        graph.add_edge((dy, dx), DIAGONAL, cost=cost, condition=corner)
    graph.set_heuristic(cardinal=STRAIGHT, diagonal=DIAGONAL)
    return _tcod_plan(graph)


def tcod_planner(grid: GridMap) -> Planner:
    """tcod's ready-made 8-connected graph (it lets diagonals cut corners)."""
    import tcod.path

    cost = np.where(grid.inflated, 0, 1).astype(np.int8)
    return _tcod_plan(tcod.path.SimpleGraph(cost=cost, cardinal=STRAIGHT, diagonal=DIAGONAL))


def _tcod_plan(graph: object) -> Planner:
    import tcod.path

    def plan(s: Cell, g: Cell) -> list[Cell] | None:
        pf = tcod.path.Pathfinder(graph)
        pf.add_root((s[1], s[0]))
        path = pf.path_to((g[1], g[0]))
        if len(path) == 0 or tuple(path[0]) != (s[1], s[0]):
            return None
        return [(int(c), int(r)) for r, c in path]

    return plan


def pathfinding_planner(grid: GridMap) -> Planner:
    from pathfinding.core.diagonal_movement import DiagonalMovement
    from pathfinding.core.grid import Grid
    from pathfinding.finder.a_star import AStarFinder

    matrix = np.where(grid.inflated, 0, 1).tolist()
    finder = AStarFinder(diagonal_movement=DiagonalMovement.only_when_no_obstacle)

    def plan(s: Cell, g: Cell) -> list[Cell] | None:
        pg = Grid(matrix=matrix)
        path, _ = finder.find_path(pg.node(*s), pg.node(*g), pg)
        return [(n.x, n.y) for n in path] or None

    return plan


PLANNERS: list[tuple[str, str | None, Callable[[GridMap], Planner], int]] = [
    # (label, module that must import, factory, max queries per map: pure-Python ones are slow)
    ("heapq A* (baseline)", None, heapq_astar, 10**9),
    ("scipy dijkstra + own walk", None, nav_dijkstra, 10**9),
    ("nav: A* then scipy (chosen)", None, nav_hybrid, 10**9),
    ("scipy dijkstra + preds", None, scipy_dijkstra, 10**9),
    ("pyastar2d (C++ A*)", "pyastar2d", pyastar2d_planner, 10**9),
    ("tcod Pathfinder (C)", "tcod", tcod_planner, 10**9),
    ("tcod CustomGraph, no cuts", "tcod", tcod_no_cut_planner, 10**9),
    ("pathfinding (pure Python)", "pathfinding", pathfinding_planner, 6),
]


def corner_cuts(grid: GridMap, cells: list[Cell]) -> int:
    """Steps that enter a blocked cell or squeeze a diagonal past a blocked corner."""
    bad = 0
    for (x0, y0), (x1, y1) in itertools.pairwise(cells):
        squeeze = x0 != x1 and y0 != y1 and not (grid.cell_free(x1, y0) and grid.cell_free(x0, y1))
        if squeeze or not grid.cell_free(x1, y1) or max(abs(x1 - x0), abs(y1 - y0)) != 1:
            bad += 1
    return bad


def timed(fn: Callable[[], object], repeat: int) -> float:
    best = math.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def bench_planners(name: str, grid: GridMap, pairs: list[tuple[Cell, Cell]], repeat: int) -> float:
    """Print one table; return the baseline's mean seconds per query."""
    print(f"\n## {name}: {grid!r}, {len(pairs)} start/goal pairs")
    print(f"{'planner':28} {'queries':>7} {'ms/query':>9} {'ratio':>7}  {'optimal':>9} {'corner cuts':>11}")
    base_times: list[float] = []
    optimal: list[int] = []
    for label, module, factory, cap in PLANNERS:
        if module is not None and importlib.util.find_spec(module) is None:
            print(f"{label:28} not installed (pip install {module} to compare)")
            continue
        plan = factory(grid)
        subset = pairs[: min(cap, len(pairs))]
        times, costs, cuts, fails = [], [], 0, 0
        for s, g in subset:
            result: list[list[Cell] | None] = []
            times.append(timed(lambda s=s, g=g, p=plan, r=result: r.append(p(s, g)), repeat))  # best of the same repeats for all
            cells = result[-1]
            if cells is None:
                fails += 1
                costs.append(-1)
                continue
            costs.append(path_cost(cells))
            cuts += corner_cuts(grid, cells)
        if not base_times:
            base_times, optimal = times, costs
        # A planner that cuts corners or fails solves another problem: no ratio for it.
        ratio = f"{sum(times) / sum(base_times[: len(times)]):7.2f}" if not (cuts or fails) else "      -"
        n_opt = sum(c == o for c, o in zip(costs, optimal))
        extra = f" ({fails} failed)" if fails else ""
        print(
            f"{label:28} {len(subset):7d} {1e3 * np.mean(times):9.2f} {ratio}  "
            f"{n_opt:4d}/{len(subset):<4d} {cuts:11d}{extra}"
        )
    return float(np.mean(base_times))


def bench_flow(name: str, grid: GridMap, pairs: list[tuple[Cell, Cell]], repeat: int) -> None:
    """One field build against one find_path (what an agent's replan costs), same map."""
    plan = min(
        timed(lambda: [find_path(grid, grid.cell_to_world(*s), grid.cell_to_world(*g)) for s, g in pairs], 1)
        for _ in range(repeat)
    ) / len(pairs)
    goals = [g for _, g in pairs[:5]]
    build = float(np.median([timed(lambda g=g: FlowField(grid, g), repeat) for g in goals]))
    print(
        f"flow field build {1e3 * build:.2f} ms = {build / plan:.2f} x one find_path ({1e3 * plan:.2f} ms, "
        f"mixed long and short moves) on {name}"
    )


def bench_threshold(grid: GridMap, repeat: int) -> int:
    """K measured end to end: n agents ordered to one point, everything nav spends on them
    (planning at the order, then following or field sampling every tick for 5 s), with flow
    fields forced off and forced on. K is the smallest n from which the field is cheaper."""
    print(f"\n## flow field or A* for n agents sharing a goal, 300 ticks, {grid!r}")
    print(f"{'n':>4} {'A* ms':>8} {'flow ms':>8} {'flow/A*':>8}")
    rng = np.random.default_rng(11)
    free = np.argwhere(~grid.inflated)
    goal = free[rng.integers(len(free))]
    ratios: list[tuple[int, float]] = []
    for n in (1, 2, 4, 8, 12, 16, 24, 32, 64):
        starts = free[rng.choice(len(free), size=n)]
        cost = {}
        for label, threshold in (("astar", 10**9), ("flow", 1)):
            best = math.inf
            for _ in range(repeat):
                world = World(seed=1)
                install_nav(world, grid, config=NavConfig(flow_threshold=threshold))
                world.add_system(_integrate, stage="physics", name="bench.integrate")
                for sy, sx in starts:
                    world.create_entity(
                        Position(float(sx) + 0.5, float(sy) + 0.5),
                        NavGoal(float(goal[1]) + 0.5, float(goal[0]) + 0.5, 3.0),
                    )
                world.run(300)
                best = min(best, world.timings["nav"])
                world.close()
            cost[label] = best
        ratios.append((n, cost["flow"] / cost["astar"]))
        print(f"{n:4d} {1e3 * cost['astar']:8.1f} {1e3 * cost['flow']:8.1f} {ratios[-1][1]:8.2f}")
    # K: the smallest n from which the field is never dearer (robust to one noisy row)
    k = next((n for i, (n, _) in enumerate(ratios) if all(r <= 1.0 for _, r in ratios[i:])), ratios[-1][0])
    print(f"-> flow fields pay off from K = {k} agents sharing a goal cell (NavConfig.flow_threshold)")
    return k


def _integrate(world: World, ctx: TickContext) -> None:
    """Bench stand-in for physics: position += desired velocity * dt."""
    for _, (p, v) in world.get_components(Position, DesiredVelocity):
        p.x += v.vx * ctx.dt
        p.y += v.vy * ctx.dt


def bench_sight(grid: GridMap, repeat: int) -> None:
    print(f"\n## line of sight on {grid!r}, segments of up to 20 m")
    rng = np.random.default_rng(3)
    for n in (100, 1_000, 10_000):
        a = rng.uniform(1, [grid.width - 1, grid.height - 1], size=(n, 2))
        b = np.clip(a + rng.uniform(-20, 20, size=(n, 2)), 1, [grid.width - 1, grid.height - 1])
        answers: list[list[bool]] = []
        many = timed(lambda a=a, b=b: answers.append(grid.line_of_sight_many(a, b).tolist()), repeat)
        pairs = list(zip(a.tolist(), b.tolist(), strict=True))
        loop = timed(lambda pairs=pairs: answers.append([grid.line_of_sight(*p, *q) for p, q in pairs]), repeat)
        assert answers[0] == answers[-1], "line_of_sight_many and single calls must agree"
        print(f"{n:6d} segments: many {1e3 * many:8.3f} ms, ratio to a Python loop of single calls {many / loop:.3f}")


def bench_tick(repeat: int) -> None:
    """Steady-state per-tick cost: agents moving on paths, one agent per 24 m^2 of a map
    with a walled-off half, so neighbour counts stay realistic as n grows."""
    print("\n## per-tick nav (following + separation; planning excluded), one agent per 24 m^2")
    for n, budget in ((100, 0.3e-3), (1_000, 2.5e-3), (10_000, 25e-3)):
        side = math.sqrt(n * 24.0)
        wall = side * 0.75
        grid = GridMap.from_boxes(
            side * 1.5, side, 1.0, [(wall, 0, wall + 1, side * 0.45), (wall, side * 0.55, wall + 1, side)], inflate=0.4
        )
        world = World(seed=1)
        install_nav(world, grid)
        world.add_system(_integrate, stage="physics", name="bench.integrate")
        rng = np.random.default_rng(n)
        free = np.argwhere(~grid.inflated)  # [iy, ix]
        for sy, sx in free[rng.choice(len(free), size=n)]:
            gx = int(np.clip(sx + rng.integers(-30, 30), 0, grid.nx - 1))
            gy = int(np.clip(sy + rng.integers(-30, 30), 0, grid.ny - 1))
            world.create_entity(Position(float(sx) + 0.5, float(sy) + 0.5), NavGoal(gx + 0.5, gy + 0.5, 1.0))
        t0 = time.perf_counter()
        world.step()  # plans everything
        plan = time.perf_counter() - t0
        ticks = []
        for _ in range(10 * repeat):
            before = world.timings["nav"]
            world.step()
            ticks.append(world.timings["nav"] - before)
        per_tick = float(np.median(ticks))
        print(
            f"{n:6d} agents: nav {1e3 * per_tick:7.3f} ms/tick = {per_tick / budget:5.2f} x the whole-arena "
            f"budget ({1e3 * budget:g} ms); planning all {n} at once took {1e3 * plan:.0f} ms"
        )
        world.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="fewer queries and repeats")
    args = ap.parse_args()
    repeat = 1 if args.quick else 3
    maps = [("120x80", rooms_map(120, 80, 20, seed=1), 10 if args.quick else 40),
            ("400x400", rooms_map(400, 400, 40, seed=2), 4 if args.quick else 12)]  # fmt: skip
    for name, grid, n in maps:
        pairs = queries(grid, n, seed=7)
        bench_planners(f"{name}, random pairs", grid, pairs, repeat)
        short = queries(grid, n, seed=8, max_octile=20)
        bench_planners(f"{name}, moves of <= 20 m", grid, short, repeat)
        bench_flow(name, grid, pairs + short, repeat)
    bench_threshold(maps[0][1], repeat)
    bench_sight(maps[0][1], repeat)
    bench_tick(repeat)


if __name__ == "__main__":
    main()
