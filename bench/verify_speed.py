"""``verify`` of one heuristic run, by this checkout and by an earlier commit, in one run.

Why: issue #18 asks for ``tickmind verify`` of a 100-agent, 1,000-tick heuristic run to be
at least 3x faster than on the commit before its work (3fac6cc). The earlier commit is
checked out with ``git worktree``; each checkout records the same game (same config and
seed) once and then verifies its own record, the two taking turns. A checkout verifies its
own record because the state hashed per tick may differ between commits (3fac6cc predates
the hashed ``PerceiveNow`` marks) while the game played is the same. Each record and verify
is a fresh ``python`` process (imports and the world build included, as a user pays them);
the figure is the ratio of the verify medians.

    .venv/bin/python bench/verify_speed.py
    .venv/bin/python bench/verify_speed.py --baseline 3fac6cc --agents 100 --ticks 1000 --repeats 5
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
from pathlib import Path

from _checkouts import ROOT, checkout, run_python

from engine import read_journal

_RECORD = """
import sys
from engine import start_run
from examples.arena import build_arena
with start_run(build_arena, {{"agents": {agents}}}, 1, sys.argv[1]) as run:
    run.world.run({ticks})
    run.world.close()
"""

_VERIFY = """
import sys
from engine import verify
report = verify(sys.argv[1])
assert report.divergence is None and report.ticks_checked == {ticks}, report.format()
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--baseline", default="3fac6cc", help="the commit to verify with beside this checkout")
    parser.add_argument("--agents", type=int, default=100)
    parser.add_argument("--ticks", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="verify-speed-") as tmp:
        work = Path(tmp)
        with checkout(args.baseline, work / "baseline") as baseline:
            # (label, tree, run directory) per checkout, the baseline first.
            checkouts = [(f"baseline {args.baseline}", baseline, work / "run-baseline"), ("this checkout", ROOT, work / "run-this")]
            record = _RECORD.format(agents=args.agents, ticks=args.ticks)
            record_s = [run_python(tree, record, str(run_dir))[0] for _, tree, run_dir in checkouts]
            verify = _VERIFY.format(ticks=args.ticks)
            times: list[list[float]] = [[] for _ in checkouts]
            same_game = _inputs(work / "run-baseline") == _inputs(work / "run-this")
            for repeat in range(args.repeats):
                turns = list(zip(times, checkouts))
                for spent, (_, tree, run_dir) in turns if repeat % 2 == 0 else turns[::-1]:  # each first in turn
                    spent.append(run_python(tree, verify, str(run_dir))[0])
    verify_s = [statistics.median(spent) for spent in times]
    print(f"{args.agents} agents, {args.ticks} ticks, heuristic, seed 1")
    for (label, _, _), recorded, verified in zip(checkouts, record_s, verify_s):
        print(f"{label}: record {recorded:.2f} s, verify {verified:.2f} s (median of {args.repeats})")
    if same_game:
        print(f"verify_speedup: {verify_s[0] / verify_s[1]:.2f}")
    else:
        print("verify_speedup: none (the two checkouts journaled different inputs: not the same game)")


def _inputs(run_dir: Path) -> list[tuple[int, int, str, str]]:
    """The run's journaled inputs as (tick, entity, kind, body): what makes the game."""
    return [(r.t, r.entity, r.kind, json.dumps(r.data, sort_keys=True)) for r in read_journal(run_dir).records]


if __name__ == "__main__":
    main()
