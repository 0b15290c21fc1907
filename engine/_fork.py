"""Fork a recorded run at a tick: replay it there with no model, then go on live, perhaps
with other settings (another planner, model or mode), into a run of its own.

A fork answers "what if, from this exact state, ..." for the price of a replay: both runs
share every tick before the fork, so what differs after it is the change alone. The fork is
built from its own config (the parent's, or one the caller gives) and must reproduce the
parent's hashes up to the fork tick; a parent whose journal no longer replays (edited,
damaged, recorded by other code) is refused at its first divergent tick, before anything is
written. The new run holds its own copy of the journal prefix and hash files, so it verifies
from tick 0 by itself, parent deleted or not; its header names the parent, the tick and the
parent's root there (``JournalHeader.forked_from``).

Inputs written before the fork tick stay in the fork, including those applying after it (a
plan decided just before the fork lands in both runs): the fork starts from the parent's
state *and* its commitments, as a resumed run does.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from ._errors import RunDirError
from ._hashfile import HashFileWriter, copy_hash_prefix, read_hashes
from ._journal import ForkOrigin, JournalWriter
from ._resume import catch_up, records_before
from ._run import Run, plain_config, recorded_factory_path
from ._rundir import HASHES, JOURNAL, check_run_dir, open_journal, prepare_run_dir
from ._world import World

__all__ = ["fork_run"]


def fork_run(
    parent: str | Path,
    at: int,
    out: str | Path,
    *,
    config: Mapping[str, Any] | None = None,
    force: bool = False,
    durable: bool = False,
    allow_version_mismatch: bool = False,
    trust: bool = False,
    factory: str | None = None,
    observe: Callable[[World], None] | None = None,
) -> Run:
    """The run recorded in ``parent``, replayed through its first ``at`` ticks (every hash
    checked) and recording live into ``out`` from tick ``at``.

    ``config`` replaces the parent's whole config (None: keep it); the world it builds must
    replay the parent's prefix, so it may change how agents decide, not what the world is.
    ``trust`` and ``factory`` say which code may rebuild the world, as in
    :func:`engine.verify`; a ``factory`` given is also the one the fork's header names.
    ``observe(world)`` is called after every replayed tick of the prefix (as in
    :func:`engine.resume_run`), so a watcher's figures cover the fork's whole run.
    ``run.world.run(n)`` then continues; close the run (or use ``with``) to finish it.
    """
    parent, out = Path(parent), Path(out)
    journal = open_journal(parent, allow_version_mismatch=allow_version_mismatch)
    if not (parent / HASHES).exists():
        raise RunDirError(f"cannot fork {parent}: it has no {HASHES}, so nothing says what its ticks were")
    roots = read_hashes(parent / HASHES)
    if not 1 <= at <= len(roots):
        recorded = f"it recorded ticks 0-{len(roots) - 1}, so --at may be 1 to {len(roots)}" if roots else "it recorded no tick"
        raise RunDirError(f"cannot fork {parent} at tick {at}: {recorded}")
    if out.resolve() == parent.resolve():
        raise RunDirError(f"cannot fork {parent} into itself: give the fork another directory")
    check_run_dir(out, force)

    header = journal.header.model_copy(
        update={
            "config": journal.header.config if config is None else plain_config(config),
            "factory": journal.header.factory if factory is None else recorded_factory_path(factory),
            "forked_from": [
                *(journal.header.forked_from or []),
                ForkOrigin(run=str(parent.resolve()), tick=at, root=roots[at - 1]),
            ],
        }
    )
    records = journal.records[: records_before(journal, at)]
    world, last_seq = catch_up(
        parent, dataclasses.replace(journal, header=header), records, roots[:at], "fork",
        trust=trust, factory=factory, observe=observe,
    )  # fmt: skip
    try:
        prepare_run_dir(out, force)
        writer = JournalWriter(out / JOURNAL, header, durable=durable)
        for record in records:
            writer.append(record)
        writer.flush()
        detail = copy_hash_prefix(parent, out, at)
        hashes = HashFileWriter(out, detail=detail, append=True)
    except BaseException:
        world.close()
        raise
    return Run(world, out, header, writer, hashes, journaled_seq=last_seq)
