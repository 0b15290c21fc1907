"""The per-batch JSON schema: constrained decoding for exactly this batch's agents.

A generic ``{"plans": [...]}`` schema lets a model write valid JSON that is useless: ids of
agents it was not asked about, targets it cannot see, points off the map. Measured with a
135M model, a generic schema gave 0% usable plans and a tight one 100%. So each request gets
a schema built from its own snapshots:

* ``plans`` is a tuple (``prefixItems``) of exactly one entry per agent, in the prompt's
  order, each with ``agent_id`` as a ``const`` (``minItems == maxItems == k``). There is no
  ``"items": false``: llama.cpp's converter lets ``items`` override ``prefixItems``.
* ``steps`` holds 1..``max_steps`` steps; a step is ``anyOf`` the actions this agent is
  offered (:func:`ai.wire._view.view_of`), each ``act`` a ``const`` (so at most one branch can
  match), ``additionalProperties: false`` and every field ``required`` — optional fields
  take ``null`` — so the grammar has no optional parts to wander through.
* Fields with a :class:`~ai.FieldRole` are tightened: id fields become an ``enum`` of the
  ids listed on the agent's line (plus ``null`` when optional); coordinates get the map's
  ``minimum``/``maximum`` (whole metres by default, see ``TierProfile.integer_coords``).
  Every other field keeps the action's own pydantic schema, which is all a user-registered
  action gets unless the game gives it roles.

The output is plain JSON-ready dicts with a deterministic key order, so the same batch gives
the same bytes (and the same compiled grammar on servers that cache it).
"""

from __future__ import annotations

import copy
import math
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from engine import TickmindError

from .._actions import ActionStep, action_types
from .._plan import Tier
from ._snapshot import AgentSnapshot, FieldRole, MapBounds
from ._view import AgentView, TierProfile, check_batch, profile_for, view_of

__all__ = ["action_schema", "batch_schema", "plan_schema"]

_DROP_KEYS = frozenset({"title", "default", "description", "examples", "$defs"})


def batch_schema(
    snapshots: Sequence[AgentSnapshot],
    *,
    max_steps: int | None = None,
    tier: Tier | TierProfile = Tier.LLM,
) -> dict[str, Any]:
    """The schema of the answer planning for ``snapshots``, in this order.

    ``max_steps`` defaults to the tier's. Raises ``TickmindError`` for a batch
    :func:`~ai.wire._view.check_batch` refuses, or an agent with no action it could take (check
    ``view_of(snapshot, tier).actions`` first and plan such agents with another tier).
    """
    check_batch(snapshots)
    profile = profile_for(tier)
    steps = profile.max_steps if max_steps is None else max_steps
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise TickmindError(f"max_steps must be a positive int, got {max_steps!r}")
    entries = [plan_schema(view_of(s, profile), max_steps=steps) for s in snapshots]
    return {
        "type": "object",
        "properties": {
            "plans": {"type": "array", "prefixItems": entries, "minItems": len(entries), "maxItems": len(entries)}
        },
        "required": ["plans"],
        "additionalProperties": False,
    }


def plan_schema(view: AgentView, *, max_steps: int) -> dict[str, Any]:
    """One agent's ``{"agent_id": ID, "steps": [...]}`` entry."""
    if not view.actions:
        raise TickmindError(
            f"agent {view.agent_id} has no action it can take in tier {view.profile.tier.value} "
            "(allowed actions all need a target it does not see); plan it with another tier"
        )
    options = [action_schema(name, view) for name in view.actions]
    step = options[0] if len(options) == 1 else {"anyOf": options}
    return {
        "type": "object",
        "properties": {
            "agent_id": {"const": view.agent_id},
            "steps": {"type": "array", "items": step, "minItems": 1, "maxItems": max_steps},
        },
        "required": ["agent_id", "steps"],
        "additionalProperties": False,
    }


