"""``engage``: the arena's standing order to fight, and the one action the arena adds to the
framework's core set.

An ``attack`` ends when its target dies, which in a firefight is every second or two: a plan
made of attacks keeps an agent on the model's orders only as long as one enemy lives, then
it waits for the model again. ``engage`` is the order a squad leader gives instead, "fight
what you see": shoot the nearest enemy in range, close in on it when out of range, until
no enemy is in sight. The model decides when to fight, hide, move or hold; the game carries
the fight out at 60 Hz, as a squad would.
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from ai import ActionStep, Attack, FieldRole, Perception, register_action

__all__ = ["ENGAGE_ROLES", "Engage", "aim"]


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


#: ``engage``'s target names an enemy the agent was shown.
ENGAGE_ROLES = (FieldRole("engage", "target", "enemy"),)


def aim(step: ActionStep | None, seen: Perception) -> int:
    """Whom an agent's current step shoots at (0: nobody): an attack's target, or whom an
    ``engage`` fights now."""
    if isinstance(step, Attack):
        return step.target
    if isinstance(step, Engage):
        return step.focus(seen)
    return 0
