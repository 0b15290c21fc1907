"""``tickmind fork``: replay a recorded run to a tick with no model, then play on live with
other settings, into a new run that verifies by itself (:func:`engine.fork_run`).

Registered through the ``tickmind.commands`` entry point. An arena run forks with the
arena's planning flags (``--planner red=llm,blue=heuristic``, ``--llm``, ``--mode``,
``--speed``, ...) and plays to its end like a new run; any other world's run forks with its
own systems for ``--ticks`` ticks, its ``Planner`` (if it has one) attached to ``--llm``,
as ``tickmind resume-planned`` does.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ai.planner import Planner
from ai.serving import record_planned
from engine import TickmindError, factory_path, fork_run, read_journal_header
from engine.cli import EXIT_OK, SubCommands, add_command, add_replay_flags, positive_int, trust_options

from ._cli import add_planning_flags, fork_arena
from ._world import build_arena

__all__ = ["command"]

#: Flags that mean something only to the arena's planners.
_ARENA_FLAGS = ("planner", "mode", "wire", "squad_size", "plan_cache", "opening_orders", "replan_every", "metrics_port")


def command(sub: SubCommands) -> None:
    p = add_command(
        sub, "fork", handler=_fork,
        help="replay a run to a tick, then play on live with other settings into a new run",
        description="Replay RUN_DIR's first --at ticks with no model (checking every hash; an "
        "edited run is refused at its first divergent tick), then continue live into --out "
        "with the planning flags given (the parent's for the rest). --out holds its own copy "
        "of the replayed prefix: `tickmind verify OUT` needs no parent. An arena run plays on "
        "until its game ends (or --ticks); another world's run for --ticks ticks.",
    )  # fmt: skip
    add_replay_flags(p)
    p.add_argument(
        "--at", type=positive_int, required=True, metavar="TICK", help="the fork's first live tick (ticks before it are the parent's)"
    )
    p.add_argument("--out", type=Path, required=True, metavar="NEW", help="the fork's run directory")
    p.add_argument("--ticks", type=positive_int, default=None, help="ticks to play after the fork (an arena run: default to its end)")
    p.add_argument("--force", action="store_true", help="overwrite the run files in a non-empty --out")
    p.add_argument("--durable", action="store_true", help="fsync the journal at every tick end")
    add_planning_flags(p)
    p.set_defaults(resume=False)


def _fork(args: argparse.Namespace) -> int:
    header = read_journal_header(args.run_dir, allow_version_mismatch=args.allow_version_mismatch)
    if header.factory == factory_path(build_arena):
        return fork_arena(args, header)
    given = [f"--{name.replace('_', '-')}" for name in _ARENA_FLAGS if getattr(args, name) is not None]
    if given:
        raise TickmindError(f"{', '.join(given)}: arena flags, and {args.run_dir} is a run of {header.factory}")
    if args.ticks is None:
        where = f"{args.run_dir} is a run of {header.factory}, not of the arena"
        raise TickmindError(f"--ticks: say how many ticks to play after the fork ({where})")
    with fork_run(
        args.run_dir, args.at, args.out, force=args.force, durable=args.durable,
        allow_version_mismatch=args.allow_version_mismatch, **trust_options(args),
    ) as run:  # fmt: skip
        started = f"forked {args.run_dir} at tick {args.at} (replayed and checked {args.at} ticks) into {args.out}"
        if run.world.try_resource(Planner) is not None:
            record_planned(run, args, started)
            return EXIT_OK
        print(started, flush=True)
        run.world.run(args.ticks)
    print(f"recorded ticks {args.at}-{args.at + args.ticks - 1} into {args.out}; verify with: tickmind verify {args.out}")
    return EXIT_OK
