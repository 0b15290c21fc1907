"""The determinism contract: record, replay, compare every tick hash."""

import subprocess
import sys
from pathlib import Path

import pytest

from engine import JournalCorruptError, RunDirError, World, read_journal, replay_world, start_run, verify
from engine._hashfile import read_hashes
from examples.drift import build_world

HERE = Path(__file__).parent
REPO = HERE.parent.parent
CONFIG = {"discs": 120}


def record(out: Path, seed: int = 11, ticks: int = 100, factory=build_world, config=CONFIG) -> list[str]:
    with start_run(factory, config, seed, out) as run:
        run.world.run(ticks)
    return read_hashes(out / "hashes.tsv")


def test_the_test_world_really_collides_acts_randomly_and_takes_inputs(tmp_path: Path) -> None:
    hashes = record(tmp_path / "run")
    journal_lines = (tmp_path / "run" / "journal.jsonl").read_text().splitlines()
    assert len(journal_lines) - 1 >= 3, "the commander's pushes are journaled inputs"
    without_collisions = build_world(CONFIG, 11)
    without_collisions.schedule.remove("collide")
    without_collisions.run(100)
    assert without_collisions.state_hash().root != hashes[-1], "discs must collide in 100 ticks"
    without_collisions.close()


def test_100_frame_replay_reproduces_every_hash(tmp_path: Path) -> None:
    hashes = record(tmp_path / "run")
    assert len(hashes) == 100 and len(set(hashes)) == 100
    report = verify(tmp_path / "run")
    assert report.ok, report.format()
    assert report.ticks_checked == 100


def test_a_world_and_its_replay_step_side_by_side_in_one_process(tmp_path: Path) -> None:
    hashes = record(tmp_path / "run")
    live = build_world(CONFIG, 11)
    replay = replay_world(tmp_path / "run")
    # Interleave the two worlds tick by tick: esper's module state must not leak between them.
    # The live copy has no journal, so it gets the pushes from its own commander instead.
    for tick in range(100):
        live.step()
        replay.step()
        assert replay.state_hash(tick).root == hashes[tick]
        assert live.state_hash(tick).root == hashes[tick]
    assert replay.discarded_submits > 0, "live submits are ignored while replaying"
    live.close()
    replay.close()


