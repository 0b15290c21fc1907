"""The arena's own orders, beside the framework's core actions: ``engage`` and ``advance``.

An ``attack`` ends when its target dies, which in a firefight is every second or two: a plan
made of attacks keeps an agent on the model's orders only as long as one enemy lives, then
it waits for the model again. ``engage`` is the order a squad leader gives instead, "fight
what you see": the named target first, then the nearest enemy in range, closing in when
out of range, until no enemy is in sight.

``advance`` is "head for our goal" (the ``goal=x,y`` on a line that sees no enemy): the
capture point, then the enemy's ground, as the heuristic would walk it. The model decides
that the squad advances; the game knows where that is. A coordinate the model writes
itself is one a 135M model mostly copies from its prompt's example. An advancing agent
fires on the move at the nearest enemy in range, as an RTS unit on attack-move does: the
enemy coming into view asks the model for new orders, and the model answers seconds later
(a realtime world does not wait), while the heuristic side, asked at the same moment,
fires on the next tick. Walking into fire without shooting back lost the model all ten
swapped games against the heuristic (bench/RESULTS.md §29).

The model decides when to fight, advance, hide, move or hold; the game carries the order
out at 60 Hz, as a squad would.
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from ai import ActionStep, Attack, FieldRole, Perception, register_action

__all__ = ["ENGAGE_ROLES", "Advance", "Engage", "aim"]


@register_action
class Engage(ActionStep):
    act: Literal["engage"] = "engage"
    target: int | None = Field(default=None, description="enemy to fight first (default: the nearest)")
    summary: ClassVar[str] = "fight enemy `target` first (default the nearest), then the others in sight, until none is in sight"

    def focus(self, seen: Perception) -> int:
        """Whom to fight now (0: nobody in sight): the named target while it is in sight,
        else the nearest enemy."""
        if self.target is not None and self.target in seen.enemies:
            return self.target
        return seen.nearest_enemy


@register_action
class Advance(ActionStep):
    act: Literal["advance"] = "advance"
    summary: ClassVar[str] = (
        "head for your side's goal (the goal on your line), then on into the enemy's ground, firing at enemies in range"
    )


#: ``engage``'s target names an enemy the agent was shown.
ENGAGE_ROLES = (FieldRole("engage", "target", "enemy"),)


def aim(step: ActionStep | None, seen: Perception) -> int:
    """Whom an agent's current step shoots at (0: nobody): an attack's target, whom an
    ``engage`` fights now, or the nearest enemy of an ``advance`` (shots check the range)."""
    if isinstance(step, Attack):
        return step.target
    if isinstance(step, Engage):
        return step.focus(seen)
    if isinstance(step, Advance):
        return seen.nearest_enemy
    return 0
