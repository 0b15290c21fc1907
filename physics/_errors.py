"""Physics errors, grafted onto the engine's one exception tree.

    TickmindError                      (engine)
    ├── ComponentError                 (engine)
    │   └── ShapeError                 a Body or Wall with values pymunk cannot simulate
    └── PhysicsError                   misuse of the bridge: installed twice, a Body without a
        └── ShapeError                 Position, a non-finite DesiredVelocity, an unknown entity

``ShapeError`` is both: callers that catch component mistakes and callers that catch physics
mistakes each see it. Every message names the entity or field and the fix.
"""

from __future__ import annotations

from engine import ComponentError, TickmindError

__all__ = ["PhysicsError", "ShapeError"]


class PhysicsError(TickmindError):
    """The physics bridge was used in a way it cannot simulate deterministically."""


class ShapeError(PhysicsError, ComponentError):
    """A Body, Wall or PhysicsSettings value out of range (non-finite, negative, inverted box)."""
