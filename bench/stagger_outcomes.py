"""Does staggered perception change who wins? The arena's heuristic games, the same seeds,
refreshing every agent's perception every tick against every ``--every`` ticks, staggered
(``perception_every``, with ``ai.perception.PerceiveNow`` refreshes on a hit, a plan's end
and a first sight of an enemy).

Issue #18 accepts staggered perception as long as it does not change outcomes materially:
each configuration's red win rate with a Wilson 95% interval, draws, mean ticks and
survivors, and ms per tick (unrecorded games, a process per game on ``--workers``). The ms
per tick are indicative only: whole games of different lengths and crowds, with games
running side by side on the cores; the cost of staggering is measured by ``bench/tick.py
--parts every`` (the same states, one world at a time).

    .venv/bin/python bench/stagger_outcomes.py --agents 1000 --seeds 0..5 --every 4

A 1,000-agent heuristic game runs for more than 15 minutes here: budget the run, or cap
it with ``--ticks N``. A game still undecided at the cap is scored by its leader then (the
team with more agents alive; a tie is a draw), and the table says how many were. Each seed
is played both ways from the same start, so the last line counts the seeds whose result
(winner or leader) is the same both ways.
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
    winner = outcome.winner if outcome.winner is not None else _leader(outcome.teams, outcome.alive)
    result = (every, seed, winner, world.tick, ms, outcome.alive, outcome.winner is None)
    world.close()
    return result


def _leader(teams: tuple[str, ...], alive: tuple[int, ...]) -> str | None:
    """The team with the most agents alive, or None on a tie."""
    most = max(alive)
    leaders = [team for team, n in zip(teams, alive, strict=True) if n == most]
    return leaders[0] if len(leaders) == 1 else None


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
    print(f"{head}  {'ticks':>7} {'survivors':>9} {'ms/tick':>8} {'at cap':>6}")
    for every in (1, default):
        rows = [r for r in results if r[0] == every]
        red = sum(r[2] == "red" for r in rows)
        blue = sum(r[2] == "blue" for r in rows)
        low, high = wilson_interval(red, len(rows))
        print(
            f"{every:>5} {len(rows):>5} {red:>4} {blue:>4} {len(rows) - red - blue:>4} "
            f"{red / len(rows):>7.0%} ({low:.0%}-{high:.0%})".ljust(46)
            + f" {statistics.mean(r[3] for r in rows):>7.0f} {statistics.mean(sum(r[5]) for r in rows):>9.1f}"
            f" {statistics.median(r[4] for r in rows):>8.2f} {sum(r[6] for r in rows):>6}"
        )
    for every, seed, winner, ticks, ms, alive, capped in sorted(results, key=lambda r: (r[1], r[0])):
        how = "leads" if capped else "wins"
        print(f"  seed {seed} every {every}: {winner or 'nobody'} {how} at tick {ticks}, alive {alive}, {ms:.1f} ms/tick")
    by_seed = {(r[1], r[0]): r[2] for r in results}
    same = sum(by_seed[(seed, 1)] == by_seed[(seed, default)] for seed in seeds)
    print(f"same result both ways: {same} of {len(seeds)} seeds")


if __name__ == "__main__":
    main()
