"""Run directories: record a world as it runs, rebuild it from the record, verify it.

A run directory holds ``journal.jsonl`` (header + every applied input) and the per-tick
hashes. The header names a *factory*, ``module:function(config, seed) -> World``, so any
process can rebuild the world from config + seed and re-apply the journal with no model and
no network: that re-run must reproduce every tick hash, or the run was not deterministic.
"""

from __future__ import annotations

import json
import sys
import zlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ._errors import InputError, JournalCorruptError, RunDirError, TickmindError
from ._factories import is_declared, load_factory
from ._hashfile import HashFileWriter, read_detail, read_hashes
from ._hashing import HashRecord, registered_components
from ._inputs import PendingInput, decode_input
from ._journal import JOURNAL_NAME, JournalHeader, JournalReader, JournalRecord, JournalWriter, read_journal
from ._world import World

__all__ = [
    "ComponentDiff",
    "Divergence",
    "Factory",
    "Run",
    "VerifyReport",
    "divergence_at",
    "factory_path",
    "open_journal",
    "replay_records",
    "replay_world",
    "start_run",
    "verify",
]

Factory = Callable[[Mapping[str, Any], int], World]
JOURNAL = JOURNAL_NAME
HASHES = "hashes.tsv"
DETAIL = "hashes.detail"


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
    try:
        # The factory gets the config as the journal gives it back (tuples as lists, keys as
        # strings), so the recording and every replay build the world from the same values.
        config = json.loads(json.dumps(dict(config or {}), allow_nan=False))
    except (TypeError, ValueError) as exc:
        raise TickmindError(f"run config must be plain JSON data to be journaled: {exc}") from exc
    if isinstance(factory, str):
        target, _, function = factory.rpartition(":")
        path = f"{Path(target).resolve()}:{function}" if target.endswith(".py") else factory  # verifiable from anywhere
        factory = load_factory(path, trust=True)
    else:
        path = factory_path(factory)
        if not is_declared(factory):
            raise TickmindError(
                f"factory {path} is not declared, so a replay of its run could not call it: decorate it "
                "with @engine.factory (from engine import factory)"
            )
    run_dir = _prepare_run_dir(Path(out), force)
    world = factory(config, seed)
    if not isinstance(world, World):
        raise TickmindError(f"factory {path} returned {type(world).__name__}, not an engine.World")
    header = JournalHeader(factory=path, config=dict(config), seed=seed, dt=world.dt)
    journal = JournalWriter(run_dir / JOURNAL, header, durable=durable)
    # Inputs the factory queued (a scenario's scheduled events) are part of the world it
    # builds from config + seed: every rebuild queues them again, so they are not journaled.
    return Run(world, run_dir, header, journal, HashFileWriter(run_dir, detail=detail), journaled_seq=world._seq - 1)


def _prepare_run_dir(run_dir: Path, force: bool) -> Path:
    if run_dir.exists() and not run_dir.is_dir():
        raise RunDirError(f"{run_dir} exists and is not a directory")
    if run_dir.is_dir() and any(run_dir.iterdir()):
        if not force:
            raise RunDirError(f"{run_dir} is not empty; choose another directory or pass --force")
        for name in (JOURNAL, HASHES, DETAIL):
            (run_dir / name).unlink(missing_ok=True)
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise RunDirError(f"cannot create run directory {run_dir}: {exc.strerror}") from exc
    return run_dir


# --- replay and verify --------------------------------------------------------------------


def open_journal(run_dir: Path, *, allow_version_mismatch: bool = False) -> JournalReader:
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise RunDirError(f"{run_dir} is not a directory")
    if not (run_dir / JOURNAL).is_file():
        what = f"its {JOURNAL} is not a file" if (run_dir / JOURNAL).exists() else f"no {JOURNAL}"
        raise RunDirError(f"{run_dir} is not a tickmind run ({what})")
    return read_journal(run_dir / JOURNAL, allow_version_mismatch=allow_version_mismatch)


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
        world._enqueue(PendingInput(rec.entity, rec.seq, rec.t, inp, rec.meta))
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
    except RunDirError as exc:
        raise RunDirError(f"{where}: {exc}") from exc
    try:
        world = build(header.config, header.seed)
    except Exception as exc:  # user code on journaled data: name the line, keep the cause
        why = str(exc) if isinstance(exc, TickmindError) else f"{type(exc).__name__}: {exc}"
        raise RunDirError(
            f"{where}: the run's factory {header.factory} cannot rebuild the world from this header: "
            + " ".join(why.split())
        ) from exc
    if not isinstance(world, World):
        raise RunDirError(f"{where}: factory {header.factory} returned {type(world).__name__}, not an engine.World")
    if world.dt != header.dt:
        world.close()
        raise RunDirError(f"{where}: factory built a world with dt={world.dt}, the run used {header.dt}")
    return world


@dataclass(frozen=True)
class ComponentDiff:
    """One (entity, component) that differs between the record and the replay."""

    entity: int  #: 0 for world-level hash sources
    component: str
    change: str  #: "changed", "missing in replay", "only in replay"

    def __str__(self) -> str:
        owner = "world" if self.entity == 0 else f"entity {self.entity}"
        return f"{owner} {self.component}: {self.change}"


