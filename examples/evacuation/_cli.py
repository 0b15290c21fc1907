"""``tickmind evacuate``: record an evacuation (registered via the tickmind.commands entry point)."""

from __future__ import annotations

import argparse

from engine import start_run
from engine.cli import SubCommands, add_command, add_recording_flags, non_negative_int, positive_int

from ._sim import BUILDING, CloseExit, Exit, SoundAlarm, build_evacuation, exit_id, remaining

__all__ = ["command"]


def command(sub: SubCommands) -> None:
    p = add_command(
        sub, "evacuate", handler=_run,
        help="record a building evacuation (a small non-combat example)",
        description="People walk (nav + physics) to the nearest open exit once the alarm "
        "sounds; a warden may close an exit mid-run. Runs until everyone is out or --ticks "
        "run out (30 ticks per simulated second) and records into --out.",
    )  # fmt: skip
    p.add_argument("--people", type=positive_int, default=60, help="people inside (1-400, default 60)")
    p.add_argument("--ticks", type=positive_int, default=3600, help="tick limit (default 3600 = 2 min)")
    p.add_argument("--alarm-at", type=non_negative_int, default=30, metavar="TICK", help="tick the alarm sounds (default 30)")
    p.add_argument("--close-west-at", type=non_negative_int, default=None, metavar="TICK",
                   help="close the west exit at this tick (default: never)")
    add_recording_flags(p, out="runs/evacuate")


def _run(args: argparse.Namespace) -> int:
    with start_run(build_evacuation, {"people": args.people}, args.seed, args.out, force=args.force) as run:
        world = run.world
        world.submit(SoundAlarm(entity=BUILDING), args.alarm_at)
        if args.close_west_at is not None:
            world.submit(CloseExit(entity=exit_id(world, "west")), args.close_west_at)
        while world.tick < args.ticks and (world.tick <= args.alarm_at or remaining(world)):
            world.step()
        exits = ", ".join(f"{ex.name} {ex.evacuated}" for _, ex in world.get_component(Exit))
        left = remaining(world)
    print(f"evacuate: {world.tick} ticks ({world.tick * world.dt:.1f} s simulated); out by exit: {exits}; "
          f"still inside: {left}")
    print(f"recorded into {args.out}; verify with: tickmind verify {args.out}")
    return 0
