"""The arena example: two teams of LLM-planned agents fighting over a map of walls and cover.

The scenario format is a TOML (or JSON) file describing the map, walls, cover, teams, spawn
zones, agent stats and simulation settings, validated whole at load so a mistake is reported
by file, field and reason before any world is built. ``build_arena(config, seed)`` is the run
factory; the combat rules, step executors and heuristic controller are the game's own.

    scenario = load_scenario(DEFAULT_SCENARIO)          # or any .toml / .json path
    scenario = scale_agents(scenario, 1000)             # tickmind arena --agents 1000
    starts = spawn_positions(scenario, world.rng)       # [(team_index, x, y), ...]
"""

from ._combat import ArenaScore, Health, Weapon, Wounded
from ._errors import Problem, ScenarioError
from ._execution import ArenaBounds, register_executor
from ._geometry import Box
from ._heuristic import ARENA_POLICIES, Objectives, arena_salient, emergency_plan, heuristic_plan
from ._loading import load_scenario, parse_scenario
from ._scaling import scale_agents
from ._scenario import AgentStats, MapSpec, Objective, Scenario, SimSettings, SpawnZone, Team
from ._scenario_base import MAX_AGENTS, MAX_CELLS
from ._spawning import spawn_positions
from ._world import ArenaOutcome, arena_scenario, arena_snapshots, arena_tiers, build_arena
from .scenarios import DEFAULT_SCENARIO

__all__ = [
    "ARENA_POLICIES",
    "DEFAULT_SCENARIO",
    "MAX_AGENTS",
    "MAX_CELLS",
    "AgentStats",
    "ArenaBounds",
    "ArenaOutcome",
    "ArenaScore",
    "Box",
    "Health",
    "MapSpec",
    "Objective",
    "Objectives",
    "Problem",
    "Scenario",
    "ScenarioError",
    "SimSettings",
    "SpawnZone",
    "Team",
    "Weapon",
    "Wounded",
    "arena_salient",
    "arena_scenario",
    "arena_snapshots",
    "arena_tiers",
    "build_arena",
    "emergency_plan",
    "heuristic_plan",
    "load_scenario",
    "parse_scenario",
    "register_executor",
    "scale_agents",
    "spawn_positions",
]
