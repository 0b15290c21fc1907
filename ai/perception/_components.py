"""The vocabulary of perception: who is on which side, who can see, what is worth seeing, and
what each agent saw.

Why components and not a side table: an agent's ``Perception`` is world state. The AI builds
its snapshot (prompt) from it and validates model output against it ("may agent 5 target
entity 17?"), so it must be hashed and replayed like everything else. The system that
fills it in lives in ``_perception_system``; the array rules in ``_perception_kernel``.

Who takes part:

* an **agent** is an entity with ``engine.Position`` and ``Faction``; agents are what others
  see as enemies (another team) or allies (the same team);
* a **perceiver** is an agent that also has ``Senses``; it gets a ``Perception``;
* an **object** is an entity with ``engine.Position`` and ``Perceivable`` (cover, pickups).
  An entity with both ``Faction`` and ``Perceivable`` is listed as both.
"""

from __future__ import annotations

import math
from bisect import bisect_left

from engine import ComponentError, component

__all__ = ["Faction", "Perceivable", "Perception", "Senses"]


@component
class Faction:
    """The side an agent fights on: equal ``team`` means ally, any other means enemy."""

    team: int


@component
class Senses:
    """How far and how wide an agent sees.

    ``range`` in metres (inclusive). ``fov_deg`` is the full width of the view cone, centred
    on the agent's heading: the direction of its ``engine.Velocity``. Keeping the heading in
    the velocity spares a component that physics would have to keep in step; the price is
    that an agent standing still (zero or no Velocity) sees all round, whatever its
    ``fov_deg`` (it is looking about). 360 (the default) always sees all round. A view cone
    makes perception one-sided: A can see B's back while B cannot see A.
    """

    range: float
    fov_deg: float = 360.0

    def __post_init__(self) -> None:
        check_senses(self.range, self.fov_deg, "Senses")


def check_senses(range_m: float, fov_deg: float, where: str) -> None:
    """Refuse a range or view cone the rules cannot mean (shared with the system's check)."""
    if not (math.isfinite(range_m) and range_m >= 0.0):
        raise ComponentError(f"{where}.range must be a finite number of metres >= 0, got {range_m!r}")
    if not (0.0 < fov_deg <= 360.0):
        raise ComponentError(
            f"{where}.fov_deg must be in (0, 360] degrees (360 = all round), got {fov_deg!r}"
        )


@component
class Perceivable:
    """Marks a non-agent entity that perceivers should notice.

    ``kind`` says what it is ("cover", "medkit") for the prompt; perception does not read it.
    ``radius`` (metres) is the object's half-size for line of sight: the sight line ends
    ``radius`` short of the position, on the viewer's side. A crate that itself blocks sight
    needs it, or no ray could reach its centre: for a box of w x h on a grid of cell size c,
    ``hypot(w / 2 + c, h / 2 + c)`` clears every cell the box touches. Range is still
    measured to the position.
    """

    kind: str
    radius: float = 0.0

    def __post_init__(self) -> None:
        if not (math.isfinite(self.radius) and self.radius >= 0.0):
            raise ComponentError(
                f"Perceivable.radius must be a finite number of metres >= 0, got {self.radius!r}"
            )


@component(columns=True)
class Perception:
    """What one perceiver saw when it was last refreshed; written only by the perception
    system (``install_perception``).

    Stored in columns (``World.columns(Perception)``, lists through ``get_lists``): the
    system writes every due perceiver's lists in one pass and the hash reads them the same
    way. Reading a list of one agent gives a tuple, built on the first read after the list
    changed and kept until it changes again.

    Entity ids, compact and hash-friendly:

    * ``visible``: every visible agent, ascending id (``sees`` bisects it);
    * ``enemies`` / ``allies``: the visible agents of another / the same team, nearest
      first, ties by ascending id (distance compared exactly, as squared float64);
    * ``objects``: visible ``Perceivable`` entities, nearest first, ties by id.

    ``tick`` is when this was computed: with staggered updates (``every > 1``) a perception
    can be up to ``every - 1`` ticks old. A deleted entity is removed from every perception
    at once, stale or not, so no perception ever names an entity that does not exist.
    """

    tick: int
    visible: tuple[int, ...] = ()
    enemies: tuple[int, ...] = ()
    allies: tuple[int, ...] = ()
    objects: tuple[int, ...] = ()

    @property
    def nearest_enemy(self) -> int:
        """The closest visible enemy, or 0 when none is visible (entity ids start at 1)."""
        return self.enemies[0] if self.enemies else 0

    @property
    def nearest_ally(self) -> int:
        """The closest visible ally, or 0 when none is visible."""
        return self.allies[0] if self.allies else 0

    def sees(self, entity: int) -> bool:
        """Whether ``entity`` (agent or object) is visible: the question output validation
        asks before letting a plan target it."""
        visible = self.visible
        i = bisect_left(visible, entity)
        return (i < len(visible) and visible[i] == entity) or entity in self.objects

    def forget(self, entity: int) -> None:
        """Drop ``entity`` from every list (it was deleted)."""
        for name in _LISTS:
            listed: tuple[int, ...] = getattr(self, name)
            if entity in listed:
                setattr(self, name, tuple(e for e in listed if e != entity))


_LISTS = ("visible", "enemies", "allies", "objects")