def test_hashes_agree_across_processes(tmp_path: Path) -> None:
    here = record(tmp_path / "here")
    script = (
        "from engine import start_run\n"
        "from examples.drift import build_world\n"
        f"with start_run(build_world, {CONFIG!r}, 11, {str(tmp_path / 'there')!r}) as run:\n"
        "    run.world.run(100)\n"
    )
    subprocess.run([sys.executable, "-c", script], check=True, cwd=REPO)
    assert read_hashes(tmp_path / "there" / "hashes.tsv") == here
    # ... and a fresh process verifies the run this process recorded.
    done = subprocess.run(
        [sys.executable, "-m", "engine", "verify", str(tmp_path / "here")],
        capture_output=True, text=True, cwd=REPO,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "OK: 100 ticks" in done.stdout


def test_a_different_seed_gives_a_different_hash_sequence(tmp_path: Path) -> None:
    a = record(tmp_path / "a", seed=1)
    b = record(tmp_path / "b", seed=2)
    assert all(x != y for x, y in zip(a, b))


def test_verify_catches_a_nondeterministic_system_at_its_tick(tmp_path: Path) -> None:
    factory = f"{HERE / 'flaky_world.py'}:build_world"
    record(tmp_path / "run", factory=factory, config={"discs": 60, "flaky_tick": 42})
    report = verify(tmp_path / "run", trust=True)  # this folder's file, named by path
    assert not report.ok
    assert report.ticks_checked == 42
    assert report.divergence is not None and report.divergence.tick == 42
    assert [(d.entity, d.component, d.change) for d in report.divergence.diffs] == [(3, "Disc", "changed")]
    assert "DIVERGED at tick 42" in report.format()


def test_a_killed_run_verifies_up_to_its_last_complete_tick(tmp_path: Path) -> None:
    script = (
        "import os, signal\n"
        "from engine import start_run\n"
        "from examples.drift import build_world\n"
        "def killer(world, ctx):\n"
        "    if ctx.tick == 57:\n"
        "        os.kill(os.getpid(), signal.SIGKILL)\n"
        f"run = start_run(build_world, {CONFIG!r}, 11, {str(tmp_path / 'run')!r})\n"
        "run.world.add_system(killer, stage='update')\n"
        "run.world.run(100)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=REPO)
    assert done.returncode == -9
    assert len(read_hashes(tmp_path / "run" / "hashes.tsv")) == 57
    report = verify(tmp_path / "run")
    assert report.ok, report.format()
    assert report.ticks_checked == 57


def test_partial_tails_left_mid_write_are_dropped(tmp_path: Path) -> None:
    record(tmp_path / "run", ticks=100)
    journal = tmp_path / "run" / "journal.jsonl"
    last_tick = read_journal(journal).records[-1].written_at
    journal.write_bytes(journal.read_bytes()[:-10])  # the process died journaling tick last_tick
    hashes = tmp_path / "run" / "hashes.tsv"
    kept = hashes.read_text().splitlines(keepends=True)[: 1 + last_tick]
    hashes.write_text("".join(kept) + "93\t05")
    report = verify(tmp_path / "run")
    assert report.ok, report.format()
    assert report.ticks_checked == last_tick
    assert any("incomplete last record" in w for w in report.warnings)


def test_replay_world_rebuilds_tick_zero_with_the_journal_queued(tmp_path: Path) -> None:
    record(tmp_path / "run")
    world: World = replay_world(tmp_path / "run")
    assert world.tick == 0 and world.replaying
    assert [p.tick for p in world.pending_inputs()] == sorted(p.tick for p in world.pending_inputs())
    assert len(world.pending_inputs()) >= 3
    world.close()


def test_the_factory_gets_the_config_the_journal_gives_back(tmp_path: Path) -> None:
    """A tuple in the config came back from the journal as a list: the recording built one
    world from it and every replay another."""
    factory = f"{HERE / 'flaky_world.py'}:build_shape_sensitive"
    with start_run(factory, {"start": (1.0, 2.0)}, 0, tmp_path / "run") as run:
        run.world.run(3)
    report = verify(tmp_path / "run", trust=True)
    assert report.ok, report.format()


def test_verify_reads_crlf_hashes_and_says_when_only_a_root_was_edited(tmp_path: Path) -> None:
    hashes = record(tmp_path / "run", ticks=30)
    path = tmp_path / "run" / "hashes.tsv"
    path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))  # git autocrlf on a checkout
    assert verify(tmp_path / "run").ok
    edited = "0" * 32 if hashes[7] != "0" * 32 else "1" * 32
    path.write_text("".join(f"{t}\t{edited if t == 7 else h}\n" for t, h in enumerate(hashes)))
    report = verify(tmp_path / "run")
    assert report.divergence is not None and report.divergence.tick == 7
    assert "only the root in hashes.tsv differs" in report.format()


def test_verify_refuses_a_run_with_no_hashed_tick_and_malformed_roots(tmp_path: Path) -> None:
    record(tmp_path / "run", ticks=5)
    path = tmp_path / "run" / "hashes.tsv"
    header = path.read_text().splitlines(keepends=True)[0]  # the '# tickmind state hashes' line
    path.write_text(header + "0\tnot-a-hash\n")
    with pytest.raises(JournalCorruptError, match=r"hashes.tsv:2: expected 'tick<TAB>hash' \(32 hex digits\)"):
        verify(tmp_path / "run")
    path.write_text(header)
    with pytest.raises(RunDirError, match="records no tick: nothing to verify"):
        verify(tmp_path / "run")


def test_verify_warns_when_the_journal_goes_on_past_the_hashes(tmp_path: Path) -> None:
    from engine._hashfile import cut_hash_files

    record(tmp_path / "run", ticks=100)  # the commander pushes at ticks 30, 60 and 90
    cut_hash_files(tmp_path / "run", 40)
    report = verify(tmp_path / "run")
    assert report.ok and report.ticks_checked == 40
    assert "only those 40 ticks were checked (was hashes.tsv cut short?)" in report.format()
