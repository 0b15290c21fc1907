"""Does staggered perception change who wins? The arena's heuristic games, the same seeds,
refreshing every agent's perception every tick against every ``--every`` ticks, staggered
(``perception_every``, with ``ai.perception.PerceiveNow`` refreshes on a hit, a plan's end
and a first sight of an enemy).

Issue #18 accepts staggered perception as long as it does not change outcomes materially:
each configuration's red win rate with a Wilson 95% interval, draws, mean ticks and
survivors, and ms per tick (unrecorded games, a process per game on ``--workers``).

    .venv/bin/python bench/stagger_outcomes.py --agents 1000 --seeds 0..5 --every 4

A 1,000-agent heuristic game runs for more than 15 minutes here: budget the run.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from examples.arena import ArenaOutcome, build_arena  # noqa: E402
from examples.arena._sweep_rates import wilson_interval  # noqa: E402
from examples.arena._sweep_spec import parse_seeds  # noqa: E402
from examples.arena._world import arena_scenario  # noqa: E402


def play(agents: int, every: int, seed: int, ticks: int | None) -> tuple[int, int, str | None, int, float, tuple[int, ...]]:
    config = {"agents": agents, "perception_every": every}
    limit = ticks or arena_scenario(config).sim.max_ticks
    world = build_arena(config, seed)
    outcome = world.resource(ArenaOutcome)
    start = time.perf_counter()
    while world.tick < limit and outcome.winner is None:
        world.step()
    ms = (time.perf_counter() - start) * 1e3 / max(1, world.tick)
    result = (every, seed, outcome.winner, world.tick, ms, outcome.alive)
    world.close()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--agents", type=int, default=1000)
    parser.add_argument("--seeds", default="0..5")
    parser.add_argument("--every", type=int, default=4, help="the staggered configuration's perception_every")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--ticks", type=int, default=None, help="tick limit per game (default: the scenario's)")
    args = parser.parse_args()
    default = args.every
    if default < 2:
        parser.error(f"--every must be 2 or more to compare with every tick, got {default}")
    seeds = parse_seeds(args.seeds)
    jobs = [(args.agents, every, seed, args.ticks) for seed in seeds for every in (1, default)]
    with ProcessPoolExecutor(args.workers) as pool:
        results = list(pool.map(play, *zip(*jobs, strict=True)))
    print(f"## {args.agents} agents, heuristic against heuristic, seeds {args.seeds}")
    head = f"{'every':>5} {'games':>5} {'red':>4} {'blue':>4} {'draw':>4} {'red win rate (95%)':>20}"
    print(f"{head}  {'ticks':>7} {'survivors':>9} {'ms/tick':>8}")
    for every in (1, default):
        rows = [r for r in results if r[0] == every]
        red = sum(r[2] == "red" for r in rows)
        blue = sum(r[2] == "blue" for r in rows)
        low, high = wilson_interval(red, len(rows))
        print(
            f"{every:>5} {len(rows):>5} {red:>4} {blue:>4} {len(rows) - red - blue:>4} "
            f"{red / len(rows):>7.0%} ({low:.0%}-{high:.0%})".ljust(46)
            + f" {statistics.mean(r[3] for r in rows):>7.0f} {statistics.mean(sum(r[5]) for r in rows):>9.1f}"
            f" {statistics.median(r[4] for r in rows):>8.2f}"
        )
    for every, seed, winner, ticks, ms, alive in sorted(results, key=lambda r: (r[1], r[0])):
        print(f"  seed {seed} every {every}: {winner or 'nobody'} at tick {ticks}, alive {alive}, {ms:.1f} ms/tick")


if __name__ == "__main__":
    main()
