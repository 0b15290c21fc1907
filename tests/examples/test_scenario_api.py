import examples.arena as arena
from engine import TickmindError


def test_arena_exports_exactly_the_scenario_api() -> None:
    assert arena.__all__ == [
        "ARENA_POLICIES", "DEFAULT_SCENARIO", "MAX_AGENTS", "MAX_CELLS", "AgentStats", "ArenaBounds",
        "ArenaOutcome", "ArenaScore", "Box", "Health", "MapSpec", "Objective", "Objectives",
        "Problem", "Scenario", "ScenarioError", "SimSettings", "SpawnZone", "Team", "Weapon",
        "Wounded", "arena_salient", "arena_scenario", "arena_snapshots", "arena_tiers", "build_arena", "emergency_plan", "heuristic_plan",
        "load_scenario", "parse_scenario", "register_executor", "scale_agents", "spawn_positions",
    ]
    for name in arena.__all__:
        assert hasattr(arena, name), name


def test_scenario_error_is_a_tickmind_error() -> None:
    assert issubclass(arena.ScenarioError, TickmindError)


def test_every_scenario_field_is_documented() -> None:
    # users write their own scenario files from these descriptions (model_json_schema)
    models = [arena.Scenario, arena.MapSpec, arena.SimSettings, arena.AgentStats, arena.Team,
              arena.SpawnZone, arena.Box, arena.Objective]
    undocumented = [
        f"{model.__name__}.{name}"
        for model in models
        for name, field in model.model_fields.items()
        if not field.description
    ]
    assert undocumented == []