@dataclass(frozen=True)
class Divergence:
    tick: int
    recorded: str
    replayed: str
    diffs: tuple[ComponentDiff, ...]
    note: str = ""  #: why there are no diffs to show, when there are none


@dataclass
class VerifyReport:
    run_dir: Path
    ticks_recorded: int
    ticks_checked: int
    divergence: Divergence | None
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.divergence is None

    def format(self, max_diffs: int = 20) -> str:
        lines = [f"warning: {w}" for w in self.warnings]
        d = self.divergence
        if d is None:
            lines.append(f"OK: {self.ticks_checked} ticks of {self.run_dir} replay bit for bit")
            return "\n".join(lines)
        lines.append(f"DIVERGED at tick {d.tick} of {self.ticks_recorded} in {self.run_dir}")
        lines.append(f"  recorded hash {d.recorded}")
        lines.append(f"  replayed hash {d.replayed}")
        if d.diffs:
            lines.append(f"  {len(d.diffs)} differing (entity, component):")
            lines += [f"    {diff}" for diff in d.diffs[:max_diffs]]
            if len(d.diffs) > max_diffs:
                lines.append(f"    ... and {len(d.diffs) - max_diffs} more")
        else:
            lines.append(f"  {d.note or 'no per-component detail'}")
        return "\n".join(lines)


def verify(
    run_dir: str | Path, *, allow_version_mismatch: bool = False, trust: bool = False, factory: str | None = None
) -> VerifyReport:
    """Replay a run with no model and compare every tick hash with the record (``trust`` and
    ``factory``: which code may rebuild it, as in :func:`replay_records`)."""
    run_dir = Path(run_dir)
    journal = open_journal(run_dir, allow_version_mismatch=allow_version_mismatch)
    if not (run_dir / HASHES).exists():
        raise RunDirError(f"{run_dir} has a journal but no {HASHES}; nothing to verify against")
    roots = read_hashes(run_dir / HASHES)
    if not roots:
        raise RunDirError(f"{run_dir}/{HASHES} records no tick: nothing to verify")
    report = VerifyReport(run_dir, len(roots), 0, None, list(journal.warnings))
    late = written_past_hashes(journal, len(roots))
    if late is not None:
        report.warnings.append(
            f"the journal has inputs written up to tick {late}, but {HASHES} ends at tick {len(roots) - 1}: "
            f"only those {len(roots)} ticks were checked (was {HASHES} cut short?)"
        )
    world = replay_records(journal, trust=trust, factory=factory)
    for tick, recorded in enumerate(roots):
        world.step()
        record = world.state_hash(tick)
        if record.root != recorded:
            report.divergence = divergence_at(run_dir, world, record, recorded)
            break
        report.ticks_checked = tick + 1
    world.close()
    return report


def written_past_hashes(journal: JournalReader, ticks: int) -> int | None:
    """The last tick an input was written at, if the hash files (``ticks`` long) end before a
    crash could have left them: each tick's journal lines are flushed before its hashes, so
    a crash leaves at most the tick in progress (``ticks``) unhashed. Anything later means
    the hash files lost lines they had (a damaged or restored copy). None: no such input."""
    last = max((r.written_at for r in journal.records), default=-1)
    return last if last > ticks else None


def divergence_at(run_dir: Path, world: World, replayed: HashRecord, recorded: str) -> Divergence:
    """The divergence of ``world`` (just stepped) from the run recorded in ``run_dir``, with
    the differing (entity, component) pairs, or why there are none to show."""
    tick = replayed.tick
    detail_path = run_dir / DETAIL
    if not detail_path.exists():
        return Divergence(tick, recorded, replayed.root, (), f"no per-component detail recorded ({DETAIL} missing)")
    detail = next((d for t, d in read_detail(detail_path) if t == tick), None)
    if detail is None:
        return Divergence(tick, recorded, replayed.root, (), f"no per-component detail for this tick ({DETAIL} ends before it)")
    diffs = _diff(detail, world, replayed)
    note = "" if diffs else f"every (entity, component) matches {DETAIL}: only the root in {HASHES} differs (was it edited?)"
    return Divergence(tick, recorded, replayed.root, diffs, note)


def _diff(recorded: dict[int, int], world: World, replayed: HashRecord) -> tuple[ComponentDiff, ...]:
    """The (entity, component) pairs whose recorded CRC (``recorded``, keyed as the detail
    file keys them) differs from the replay's."""
    names = {info.type_id: info.name for info in registered_components()}
    names.update({zlib.crc32(n.encode()): n for n in world._hash_sources})
    now = replayed.detail()
    diffs = []
    for key in sorted(set(recorded) | set(now)):
        if recorded.get(key) == now.get(key):
            continue
        change = "changed" if key in recorded and key in now else (
            "missing in replay" if key in recorded else "only in replay"
        )
        type_id = key & 0xFFFFFFFF
        diffs.append(ComponentDiff(key >> 32, names.get(type_id, f"type#{type_id:08x}"), change))
    return tuple(diffs)
