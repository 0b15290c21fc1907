"""What each part of ``ai`` exports, pinned: ``ai`` itself keeps what a game is written
against (at most ~50 names), the internals live in their subpackage's ``__all__``, and a name
that moved still imports from ``ai`` with a warning that names its new place."""

import importlib
import warnings

import pytest

import ai
import ai.execution
import ai.llm
import ai.wire


def test_ai_exports_what_games_are_written_against() -> None:
    assert ai.__all__ == [
        "DEFAULT_ROLES",
        "FULL_TIER",
        "MAX_WAIT_TICKS",
        "MODEL_TIERS",
        "SIMPLE_TIER",
        "ActionStep",
        "Approach",
        "AssignPlan",
        "Attack",
        "BatchExecutor",
        "EntityRef",
        "Faction",
        "FieldRole",
        "GroupOrders",
        "LineOfSight",
        "MapBounds",
        "ModelAnswer",
        "MoveTo",
        "Patrol",
        "Perceivable",
        "Perception",
        "Plan",
        "PlanCache",
        "PlanShare",
        "PlanStatus",
        "Planner",
        "PlannerConfig",
        "PlannerStats",
        "Policies",
        "Policy",
        "Refers",
        "Regroup",
        "Retreat",
        "RetryPolicy",
        "RunMetrics",
        "Salience",
        "Scan",
        "Senses",
        "SnapshotConfig",
        "TakeCover",
        "Tier",
        "TierProfile",
        "Wait",
        "action_names",
        "action_types",
        "install_perception",
        "parse_step",
        "plan_world",
        "planners_of",
        "proximity_squads",
        "register_action",
        "write_summary",
    ]
    assert all(hasattr(ai, name) for name in ai.__all__)


def test_the_execution_exports() -> None:
    assert ai.execution.__all__ == ["BUILTIN_EXECUTORS", "REGROUP_DISTANCE", "SCAN_TICKS", "Executor", "Executors", "StepContext"]


def test_the_model_side_exports() -> None:
    assert ai.llm.__all__ == [
        "AgentPace",
        "BatchExecutor",
        "BatchJob",
        "ExecutorClosed",
        "ExecutorError",
        "JobResult",
        "JobStatus",
        "LatencyStats",
        "QueueFull",
        "RetryPolicy",
        "RunMetrics",
        "StreamCallback",
        "batch_request",
        "batch_shape",
        "probe_parallelism",
        "server_report",
        "write_summary",
        "wire_for",
    ]


def test_the_wire_exports() -> None:
    assert ai.wire.__all__ == [
        "DEFAULT_ROLES",
        "FULL_TIER",
        "MAX_RESPONSE_CHARS",
        "SIMPLE_TIER",
        "WIRES",
        "AgentSnapshot",
        "AgentView",
        "BatchOutcome",
        "FieldRole",
        "MapBounds",
        "PromptBatch",
        "RejectReason",
        "Rejection",
        "Scalar",
        "SeenEntity",
        "SnapshotConfig",
        "StreamingPlans",
        "TierProfile",
        "ValidPlan",
        "Wire",
        "WireUnsupported",
        "action_schema",
        "agent_chars",
        "batch_schema",
        "build_snapshot",
        "decode_lines",
        "encode_batch",
        "lines_grammar",
        "map_line",
        "parse_batch_response",
        "plan_schema",
        "prompt_attrs",
        "profile_for",
        "sanitize_text",
        "system_prompt",
        "validate_plan",
        "view_of",
    ]


@pytest.mark.parametrize("name", sorted(ai._MOVED))
def test_a_moved_name_imports_from_ai_with_a_warning_naming_its_place(name: str) -> None:
    home = importlib.import_module(ai._MOVED[name])
    assert name in home.__all__
    with pytest.warns(DeprecationWarning, match=rf"ai\.{name} has moved: import it from {ai._MOVED[name]}$"):
        value = getattr(ai, name)
    assert value is getattr(home, name)


def test_an_unknown_name_is_an_attribute_error_without_a_warning() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(AttributeError, match="no attribute 'encode_batches'"):
            ai.encode_batches  # noqa: B018
