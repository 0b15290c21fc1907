"""Plan lines: a compact wire format for answers, enforced by a GBNF grammar.

Why not JSON: measured on this machine (bench/RESULTS.md), a replan wave on a small local
model is bound by *output* tokens, and JSON spends most of them on syntax — an agent's plan
``{"agent_id":7,"steps":[{"act":"take_cover","cover":3},{"act":"attack","target":9}]}`` is
~35 tokens, while the same plan as a line::

    7 take_cover 3;attack 9

is ~10. Servers of the llama.cpp family (llama-server, llama-cpp-python) take a raw GBNF
``grammar``, so the line format is as tightly constrained as the per-batch JSON schema: it is
*built from* that schema (:func:`ai.wire._schema.action_schema`), so ids are the agent's listed
ids, coordinates whole metres inside the map, and each line belongs to one agent in the
prompt's order. Servers that only take JSON schemas (Ollama, vLLM, hosted APIs) keep the
JSON wire.

Line grammar: ``<agent id> <step>[;<step>...]`` and a newline; a step is the action name,
then its fields in declaration order, each after one space: ``-`` for null, ``x,y`` for a
point, ``x,y/x,y`` for a list, plain numbers, ``true``/``false``, JSON strings without
spaces. Decoding turns each line back into the JSON wire's entry
(``{"agent_id": 7, "steps": [{"act": "take_cover", "cover": 3}, ...]}``) so the one
validator (:mod:`ai.wire._validate`) judges both wires the same way.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from functools import lru_cache
from typing import Any, Literal

from engine import TickmindError

from .._actions import action_types
from ._schema import _base_schema, action_schema
from ._view import AgentView

__all__ = ["WIRES", "Wire", "WireUnsupported", "decode_line", "decode_lines", "lines_grammar"]

Wire = Literal["json", "lines"]
WIRES: tuple[Wire, ...] = ("json", "lines")

_NUMBER = '"-"? [0-9]{1,6} ("." [0-9]{1,2})?'
_STRING = '"\\"" [^" \\\\\\n]{0,40} "\\""'
_MAX_ENUMERATED_RANGE = 100_000


class WireUnsupported(TickmindError):
    """An action has a field the line format cannot express (an object, a free-form string
    with spaces); the batch goes over the JSON wire instead."""


# --- the grammar ------------------------------------------------------------------------------


def lines_grammar(views: Sequence[AgentView], *, max_steps: int) -> str:
    """The GBNF grammar of the answer for ``views``, one line per agent in this order.

    Raises :class:`WireUnsupported` when an offered action cannot be written as a line.
    """
    if max_steps < 1:
        raise TickmindError(f"max_steps must be >= 1, got {max_steps}")
    rules: dict[str, str] = {}
    root: list[str] = []
    for i, view in enumerate(views):
        steps = [_step_rule(name, view, i, rules) for name in view.actions]
        if not steps:
            raise TickmindError(f"agent {view.agent_id} has no action to offer in a grammar")
        step = f"step{i}"
        rules[step] = " | ".join(steps)
        more = f' (";" {step}){{0,{max_steps - 1}}}' if max_steps > 1 else ""
        rules[f"line{i}"] = f'"{view.agent_id} " {step}{more} "\\n"'
        root.append(f"line{i}")
    body = [f"root ::= {' '.join(root)}"] + [f"{name} ::= {rule}" for name, rule in rules.items()]
    return "\n".join(body) + "\n"


def _step_rule(name: str, view: AgentView, agent: int, rules: dict[str, str]) -> str:
    schema = action_schema(name, view)
    parts = [_literal(name)]
    for field_name, spec in schema["properties"].items():
        if field_name == "act":
            continue
        rule = f"a{agent}-{_rule_name(name)}-{_rule_name(field_name)}"
        rules[rule] = _value(spec, rules, f"{name}.{field_name}")
        parts.append(f'" " {rule}')
    return "(" + " ".join(parts) + ")"


def _value(spec: dict[str, Any], rules: dict[str, str], where: str) -> str:
    if "const" in spec:
        return _scalar_literal(spec["const"], where)
    if "enum" in spec:
        return " | ".join(_scalar_literal(v, where) for v in spec["enum"])
    if "anyOf" in spec:
        return " | ".join(f"({_value(option, rules, where)})" for option in spec["anyOf"])
    kind = spec.get("type")
    if kind == "null":
        return '"-"'
    if kind == "boolean":
        return '"true" | "false"'
    if kind == "integer":
        return _integer(spec, rules)
    if kind == "number":
        return _NUMBER
    if kind == "string" and "pattern" not in spec:
        return _STRING
    if kind == "array":
        return _array(spec, rules, where)
    raise WireUnsupported(f"{where}: a {kind or 'composite'} field cannot be written as a plan line")


def _array(spec: dict[str, Any], rules: dict[str, str], where: str) -> str:
    pair = spec.get("prefixItems")
    if pair is not None:
        if len(pair) != 2 or spec.get("minItems") != 2 or spec.get("maxItems") != 2:
            raise WireUnsupported(f"{where}: only pairs (points) of prefixItems fit a plan line")
        return f'({_value(pair[0], rules, where)}) "," ({_value(pair[1], rules, where)})'
    items = spec.get("items")
    if not isinstance(items, dict) or items.get("type") == "array" and "prefixItems" not in items:
        raise WireUnsupported(f"{where}: nested lists cannot be written as a plan line")
    low = int(spec.get("minItems", 0))
    high = spec.get("maxItems")
    if low < 1 or high is None:
        raise WireUnsupported(f"{where}: a list needs minItems >= 1 and a maxItems to fit a plan line")
    item = f"({_value(items, rules, where)})"
    return f'{item} ("/" {item}){{{low - 1},{int(high) - 1}}}'


def _integer(spec: dict[str, Any], rules: dict[str, str]) -> str:
    low, high = spec.get("minimum"), spec.get("maximum")
    if low is None or high is None or low < 0 or high - low > _MAX_ENUMERATED_RANGE:
        return '"-"? [0-9]{1,9}'  # validation still checks the limits
    name = f"int-{int(low)}-{int(high)}"
    if name not in rules:
        rules[name] = " | ".join(_range_patterns(int(low), int(high)))
    return name


def _range_patterns(low: int, high: int) -> list[str]:
    """GBNF alternatives matching exactly the decimal integers low..high (no leading zeros)."""
    patterns: list[str] = []
    for digits in range(len(str(low)), len(str(high)) + 1):
        start = max(low, 10 ** (digits - 1) if digits > 1 else 0)
        end = min(high, 10**digits - 1)
        if start <= end:
            patterns += [" ".join(p) for p in _same_length(str(start), str(end))]
    return patterns


def _same_length(low: str, high: str) -> list[list[str]]:
    """Patterns (lists of GBNF atoms) for the numbers low..high written with len(low) digits."""
    if len(low) == 1:
        return [[_digit_class(low, high)]]
    if low[0] == high[0]:
        return [[f'"{low[0]}"', *rest] for rest in _same_length(low[1:], high[1:])]
    width = len(low) - 1
    patterns: list[list[str]] = []
    first, last = int(low[0]), int(high[0])
    if low[1:] != "0" * width:
        patterns += [[f'"{low[0]}"', *rest] for rest in _same_length(low[1:], "9" * width)]
        first += 1
    tail: list[list[str]] = []
    if high[1:] != "9" * width:
        tail = [[f'"{high[0]}"', *rest] for rest in _same_length("0" * width, high[1:])]
        last -= 1
    if first <= last:
        patterns.append([_digit_class(str(first), str(last)), *(["[0-9]"] * width)])
    return patterns + tail


def _digit_class(low: str, high: str) -> str:
    return f'"{low}"' if low == high else f"[{low}-{high}]"


def _scalar_literal(value: Any, where: str) -> str:
    if value is None:
        return '"-"'
    if isinstance(value, bool):
        return f'"{str(value).lower()}"'
    if isinstance(value, (int, float)):
        return f'"{value}"'
    if isinstance(value, str) and " " not in value:
        return _literal(json.dumps(value))
    raise WireUnsupported(f"{where}: the value {value!r} cannot be written in a plan line")


def _literal(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _rule_name(text: str) -> str:
    return re.sub(r"[^a-zA-Z0-9]+", "-", text).strip("-") or "x"


# --- decoding ---------------------------------------------------------------------------------

_ID = re.compile(r"A?(\d{1,18})")
_INT = re.compile(r"-?\d{1,30}")
_FLOAT = re.compile(r"-?\d{1,30}\.\d{1,30}")


def decode_lines(text: str, *, complete_only: bool = False) -> list[dict[str, Any]]:
    """The plan entries of the lines of ``text``; lines that are not plans (prose, blank) are
    skipped. With ``complete_only`` (a stream still arriving) a last line without its
    newline is left for later. Never raises."""
    if complete_only:
        text = text[: text.rfind("\n") + 1]
    entries = []
    for line in text.splitlines():
        entry = decode_line(line)
        if entry is not None:
            entries.append(entry)
    return entries


def decode_line(line: str) -> dict[str, Any] | None:
    """One line as a JSON-wire entry, or None when it does not start with an agent id.

    Steps that do not decode are passed on as they are, so validation names what is wrong.
    """
    head, _, rest = line.strip().partition(" ")
    match = _ID.fullmatch(head)
    if match is None:
        return None
    steps = [_decode_step(part.split()) for part in rest.split(";") if part.strip()]
    return {"agent_id": int(match.group(1)), "steps": steps}


def _decode_step(words: list[str]) -> dict[str, Any]:
    name, values = words[0], words[1:]
    cls = action_types().get(name)
    if cls is None:
        return {"act": name}
    fields = _field_kinds(cls)
    step: dict[str, Any] = {"act": name}
    for (field_name, is_list), word in zip(fields, values, strict=False):
        step[field_name] = _decode_value(word, is_list)
    if len(values) > len(fields):
        step["unexpected_values"] = values[len(fields) :]  # refused as an extra field
    return step


@lru_cache(maxsize=256)
def _field_kinds(cls: type) -> tuple[tuple[str, bool], ...]:
    """(field, is a list) in declaration order, ``act`` excluded."""
    properties = _base_schema(cls)["properties"]
    return tuple(
        (name, _is_list(spec)) for name, spec in properties.items() if name != "act"
    )


def _is_list(spec: dict[str, Any]) -> bool:
    options = spec.get("anyOf", [spec])
    return any(o.get("type") == "array" and "prefixItems" not in o for o in options)


def _decode_value(word: str, is_list: bool) -> Any:
    if word == "-":
        return None
    if is_list:
        return [_decode_value(part, False) for part in word.split("/")]
    if "," in word:
        return [_decode_scalar(part) for part in word.split(",")]
    return _decode_scalar(word)


def _decode_scalar(word: str) -> Any:
    if _INT.fullmatch(word):
        return int(word)
    if _FLOAT.fullmatch(word):
        return float(word)
    if word in ("true", "false"):
        return word == "true"
    if word.startswith('"'):
        try:
            return json.loads(word)
        except ValueError:
            return word
    return word
