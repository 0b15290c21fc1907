"""The shipped 10,000-agent scenario loads, spawns every agent and runs (and replays)."""

from __future__ import annotations

from importlib.resources import as_file, files
from pathlib import Path

import numpy as np
import pytest

from ai import Faction
from engine import Position, start_run, verify
from examples.arena import MAX_CELLS, build_arena, load_scenario

BATTLE = files("examples.arena.scenarios") / "battle_10k.toml"


def test_the_10k_scenario_loads_with_room_for_everyone() -> None:
    scenario = load_scenario(BATTLE)
    assert scenario.agent_count == 10_000 and scenario.team_counts == (5000, 5000)
    columns, rows = scenario.map.grid_shape
    assert columns * rows <= MAX_CELLS


def test_the_10k_scenario_spawns_every_agent_in_its_zone_and_ticks() -> None:
    with as_file(BATTLE) as path:
        world = build_arena({"scenario": str(path)}, 0)
    scenario = load_scenario(BATTLE)
    agents = world.get_components(Position, Faction)
    assert len(agents) == 10_000
    for team, zone in enumerate(scenario.spawns):
        xy = np.array([(p.x, p.y) for _, (p, f) in agents if f.team == team])
        assert len(xy) == 5000
        assert (xy[:, 0] > zone.x).all() and (xy[:, 0] < zone.right).all()
        assert (xy[:, 1] > zone.y).all() and (xy[:, 1] < zone.top).all()
        assert len(np.unique(xy, axis=0)) == 5000
    world.run(2)
    assert len(world.get_component(Faction)) == 10_000
    world.close()


@pytest.mark.slow
def test_a_recorded_10k_run_verifies(tmp_path: Path) -> None:
    with as_file(BATTLE) as path, start_run(build_arena, {"scenario": str(path)}, 1, tmp_path / "run") as run:
        run.world.run(5)
    report = verify(tmp_path / "run")
    assert report.ok and report.ticks_checked == 5, report.format()
