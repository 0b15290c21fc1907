"""The ``tickmind`` command line.

The engine owns the generic commands (``verify``, ``replay``, ``resume``); packages add their own (``demo``,
``arena``) through the ``tickmind.commands`` entry-point group, so the engine never imports
the games built on it. A plugin is ``register(subparsers) -> None`` that adds its command
with :func:`add_command`, and the shared flags with :func:`add_recording_flags` (a command
that records a run) or :func:`add_replay_flags` (one that rebuilds a recorded run).

Every command's errors and exit codes are :func:`main`'s: 0 done, 1 a divergence, 2 a user
mistake (a ``TickmindError`` or an ``OSError``, printed as one line, never a traceback), 130
Ctrl-C.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from importlib.metadata import entry_points
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._errors import TickmindError
from ._journal import journal_factory
from ._playback import play_back
from ._resume import resume_run
from ._rundir import RUN_FILES
from ._text import printable
from ._verify import verify
from ._version import __version__

__all__ = [
    "EXIT_DIVERGED",
    "EXIT_OK",
    "EXIT_USAGE",
    "Handler",
    "SubCommands",
    "add_command",
    "add_recording_flags",
    "add_replay_flags",
    "main",
    "non_negative_int",
    "port_number",
    "positive_float",
    "positive_int",
    "trust_options",
]

EXIT_OK = 0
EXIT_DIVERGED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


ENGINE_COMMANDS = ("replay", "resume", "verify")

#: What a plugin's ``register`` is given: ``tickmind``'s sub-command table.
if TYPE_CHECKING:
    SubCommands = argparse._SubParsersAction[argparse.ArgumentParser]
else:
    SubCommands = argparse._SubParsersAction
#: A command's body: the parsed flags in, the exit code out. Raise TickmindError for a user
#: mistake; :func:`main` prints it as one line and exits 2.
Handler = Callable[[argparse.Namespace], int]


def add_command(sub: SubCommands, name: str, *, help: str, description: str, handler: Handler) -> argparse.ArgumentParser:
    """Add the ``tickmind NAME`` command, run by :func:`main` with its errors and exit codes."""
    parser: argparse.ArgumentParser = sub.add_parser(name, help=help, description=description)
    parser.set_defaults(handler=handler)
    return parser


def add_recording_flags(p: argparse.ArgumentParser, *, out: str, seed: int | None = 0) -> None:
    """``--seed``, ``--out`` and ``--force`` for a command that records a run into a directory.
    ``seed=None``: the default seed is the command's own (said in its help, not here)."""
    shown = "0" if seed is None else str(seed)
    p.add_argument("--seed", type=non_negative_int, default=seed, help=f"world seed (default {shown})")
    p.add_argument("--out", type=Path, default=Path(out), help=f"run directory (default {out})")
    p.add_argument("--force", action="store_true", help="overwrite the run files in a non-empty --out")


def add_replay_flags(p: argparse.ArgumentParser) -> None:
    """``RUN_DIR`` and the flags that say which journal and which code may rebuild it (pass
    them on with :func:`trust_options` and ``allow_version_mismatch=``)."""
    p.add_argument("run_dir", metavar="RUN_DIR", type=Path)
    _version_flag(p)
    _trust_flags(p)


def build_parser(*, plugins: bool = True) -> argparse.ArgumentParser:
    """The parser; ``plugins=False`` skips the entry-point commands (and their imports: the
    arena's alone pulls in ai, nav, physics and scipy) when an engine command was asked for."""
    parser = argparse.ArgumentParser(
        prog="tickmind",
        description="Deterministic LLM-agent simulations: run, replay and verify.",
    )
    parser.add_argument("--version", action="version", version=f"tickmind {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = add_command(
        sub, "verify", handler=_verify,
        help="replay a run with no model and check every tick hash",
        description="Replay RUN_DIR from its journal (no model, no network) and compare every "
        "tick's state hash with the recorded one. Exit 0 when all match, 1 at the first "
        "divergence (printing the tick and the entities/components that differ).",
    )  # fmt: skip
    add_replay_flags(p)

    p = add_command(
        sub, "replay", handler=_replay,
        help="play a run back from its journal and summarise it",
        description="Re-run RUN_DIR from its journal with no model, printing a line every N "
        "ticks (simulated time, entities, inputs applied, hash check) and the state where it "
        "stops. Exit 0 when every tick matched the record, 1 at the first divergence.",
    )  # fmt: skip
    add_replay_flags(p)
    p.add_argument("--until", type=non_negative_int, default=None, metavar="TICK",
                   help="stop after TICK ticks (default: every recorded tick)")
    p.add_argument("--every", type=positive_int, default=None, metavar="N",
                   help="print a progress line every N ticks (default: about ten lines)")
    p.add_argument("--show", type=positive_int, action="append", default=[], metavar="ENTITY",
                   help="print this entity's components at the end (repeatable)")

    p = add_command(
        sub, "resume", handler=_resume,
        help="continue a stopped run for N more ticks",
        description="Rebuild RUN_DIR's world from its journal header, replay it to its last "
        "complete tick (checking every hash; a crash's unfinished tick is cut off), then run "
        "N more ticks live, appending to the same journal and hashes. The result hashes like "
        "a run that never stopped.",
    )  # fmt: skip
    add_replay_flags(p)
    p.add_argument("--ticks", type=positive_int, required=True, metavar="N", help="ticks to run after catching up")
    p.add_argument("--durable", action="store_true", help="fsync the journal at every tick end")

    if plugins:
        for ep in sorted(entry_points(group="tickmind.commands"), key=lambda e: e.name):
            ep.load()(sub)
    return parser


