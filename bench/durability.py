"""What recording a run costs per tick, and what ``durable=True`` (an fsync per tick) adds.

The same heuristic arena run (``build_arena({"planner": "heuristic", "agents": N}, seed)``,
no model) three ways, measured in the same process, interleaved repeat by repeat so drift in
the machine's load hits every mode alike:

- **none**: the world alone, nothing recorded (the baseline);
- **hash**: the world hashing its state each tick as a recording does, writing nothing;
- **off**: ``start_run(..., durable=False)``, the default: at each tick end the journal and
  both hash files are flushed to the OS (a ``write``), nothing is fsynced;
- **on**: ``start_run(..., durable=True)``: the journal is also fsynced at each tick end.

Columns: ms per tick (median of repeats), the ratio against **off** and against **none**,
and what one tick writes. Then what an fsync costs when there is something to sync: the
journal gets a line only on ticks with new inputs (the heuristic replans now and then), and
an fsync of a file with nothing new is nearly free, so the per-tick average hides it; the
last lines time ``write`` + ``fsync`` of one plan-sized line directly. The run directories go to ``--dir`` (default: the system temp
directory); an fsync costs what that file system and disk make it cost, so the table names
the file system.

    .venv/bin/python bench/durability.py [--agents 100] [--ticks 600] [--repeats 5] [--dir PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from engine import start_run  # noqa: E402
from examples.arena import build_arena  # noqa: E402

MODES = ("none", "hash", "off", "on")
LINE = b"x" * 250 + b"\n"  # about one journaled plan
RUN_FILES = ("journal.jsonl", "hashes.tsv", "hashes.detail")


def one_run(mode: str, config: dict[str, object], seed: int, ticks: int, out: Path) -> float:
    """Seconds for ``ticks`` ticks of one fresh world (building it is not timed)."""
    if mode in ("none", "hash"):
        world = build_arena(config, seed)
        if mode == "hash":
            world.on_tick(lambda world, record: None)  # a listener makes every tick hash its state
        start = time.perf_counter()
        world.run(ticks)
        elapsed = time.perf_counter() - start
        world.close()
        return elapsed
    with start_run(build_arena, config, seed, out, durable=mode == "on") as run:
        start = time.perf_counter()
        run.world.run(ticks)
        elapsed = time.perf_counter() - start
    run.world.close()
    return elapsed


def fsync_ms(directory: Path, count: int = 200) -> list[float]:
    """Milliseconds of each ``write`` + ``fsync`` of one journal-sized line to a fresh file."""
    times = []
    with (directory / "fsync.probe").open("ab") as f:
        for _ in range(count):
            start = time.perf_counter()
            f.write(LINE)
            f.flush()
            os.fsync(f.fileno())
            times.append(1000 * (time.perf_counter() - start))
    return times


def file_system(path: Path) -> str:
    """``type on device`` of the mount holding ``path`` (from /proc/mounts), or "unknown"."""
    try:
        mounts = [line.split()[:3] for line in Path("/proc/mounts").read_text().splitlines()]
    except OSError:
        return "unknown"
    best = max((m for m in mounts if str(path.resolve()).startswith(m[1])), key=lambda m: len(m[1]), default=None)
    return f"{best[2]} on {best[0]}" if best else "unknown"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--agents", type=int, default=100)
    parser.add_argument("--ticks", type=int, default=600)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--dir", type=Path, default=None, help="where the run directories go")
    args = parser.parse_args()
    config: dict[str, object] = {"planner": "heuristic", "agents": args.agents}

    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        base = Path(tmp)
        one_run("off", config, args.seed, 20, base / "warmup")  # imports, caches, first-touch
        seconds: dict[str, list[float]] = {m: [] for m in MODES}
        for repeat in range(args.repeats):
            order = MODES if repeat % 2 == 0 else MODES[::-1]
            for mode in order:
                seconds[mode].append(one_run(mode, config, args.seed, args.ticks, base / f"{mode}-{repeat}"))
        written = {name: (base / "off-0" / name).stat().st_size / args.ticks for name in RUN_FILES}
        journal_lines = (base / "off-0" / "journal.jsonl").read_text().splitlines()[1:]
        ticks_with_lines = len({json.loads(line).get("at") for line in journal_lines})
        probe = fsync_ms(base)
        fs = file_system(base)

    ms = {m: 1000 * statistics.median(s) / args.ticks for m, s in seconds.items()}
    print(f"## durability: arena, heuristic planner, {args.agents} agents, {args.ticks} ticks, "
          f"median of {args.repeats} repeats, run files on {fs}")
    print(f"{'mode':<6} {'ms/tick':>8} {'vs off':>7} {'vs none':>8}  {'spread ms/tick':>15}  per tick")
    for mode in MODES:
        runs = [1000 * s / args.ticks for s in seconds[mode]]
        spread = f"{min(runs):.3f}-{max(runs):.3f}"
        what = {
            "none": "nothing hashed or written",
            "hash": "state hashed, nothing written",
            "off": "3 writes (flush of journal, hashes.tsv, hashes.detail), 0 fsync",
            "on": "3 writes, 1 fsync (journal)",
        }[mode]
        print(f"{mode:<6} {ms[mode]:8.3f} {ms[mode] / ms['off']:6.2f}x {ms[mode] / ms['none']:7.2f}x  {spread:>15}  {what}")
    sizes = ", ".join(f"{name} {size:,.0f} B" for name, size in written.items())
    print(f"bytes per tick: {sizes} ({sum(written.values()):,.0f} B in all)")
    print(f"journal lines on {ticks_with_lines} of {args.ticks} ticks ({len(journal_lines)} lines)")
    print(f"per tick: hashing {ms['hash'] - ms['none']:.3f} ms, writing {ms['off'] - ms['hash']:.3f} ms, "
          f"fsync {ms['on'] - ms['off']:.3f} ms")
    probe.sort()
    print(f"write + fsync of one {len(LINE)} B line, {len(probe)} times: median {statistics.median(probe):.3f} ms, "
          f"p90 {probe[int(0.9 * len(probe))]:.3f} ms, max {probe[-1]:.3f} ms")
    print(f"os: {os.uname().sysname} {os.uname().release}; dirty pages written back after "
          f"{_proc_int('/proc/sys/vm/dirty_expire_centisecs') / 100:g} s, checked every "
          f"{_proc_int('/proc/sys/vm/dirty_writeback_centisecs') / 100:g} s")


def _proc_int(path: str) -> int:
    try:
        return int(Path(path).read_text().strip())
    except (OSError, ValueError):
        return -100


if __name__ == "__main__":
    main()
