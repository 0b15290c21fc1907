"""Resume a stopped run: replay it to its last complete tick, then keep recording live.

pymunk does not continue bit-identically from a copied mid-run space (it caches contact
impulses), so a run is not resumed from a snapshot: the world is rebuilt from its factory,
config and seed, the journal is replayed tick by tick (each hash checked against the record,
so a run that no longer replays is refused instead of extended), and the world then leaves
replay mode. Inputs that were waiting for a later tick when the run stopped are in the
journal (``Run`` writes inputs at the end of the tick that submitted them), so they apply on
time and the resumed hashes equal those of a run that never stopped.

A crash can leave a half-finished tick on disk: journal lines written at its end, a hash
line, a partial record. Everything after the last tick present in every hash file is cut
off before the run continues.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from ._detailfile import detail_ends
from ._errors import RunDirError
from ._hashfile import HashFileWriter, cut_hash_files, read_hashes, truncate_file
from ._journal import JournalReader, JournalRecord, JournalWriter
from ._replay import replay_records
from ._run import Run
from ._rundir import DETAIL, HASHES, JOURNAL, open_journal
from ._verify import divergence_at, written_past_hashes
from ._world import World

__all__ = ["catch_up", "records_before", "resume_run"]


def resume_run(
    run_dir: str | Path,
    *,
    durable: bool = False,
    allow_version_mismatch: bool = False,
    trust: bool = False,
    factory: str | None = None,
    observe: Callable[[World], None] | None = None,
) -> Run:
    """Reopen the run in ``run_dir`` caught up to its last complete tick, recording again
    (``trust``, ``factory``: which code may rebuild it, as in :func:`engine.verify`).
    ``observe(world)`` is called after every replayed tick, as a watcher of the live run
    would be, so its figures cover the whole run and not only what is played from here.

    ``run.world.run(n)`` then continues it; its hashes are those an uninterrupted run would
    have had. A model-planned world gets its executor attached here, after the catch-up and
    before the first live tick. ``run.warnings`` says what a crash left and was cut off.
    """
    run_dir = Path(run_dir)
    journal = open_journal(run_dir, allow_version_mismatch=allow_version_mismatch)
    if not (run_dir / HASHES).exists():
        raise RunDirError(f"{run_dir} has a journal but no {HASHES}: cannot tell where the run stopped")
    roots = read_hashes(run_dir / HASHES)
    has_detail = (run_dir / DETAIL).exists()
    ticks = min(len(roots), len(detail_ends(run_dir / DETAIL))) if has_detail else len(roots)
    _check_writable(run_dir, has_detail)
    keep = records_before(journal, ticks)
    records = journal.records[:keep]
    _refuse_lost_hashes(run_dir, journal, ticks)

    world, last_seq = catch_up(
        run_dir, journal, records, roots[:ticks], "resume", trust=trust, factory=factory, observe=observe
    )  # fmt: skip

    warnings = list(journal.warnings)
    if keep < len(journal.records):
        warnings.append(
            f"{run_dir / JOURNAL}: dropped {len(journal.records) - keep} input(s) written by "
            f"tick {ticks}, which never completed"
        )
    truncate_file(run_dir / JOURNAL, journal.ends[keep - 1] if keep else journal.header_end)
    cut_hash_files(run_dir, ticks)
    run = Run(
        world,
        run_dir,
        journal.header,
        JournalWriter(run_dir / JOURNAL, None, durable=durable),
        HashFileWriter(run_dir, detail=has_detail, append=True),
        journaled_seq=last_seq,
    )
    run.warnings = warnings
    return run


def catch_up(
    run_dir: Path,
    journal: JournalReader,
    records: list[JournalRecord],
    roots: list[str],
    doing: str,
    *,
    trust: bool,
    factory: str | None,
    observe: Callable[[World], None] | None = None,
) -> tuple[World, int]:
    """The world rebuilt from ``journal``'s header and replayed through ``len(roots)`` ticks
    with ``records`` queued, each tick's hash checked against ``roots`` (the run in
    ``run_dir``'s), then live; and the last input sequence number it holds.

    A tick that does not match is refused as ``cannot {doing} {run_dir}``, naming the tick
    and what diverged: extending a run that no longer replays would record a lie.
    ``observe(world)`` follows every tick that matched.
    """
    world = replay_records(journal, records, trust=trust, factory=factory)
    for tick, root in enumerate(roots):
        world.step()
        if world.state_root(tick) != root:
            diffs = divergence_at(run_dir, world, tick, root).diffs
            world.close()
            shown = ", ".join(str(d) for d in diffs[:3]) or "no per-component detail"
            raise RunDirError(
                f"cannot {doing} {run_dir}: its replay diverges at tick {tick} ({shown}); "
                f"`tickmind verify {run_dir}` shows the whole diff"
            )
        if observe is not None:
            try:
                observe(world)
            except BaseException:
                world.close()
                raise
    world.replaying = False
    # Live submits continue the numbering the recorded run used, after the journal's inputs
    # and those the factory queued again when it rebuilt the world.
    last_seq = max((r.seq for r in records), default=world._seq - 1)
    world._seq = max(world._seq, last_seq + 1)
    return world, last_seq


def _refuse_lost_hashes(run_dir: Path, journal: JournalReader, ticks: int) -> None:
    """Hash files shorter than a crash leaves: cutting the journal back to them would delete
    inputs no replay can make again (a model's plans)."""
    last = written_past_hashes(journal, ticks)
    if last is not None:
        raise RunDirError(
            f"cannot resume {run_dir}: its journal has inputs written up to tick {last}, but its hash files "
            f"end at tick {ticks - 1}; more is missing than a crash leaves, so nothing was cut "
            f"(restore the hash files, or `tickmind verify {run_dir}` to check the ticks they hold)"
        )


def records_before(journal: JournalReader, ticks: int) -> int:
    """How many leading records were written by the end of tick ``ticks - 1``.

    Records are written tick by tick, so those of an unfinished tick form the file's tail.
    """
    for index, record in enumerate(journal.records):
        if record.written_at >= ticks:
            return index
    return len(journal.records)


def _check_writable(run_dir: Path, has_detail: bool) -> None:
    """Refuse before the (possibly long) catch-up, not after it."""
    names = [JOURNAL, HASHES] + ([DETAIL] if has_detail else [])
    for name in names:
        path = run_dir / name
        try:
            with path.open("r+b"):
                pass
        except OSError as exc:
            raise RunDirError(f"cannot resume {run_dir}: {path} is not writable ({exc.strerror})") from exc
    if not os.access(run_dir, os.W_OK):
        raise RunDirError(f"cannot resume {run_dir}: the directory is not writable")
