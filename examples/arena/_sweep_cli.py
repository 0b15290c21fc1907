"""``tickmind sweep``: the arena over many seeds, each seed its own verifiable run.

Registered through the ``tickmind.commands`` entry point.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from engine.cli import SubCommands, add_command, positive_int

from ._sweep import format_table, run_sweep
from ._sweep_spec import SweepError, SweepSpec, parse_seeds
from ._team_planners import planner_argument

__all__ = ["command"]


def command(sub: SubCommands) -> None:
    p = add_command(
        sub, "sweep", handler=_run,
        help="run the arena once per seed, each into DIR/seed-<s>, resumably",
        description="Run the arena for every seed in --seeds, each recorded into OUT/seed-<s> "
        "(verify any with `tickmind verify OUT/seed-<s>`), on a local process pool or on Ray. "
        "Seeds already finished in OUT are skipped, so re-running a killed sweep finishes only "
        "the missing runs. Writes the aggregate to OUT/sweep.json and OUT/sweep.tsv.",
    )  # fmt: skip
    p.add_argument("--seeds", required=True, help="seeds: 0..7 (both ends included), 1,2,5, or a mix like 0..3,10")
    p.add_argument("--out", type=Path, required=True, help="sweep directory")
    p.add_argument("--scenario", type=Path, default=None, help="scenario .toml/.json (default: the shipped arena)")
    p.add_argument(
        "--planner", type=planner_argument, default="heuristic", metavar="PLANNER",
        help="who plans (default heuristic); per team: red=llm,blue=heuristic (model games run one at a time)",
    )  # fmt: skip
    p.add_argument(
        "--swap-sides", action="store_true",
        help="play every seed twice, the teams' planners exchanged the second time (OUT/seed-<s>-swapped)",
    )  # fmt: skip
    p.add_argument("--llm", default=None, help="model games: 'local' (the embedded model, default) or a server URL")
    p.add_argument("--mode", choices=["lockstep", "realtime"], default=None, help="model games: as tickmind arena's (default realtime)")
    p.add_argument("--agents", type=positive_int, default=None, help="total agents per run (default: the scenario's)")
    p.add_argument("--ticks", type=positive_int, default=None, help="tick limit per run (default: the scenario's time limit)")
    p.add_argument("--workers", type=positive_int, default=os.cpu_count() or 1, help="local worker processes (default: one per core)")
    p.add_argument("--ray", action="store_true", help="run each seed as a Ray task on a local Ray (needs tickmind[ray])")
    p.add_argument("--address", default=None, help="run on the Ray cluster at this address (implies --ray)")
    p.add_argument("--verify", action="store_true", help="replay each run after recording it and report divergences")
    p.add_argument("--force", action="store_true", help="use a non-empty --out that holds no sweep, and redo every seed")



def _run(args: argparse.Namespace) -> int:
    seeds = parse_seeds(args.seeds)
    scenario = args.scenario
    if scenario is not None and not scenario.is_file():
        raise SweepError(f"--scenario {scenario}: no such file")
    spec = SweepSpec(
        scenario=str(scenario.resolve()) if scenario is not None else None,
        planner=args.planner,
        agents=args.agents,
        ticks=args.ticks,
        swap_sides=args.swap_sides,
        model={k: v for k, v in (("llm", args.llm), ("mode", args.mode)) if v is not None} or None,
    )
    if spec.model and not spec.asks_model:
        raise SweepError("--llm and --mode are for model-planned games; this sweep's planners are heuristic")
    result = run_sweep(
        spec, seeds, args.out, workers=args.workers, ray=args.ray, address=args.address, check=args.verify, force=args.force
    )
    print(format_table(result))
    print(f"wrote {args.out / 'sweep.json'} and {args.out / 'sweep.tsv'}; verify a run with: tickmind verify {args.out}/seed-{seeds[0]}")

    if result["unverified"]:
        print(f"DIVERGED on verify: seed(s) {result['unverified']}")
        return 1
    return 0
