"""Resume: (run K ticks, stop, resume N) hashes exactly like an uninterrupted K+N run."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from engine import RunDirError, read_journal, start_run
from engine._hashfile import read_hashes
from engine._resume import resume_run
from examples.arena import build_arena
from examples.drift import build_world

HERE = Path(__file__).parent
REPO = HERE.parent.parent
DRIFT = {"discs": 60}


def record(out: Path, ticks: int, factory=build_world, config=DRIFT, seed: int = 11) -> None:
    with start_run(factory, config, seed, out) as run:
        run.world.run(ticks)


def same_run(a: Path, b: Path) -> None:
    """Hashes, per-component detail and journal (inputs still pending at a stop included)."""
    assert read_hashes(a / "hashes.tsv") == read_hashes(b / "hashes.tsv")
    assert (a / "hashes.detail").read_bytes() == (b / "hashes.detail").read_bytes()
    assert read_journal(a / "journal.jsonl").records == read_journal(b / "journal.jsonl").records


def test_drift_stopped_twice_and_resumed_equals_an_uninterrupted_run(tmp_path: Path) -> None:
    record(tmp_path / "whole", 200)
    record(tmp_path / "parts", 61)  # the commander's push submitted at tick 60 lands at 63
    pending = [r for r in read_journal(tmp_path / "parts" / "journal.jsonl").records if r.t >= 61]
    assert len(pending) == 1 and pending[0].written_at == 60, "inputs waiting at a stop are journaled"
    for ticks in (70, 69):
        with resume_run(tmp_path / "parts") as run:
            assert not run.world.replaying and run.warnings == []
            run.world.run(ticks)
    same_run(tmp_path / "whole", tmp_path / "parts")


def test_arena_with_the_heuristic_planner_resumes_exactly(tmp_path: Path) -> None:
    record(tmp_path / "whole", 260, build_arena, {"planner": "heuristic"}, seed=3)
    record(tmp_path / "part", 130, build_arena, {"planner": "heuristic"}, seed=3)
    with resume_run(tmp_path / "part") as run:
        run.world.run(130)
    same_run(tmp_path / "whole", tmp_path / "part")


KILLED = """
import os, signal, sys
from engine import start_run
factory, config, kill_at = sys.argv[2], eval(sys.argv[3]), int(sys.argv[4])
def killer(world, ctx):
    if ctx.tick == kill_at:  # mid-tick: this tick's inputs are applied, its hash never written
        os.kill(os.getpid(), signal.SIGKILL)
run = start_run(factory, config, 5, sys.argv[1])
run.world.add_system(killer, stage="nav")
run.world.run(kill_at + 100)
"""


@pytest.mark.parametrize(
    "factory, config, kill_at, more",
    [
        (build_world, DRIFT, 93, 120),  # the push submitted at 90 waits for tick 93
        (build_arena, {"planner": "heuristic"}, 121, 120),
    ],
    ids=["drift", "arena"],
)
def test_a_run_killed_mid_tick_resumes_from_the_shell(tmp_path: Path, factory, config, kill_at: int, more: int) -> None:
    path = f"{factory.__module__}:{factory.__name__}"
    killed = subprocess.run([sys.executable, "-c", KILLED, str(tmp_path / "run"), path, repr(config), str(kill_at)], cwd=REPO)
    assert killed.returncode == -9
    assert len(read_hashes(tmp_path / "run" / "hashes.tsv")) == kill_at
    done = subprocess.run(
        [sys.executable, "-m", "tickmind", "resume", str(tmp_path / "run"), "--ticks", str(more)],
        capture_output=True, text=True, cwd=REPO,
    )
    assert done.returncode == 0, done.stderr
    assert f"resumed {tmp_path / 'run'} at tick {kill_at}" in done.stdout
    record(tmp_path / "whole", kill_at + more, factory, config, seed=5)
    same_run(tmp_path / "whole", tmp_path / "run")


def test_a_tick_torn_between_journal_and_hashes_is_cut_off(tmp_path: Path) -> None:
    """The crash hit after tick 60's journal lines and detail record, inside its hash line."""
    record(tmp_path / "whole", 100)
    run = tmp_path / "run"
    record(run, 61)
    hashes = run / "hashes.tsv"
    lines = hashes.read_text().splitlines(keepends=True)
    hashes.write_text("".join(lines[:-1]) + lines[-1][:9])
    with (run / "journal.jsonl").open("a") as journal:
        journal.write('{"t":70,"seq":9,"kind":"drift.pu')
    assert [r.written_at for r in read_journal(run / "journal.jsonl").records][-1] == 60
    with resume_run(run) as resumed:
        assert resumed.world.tick == 60
        assert any("dropped an incomplete last record" in w for w in resumed.warnings)
        assert any("dropped 1 input(s) written by tick 60, which never completed" in w for w in resumed.warnings)
        resumed.world.run(40)
    same_run(tmp_path / "whole", run)


