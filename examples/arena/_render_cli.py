"""``tickmind render RUN_DIR --out run.gif|run.png|run.mp4 [--plots plots.png]``.

Replays the run from its journal with no model (as ``verify`` does) and draws it: the
frames top-down into ``--out`` and the run's plots into ``--plots``, both from one replay.
Registered through the ``tickmind.commands`` entry point. Output paths are checked before the
replay starts, so a mistake costs no waiting.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

from engine import read_journal
from engine.cli import SubCommands, add_command, add_replay_flags, positive_int, trust_options

from ._plots import HpRecorder, plot_run
from ._render import draw_scene
from ._render_output import RenderError, check_output, require_pillow, write_frames
from ._render_scene import Replay
from ._summary_tally import PlanTally

__all__ = ["command"]

MAX_ANIMATION_FRAMES = 240  #: the default --every keeps a GIF/MP4 near this many frames


def command(sub: SubCommands) -> None:
    p = add_command(
        sub, "render", handler=_render,
        help="draw a recorded run: frames (gif/png/mp4) and plots",
        description="Replay RUN_DIR from its journal (no model) and draw it top-down: walls and "
        "cover, agents coloured by team with an hp bar, their current action as a letter and a "
        "line to where it leads. .gif and .mp4 animate the run; .png is the last frame (or, with "
        "--sheet, a grid of frames). --plots draws team hp, plans per tier and LLM latency.",
    )  # fmt: skip
    add_replay_flags(p)
    p.add_argument("--out", type=Path, default=None, metavar="FILE", help="picture to write: .gif, .png or .mp4 (mp4 needs imageio-ffmpeg)")
    p.add_argument("--plots", type=Path, default=None, metavar="FILE", help="also write the run's plots to this .png")
    p.add_argument("--every", type=positive_int, default=None, metavar="N",
                   help=f"draw a frame every N ticks (default: about {MAX_ANIMATION_FRAMES} frames for the whole run)")
    p.add_argument("--size", type=_size, default=None, metavar="WxH", help="frame size WxH in pixels (default: 800 wide, map's shape)")
    p.add_argument("--sheet", type=positive_int, default=None, metavar="N", help=".png only: a contact sheet of about N frames")



def _size(text: str) -> tuple[int, int]:
    """argparse type for ``WxH``."""
    w, sep, h = text.lower().partition("x")
    if not sep or not w.isdigit() or not h.isdigit():
        raise argparse.ArgumentTypeError(f"{text!r} is not WIDTHxHEIGHT, e.g. 800x600")
    size = int(w), int(h)
    if min(size) < 64 or max(size) > 8192:
        raise argparse.ArgumentTypeError(f"{text!r}: each side must be 64 to 8192 pixels")
    return size


def _render(args: argparse.Namespace) -> int:
    if args.out is None and args.plots is None:
        raise RenderError("nothing to draw: give --out FILE (.gif/.png/.mp4) and/or --plots FILE.png")
    fmt = check_output(args.out) if args.out is not None else None
    if args.plots is not None:
        check_output(args.plots, "--plots", (".png",))
        if args.out is not None and args.plots.resolve() == args.out.resolve():
            raise RenderError(f"--out and --plots are both {args.out}; the plots would overwrite the frames")
    if args.sheet is not None and fmt != ".png":
        raise RenderError("--sheet makes a contact sheet, which is a .png: use --out FILE.png")
    require_pillow()

    replay = Replay(args.run_dir, allow_version_mismatch=args.allow_version_mismatch, **trust_options(args))
    journal = read_journal(args.run_dir / "journal.jsonl", allow_version_mismatch=args.allow_version_mismatch)
    if not replay.drawable:
        factory = journal.header.factory
        raise RenderError(f"{args.run_dir} (made by {factory}) has nothing to draw: no entity has an engine Position or a Wall")
    every = args.every or _default_every(fmt, replay.ticks, args.sheet)
    dt = journal.header.dt
    hp = HpRecorder() if args.plots is not None else None
    scenes = replay.scenes(every, on_tick=hp)
    if args.out is not None:
        frames = (draw_scene(scene, args.size) for scene in scenes)
        count = write_frames(frames, args.out, frame_s=every * dt, sheet=args.sheet or 0)
        shown = "the last frame" if fmt == ".png" and not args.sheet else f"{count} frames, one every {every} ticks"
        print(f"wrote {args.out}: {shown} of {replay.ticks} ticks")
    else:
        for _ in scenes:  # the plots still need every tick replayed
            pass
    if hp is not None:
        tally = PlanTally.from_journal(journal.records, replay.ticks)
        plot_run(args.plots, hp, tally, dt=dt, teams=replay.teams)
        print(f"wrote {args.plots}: team hp, plans per tier, LLM latency")
    return 0


def _default_every(fmt: str | None, ticks: int, sheet: int | None) -> int:
    if fmt == ".png":
        # The last frame only (tick 0 and the end are always drawn), or ~N frames for a sheet.
        return max(1, math.ceil(ticks / max(1, sheet - 1))) if sheet else max(1, ticks)
    return max(1, math.ceil(ticks / MAX_ANIMATION_FRAMES))
