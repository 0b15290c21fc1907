"""The evacuation example: a non-combat simulation on the public API, and its replay test."""

import subprocess
import sys
from pathlib import Path

import pytest

from engine import TickmindError
from engine.testing import assert_replays
from examples.evacuation import BUILDING, CloseExit, Evacuee, Exit, SoundAlarm, build_evacuation, exit_id, remaining
from nav import NavGoal

REPO = Path(__file__).parent.parent.parent


def test_100_frame_evacuation_replay(tmp_path: Path) -> None:
    world = build_evacuation({"people": 40}, 0)
    west = exit_id(world, "west")
    world.close()
    check = assert_replays(
        build_evacuation, {"people": 40}, seed=0, ticks=100, tmp_path=tmp_path,
        inputs=[(5, SoundAlarm(entity=BUILDING)), (60, CloseExit(entity=west))],
    )
    assert len(set(check.hashes)) == 100


def test_everyone_gets_out_and_a_closed_exit_reroutes_its_walkers() -> None:
    world = build_evacuation({"people": 40}, 3)
    west, east = exit_id(world, "west"), exit_id(world, "east")
    world.submit(SoundAlarm(entity=BUILDING), 0)
    world.run(150)
    exits = dict(world.get_component(Exit))
    heading_west = [e for e, p in world.get_component(Evacuee) if p.exit == west]
    assert heading_west and exits[west].evacuated > 0 and remaining(world) > 0
    out_west = exits[west].evacuated
    world.submit(CloseExit(entity=west), 150)
    world.run(1)
    for entity in heading_west:
        goal = world.component_for_entity(entity, NavGoal)
        assert world.component_for_entity(entity, Evacuee).exit == east and (goal.x, goal.y) == (exits[east].x, exits[east].y)
    while remaining(world) and world.tick < 3000:
        world.step()
    assert remaining(world) == 0, "the east exit is reachable from the west room through the doors"
    assert exits[west].evacuated == out_west and exits[west].evacuated + exits[east].evacuated == 40
    world.close()


def test_nobody_moves_before_the_alarm() -> None:
    world = build_evacuation({"people": 10}, 1)
    world.run(60)
    assert not world.get_component(NavGoal) and remaining(world) == 10
    world.close()


def test_the_command_records_a_run_that_verifies(tmp_path: Path) -> None:
    out = tmp_path / "evac"
    done = subprocess.run(
        [sys.executable, "-m", "tickmind", "evacuate", "--people", "20", "--close-west-at", "200", "--out", str(out)],
        capture_output=True, text=True, cwd=REPO,
    )
    assert done.returncode == 0, done.stderr
    assert "still inside: 0" in done.stdout
    verified = subprocess.run([sys.executable, "-m", "tickmind", "verify", str(out)], capture_output=True, text=True, cwd=REPO)
    assert verified.returncode == 0 and "replay bit for bit" in verified.stdout


@pytest.mark.parametrize(
    "config, message",
    [({"peeple": 3}, r"unknown evacuation config key\(s\) \['peeple'\]"), ({"people": 0}, "'people' must be 1-400, got 0")],
)
def test_bad_config_is_named(config: dict, message: str) -> None:
    with pytest.raises(TickmindError, match=message):
        build_evacuation(config, 0)
