"""engine.testing.assert_replays: passes a deterministic world, and names what breaks one."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from engine import verify
from engine.testing import assert_replays
from examples.drift import Push, build_world

FLAKY = Path(__file__).parent / "flaky_world.py"
FLAKY_HASH = f"{FLAKY}:build_hash_seeded"


def test_a_deterministic_world_with_inputs_passes_every_check(tmp_path: Path) -> None:
    check = assert_replays(
        build_world, {"discs": 30}, seed=2, ticks=100, tmp_path=tmp_path, inputs=[(40, Push(entity=5, dvx=3.0, dvy=0.0))]
    )
    assert len(check.hashes) == 100 and len(set(check.hashes)) == 100
    assert check.run_dir == tmp_path / "run" and verify(check.run_dir).ok
    journal = (check.run_dir / "journal.jsonl").read_text()
    assert '"t":40' in journal and '"entity":5' in journal, "the test's own input is journaled"


def test_a_system_reading_os_entropy_fails_at_its_tick_with_the_component_named(tmp_path: Path) -> None:
    with pytest.raises(AssertionError) as failed:
        assert_replays(f"{FLAKY}:build_world", {"discs": 30, "flaky_tick": 42}, seed=2, ticks=100, tmp_path=tmp_path)
    message = str(failed.value)
    assert "the journal replayed in this process diverged" in message
    assert "DIVERGED at tick 42 of 100" in message
    assert "entity 3 Disc: changed" in message


def test_inputs_chosen_with_entropy_fail_the_second_live_run(tmp_path: Path) -> None:
    factory = f"{FLAKY}:build_noisy_commander"
    with pytest.raises(AssertionError, match=r"(?s)a second live run with the same inputs diverged.*at tick 22 "):
        for attempt in range(3):  # 1 in 10 chance per attempt that entropy picks the same disc
            assert_replays(factory, {"discs": 30}, seed=2, ticks=40, tmp_path=tmp_path / str(attempt), subprocess=False)
    assert_replays(factory, {"discs": 30}, seed=2, ticks=40, tmp_path=tmp_path / "norerun", rerun=False, subprocess=False)


def test_per_process_hash_salt_fails_only_in_a_fresh_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTHONHASHSEED", "random")
    factory = FLAKY_HASH
    with pytest.raises(AssertionError) as failed:
        assert_replays(factory, {"discs": 20}, seed=1, ticks=30, tmp_path=tmp_path)
    message = str(failed.value)
    assert "a fresh Python process did not replay" in message and "exit 1" in message
    assert "DIVERGED at tick 10" in message and "entity 2 Disc: changed" in message


def test_a_fixed_hash_seed_in_the_environment_is_not_handed_to_the_fresh_process(tmp_path: Path) -> None:
    """tox and many CI images export one fixed PYTHONHASHSEED; a child inheriting it salts
    hash() exactly like its parent, and the fresh-process check then proves nothing."""
    script = (
        "import pathlib, sys\n"
        "from engine.testing import assert_replays\n"
        "try:\n"
        f"    assert_replays({FLAKY_HASH!r}, {{'discs': 20}}, seed=1, ticks=30, tmp_path=pathlib.Path({str(tmp_path)!r}))\n"
        "except AssertionError as exc:\n"
        "    print(exc)\n"
        "    sys.exit(3)\n"
    )
    env = {**os.environ, "PYTHONHASHSEED": "123"}
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True)
    assert done.returncode == 3, done.stdout + done.stderr
    assert "a fresh Python process did not replay" in done.stdout and "DIVERGED at tick 10" in done.stdout


def test_the_pytest_fixture_records_into_the_tests_tmp_path(replay_check, tmp_path: Path) -> None:
    check = replay_check(build_world, {"discs": 10}, seed=4, ticks=50, subprocess=False)
    assert check.run_dir == tmp_path / "run" and len(check.hashes) == 50
