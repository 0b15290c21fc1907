"""Evacuation: a small non-combat simulation built only from tickmind's public API.

People mill about a two-room floor until an alarm sounds (a journaled input); each then
notices it after a random moment (a system drawing from its seeded stream), walks to the
nearest open exit on nav's paths, pushed around by pymunk bodies, and leaves the building
through it. A warden can close an exit mid-run (another input): whoever was heading there
reroutes, through the doors, to the next one.

    world = build_evacuation({"people": 60}, seed=0)
    world.submit(SoundAlarm(entity=BUILDING), apply_tick=30)
    world.submit(CloseExit(entity=exit_id(world, "west")), apply_tick=300)

``tickmind evacuate`` records a run (``tickmind verify``/``replay``/``resume`` take it).
"""

from . import _sim
from ._cli import command as command
from ._sim import (  # noqa: F401  (re-exported: __all__ below is _sim's own)
    BUILDING,
    Alarm,
    CloseExit,
    Evacuee,
    Exit,
    SoundAlarm,
    build_evacuation,
    choose_exits,
    exit_id,
    leave_building,
    remaining,
)

__all__ = sorted([*_sim.__all__, "command"])
