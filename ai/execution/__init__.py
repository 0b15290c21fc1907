"""Carrying plans out: the executor table (step type -> system code) and the framework's
executors for the core actions that need no game rules, on nav.

    executors = BUILTIN_EXECUTORS.copy()
    executors.register(Forage, forage)            # forage(step_ctx, step), once a tick
    world.add_system(executors.system(), stage="ai", name="execute_steps", after=["planner"])

An executor reads the world, moves the agent with ``step_ctx.go(x, y)`` (``nav.go_to``:
safe when a plan is replaced mid-walk) and ends its step with ``plan.advance`` or
``plan.fail(reason)``; the reason is on the agent's next prompt line.
"""

from ._builtin import BUILTIN_EXECUTORS, REGROUP_DISTANCE, SCAN_TICKS
from ._table import Executor, Executors, StepContext

__all__ = ["BUILTIN_EXECUTORS", "REGROUP_DISTANCE", "SCAN_TICKS", "Executor", "Executors", "StepContext"]
