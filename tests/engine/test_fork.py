"""Forking a recorded run at a tick: the parent's prefix replayed and checked, then live."""

import shutil
from pathlib import Path

import pytest

from engine import ForkOrigin, RunDirError, fork_run, read_journal, start_run, verify
from engine._hashfile import read_hashes
from examples.arena import build_arena
from examples.drift import build_world

HERE = Path(__file__).parent
DRIFT = {"discs": 60}


def record(out: Path, ticks: int, factory=build_world, config=DRIFT, seed: int = 11) -> None:
    with start_run(factory, config, seed, out) as run:
        run.world.run(ticks)


def test_a_fork_at_100_shares_the_parents_first_100_hashes_and_verifies_alone(tmp_path: Path) -> None:
    config = {"planner": "heuristic", "agents": 20}
    record(tmp_path / "parent", 160, build_arena, config, seed=4)
    with fork_run(tmp_path / "parent", 100, tmp_path / "fork", config={**config, "replan_every": 7}) as run:
        assert run.world.tick == 100 and not run.world.replaying
        run.world.run(80)
    parent, fork = read_hashes(tmp_path / "parent" / "hashes.tsv"), read_hashes(tmp_path / "fork" / "hashes.tsv")
    assert len(fork) == 180 and fork[:100] == parent[:100]
    assert fork[100:160] != parent[100:160], "another replan interval plays differently after the fork"
    header = read_journal(tmp_path / "fork").header
    assert header.forked_from == [ForkOrigin(run=str((tmp_path / "parent").resolve()), tick=100, root=parent[99])]
    assert header.config["replan_every"] == 7
    shutil.rmtree(tmp_path / "parent")
    report = verify(tmp_path / "fork")
    assert report.ok and report.ticks_checked == 180


def test_a_fork_with_the_same_config_continues_exactly_as_the_parent_did(tmp_path: Path) -> None:
    """Nothing changed, nothing differs: the fork's journal and hashes are the parent's,
    pending inputs at the fork tick included (drift's push submitted at tick 60 lands at 63)."""
    record(tmp_path / "parent", 120)
    with fork_run(tmp_path / "parent", 61, tmp_path / "fork") as run:
        run.world.run(59)
    assert read_hashes(tmp_path / "fork" / "hashes.tsv") == read_hashes(tmp_path / "parent" / "hashes.tsv")
    assert (tmp_path / "fork" / "hashes.detail").read_bytes() == (tmp_path / "parent" / "hashes.detail").read_bytes()
    assert read_journal(tmp_path / "fork").records == read_journal(tmp_path / "parent").records


def test_a_fork_of_a_fork_records_its_lineage_and_verifies(tmp_path: Path) -> None:
    record(tmp_path / "a", 90)
    with fork_run(tmp_path / "a", 50, tmp_path / "b") as run:
        run.world.run(40)
    with fork_run(tmp_path / "b", 70, tmp_path / "c") as run:
        run.world.run(30)
    a, b, c = (read_hashes(tmp_path / n / "hashes.tsv") for n in "abc")
    assert c[:70] == b[:70] and b[:50] == a[:50] and len(c) == 100
    lineage = read_journal(tmp_path / "c").header.forked_from
    assert [(Path(o.run).name, o.tick, o.root) for o in lineage or []] == [("a", 50, a[49]), ("b", 70, b[69])]
    shutil.rmtree(tmp_path / "a")
    shutil.rmtree(tmp_path / "b")
    assert verify(tmp_path / "c").ok


def test_an_edited_parent_is_refused_at_its_first_divergent_tick_and_nothing_is_written(tmp_path: Path) -> None:
    record(tmp_path / "parent", 90)
    journal = tmp_path / "parent" / "journal.jsonl"
    lines = journal.read_text().splitlines(keepends=True)
    push = next(i for i, line in enumerate(lines) if '"t":63' in line)
    lines[push] = lines[push].replace('"t":63', '"t":64', 1)  # the commander's push one tick late
    journal.write_text("".join(lines))
    with pytest.raises(RunDirError, match=r"cannot fork .*parent: its replay diverges at tick 63 \(entity \d+ "):
        fork_run(tmp_path / "parent", 80, tmp_path / "fork")
    assert not (tmp_path / "fork").exists()


@pytest.mark.parametrize(
    ("at", "message"),
    [(0, "cannot fork .* at tick 0: it recorded ticks 0-29, so --at may be 1 to 30"),
     (31, "at tick 31: it recorded ticks 0-29")],
)  # fmt: skip
def test_a_fork_tick_outside_the_recording_is_refused(tmp_path: Path, at: int, message: str) -> None:
    record(tmp_path / "parent", 30)
    with pytest.raises(RunDirError, match=message):
        fork_run(tmp_path / "parent", at, tmp_path / "fork")


def test_a_fork_into_a_used_directory_is_refused_before_the_replay(tmp_path: Path) -> None:
    record(tmp_path / "parent", 30)
    (tmp_path / "used").mkdir()
    (tmp_path / "used" / "notes.txt").write_text("mine")
    with pytest.raises(RunDirError, match="used is not empty; choose another directory or pass --force"):
        fork_run(tmp_path / "parent", 10, tmp_path / "used")
    with pytest.raises(RunDirError, match="into itself"):
        fork_run(tmp_path / "parent", 10, tmp_path / "parent", force=True)
    assert (tmp_path / "used" / "notes.txt").read_text() == "mine"


def test_a_config_that_changes_the_world_is_refused_naming_the_tick(tmp_path: Path) -> None:
    record(tmp_path / "parent", 30)
    with pytest.raises(RunDirError, match="its replay diverges at tick 0"):
        fork_run(tmp_path / "parent", 20, tmp_path / "fork", config={"discs": 61})
