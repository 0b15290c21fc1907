"""A run directory's layout: the files a recording writes, and opening one to read."""

from __future__ import annotations

from pathlib import Path

from ._errors import RunDirError
from ._journal import JOURNAL_NAME, JournalReader, read_journal

__all__ = ["DETAIL", "HASHES", "JOURNAL", "RUN_FILES", "check_run_dir", "open_journal", "prepare_run_dir"]

JOURNAL = JOURNAL_NAME
HASHES = "hashes.tsv"
DETAIL = "hashes.detail"
RUN_FILES = (JOURNAL, HASHES, DETAIL)  #: what the engine itself writes into a run directory


def check_run_dir(run_dir: Path, force: bool) -> None:
    """Refuse a directory :func:`prepare_run_dir` would refuse, changing nothing (before a
    long catch-up, not after it)."""
    if run_dir.exists() and not run_dir.is_dir():
        raise RunDirError(f"{run_dir} exists and is not a directory")
    if run_dir.is_dir() and any(run_dir.iterdir()) and not force:
        raise RunDirError(f"{run_dir} is not empty; choose another directory or pass --force")


def prepare_run_dir(run_dir: Path, force: bool) -> Path:
    check_run_dir(run_dir, force)
    if run_dir.is_dir() and any(run_dir.iterdir()):
        for name in (JOURNAL, HASHES, DETAIL):
            (run_dir / name).unlink(missing_ok=True)
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise RunDirError(f"cannot create run directory {run_dir}: {exc.strerror}") from exc
    return run_dir


def open_journal(run_dir: Path, *, allow_version_mismatch: bool = False) -> JournalReader:
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise RunDirError(f"{run_dir} is not a directory")
    if not (run_dir / JOURNAL).is_file():
        what = f"its {JOURNAL} is not a file" if (run_dir / JOURNAL).exists() else f"no {JOURNAL}"
        raise RunDirError(f"{run_dir} is not a tickmind run ({what})")
    return read_journal(run_dir / JOURNAL, allow_version_mismatch=allow_version_mismatch)
