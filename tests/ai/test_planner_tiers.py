"""What a planner's model tiers offer: ``PlannerConfig.llm_tiers`` takes a ``Tier`` (the
library profile, every registered action) or a ``TierProfile`` naming the actions a game
executes; validation refuses an action a tier did not offer and says so."""

from dataclasses import replace

import pytest

from ai import FULL_TIER, SIMPLE_TIER, PlannerConfig, Tier, TierProfile
from ai.wire import AgentSnapshot, MapBounds, Rejection, RejectReason, validate_plan
from engine import TickmindError

ONLY_MOVING = replace(FULL_TIER, actions=("move_to", "wait"))
AGENT = AgentSnapshot(1, 0, 0, 10.0, 10.0, MapBounds(0, 0, 80, 50), allowed=("move_to", "scan"))


def test_a_profile_in_llm_tiers_is_what_that_tier_offers() -> None:
    config = PlannerConfig(llm_tiers=(ONLY_MOVING, Tier.SIMPLE_LLM))
    assert config.tier_order == (Tier.LLM, Tier.SIMPLE_LLM)
    assert config.profile(Tier.LLM) is ONLY_MOVING
    assert config.profile(Tier.SIMPLE_LLM) is SIMPLE_TIER
    assert PlannerConfig().profile(Tier.LLM) is FULL_TIER


def test_a_tier_given_twice_is_refused_even_as_a_profile() -> None:
    with pytest.raises(TickmindError, match="llm_tiers takes distinct tiers"):
        PlannerConfig(llm_tiers=(Tier.LLM, ONLY_MOVING))


def test_a_profile_naming_an_unregistered_action_is_refused_when_configured() -> None:
    with pytest.raises(TickmindError, match=r"unregistered action\(s\) \['fly'\]"):
        PlannerConfig(llm_tiers=(TierProfile(Tier.LLM, actions=("move_to", "fly")),))


def test_refusals_say_whether_the_tier_or_the_game_ruled_the_action_out() -> None:
    not_offered = validate_plan([{"act": "scan"}], AGENT, tier=ONLY_MOVING)
    not_allowed = validate_plan([{"act": "wait", "ticks": 5}], AGENT, tier=ONLY_MOVING)
    assert isinstance(not_offered, Rejection) and isinstance(not_allowed, Rejection)
    assert not_offered.reason_code is not_allowed.reason_code is RejectReason.ACTION_NOT_ALLOWED
    assert not_offered.detail == "step 1: action 'scan' is not offered by tier llm"
    assert not_allowed.detail == "step 1: action 'wait' is not allowed for this agent"
    assert not isinstance(validate_plan([{"act": "scan"}], AGENT), Rejection), "the library tier offers scan"
