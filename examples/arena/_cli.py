"""``tickmind arena``: run the arena and record it, ready for ``tickmind verify``.

Registered through the ``tickmind.commands`` entry point. This build plans with the heuristic
controller; model planning (``--planner llm``) needs a model client and arrives with the
model-serving work.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from engine import start_run
from engine.cli import non_negative_int, positive_int

from ._combat import ArenaScore
from ._world import ArenaOutcome, arena_scenario, build_arena

__all__ = ["command"]


def command(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "arena",
        help="run the two-team arena and record it into --out",
        description="Run the arena (default: 100 agents, two teams) until one team is left or "
        "--ticks run out, and record the run (journal + per-tick hashes) into --out.",
    )
    p.add_argument("--agents", type=positive_int, default=None, help="total agents (default: the scenario's, 100)")
    p.add_argument("--ticks", type=positive_int, default=None, help="tick limit (default: the scenario's time limit)")
    p.add_argument("--seed", type=non_negative_int, default=0, help="world seed (default 0)")
    p.add_argument("--scenario", type=Path, default=None, help="scenario .toml/.json (default: the shipped arena)")
    p.add_argument("--planner", choices=["heuristic"], default="heuristic", help="who plans (default heuristic)")
    p.add_argument("--out", type=Path, default=Path("runs/arena"), help="run directory (default runs/arena)")
    p.add_argument("--force", action="store_true", help="overwrite the run files in a non-empty --out")
    p.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    config: dict[str, object] = {"planner": args.planner}
    if args.agents is not None:
        config["agents"] = args.agents
    if args.scenario is not None:
        config["scenario"] = str(args.scenario)
    limit = args.ticks if args.ticks is not None else arena_scenario(config).sim.max_ticks
    started = time.perf_counter()
    with start_run(build_arena, config, args.seed, args.out, force=args.force) as run:
        world = run.world
        outcome = world.resource(ArenaOutcome)
        while world.tick < limit and outcome.winner is None:
            world.step()
            if world.tick % 600 == 0:
                print(f"  tick {world.tick:>6}  alive {outcome.alive}", flush=True)
        score = world.resource(ArenaScore)
    wall = time.perf_counter() - started
    print(f"arena: {world.tick} ticks ({world.tick * world.dt:.1f} s simulated) in {wall:.1f} s, "
          f"{1000 * wall / max(world.tick, 1):.2f} ms/tick")
    teams = ", ".join(f"{name} {alive}" for name, alive in zip(outcome.teams, outcome.alive))
    print(f"winner: {outcome.winner or 'none (tick limit)'}; survivors: {teams}; "
          f"shots {score.shots}, hits {score.hits}")
    print(f"recorded into {args.out}; verify with: tickmind verify {args.out}")
    return 0
