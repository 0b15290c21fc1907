import ai


def test_ai_exports_exactly_the_public_api() -> None:
    assert ai.__all__ == [
        "ActionStep", "Approach", "AssignPlan", "Attack", "BatchExecutor", "BatchJob",
        "ExecutorClosed", "ExecutorError", "Faction", "JobResult", "JobStatus", "LatencyStats",
        "LineOfSight", "MoveTo", "Patrol", "Perceivable", "Perception", "Plan", "PlanStatus",
        "QueueFull", "Regroup", "Retreat", "RetryPolicy", "Scan", "Senses", "StreamCallback",
        "TakeCover", "Tier", "Wait", "action_names", "action_types", "install_perception",
        "parse_step", "register_action",
    ]
    assert all(hasattr(ai, name) for name in ai.__all__)
