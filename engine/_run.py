"""Recording: a world as it runs, written into a run directory.

A run directory holds ``journal.jsonl`` (header + every applied input) and the per-tick
hashes (:mod:`engine._rundir`). The header names a *factory*, ``module:function(config, seed)
-> World``, so any process can rebuild the world from config + seed and re-apply the journal
with no model and no network (:mod:`engine._replay`): that re-run must reproduce every tick
hash (:mod:`engine._verify`), or the run was not deterministic.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from ._errors import TickmindError
from ._factories import is_declared, load_factory
from ._hashfile import HashFileWriter
from ._hashing import HashRecord
from ._inputs import PendingInput
from ._journal import JournalHeader, JournalRecord, JournalWriter
from ._rundir import JOURNAL, prepare_run_dir
from ._world import World

__all__ = ["Factory", "Run", "factory_path", "plain_config", "recorded_factory_path", "start_run"]

Factory = Callable[[Mapping[str, Any], int], World]


def factory_path(factory: Factory) -> str:
    """The importable name of ``factory`` that a journal header records."""
    qualname = getattr(factory, "__qualname__", "")
    module = getattr(factory, "__module__", None)
    if not module or "<" in qualname:
        raise TickmindError(
            f"factory {factory!r} must be a module-level function so a replay can import it"
        )
    if module == "__main__":
        main = sys.modules["__main__"]
        spec = getattr(main, "__spec__", None)
        if spec is not None and spec.name != "__main__":
            module = spec.name
        elif getattr(main, "__file__", None):
            return f"{Path(str(main.__file__)).resolve()}:{qualname}"
        else:
            raise TickmindError("a factory defined at an interactive prompt cannot be replayed")
    return f"{module}:{qualname}"


class Run:
    """A world being recorded into a run directory. Close it (or use ``with``) to finish.

    Inputs are journaled at the end of the tick they were submitted (or applied) in, before
    that tick's hashes: the journal of a stopped run holds every input its hashed ticks saw,
    including those still waiting for a later tick, which is what ``resume`` needs.
    """

    def __init__(
        self,
        world: World,
        run_dir: Path,
        header: JournalHeader,
        journal: JournalWriter,
        hashes: HashFileWriter,
        *,
        journaled_seq: int = -1,
    ):
        self.world = world
        self.run_dir = run_dir
        self.header = header  #: what the world was built from: factory, config, seed, dt
        self._journal = journal
        self._hashes = hashes
        self._journaled_seq = journaled_seq  # every input up to this seq is on disk
        self._applied_unjournaled: list[PendingInput] = []
        self.warnings: list[str] = []  #: what resume found and cut off (a crash's torn tail)
        world.on_input_applied(self._note_applied)
        world.on_tick(self._tick_done)

    def _note_applied(self, pending: PendingInput) -> None:
        if pending.seq > self._journaled_seq:  # submitted and applied since the last tick end
            self._applied_unjournaled.append(pending)

    def _journal_new_inputs(self, at: int) -> None:
        fresh = self._applied_unjournaled
        if self.world._seq - 1 > self._journaled_seq:
            fresh += [p for ps in self.world._pending.values() for p in ps if p.seq > self._journaled_seq]
        if not fresh:
            return
        fresh.sort(key=lambda p: p.seq)
        for pending in fresh:
            self._append(pending, at)
        self._journaled_seq = fresh[-1].seq
        self._applied_unjournaled = []

    def _append(self, pending: PendingInput, at: int) -> None:
        """Journal one input; one that cannot be written as JSON is named (nothing of it is
        written: the line is serialised before it is written)."""
        try:
            self._journal.append(
                JournalRecord(
                    t=pending.tick,
                    seq=pending.seq,
                    kind=pending.input.kind,
                    entity=pending.entity,
                    data=pending.input.model_dump(mode="json"),
                    meta=pending.meta,
                    at=at,
                )
            )
        except (TypeError, ValueError) as exc:
            raise TickmindError(
                f"input {pending.input.kind} for entity {pending.entity} at tick {pending.tick} cannot be "
                "journaled: its fields and meta must be JSON data (str, int, float, bool, None, and lists "
                "and dicts of those): " + " ".join(str(exc).split())
            ) from exc

    def _tick_done(self, world: World, record: HashRecord) -> None:
        # Journal first, flushed before the hashes are even written: a tick listed in
        # hashes.tsv always has its inputs on disk.
        self._journal_new_inputs(record.tick)
        self._journal.flush()
        self._hashes.write(record)
        self._hashes.flush()

    def close(self) -> None:
        """Journal inputs submitted after the last tick (a resume applies them), then close
        (the files even when one of those inputs cannot be journaled)."""
        try:
            if not self._journal.closed:
                self._journal_new_inputs(self.world.tick - 1)
        finally:
            self._journal.close()
            self._hashes.close()

    def __enter__(self) -> Run:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def plain_config(config: Mapping[str, Any]) -> dict[str, Any]:
    """``config`` as the journal gives it back (tuples as lists, keys as strings): the
    recording and every replay then build the world from the same values."""
    try:
        return dict(json.loads(json.dumps(dict(config), allow_nan=False)))
    except (TypeError, ValueError) as exc:
        raise TickmindError(f"run config must be plain JSON data to be journaled: {exc}") from exc


def recorded_factory_path(factory: str) -> str:
    """The factory path a header records for one the user named: a ``.py`` file by its
    absolute path, so the run verifies from any directory."""
    target, _, function = factory.rpartition(":")
    return f"{Path(target).resolve()}:{function}" if target.endswith(".py") else factory


def start_run(
    factory: Factory | str,
    config: Mapping[str, Any] | None = None,
    seed: int = 0,
    out: str | Path = "run",
    *,
    force: bool = False,
    detail: bool = True,
    durable: bool = False,
) -> Run:
    """Build a world with ``factory(config, seed)`` and record it into ``out``.

    ``factory`` is a module-level function declared with :func:`engine.factory`, or its path
    (``"pkg.mod:build"`` or ``"path/to/sim.py:build"``, which you name, so it runs); the
    journal records the path so verify can rebuild the world. ``out`` must not exist or be
    empty (``force=True`` replaces the run files inside it).
    """
    config = plain_config(config or {})
    if isinstance(factory, str):
        path = recorded_factory_path(factory)
        factory = load_factory(path, trust=True)
    else:
        path = factory_path(factory)
        if not is_declared(factory):
            raise TickmindError(
                f"factory {path} is not declared, so a replay of its run could not call it: decorate it "
                "with @engine.factory (from engine import factory)"
            )
    run_dir = prepare_run_dir(Path(out), force)
    world = factory(config, seed)
    if not isinstance(world, World):
        raise TickmindError(f"factory {path} returned {type(world).__name__}, not an engine.World")
    header = JournalHeader(factory=path, config=dict(config), seed=seed, dt=world.dt)
    journal = JournalWriter(run_dir / JOURNAL, header, durable=durable)
    # Inputs the factory queued (a scenario's scheduled events) are part of the world it
    # builds from config + seed: every rebuild queues them again, so they are not journaled.
    return Run(world, run_dir, header, journal, HashFileWriter(run_dir, detail=detail), journaled_seq=world._seq - 1)
