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

from ai._share import PlanShare
from ai.planner import Planner
from engine import Run, TickmindError, resume_run
from engine.cli import EXIT_OK, SubCommands, add_command, add_replay_flags, positive_float, positive_int, trust_options

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
    p.add_argument(
        "--speed", type=positive_float, default=1.0,
        help="a realtime planner's world is paced to the clock: sim seconds per wall second (default 1)",
    )  # fmt: skip
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
    ``args.ticks`` more ticks, saying ``started`` and then what was recorded and how much of
    it the model drove: a caught-up model-planned run of any world (a resume, a fork) going
    on live. A realtime planner's world is paced to the clock (``args.speed``), as it was
    recorded: unpaced, it would outrun the model's answers."""
    planner = run.world.try_resource(Planner)
    if planner is None:
        raise TickmindError(f"{run.run_dir}'s world has no Planner resource: resume it with tickmind resume")
    check_llm(args.llm)
    start = run.world.tick
    speed = args.speed if planner.config.mode == "realtime" else None
    share = PlanShare()
    run.world.on_tick(lambda world, _hashes: share.observe(world))
    spec = server_spec(args, beside_simulation=True) if args.llm == "local" else None
    with connect_model(args.llm, server=spec) as model:
        paced = f", paced at {speed:g}x the clock" if speed is not None else ""
        print(f"{started}; planning with {model.description}{paced}", flush=True)
        planner.attach(model)
        run.world.run(args.ticks, speed=speed)
    drove = "" if share.model_share is None else f"; model share {share.model_share:.1%}"
    print(f"recorded ticks {start}-{start + args.ticks - 1} into {run.run_dir} (plans per tier: {dict(planner.stats.plans)}{drove}); "
          f"verify with: tickmind verify {run.run_dir}")
