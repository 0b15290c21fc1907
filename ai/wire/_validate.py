"""Parsing and validating a model's answer: untrusted text in, one verdict per agent out.

Model output is untrusted. :func:`parse_batch_response` never raises on the text — bytes,
broken UTF-8, prose around the JSON, code fences, a bare list instead of ``{"plans": [...]}``,
an answer cut off mid-way, 10,000 steps, JSON nested past the recursion limit, numbers with
5,000 digits or ``NaN`` — and returns a :class:`BatchOutcome` with exactly one result per
expected agent, in the batch's order:

* :class:`ValidPlan` — every step parsed into its registered ``ActionStep`` and checked
  against the agent's own snapshot, as the tier showed it (:func:`ai.wire._view.view_of`): the
  action is offered to this agent (by the tier's profile and the game's ``allowed``: the
  set the prompt lists and the schema or grammar admits), id fields name entities listed
  on its line, coordinates lie on the map, the plan has 1..``max_steps`` steps;
* :class:`Rejection` — the agent falls to the next tier, with one :class:`RejectReason` and a
  short detail. One bad step rejects the agent's whole plan: a world never gets half a plan.

Validation accepts every answer the per-batch schema admits, and a little more that means
the same (a model without a grammar may write it): plans out of order, ids spelled ``"A17"``,
fractional coordinates, omitted optional fields. It never accepts less than the snapshot
allows nor more than it shows.

Agents are judged independently: one bad or missing entry never costs another agent its
plan. An agent answered twice is rejected (both entries), never silently overwritten by
whichever came last. Entries for agents outside the batch are ignored and counted as
``foreign_id``. Because validation reads only the snapshots taken at submission, the verdict
is the same whenever the answer arrives — the planner may apply it at any later tick.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from types import MappingProxyType
from typing import Any

from pydantic import ValidationError

from engine import TickmindError

from .._actions import ActionStep, action_types, parse_step
from .._plan import Tier
from ._formats import Wire, decode_lines
from ._snapshot import AgentSnapshot, FieldRole, MapBounds
from ._view import AgentView, TierProfile, profile_for, view_of

__all__ = [
    "MAX_RESPONSE_CHARS",
    "BatchOutcome",
    "RejectReason",
    "Rejection",
    "ValidPlan",
    "parse_batch_response",
    "validate_plan",
]

#: Longer answers are cut here before parsing: a model with a sane ``max_tokens`` never gets
#: near it, and a runaway one cannot make parsing slow. A cut answer keeps its complete plans.
MAX_RESPONSE_CHARS = 1_000_000
_MAX_STARTS = 16  # JSON start positions tried before giving up on finding the answer
_MAX_DIGITS = 30  # longer integers are not ids or coordinates (and int() of 5,000 digits raises)
_DETAIL_CHARS = 160


class RejectReason(str, Enum):
    """Why an agent got no plan from a response (a metrics label: keep the set small)."""

    NOT_JSON = "not_json"  #: no usable JSON answer at all (every agent of the batch)
    MISSING = "missing"  #: the answer has no entry for this agent
    DUPLICATE = "duplicate"  #: two or more entries for this agent
    FOREIGN_ID = "foreign_id"  #: an entry for an agent outside the batch (counted, ignored)
    UNKNOWN_ACTION = "unknown_action"  #: ``act`` names no registered action
    BAD_FIELDS = "bad_fields"  #: wrong shape, types, extra or missing fields, limits
    TARGET_NOT_VISIBLE = "target_not_visible"  #: an id the agent's line did not list
    OUT_OF_BOUNDS = "out_of_bounds"  #: a coordinate off the map
    TOO_MANY_STEPS = "too_many_steps"  #: more than ``max_steps`` steps
    ACTION_NOT_ALLOWED = "action_not_allowed"  #: an action this agent or tier may not use
    EMPTY_PLAN = "empty_plan"  #: no steps


@dataclass(frozen=True)
class ValidPlan:
    agent_id: int
    steps: tuple[ActionStep, ...]


@dataclass(frozen=True)
class Rejection:
    agent_id: int
    reason_code: RejectReason
    detail: str


Verdict = ValidPlan | Rejection


@dataclass(frozen=True)
class BatchOutcome:
    """One verdict per expected agent (``results``, in the batch's order), plus ``counts``:
    how often each reason occurred (every reason present, zeros included, in enum order;
    ``foreign_id`` counts entries, the others agents)."""

    results: tuple[Verdict, ...]
    counts: Mapping[RejectReason, int]

    @property
    def plans(self) -> tuple[ValidPlan, ...]:
        return tuple(r for r in self.results if isinstance(r, ValidPlan))

    @property
    def rejections(self) -> tuple[Rejection, ...]:
        return tuple(r for r in self.results if isinstance(r, Rejection))

    def result_for(self, agent_id: int) -> Verdict:
        for result in self.results:
            if result.agent_id == agent_id:
                return result
        raise KeyError(agent_id)


def parse_batch_response(
    text: Any,
    expected_ids: Sequence[int],
    snapshots: Sequence[AgentSnapshot] | Mapping[int, AgentSnapshot],
    *,
    tier: Tier | TierProfile = Tier.LLM,
    max_steps: int | None = None,
    wire: Wire = "json",
) -> BatchOutcome:
    """Judge the answer ``text`` to the batch of ``expected_ids``; see the module docstring.

    ``snapshots`` are the ones the prompt and schema were built from (a sequence or a
    mapping by agent id); ``tier`` and ``max_steps`` must match those the prompt and schema
    used, and ``wire`` the answer format asked for (:mod:`ai.wire._formats`). Never raises because
    of ``text``; raises ``TickmindError`` if the caller's own arguments disagree (an expected id twice, or without a snapshot).
    """
    by_id = dict(snapshots) if isinstance(snapshots, Mapping) else {s.agent_id: s for s in snapshots}
    expected = tuple(expected_ids)
    if len(set(expected)) != len(expected):
        raise TickmindError(f"expected_ids repeat an agent: {list(expected)}")
    lacking = [agent for agent in expected if agent not in by_id]
    if lacking:
        raise TickmindError(f"no snapshot for expected agent(s) {lacking}")
    profile = profile_for(tier)
    steps_cap = profile.max_steps if max_steps is None else max_steps

    entries = _find_entries(text) if wire == "json" else _line_entries(text)
    foreign = 0
    grouped: dict[int, list[Any]] = {agent: [] for agent in expected}
    for entry in entries or ():
        agent = _agent_id(entry)
        if agent is None or agent not in grouped:
            foreign += 1
        else:
            grouped[agent].append(entry)

    results: list[Verdict] = []
    for agent in expected:
        found = grouped[agent]
        if entries is None:
            results.append(Rejection(agent, RejectReason.NOT_JSON, "no JSON plans found in the response"))
        elif not found:
            results.append(Rejection(agent, RejectReason.MISSING, "no plan for this agent"))
        elif len(found) > 1:
            results.append(Rejection(agent, RejectReason.DUPLICATE, f"{len(found)} plans for this agent"))
        else:
            results.append(_judge(found[0], view_of(by_id[agent], profile), steps_cap))
    return BatchOutcome(tuple(results), _counts(results, foreign))


def validate_plan(
    entry: Any,
    snapshot: AgentSnapshot,
    *,
    tier: Tier | TierProfile = Tier.LLM,
    max_steps: int | None = None,
) -> Verdict:
    """Judge one decoded plan entry (``{"agent_id": .., "steps": [..]}`` or just its steps
    list) for ``snapshot``'s agent: what a streaming parser calls as each entry closes.
    Does not check ``agent_id``; never raises because of ``entry``."""
    profile = profile_for(tier)
    view = view_of(snapshot, profile)
    if isinstance(entry, list):
        entry = {"steps": entry}
    return _judge(entry, view, profile.max_steps if max_steps is None else max_steps)


# --- finding the JSON ----------------------------------------------------------------------


class _Unusable:
    """Stands in for a number JSON allows but a plan cannot use (NaN, 1e999, 5,000 digits):
    the one step holding it fails pydantic, not the whole response."""

    def __repr__(self) -> str:
        return "<unusable number>"


_UNUSABLE = _Unusable()


def _parse_int(digits: str) -> int | _Unusable:
    return int(digits) if len(digits.lstrip("-")) <= _MAX_DIGITS else _UNUSABLE


def _parse_float(text: str) -> float | _Unusable:
    value = float(text)
    return value if value - value == 0.0 else _UNUSABLE  # inf - inf and nan are nan


_DECODER = json.JSONDecoder(
    parse_int=_parse_int,
    parse_float=_parse_float,
    parse_constant=lambda _name: _UNUSABLE,
)
_START = re.compile(r"[\[{]")


def _find_entries(text: Any) -> list[Any] | None:
    """The plan entries in ``text``, or None when it holds no usable JSON answer.

    Tries up to ``_MAX_STARTS`` positions where a JSON value could start (which skips code
    fences and prose); the first value shaped like an answer wins. A cut-off answer yields
    the entries that were complete.
    """
    if isinstance(text, (bytes, bytearray, memoryview)):
        text = bytes(text[:MAX_RESPONSE_CHARS * 4]).decode("utf-8", errors="replace")
    if not isinstance(text, str):
        return None
    text = text[:MAX_RESPONSE_CHARS]
    for tries, match in enumerate(_START.finditer(text)):
        if tries >= _MAX_STARTS:
            break
        start = match.start()
        try:
            value, _end = _DECODER.raw_decode(text, start)
        except (ValueError, RecursionError):
            salvaged = _salvage(text, start)
            if salvaged:
                return salvaged
            continue
        entries = _entries_of(value)
        if entries is not None:
            return entries
    return None


def _line_entries(text: Any) -> list[Any] | None:
    """The entries of a plan-lines answer, or None when no line names an agent."""
    if isinstance(text, (bytes, bytearray, memoryview)):
        text = bytes(text[: MAX_RESPONSE_CHARS * 4]).decode("utf-8", errors="replace")
    if not isinstance(text, str):
        return None
    entries = decode_lines(text[:MAX_RESPONSE_CHARS])
    return entries or None


def _entries_of(value: Any) -> list[Any] | None:
    """The entries of an answer-shaped value: ``{"plans": [...]}``, a bare list of entries,
    or a single entry; None for anything else."""
    if isinstance(value, dict):
        plans = value.get("plans")
        if isinstance(plans, list):
            return plans
        if isinstance(plans, dict):
            return [plans]
        return [value] if "agent_id" in value else None
    if isinstance(value, list) and (not value or any(isinstance(item, dict) for item in value)):
        return value
    return None


_PLANS_OPENING = re.compile(r'\{\s*"plans"\s*:\s*\[|\[')


def _salvage(text: str, start: int) -> list[Any] | None:
    """The complete entries of an answer cut off mid-way (``max_tokens`` reached):
    ``{"plans":[{..},{..},{"agent_id":3,"st`` gives the first two."""
    opening = _PLANS_OPENING.match(text, start)
    if opening is None:
        return None
    pos, entries = opening.end(), []
    while True:
        pos = _skip_space(text, pos)
        try:
            entry, pos = _DECODER.raw_decode(text, pos)
        except (ValueError, RecursionError):
            break
        if not isinstance(entry, dict):
            break
        entries.append(entry)
        pos = _skip_space(text, pos)
        if pos >= len(text) or text[pos] != ",":
            break
        pos += 1
    return entries or None


def _skip_space(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in " \t\r\n":
        pos += 1
    return pos


_ID_TEXT = re.compile(r"A?(\d{1,18})")


def _agent_id(entry: Any) -> int | None:
    """The entry's agent id: an int, an integral float, or text like ``"17"`` / ``"A17"``
    (the prompt's own spelling); None if the entry names no agent."""
    if not isinstance(entry, dict):
        return None
    raw = entry.get("agent_id")
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        return raw
    if isinstance(raw, float) and raw.is_integer():
        return int(raw)
    if isinstance(raw, str):
        match = _ID_TEXT.fullmatch(raw.strip())
        return int(match.group(1)) if match else None
    return None


# --- judging one agent's plan --------------------------------------------------------------


class _Refused(Exception):
    """Internal: one check failed; carries the verdict's reason and detail."""

    def __init__(self, reason: RejectReason, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


def _judge(entry: Any, view: AgentView, max_steps: int) -> Verdict:
    try:
        return ValidPlan(view.agent_id, _steps(entry, view, max_steps))
    except _Refused as refused:
        return Rejection(view.agent_id, refused.reason, refused.detail[:_DETAIL_CHARS])


def _steps(entry: Any, view: AgentView, max_steps: int) -> tuple[ActionStep, ...]:
    raw_steps = entry.get("steps") if isinstance(entry, dict) else None
    if not isinstance(raw_steps, list):
        raise _Refused(RejectReason.BAD_FIELDS, "the plan has no 'steps' list")
    if not raw_steps:
        raise _Refused(RejectReason.EMPTY_PLAN, "the plan has no steps")
    if len(raw_steps) > max_steps:
        raise _Refused(RejectReason.TOO_MANY_STEPS, f"{len(raw_steps)} steps; at most {max_steps}")
    return tuple(_step(i, raw, view) for i, raw in enumerate(raw_steps, start=1))


def _step(i: int, raw: Any, view: AgentView) -> ActionStep:
    act = raw.get("act") if isinstance(raw, dict) else None
    if not isinstance(act, str):
        raise _Refused(RejectReason.BAD_FIELDS, f"step {i} is not an object with a string 'act'")
    if act not in action_types():
        raise _Refused(RejectReason.UNKNOWN_ACTION, f"step {i}: unknown action {act[:40]!r}")
    if act not in view.permitted:
        raise _Refused(RejectReason.ACTION_NOT_ALLOWED, f"step {i}: {_not_permitted(act, view)}")
    for role in _roles_of(view, act):
        if not role.is_coordinate and isinstance(raw.get(role.field), bool):
            raise _Refused(RejectReason.BAD_FIELDS, f"step {i}: {act}.{role.field} must be an id, not a boolean")
    try:
        step = parse_step(raw)
    except ValidationError as exc:
        raise _Refused(RejectReason.BAD_FIELDS, f"step {i}: {act}: {_first_error(exc)}") from None
    except Exception as exc:  # noqa: BLE001 -- a user action's validator may raise anything
        raise _Refused(RejectReason.BAD_FIELDS, f"step {i}: {act}: {type(exc).__name__}") from None
    for role in _roles_of(view, act):
        _check_role(i, step, role, view)
    return step


def _not_permitted(act: str, view: AgentView) -> str:
    """Why a registered action is refused: the tier never offered it (a game restricting its
    tier to the actions it executes), or the game does not allow it for this agent. The two
    need different fixes, so the detail says which."""
    if act not in view.profile.action_names():
        return f"action {act!r} is not offered by tier {view.profile.tier.value}"
    return f"action {act!r} is not allowed for this agent"


def _roles_of(view: AgentView, act: str) -> Iterable[FieldRole]:
    return view.snapshot.roles_for(act)


def _check_role(i: int, step: ActionStep, role: FieldRole, view: AgentView) -> None:
    value = getattr(step, role.field, None)
    where = f"step {i}: {step.act}.{role.field}"
    if not role.is_coordinate:
        if value is not None and value not in view.ids_for(role):
            raise _Refused(RejectReason.TARGET_NOT_VISIBLE, f"{where} = {value!r} is not listed for this agent")
        return
    bounds = view.snapshot.bounds
    for x, y in _coordinates(role.role, value):
        inside = (x is None or bounds.x_min <= x <= bounds.x_max) and (y is None or bounds.y_min <= y <= bounds.y_max)
        if not inside:
            raise _Refused(RejectReason.OUT_OF_BOUNDS, f"{where} ({x}, {y}) is off the map {_bounds_text(bounds)}")


def _coordinates(role: str, value: Any) -> list[tuple[float | None, float | None]]:
    """(x, y) pairs to check; None where the role fixes only one axis."""
    if value is None:
        return []
    if role == "x":
        return [(value, None)]
    if role == "y":
        return [(None, value)]
    if role == "point":
        return [(value[0], value[1])]
    return [(x, y) for x, y in value]


def _bounds_text(bounds: MapBounds) -> str:
    return f"x {bounds.x_min}..{bounds.x_max}, y {bounds.y_min}..{bounds.y_max}"


def _first_error(exc: ValidationError) -> str:
    errors = exc.errors(include_url=False, include_input=False)
    if not errors:
        return "invalid"
    first = errors[0]
    loc = ".".join(str(part) for part in first.get("loc", ()))
    return f"{loc}: {first.get('msg', 'invalid')}" if loc else str(first.get("msg", "invalid"))


def _counts(results: Sequence[Verdict], foreign: int) -> Mapping[RejectReason, int]:
    counts = dict.fromkeys(RejectReason, 0)
    for result in results:
        if isinstance(result, Rejection):
            counts[result.reason_code] += 1
    counts[RejectReason.FOREIGN_ID] += foreign
    return MappingProxyType(counts)
