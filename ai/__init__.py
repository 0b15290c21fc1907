"""tickmind's AI layer: the ActionStep schema, plans in the world, perception, planning."""

from ._actions import (
    ActionStep,
    Approach,
    Attack,
    MoveTo,
    Patrol,
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
from ._plan import AssignPlan, Plan, PlanStatus, Tier

__all__ = [
    "ActionStep",
    "Approach",
    "AssignPlan",
    "Attack",
    "MoveTo",
    "Patrol",
    "Plan",
    "PlanStatus",
    "Regroup",
    "Retreat",
    "Scan",
    "TakeCover",
    "Tier",
    "Wait",
    "action_names",
    "action_types",
    "parse_step",
    "register_action",
]