def non_negative_int(text: str) -> int:
    """argparse type for counts and seeds, with a message naming the bad value."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text!r} must not be negative")
    return value


def port_number(text: str) -> int:
    """argparse type for a TCP port; 0 asks the system for a free one."""
    value = non_negative_int(text)
    if value > 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port (0-65535)")
    return value


def positive_int(text: str) -> int:
    value = non_negative_int(text)
    if value == 0:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def positive_float(text: str) -> float:
    """argparse type for durations, speeds and other positive finite amounts."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"{text!r} must be a positive finite number")
    return value


def _version_flag(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--allow-version-mismatch",
        action="store_true",
        help="replay a journal written by another tickmind version",
    )


def _trust_flags(p: argparse.ArgumentParser) -> None:
    """Which code may rebuild the run: see :mod:`engine._factories`."""
    p.add_argument(
        "--trust", action="store_true",
        help="run the factory file (FILE.py:FUNCTION) the journal names; without it only declared "
        "factories of importable modules run",
    )  # fmt: skip
    p.add_argument(
        "--factory", default=None, metavar="FILE.py:FUNCTION",
        help="rebuild the world with this factory (yours, so it runs) instead of the one the journal names",
    )  # fmt: skip


def trust_options(args: argparse.Namespace) -> dict[str, Any]:
    """``trust=`` and ``factory=`` for the engine's rebuilding calls; with ``--trust`` the
    factory about to run is named, a file by its absolute path."""
    if args.trust and args.factory is None:
        named = journal_factory(Path(args.run_dir))
        target, _, function = named.rpartition(":")
        shown = f"{Path(target).resolve()}:{function}" if target.endswith(".py") else named
        print(f"trusting the run's factory {printable(shown)}: its code runs as yours (--trust)", file=sys.stderr)
    return {"trust": args.trust, "factory": args.factory}


def _replay(args: argparse.Namespace) -> int:
    done = play_back(
        args.run_dir, until=args.until, every=args.every, show=args.show,
        allow_version_mismatch=args.allow_version_mismatch, **trust_options(args),
    )
    return EXIT_OK if done.ok else EXIT_DIVERGED


def _resume(args: argparse.Namespace) -> int:
    options = trust_options(args)
    with resume_run(args.run_dir, durable=args.durable, allow_version_mismatch=args.allow_version_mismatch, **options) as run:
        for warning in run.warnings:
            print(f"warning: {warning}")
        start = run.world.tick
        print(f"resumed {args.run_dir} at tick {start} (replayed and checked {start} ticks)", flush=True)
        run.world.run(args.ticks)
    print(f"recorded ticks {start}-{start + args.ticks - 1} into {args.run_dir}; "
          f"verify with: tickmind verify {args.run_dir}")
    others = sorted(p.name for p in Path(args.run_dir).iterdir() if p.name not in RUN_FILES)
    if others:
        print(f"note: this resume leaves what the game's own command wrote beside the journal as it was "
              f"({printable(', '.join(others))}): it still describes the run before these ticks")
    return EXIT_OK


def _verify(args: argparse.Namespace) -> int:
    report = verify(args.run_dir, allow_version_mismatch=args.allow_version_mismatch, **trust_options(args))
    print(report.format())
    return EXIT_OK if report.ok else EXIT_DIVERGED


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    command = next((a for a in argv if not a.startswith("-")), None)
    parser = build_parser(plugins=command not in ENGINE_COMMANDS)
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args))
    except TickmindError as exc:  # messages may quote journals and model output: escaped
        where = "".join(f" ({note})" for note in getattr(exc, "__notes__", ()))
        print(f"tickmind: error: {printable(str(exc) + where)}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("tickmind: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except OSError as exc:  # the machine, not the code: a full disk, a path that is a directory
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"tickmind: error: {printable(where)}{exc.strerror or exc}", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
