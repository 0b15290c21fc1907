"""Size of ``hashes.detail`` as deltas (TMHD2) against full records (TMHD1), for one
recorded heuristic arena run per size.

Why: the detail is 12 bytes per (entity, component) per tick; written in full it dwarfed the
journal (the README's 100-agent run: 14 MB beside 74 kB). Both figures come from the same
run: the file it wrote, and what full records of the same ticks would have taken (8 bytes
of header and 12 per entry, counted from each tick's hash record as it is written).

    .venv/bin/python bench/detail_size.py
    .venv/bin/python bench/detail_size.py --agents 100 1000 --ticks 1000 300
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from engine import HashRecord, World, start_run
from examples.arena import build_arena

_FULL_HEADER, _FULL_ENTRY = 8, 12  # TMHD1: <II tick and count, then <u8 key and <u4 digest each


def measure(agents: int, ticks: int, out: Path) -> tuple[int, int, int]:
    """(delta file bytes, full-record bytes, journal bytes) of one recorded run."""
    full = len(b"TMHD1\n")

    def count(world: World, record: HashRecord) -> None:
        nonlocal full
        full += _FULL_HEADER + _FULL_ENTRY * len(record.keys)

    with start_run(build_arena, {"agents": agents}, 1, out) as run:
        run.world.on_tick(count)
        run.world.run(ticks)
    return (out / "hashes.detail").stat().st_size, full, (out / "journal.jsonl").stat().st_size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--agents", type=int, nargs="+", default=[100, 1000])
    parser.add_argument("--ticks", type=int, nargs="+", default=[1000, 300], help="one per --agents size")
    args = parser.parse_args()
    if len(args.ticks) != len(args.agents):
        parser.error(f"--ticks takes one count per --agents size ({len(args.agents)}), got {len(args.ticks)}")
    print("| agents | ticks | full records | deltas | full / deltas | journal |")
    print("|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory(prefix="detail-size-") as tmp:
        for agents, ticks in zip(args.agents, args.ticks, strict=True):
            delta, full, journal = measure(agents, ticks, Path(tmp) / f"run-{agents}")
            print(f"| {agents:,} | {ticks:,} | {full / 1e6:.2f} MB | {delta / 1e6:.2f} MB | {full / delta:.2f} | {journal / 1e3:.0f} kB |")


if __name__ == "__main__":
    main()