def action_schema(name: str, view: AgentView) -> dict[str, Any]:
    """The schema of one step of action ``name`` for the agent ``view`` shows."""
    schema = copy.deepcopy(_base_schema(action_types()[name]))
    properties: dict[str, Any] = schema["properties"]
    for role in view.snapshot.roles_for(name):
        if role.field not in properties:
            raise TickmindError(f"FieldRole names {name}.{role.field}, which action {name!r} does not have")
        properties[role.field] = _tightened(role, view, properties[role.field])
    return schema


@lru_cache(maxsize=256)
def _base_schema(cls: type[ActionStep]) -> dict[str, Any]:
    """The action's pydantic schema, cleaned: ``$ref`` inlined, titles/defaults/descriptions
    dropped (they only lengthen the grammar), ``act`` a bare ``const`` listed first, every
    field required and nothing else allowed. Cached per class; callers copy before editing."""
    raw = cls.model_json_schema()
    defs = raw.get("$defs", {})
    cleaned = _clean(raw, defs, depth=0)
    properties = cleaned.get("properties", {})
    act = properties.pop("act", {})
    properties = {"act": {"const": act.get("const")}, **properties}
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties),
        "additionalProperties": False,
    }


def _clean(node: Any, defs: dict[str, Any], depth: int, *, names: bool = False) -> Any:
    """Inline ``$ref``s and drop annotation keys; ``names`` marks a ``properties`` map, whose
    keys are field names (a field may well be called ``title``) and are all kept."""
    if depth > 32:
        raise TickmindError("an action's schema nests too deeply (recursive model?); flatten its fields")
    if isinstance(node, list):
        return [_clean(item, defs, depth + 1) for item in node]
    if not isinstance(node, dict):
        return node
    if names:
        return {key: _clean(value, defs, depth + 1) for key, value in node.items()}
    if "$ref" in node:
        return _clean(defs[node["$ref"].rsplit("/", 1)[-1]], defs, depth + 1)
    return {
        key: _clean(value, defs, depth + 1, names=key in ("properties", "patternProperties"))
        for key, value in node.items()
        if key not in _DROP_KEYS
    }


def _tightened(role: FieldRole, view: AgentView, spec: dict[str, Any]) -> dict[str, Any]:
    """``spec`` (the field's own schema) narrowed to what ``role`` allows this agent."""
    bounds = view.snapshot.bounds
    integer = view.profile.integer_coords
    if role.role == "x":
        return _coordinate(bounds.x_min, bounds.x_max, integer)
    if role.role == "y":
        return _coordinate(bounds.y_min, bounds.y_max, integer)
    if role.role == "point":
        return _point(bounds, integer)
    if role.role == "points":  # keep the field's own length limits (Patrol: 1..8)
        limits: dict[str, Any] = {key: spec[key] for key in ("minItems", "maxItems") if key in spec}
        return {"type": "array", "items": _point(bounds, integer), **limits}
    ids: list[int | None] = list(view.ids_for(role))
    if _allows_null(spec):
        return {"enum": [*ids, None]} if ids else {"type": "null"}
    return {"enum": ids}


def _allows_null(spec: dict[str, Any]) -> bool:
    return spec.get("type") == "null" or any(_allows_null(option) for option in spec.get("anyOf", ()))


def _coordinate(low: float, high: float, integer: bool) -> dict[str, Any]:
    if integer and math.ceil(low) <= math.floor(high):
        return {"type": "integer", "minimum": math.ceil(low), "maximum": math.floor(high)}
    return {"type": "number", "minimum": low, "maximum": high}


def _point(bounds: MapBounds, integer: bool) -> dict[str, Any]:
    return {
        "type": "array",
        "prefixItems": [
            _coordinate(bounds.x_min, bounds.x_max, integer),
            _coordinate(bounds.y_min, bounds.y_max, integer),
        ],
        "minItems": 2,
        "maxItems": 2,
    }
