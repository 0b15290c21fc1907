"""The ``tickmind`` command line.

The engine owns the generic commands (``verify``); packages add their own (``demo``,
``arena``) through the ``tickmind.commands`` entry-point group, so the engine never imports
the games built on it. A plugin is ``register(subparsers) -> None`` that adds a parser and
sets ``handler=callable(args) -> int`` on it.

Any TickmindError is a user-facing problem: it is printed as one line, without a traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from importlib.metadata import entry_points

from ._errors import TickmindError
from ._run import verify
from ._version import __version__

__all__ = ["main", "non_negative_int", "positive_int"]

EXIT_OK = 0
EXIT_DIVERGED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tickmind",
        description="Deterministic LLM-agent simulations: run, replay and verify.",
    )
    parser.add_argument("--version", action="version", version=f"tickmind {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = sub.add_parser(
        "verify",
        help="replay a run with no model and check every tick hash",
        description="Replay RUN_DIR from its journal (no model, no network) and compare every "
        "tick's state hash with the recorded one. Exit 0 when all match, 1 at the first "
        "divergence (printing the tick and the entities/components that differ).",
    )
    p.add_argument("run_dir", metavar="RUN_DIR")
    p.add_argument(
        "--allow-version-mismatch",
        action="store_true",
        help="replay a journal written by another tickmind version",
    )
    p.set_defaults(handler=_verify)

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


def positive_int(text: str) -> int:
    value = non_negative_int(text)
    if value == 0:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _verify(args: argparse.Namespace) -> int:
    report = verify(args.run_dir, allow_version_mismatch=args.allow_version_mismatch)
    print(report.format())
    return EXIT_OK if report.ok else EXIT_DIVERGED


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args))
    except TickmindError as exc:
        print(f"tickmind: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("tickmind: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
