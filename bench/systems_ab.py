"""Where the arena's tick goes, system by system, at this checkout and at an earlier commit,
in one run: the per-system milliseconds (``world.timings``), the state root a replay
compares each tick, and the hash with its per-(entity, component) detail that recording
writes.

Each checkout runs in fresh processes, the two taking turns ``--rounds`` times (each going
first in alternate rounds); a process
builds the heuristic arena of ``--agents``, plays ``--warmup`` ticks, then times
``--ticks`` ticks (root and detail hashed after each, both timed apart from the tick). The
figures are medians over the rounds of each process's per-tick mean; the last column is
baseline over this checkout (above 1: this checkout is faster). Both checkouts must reach
the same state root: when they do not (another game, or a change of the hashed state), the
figures are printed without ratios.

    .venv/bin/python bench/systems_ab.py --baseline b54f8ad --agents 1000
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
from pathlib import Path

from _checkouts import ROOT, checkout, run_python

_PLAY = """
import json, sys, time
from examples.arena import build_arena
agents, warmup, ticks = map(int, sys.argv[1:4])
world = build_arena({"agents": agents}, 0)
world.run(warmup)
world.timings.clear()
root_s = detail_s = 0.0
for _ in range(ticks):
    world.step()
    start = time.perf_counter()
    root = world.state_root()
    middle = time.perf_counter()
    world.state_hash()
    detail_s += time.perf_counter() - middle
    root_s += middle - start
parts = {name: spent * 1e3 / ticks for name, spent in world.timings.items()}
parts["tick (all systems)"] = sum(world.timings.values()) * 1e3 / ticks
parts["state root"] = root_s * 1e3 / ticks
parts["hash with detail (after the root)"] = detail_s * 1e3 / ticks
print(json.dumps({"ms": parts, "root": root}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--baseline", required=True, help="the commit to compare this checkout with")
    parser.add_argument("--agents", type=int, default=1000)
    parser.add_argument("--warmup", type=int, default=100)
    parser.add_argument("--ticks", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    argv = (str(args.agents), str(args.warmup), str(args.ticks))
    runs: list[list[dict]] = [[], []]
    with tempfile.TemporaryDirectory(prefix="systems-ab-") as tmp, checkout(args.baseline, Path(tmp) / "baseline") as base:
        for round_ in range(args.rounds):
            order = [(runs[0], base), (runs[1], ROOT)]
            for kept, tree in order if round_ % 2 == 0 else order[::-1]:  # each goes first in turn
                kept.append(json.loads(run_python(tree, _PLAY, *argv)[1]))
    print(f"{args.agents} agents, heuristic, seed 0, ticks {args.warmup}..{args.warmup + args.ticks}, {args.rounds} rounds")
    roots = {r["root"] for kept in runs for r in kept}
    same = len(roots) == 1
    print("same state root" if same else f"the state roots differ: {sorted(roots)}; no ratios (not the same game)")
    names = list(runs[1][0]["ms"])
    names += [n for n in runs[0][0]["ms"] if n not in names]
    print(f"{'ms per tick':<36} {'baseline ' + args.baseline:>18} {'this checkout':>14} {'ratio':>6}")
    for name in names:
        base_ms, this_ms = (statistics.median(r["ms"].get(name, 0.0) for r in kept) for kept in runs)
        ratio = f"{base_ms / this_ms:6.2f}" if same and base_ms > 0 and this_ms > 0 else "     -"
        print(f"{name:<36} {base_ms:>18.3f} {this_ms:>14.3f} {ratio}")


if __name__ == "__main__":
    main()
