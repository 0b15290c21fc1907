"""Verify: replay a run and compare every tick's hash with the record, naming what diverged."""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from pathlib import Path

from ._components import registered_components
from ._detailfile import detail_at
from ._errors import RunDirError
from ._hashfile import read_hashes
from ._hashing import HashRecord
from ._journal import JournalReader
from ._replay import replay_records
from ._rundir import DETAIL, HASHES, open_journal
from ._world import World

__all__ = ["ComponentDiff", "Divergence", "VerifyReport", "divergence_at", "verify", "written_past_hashes"]


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
        if world.state_root(tick) != recorded:
            report.divergence = divergence_at(run_dir, world, tick, recorded)
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


def divergence_at(run_dir: Path, world: World, tick: int, recorded: str) -> Divergence:
    """The divergence of ``world`` (just stepped through ``tick``, whose root differs from
    ``recorded``) from the run recorded in ``run_dir``, with the differing (entity,
    component) pairs, or why there are none to show. The per-component detail is computed
    here: a replay compares roots alone (``World.state_root``) until one differs."""
    replayed = world.state_hash(tick)
    detail_path = run_dir / DETAIL
    if not detail_path.exists():
        return Divergence(tick, recorded, replayed.root, (), f"no per-component detail recorded ({DETAIL} missing)")
    detail = detail_at(detail_path, tick)
    if detail is None:
        return Divergence(tick, recorded, replayed.root, (), f"no per-component detail for this tick ({DETAIL} ends before it)")
    diffs = _diff(detail, world, replayed)
    note = "" if diffs else f"every (entity, component) matches {DETAIL}: only the root in {HASHES} differs (was it edited?)"
    return Divergence(tick, recorded, replayed.root, diffs, note)


def _diff(recorded: dict[int, int], world: World, replayed: HashRecord) -> tuple[ComponentDiff, ...]:
    """The (entity, component) pairs whose recorded digest (``recorded``, keyed as the detail
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
