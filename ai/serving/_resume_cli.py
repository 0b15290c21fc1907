"""``tickmind resume-planned``: continue a stopped model-planned run of any world, its model
attached again.

``tickmind resume`` rebuilds and extends a run, but a world whose planner asks a model
cannot tick live without one, and the engine knows no models. This command does what the
arena's ``--resume`` does for any world: replay to the last complete tick (every hash
checked), connect the model (``--llm local`` or a URL), attach it to the world's
``Planner``, and record on.
"""

from __future__ import annotations

import argparse

from ai.planner import Planner
from engine import Run, TickmindError, resume_run
from engine.cli import EXIT_OK, SubCommands, add_command, add_replay_flags, positive_int, trust_options

from ._cli import add_server_flags, server_spec
from ._connect import check_llm, connect_model

__all__ = ["record_planned", "resume_planned_command"]


def resume_planned_command(sub: SubCommands) -> None:
    p = add_command(
        sub, "resume-planned", handler=_resume_planned,
        help="continue a stopped model-planned run, its model attached again",
        description="Replay RUN_DIR to its last complete tick (checking every hash), connect "
        "the model (--llm), attach it to the world's Planner and record TICKS more ticks.",
    )  # fmt: skip
    add_replay_flags(p)
    p.add_argument("--ticks", type=positive_int, required=True, help="ticks to record after the resume point")
    p.add_argument("--llm", default="local", help="'local' (the embedded model, default) or an OpenAI-compatible URL")
    p.add_argument("--durable", action="store_true", help="fsync the journal at the end of every tick")
    add_server_flags(p)


def _resume_planned(args: argparse.Namespace) -> int:
    check_llm(args.llm)
    options = trust_options(args)
    with resume_run(args.run_dir, durable=args.durable, allow_version_mismatch=args.allow_version_mismatch, **options) as run:
        for warning in run.warnings:
            print(f"warning: {warning}")
        record_planned(run, args, f"resumed {args.run_dir} at tick {run.world.tick}")
    return EXIT_OK


def record_planned(run: Run, args: argparse.Namespace, started: str) -> None:
    """Connect ``args.llm`` (checked), attach it to ``run``'s Planner and record
    ``args.ticks`` more ticks, saying ``started`` and then what was recorded: a caught-up
    model-planned run of any world (a resume, a fork) going on live."""
    planner = run.world.try_resource(Planner)
    if planner is None:
        raise TickmindError(f"{run.run_dir}'s world has no Planner resource: resume it with tickmind resume")
    check_llm(args.llm)
    start = run.world.tick
    spec = server_spec(args, beside_simulation=True) if args.llm == "local" else None
    with connect_model(args.llm, server=spec) as model:
        print(f"{started}; planning with {model.description}", flush=True)
        planner.attach(model)
        run.world.run(args.ticks)
    print(f"recorded ticks {start}-{start + args.ticks - 1} into {run.run_dir} (plans per tier: {dict(planner.stats.plans)}); "
          f"verify with: tickmind verify {run.run_dir}")
