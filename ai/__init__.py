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
from ._perception import Faction, Perceivable, Perception, Senses
from ._perception_kernel import LineOfSight
from ._perception_system import install_perception
from ._plan import AssignPlan, Plan, PlanStatus, Tier

__all__ = [
    "ActionStep",
    "Approach",
    "AssignPlan",
    "Attack",
    "Faction",
    "LineOfSight",
    "MoveTo",
    "Patrol",
    "Perceivable",
    "Perception",
    "Plan",
    "PlanStatus",
    "Regroup",
    "Retreat",
    "Scan",
    "Senses",
    "TakeCover",
    "Tier",
    "Wait",
    "action_names",
    "action_types",
    "install_perception",
    "parse_step",
    "register_action",
]
