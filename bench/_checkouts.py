"""An earlier commit checked out beside this one, and code timed in a fresh process of
either, so that a benchmark compares two commits in one run (the machine's speed drifts by
tens of percent between runs here; only ratios inside one run are comparable)."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["ROOT", "checkout", "run_python"]

ROOT = Path(__file__).resolve().parents[1]


@contextmanager
def checkout(commit: str, where: Path) -> Iterator[Path]:
    """``commit`` as a detached git worktree at ``where``, removed afterwards."""
    subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", "-q", str(where), commit], check=True)
    try:
        yield where
    finally:
        subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(where)], check=True)


def run_python(tree: Path, code: str, *args: str) -> tuple[float, str]:
    """Seconds ``code`` takes in a fresh process that imports tickmind from ``tree`` (checked),
    and what it printed."""
    check = f"import engine; assert engine.__file__.startswith({str(tree.resolve())!r}), engine.__file__\n"
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", check + code, *args], cwd=tree, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"a benchmark process in {tree} failed:\n{done.stderr}")
    return time.perf_counter() - start, done.stdout
