"""Replay: a recorded run's world rebuilt from its journal header, with every journaled input
queued for its tick, so stepping it re-plays the run with no model and no network."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from ._errors import InputError, JournalCorruptError, RunDirError, TickmindError
from ._factories import load_factory
from ._inputs import PendingInput, decode_input
from ._journal import JournalHeader, JournalReader, JournalRecord
from ._rundir import open_journal
from ._world import World

__all__ = ["replay_records", "replay_world"]


def replay_world(
    run_dir: str | Path, *, allow_version_mismatch: bool = False, trust: bool = False, factory: str | None = None
) -> World:
    """Rebuild a recorded run's world at tick 0 with every journaled input queued.

    ``world.run(n)`` then re-plays the first ``n`` ticks exactly, with no model. ``trust`` and
    ``factory`` say which code may rebuild it (:func:`replay_records`).
    """
    journal = open_journal(Path(run_dir), allow_version_mismatch=allow_version_mismatch)
    return replay_records(journal, trust=trust, factory=factory)


def replay_records(
    journal: JournalReader,
    records: Iterable[JournalRecord] | None = None,
    *,
    trust: bool = False,
    factory: str | None = None,
) -> World:
    """Rebuild the run's world with every journaled input queued for its tick.

    Live submits are discarded while replaying (the journal is the only source of inputs),
    so systems that would ask a model for plans run unchanged and change nothing.
    ``records`` are the journal's own (from its line 2 on), or the first of them (a resume
    cuts the rest); errors name the journal's line they cannot rebuild.

    The header's factory runs only if it is declared (:mod:`engine._factories`); a ``.py``
    path only with ``trust``. ``factory`` (a path you name, so trusted) replaces the header's.
    """
    where = f"{journal.path}:"
    world = _rebuild(journal.header, f"{where}1", trust=trust, factory=factory, run_dir=journal.path.parent)
    world.replaying = True
    for lineno, rec in enumerate(journal.records if records is None else records, start=2):
        try:
            inp = decode_input(rec.kind, rec.data)
        except InputError as exc:
            world.close()
            raise JournalCorruptError(f"{where}{lineno}: {exc}") from exc
        world._enqueue(PendingInput(rec.entity, rec.seq, rec.t, inp, rec.meta, f"{where}{lineno}"))
    return world


def _rebuild(header: JournalHeader, where: str, *, trust: bool, factory: str | None, run_dir: Path) -> World:
    """The world ``header`` describes, at tick 0.

    A journal is data anyone can edit, and its header names code to run on its config: any
    failure to rebuild is reported as the header line's fault, with the factory's own error.
    """
    try:
        if factory is not None:
            build = load_factory(factory, trust=True)
        else:
            build = load_factory(header.factory, trust=trust, run_dir=run_dir)
    except RunDirError as exc:  # the factory you named is your flag's, not the journal's
        raise RunDirError(f"--factory {factory}: {exc}" if factory is not None else f"{where}: {exc}") from exc
    named = f"the factory {factory}" if factory is not None else f"the run's factory {header.factory}"  # the one that ran
    try:
        world = build(header.config, header.seed)
    except Exception as exc:  # user code on journaled data: name the line, keep the cause
        why = str(exc) if isinstance(exc, TickmindError) else f"{type(exc).__name__}: {exc}"
        raise RunDirError(
            f"{where}: {named} cannot rebuild the world from this header: " + " ".join(why.split())
        ) from exc
    if not isinstance(world, World):
        raise RunDirError(f"{where}: {named} returned {type(world).__name__}, not an engine.World")
    if world.dt != header.dt:
        world.close()
        raise RunDirError(f"{where}: factory built a world with dt={world.dt}, the run used {header.dt}")
    return world
