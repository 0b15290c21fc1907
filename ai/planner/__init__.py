"""The planner system in parts: due detection, planning units and group orders, the exact
plan cache, model requests, delivery (lockstep or realtime), the instant tiers and the journal.
Users write against :class:`Planner`, :class:`PlannerConfig`, :class:`Policies` and
:class:`GroupOrders`; the parts are importable for tests and for planners of one's own."""

from ._cache import PlanCache
from ._config import PlannerConfig, PlannerStats, Policies, Policy, Salience
from ._delivery import Delivery, LockstepDelivery, RealtimeDelivery
from ._due import Due, DueAgents, Planned
from ._groups import Grouping, GroupOrders, MemberOrders, Unit, proximity_squads
from ._journal import PlanJournal
from ._ladder import InstantTiers
from ._planner import ModelLink, Planner, planners_of
from ._requests import ModelJob, ModelRequests
from ._world_planning import plan_world, world_tiers

__all__ = [
    "Delivery",
    "Due",
    "DueAgents",
    "GroupOrders",
    "Grouping",
    "InstantTiers",
    "LockstepDelivery",
    "MemberOrders",
    "ModelJob",
    "ModelLink",
    "ModelRequests",
    "PlanCache",
    "PlanJournal",
    "Planned",
    "Planner",
    "PlannerConfig",
    "PlannerStats",
    "Policies",
    "Policy",
    "RealtimeDelivery",
    "Salience",
    "Unit",
    "plan_world",
    "planners_of",
    "proximity_squads",
    "world_tiers",
]
