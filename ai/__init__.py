"""tickmind's AI layer: the ActionStep schema, plans in the world, perception, planning.

``ai`` exports what a game is written against. The parts below it have their own
``__all__``: :mod:`ai.wire` (what the model is shown and how its answer is read: snapshots,
views, prompt, schema, the two wires, validation), :mod:`ai.llm` (the threaded model side:
executor, jobs, pacing, streaming, metrics), :mod:`ai.clients`, :mod:`ai.serving`,
:mod:`ai.perception` and :mod:`ai.planner`.
"""

import importlib
import warnings

from ._actions import (
    MAX_WAIT_TICKS,
    ActionStep,
    Approach,
    Attack,
    EntityRef,
    MoveTo,
    Patrol,
    Refers,
    Regroup,
    Retreat,
    Scan,
    TakeCover,
    Wait,
    action_names,
    action_types,
    parse_step,
    register_action,
)
from ._plan import AssignPlan, ModelAnswer, Plan, PlanStatus, Tier
from ._share import MODEL_TIERS, PlanShare
from .llm import BatchExecutor, RetryPolicy, RunMetrics, write_summary
from .perception import Faction, LineOfSight, Perceivable, Perception, Senses, install_perception
from .planner import (
    GroupOrders,
    PlanCache,
    Planner,
    PlannerConfig,
    PlannerStats,
    Policies,
    Policy,
    Salience,
    plan_world,
    planners_of,
    proximity_squads,
)
from .wire import DEFAULT_ROLES, FULL_TIER, SIMPLE_TIER, FieldRole, MapBounds, SnapshotConfig, TierProfile

__all__ = [
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

#: Names that belong to ``ai``'s subpackages and also import from ``ai`` itself, each with
#: the module it belongs to: ``from ai import X`` warns, naming that module.
_MOVED = {
    **dict.fromkeys(
        ("AgentPace", "BatchJob", "ExecutorClosed", "ExecutorError", "JobResult", "JobStatus", "LatencyStats",
         "QueueFull", "StreamCallback", "batch_request", "batch_shape", "probe_parallelism",
         "wire_for"),
        "ai.llm",
    ),
    **dict.fromkeys(
        ("MAX_RESPONSE_CHARS", "WIRES", "AgentSnapshot", "AgentView", "BatchOutcome", "PromptBatch", "RejectReason",
         "Rejection", "SeenEntity", "StreamingPlans", "ValidPlan", "Wire", "WireUnsupported", "action_schema", "agent_chars",
         "batch_schema", "build_snapshot", "decode_lines", "encode_batch", "lines_grammar", "parse_batch_response",
         "plan_schema", "profile_for", "sanitize_text", "system_prompt", "validate_plan", "view_of"),
        "ai.wire",
    ),
}


def __getattr__(name: str) -> object:
    home = _MOVED.get(name)
    if home is None:
        raise AttributeError(f"module 'ai' has no attribute {name!r}")
    warnings.warn(f"ai.{name} has moved: import it from {home}", DeprecationWarning, stacklevel=2)
    return getattr(importlib.import_module(home), name)
