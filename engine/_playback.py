"""Play a recorded run back from its journal and say what happened, tick by tick.

``verify`` answers one question (does the run replay bit for bit?); ``replay`` is for looking
at a run: a line every N ticks (simulated time, entities, inputs applied, hash check), and
the state where it stops (components per type, inputs per kind, chosen entities in full).
No model and no network: the journal supplies every input.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from ._components import registered_components
from ._errors import RunDirError, TickmindError
from ._hashfile import read_hashes
from ._journal import JournalRecord
from ._replay import replay_records
from ._rundir import HASHES, open_journal
from ._text import printable
from ._verify import VerifyReport, divergence_at
from ._world import World

__all__ = ["Playback", "play_back"]


@dataclass
class Playback:
    """What a play-back found: ``ok`` when every tick it ran matched the record."""

    report: VerifyReport
    ticks: int  #: ticks played

    @property
    def ok(self) -> bool:
        return self.report.ok


def play_back(
    run_dir: str | Path,
    *,
    until: int | None = None,
    every: int | None = None,
    show: Iterable[int] = (),
    allow_version_mismatch: bool = False,
    trust: bool = False,
    factory: str | None = None,
    echo: Callable[[str], None] = print,
) -> Playback:
    """Replay the first ``until`` ticks of a run (all by default), echoing a line every
    ``every`` ticks (about ten lines by default) and a summary of the state it stops at
    (``trust``, ``factory``: which code may rebuild it, as in :func:`engine.verify`)."""
    run_dir = Path(run_dir)
    journal = open_journal(run_dir, allow_version_mismatch=allow_version_mismatch)
    if not (run_dir / HASHES).exists():
        raise RunDirError(f"{run_dir} has a journal but no {HASHES}; nothing to replay against")
    roots = read_hashes(run_dir / HASHES)
    recorded = len(roots)
    if until is None:
        until = recorded
    elif until > recorded:
        raise TickmindError(f"--until {until} is past the end of {run_dir}: it recorded {recorded} ticks")
    every = every or max(1, until // 10)
    header = journal.header
    for warning in journal.warnings:
        echo(f"warning: {warning}")
    echo(f"replaying {until} of {recorded} ticks of {run_dir} ({header.factory}, seed {header.seed}), no model")

    by_tick = Counter(r.t for r in journal.records)
    world = replay_records(journal, trust=trust, factory=factory)
    report = VerifyReport(run_dir, recorded, 0, None, list(journal.warnings))
    applied = 0
    try:
        for tick in range(until):
            world.step()
            applied += by_tick[tick]
            if world.state_root(tick) != roots[tick]:
                report.divergence = divergence_at(run_dir, world, tick, roots[tick])
                echo(report.format())
                return Playback(report, tick + 1)
            report.ticks_checked = tick + 1
            if (tick + 1) % every == 0 or tick + 1 == until:
                echo(
                    f"  tick {tick + 1:>7}  t={(tick + 1) * world.dt:>8.2f} s  entities {len(world.entities()):>6}"
                    f"  inputs {applied:>6}  hash ok"
                )
        echo(f"OK: {until} ticks replay bit for bit" + ("" if until else " (none asked for)"))
        _summarise(world, (r for r in journal.records if r.t < until), show, echo)
    finally:
        world.close()
    return Playback(report, until)


def _summarise(
    world: World, records: Iterable[JournalRecord], show: Iterable[int], echo: Callable[[str], None]
) -> None:
    counts = [(info.name, len(world.get_component(info.cls))) for info in registered_components()]
    present = ", ".join(f"{name} {n}" for name, n in sorted(counts) if n)
    when = f"after tick {world.tick - 1}" if world.tick else "before tick 0"
    echo(f"state {when}: {len(world.entities())} entities; {present or 'no components'}")
    kinds = Counter(r.kind for r in records)
    if kinds:
        echo("inputs applied: " + printable(", ".join(f"{kind} {n}" for kind, n in sorted(kinds.items()))))
    for entity in show:
        if not world.entity_exists(entity):
            echo(f"entity {entity}: does not exist at this tick")
            continue
        echo(f"entity {entity}:")
        for comp in sorted(world.components_for_entity(entity), key=lambda c: type(c).__name__):
            echo(f"    {printable(repr(comp), newlines=False)}")  # a plan's reason may quote a model
