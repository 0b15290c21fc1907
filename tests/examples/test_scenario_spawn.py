"""Spawn placement and scaling: every agent inside its zone, clear of obstacles and of each other."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial import cKDTree

from examples.arena import (
    DEFAULT_SCENARIO,
    MAX_AGENTS,
    Scenario,
    ScenarioError,
    load_scenario,
    scale_agents,
    spawn_positions,
)


@pytest.fixture(scope="module")
def default() -> Scenario:
    return load_scenario(DEFAULT_SCENARIO)


def place(scenario: Scenario, seed: int) -> list[tuple[int, float, float]]:
    return spawn_positions(scenario, np.random.default_rng(seed))


def assert_sound(scenario: Scenario, starts: list[tuple[int, float, float]]) -> None:
    """The placement contract, checked with plain geometry independent of the slot grid."""
    assert len(starts) == scenario.agent_count
    teams = np.array([t for t, _, _ in starts])
    xy = np.array([(x, y) for _, x, y in starts])
    r = np.array([scenario.team_stats(int(t)).radius for t in teams])

    # team order, then each team's zones in file order, count by count
    zone_of = [
        zone for t in range(len(scenario.teams)) for zone in scenario.spawns_for(t) for _ in range(zone.count)
    ]
    assert teams.tolist() == [[z.name for z in scenario.teams].index(zone.team) for zone in zone_of]
    lo = np.array([(z.x, z.y) for z in zone_of])
    hi = np.array([(z.right, z.top) for z in zone_of])
    assert np.all(xy - r[:, None] >= lo) and np.all(xy + r[:, None] <= hi), "a body sticks out of its zone"

    for box in scenario.obstacles:
        dx = np.maximum.reduce([box.x - xy[:, 0], np.zeros(len(xy)), xy[:, 0] - box.right])
        dy = np.maximum.reduce([box.y - xy[:, 1], np.zeros(len(xy)), xy[:, 1] - box.top])
        assert np.all(np.hypot(dx, dy) >= r), f"a body touches obstacle {box.label()}"

    pairs = cKDTree(xy).query_pairs(2 * r.max(), output_type="ndarray")
    if len(pairs):
        gaps = np.linalg.norm(xy[pairs[:, 0]] - xy[pairs[:, 1]], axis=1) - r[pairs[:, 0]] - r[pairs[:, 1]]
        assert gaps.min() > 0, "two bodies overlap"


def test_default_spawns_are_sound_and_split_by_team(default: Scenario) -> None:
    starts = place(default, 7)
    assert_sound(default, starts)
    assert [t for t, _, _ in starts] == [0] * 50 + [1] * 50


def test_spawns_repeat_for_a_seed_and_change_with_it(default: Scenario) -> None:
    assert place(default, 7) == place(default, 7)
    assert place(default, 7) != place(default, 8)
    a, b = np.array(place(default, 7)), np.array(place(default, 8))
    assert np.mean(np.any(a != b, axis=1)) > 0.9  # not one agent moved: the whole layout


def test_spawns_use_the_callers_generator_only(default: Scenario) -> None:
    rng = np.random.default_rng(3)
    first = spawn_positions(default, rng)
    assert spawn_positions(default, rng) != first  # the generator advanced: no hidden reseeding


def test_spawns_avoid_cover_inside_a_zone(default: Scenario) -> None:
    data = default.model_dump()
    red = data["spawns"][0]
    data["cover"] = [*data["cover"], {"x": red["x"] + 2, "y": red["y"] + 2, "w": 3.0, "h": 5.0}]
    data["spawns"][0]["count"] = 80
    crowded = Scenario.model_validate(data)
    for seed in range(5):
        assert_sound(crowded, place(crowded, seed))


@pytest.mark.parametrize("agents", [1_000, 10_000])
def test_scaled_default_is_valid_and_fair(default: Scenario, agents: int) -> None:
    scaled = scale_agents(default, agents)
    assert scaled.agent_count == agents
    assert scaled.team_counts == (agents // 2, agents // 2)
    assert scaled.map.width > default.map.width  # the zones could not hold them otherwise
    assert scaled.map.width / scaled.map.height == pytest.approx(default.map.width / default.map.height)
    mid = scaled.map.width / 2
    assert sorted((round(2 * mid - w.right, 6), round(w.y, 6)) for w in scaled.walls) == sorted(
        (round(w.x, 6), round(w.y, 6)) for w in scaled.walls
    ), "scaling broke the mirror symmetry"
    assert scaled.sim.time_limit > default.sim.time_limit
    assert scaled.team_stats(0) == default.team_stats(0)
    assert_sound(scaled, place(scaled, 1))


def test_every_agent_count_scales_to_a_valid_map(default: Scenario) -> None:
    """Walls that end at the map's edge must still end there once scaled: x + w and the
    width are scaled separately and can round apart (1 in 14 counts from 100 to 2,000 failed
    with "outside the map", 300 among them)."""
    assert any(w.top == default.map.height for w in default.walls), "walls along the top edge"
    for agents in range(100, 2001, 7):
        scaled = scale_agents(default, agents)
        assert scaled.agent_count == agents
        assert max(w.top for w in scaled.walls) <= scaled.map.height


def test_scaling_within_room_keeps_the_map(default: Scenario) -> None:
    for agents in (2, 7, 100, 120):
        scaled = scale_agents(default, agents)
        assert scaled.map == default.map and scaled.walls == default.walls
        assert scaled.agent_count == agents
        assert abs(scaled.team_counts[0] - scaled.team_counts[1]) <= 1


def test_scaling_shares_agents_in_proportion(default: Scenario) -> None:
    data = default.model_dump()
    data["spawns"][0]["count"], data["spawns"][1]["count"] = 10, 90
    lopsided = Scenario.model_validate(data)
    assert scale_agents(lopsided, 1000).team_counts == (100, 900)
    assert scale_agents(lopsided, 3).team_counts == (1, 2)  # every zone keeps one agent


@pytest.mark.parametrize("agents", [1, 0, -5, MAX_AGENTS + 1, 2.5, True])
def test_scaling_rejects_impossible_counts(default: Scenario, agents: int) -> None:
    with pytest.raises(ScenarioError, match=r"default\.toml scaled to .* agents: agents: must be a whole number"):
        scale_agents(default, agents)


def test_scaling_that_would_outgrow_every_limit_is_a_scenario_error(default: Scenario) -> None:
    data = default.model_dump()
    data["map"].update(width=600_000.0, cell_size=50.0)
    wide = Scenario.model_validate(data)
    with pytest.raises(ScenarioError, match=r"scaled to 10000 agents: map: .*grow the map past"):
        scale_agents(wide, 10_000)