def tickmind(*args: str, prefix: tuple[str, ...] = ()) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*prefix, sys.executable, "-m", "tickmind", *args], capture_output=True, text=True, cwd=REPO)


def test_resume_refuses_what_is_not_a_resumable_run(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    record(tmp_path / "run", 50)
    journal = tmp_path / "run" / "journal.jsonl"
    lines = journal.read_text().splitlines(keepends=True)
    before = {p.name: p.read_bytes() for p in (tmp_path / "run").iterdir()}
    journal.write_text("".join(lines[:2]) + "{oops\n" + "".join(lines[2:]))
    cases = [
        (["resume", str(tmp_path / "nowhere"), "--ticks", "5"], "is not a directory"),
        (["resume", str(tmp_path / "empty"), "--ticks", "5"], "is not a tickmind run (no journal.jsonl)"),
        (["resume", str(tmp_path / "run"), "--ticks", "5"], f"{journal}:3: not JSON"),
        (["resume", str(tmp_path / "run")], "the following arguments are required: --ticks"),
        (["resume", str(tmp_path / "run"), "--ticks", "0"], "must be at least 1"),
    ]
    for args, message in cases:
        done = tickmind(*args)
        assert done.returncode == 2, args
        assert message in done.stderr and "Traceback" not in done.stderr
        assert [line for line in done.stderr.splitlines() if "error:" in line] == [done.stderr.splitlines()[-1]]
    journal.write_text("".join(lines))
    assert {p.name: p.read_bytes() for p in (tmp_path / "run").iterdir()} == before


def test_a_run_that_no_longer_replays_is_not_extended(tmp_path: Path) -> None:
    factory = f"{HERE / 'flaky_world.py'}:build_world"
    record(tmp_path / "run", 80, factory, {"discs": 30, "flaky_tick": 42})
    before = {p.name: p.read_bytes() for p in (tmp_path / "run").iterdir()}
    done = tickmind("resume", str(tmp_path / "run"), "--ticks", "10", "--trust")
    assert done.returncode == 2
    assert "its replay diverges at tick 42 (entity 3 Disc: changed)" in done.stderr
    assert {p.name: p.read_bytes() for p in (tmp_path / "run").iterdir()} == before


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_an_unwritable_run_is_refused_before_replaying(tmp_path: Path) -> None:
    run = tmp_path / "run"
    record(run, 20)
    for f in run.iterdir():
        f.chmod(0o444)
    run.chmod(0o555)
    # root ignores permission bits; without CAP_DAC_OVERRIDE it is held to them like anyone
    prefix = ("setpriv", "--bounding-set=-dac_override,-fowner") if os.geteuid() == 0 else ()
    try:
        done = tickmind("resume", str(run), "--ticks", "5", prefix=prefix)
    finally:
        run.chmod(0o755)
    assert done.returncode == 2
    assert f"cannot resume {run}: {run / 'journal.jsonl'} is not writable (Permission denied)" in done.stderr
    assert len(read_hashes(run / "hashes.tsv")) == 20


def test_resume_continues_the_seq_numbering(tmp_path: Path) -> None:
    record(tmp_path / "run", 95)
    with resume_run(tmp_path / "run") as run:
        run.world.run(100)
    seqs = [json.loads(line)["seq"] for line in (tmp_path / "run" / "journal.jsonl").read_text().splitlines()[1:]]
    assert seqs == list(range(len(seqs))) and len(seqs) >= 6


def test_hash_files_shorter_than_a_crash_leaves_are_refused_and_nothing_is_cut(tmp_path: Path) -> None:
    """A restored or damaged hashes file ending long before the journal: resume cut the
    journal back to it and deleted every later input (a model's plans cannot be made again)."""
    from engine._hashfile import cut_hash_files

    record(tmp_path / "run", 200)
    journal_before = (tmp_path / "run" / "journal.jsonl").read_bytes()
    assert any(r.written_at > 61 for r in read_journal(tmp_path / "run" / "journal.jsonl").records)
    cut_hash_files(tmp_path / "run", 50)
    with pytest.raises(RunDirError, match=r"journal has inputs written up to tick \d+, but its hash files end at tick 49"):
        resume_run(tmp_path / "run")
    assert (tmp_path / "run" / "journal.jsonl").read_bytes() == journal_before
