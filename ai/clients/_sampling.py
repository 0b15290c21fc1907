"""A stand-in model for any world: answers drawn at random from the request's own constraint.

``ScriptedClient(sample_answers(seed=3))`` answers every planner request validly, for any
actions a world registers, over either wire: from the JSON schema (``wire="json"``) or by
walking the GBNF grammar (``wire="lines"``). The draw is keyed by (seed, request id), so a
run's answers are the same on every run, whatever order requests went out in. A world's
tests then exercise its own actions and executors without a model, which
:func:`~ai.clients.follow_schema` (attack, approach, or walk to the middle) cannot do.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from engine import TickmindError, keyed_rng

from ._protocol import CompletionRequest

__all__ = ["sample_answers", "sample_grammar", "sample_schema"]

MAX_REPEATS = 3  #: most extra repetitions of an open-ended ``*``, ``+`` or ``{m,}``
MAX_DEPTH = 64


def sample_answers(seed: int = 0) -> Callable[[CompletionRequest], str]:
    """A script for :class:`~ai.clients.ScriptedClient` answering from each request's
    grammar (plan lines) or schema (JSON), at random but the same for the same seed."""

    def answer(request: CompletionRequest) -> str:
        rng = keyed_rng(seed, f"sample_answers:{request.request_id}")
        if request.grammar is not None:
            return sample_grammar(request.grammar, rng)
        if request.schema is not None:
            return json.dumps(sample_schema(request.schema, rng))
        raise TickmindError(f"request {request.request_id} has neither a schema nor a grammar to answer from")

    return answer


# --- JSON schema -------------------------------------------------------------------------------


def sample_schema(schema: dict[str, Any], rng: np.random.Generator) -> Any:
    """A value valid for ``schema`` (the subset planners send: objects, arrays and tuples,
    ``anyOf``, ``const``, ``enum``, bounded numbers, booleans and null)."""
    if "const" in schema:
        return schema["const"]
    if "enum" in schema:
        return _pick(schema["enum"], rng)
    options = schema.get("anyOf") or schema.get("oneOf")
    if options:
        return sample_schema(_pick(options, rng), rng)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = _pick(kind, rng)
    if kind == "object" or "properties" in schema:
        return {name: sample_schema(spec, rng) for name, spec in schema.get("properties", {}).items()}
    if kind == "array":
        return _array(schema, rng)
    if kind in ("integer", "number"):
        return _number(schema, rng, integer=kind == "integer")
    if kind == "boolean":
        return bool(rng.integers(2))
    if kind == "null":
        return None
    if kind == "string":
        return "x" * int(schema.get("minLength", 1))
    raise TickmindError(f"sample_schema cannot draw a value for {json.dumps(schema)[:120]}")


def _array(schema: dict[str, Any], rng: np.random.Generator) -> list[Any]:
    fixed = [sample_schema(spec, rng) for spec in schema.get("prefixItems", [])]
    items = schema.get("items")
    if not isinstance(items, dict):
        return fixed
    low = max(int(schema.get("minItems", 0)) - len(fixed), 0)
    high = int(schema.get("maxItems", len(fixed) + low + MAX_REPEATS)) - len(fixed)
    return fixed + [sample_schema(items, rng) for _ in range(int(rng.integers(low, max(low, high) + 1)))]


def _number(schema: dict[str, Any], rng: np.random.Generator, *, integer: bool) -> int | float:
    low = schema.get("minimum", schema.get("exclusiveMinimum", 0))
    high = schema.get("maximum", schema.get("exclusiveMaximum", low + 100))
    if integer:
        low, high = int(np.ceil(low)), int(np.floor(high))
        if "exclusiveMinimum" in schema and low == schema["exclusiveMinimum"]:
            low += 1
        if "exclusiveMaximum" in schema and high == schema["exclusiveMaximum"]:
            high -= 1
        return int(rng.integers(low, high + 1))
    return round(float(low + (high - low) * rng.random()), 1)


def _pick(options: list[Any], rng: np.random.Generator) -> Any:
    return options[int(rng.integers(len(options)))]


# --- GBNF -------------------------------------------------------------------------------------------

_TOKEN = re.compile(
    r'\s*(?:(?P<lit>"(?:\\.|[^"\\])*")|(?P<cls>\[(?:\\.|[^\]\\])*\])|(?P<def>::=)|(?P<rep>\{\d+(?:,\d*)?\})'
    r"|(?P<op>[|()?*+])|(?P<name>[A-Za-z0-9_-]+))"
)
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\", "]": "]", "[": "[", "-": "-", "^": "^"}


@dataclass(frozen=True)
class _Node:
    kind: str  #: "lit", "cls", "ref", "seq", "alt", "rep"
    value: Any
    low: int = 0
    high: int = 0


def sample_grammar(grammar: str, rng: np.random.Generator, start: str = "root") -> str:
    """A string ``grammar`` (GBNF: literals, character classes, rule references, groups,
    ``|``, ``?``, ``*``, ``+`` and ``{m,n}``) accepts, drawn from ``start``."""
    rules = _parse(grammar)
    if start not in rules:
        raise TickmindError(f"the grammar has no rule {start!r}")
    out: list[str] = []
    _emit(rules[start], rules, rng, out, 0)
    return "".join(out)


def _emit(node: _Node, rules: dict[str, _Node], rng: np.random.Generator, out: list[str], depth: int) -> None:
    if depth > MAX_DEPTH:
        raise TickmindError("the grammar nests too deeply to sample (a recursive rule?)")
    if node.kind == "lit":
        out.append(node.value)
    elif node.kind == "cls":
        out.append(_pick(node.value, rng))
    elif node.kind == "ref":
        if node.value not in rules:
            raise TickmindError(f"the grammar names an undefined rule {node.value!r}")
        _emit(rules[node.value], rules, rng, out, depth + 1)
    elif node.kind == "seq":
        for part in node.value:
            _emit(part, rules, rng, out, depth + 1)
    elif node.kind == "alt":
        _emit(_pick(node.value, rng), rules, rng, out, depth + 1)
    else:
        for _ in range(int(rng.integers(node.low, node.high + 1))):
            _emit(node.value, rules, rng, out, depth + 1)


def _parse(grammar: str) -> dict[str, _Node]:
    tokens = _tokens(grammar)
    rules: dict[str, _Node] = {}
    i = 0
    while i < len(tokens):
        kind, name = tokens[i]
        if kind != "name" or i + 1 >= len(tokens) or tokens[i + 1][0] != "def":
            raise TickmindError(f"grammar: expected 'name ::=' at token {i} ({name!r})")
        node, i = _alternatives(tokens, i + 2)
        rules[name] = node
    return rules


def _tokens(grammar: str) -> list[tuple[str, str]]:
    text = "\n".join(line for line in grammar.splitlines() if not line.lstrip().startswith("#"))
    out: list[tuple[str, str]] = []
    pos = 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        match = _TOKEN.match(text, pos)
        if match is None or match.lastgroup is None:
            raise TickmindError(f"grammar: cannot read {text[pos:pos + 30]!r}")
        out.append((match.lastgroup, match.group(match.lastgroup)))
        pos = match.end()
    return out


def _alternatives(tokens: list[tuple[str, str]], i: int) -> tuple[_Node, int]:
    options: list[_Node] = []
    while True:
        seq, i = _sequence(tokens, i)
        options.append(seq)
        if i < len(tokens) and tokens[i] == ("op", "|"):
            i += 1
            continue
        return (options[0] if len(options) == 1 else _Node("alt", tuple(options))), i


def _sequence(tokens: list[tuple[str, str]], i: int) -> tuple[_Node, int]:
    parts: list[_Node] = []
    while i < len(tokens):
        kind, text = tokens[i]
        if kind == "name" and i + 1 < len(tokens) and tokens[i + 1][0] == "def":
            break  # the next rule begins
        if (kind, text) in (("op", "|"), ("op", ")")):
            break
        if (kind, text) == ("op", "("):
            node, i = _alternatives(tokens, i + 1)
            if i >= len(tokens) or tokens[i] != ("op", ")"):
                raise TickmindError("grammar: a '(' is never closed")
            i += 1
        elif kind == "lit":
            node, i = _Node("lit", _unescape(text[1:-1])), i + 1
        elif kind == "cls":
            node, i = _Node("cls", _class_chars(text[1:-1])), i + 1
        elif kind == "name":
            node, i = _Node("ref", text), i + 1
        else:
            raise TickmindError(f"grammar: unexpected {text!r}")
        node, i = _quantified(node, tokens, i)
        parts.append(node)
    return (parts[0] if len(parts) == 1 else _Node("seq", tuple(parts))), i


def _quantified(node: _Node, tokens: list[tuple[str, str]], i: int) -> tuple[_Node, int]:
    if i >= len(tokens):
        return node, i
    kind, text = tokens[i]
    if kind == "rep":
        low_text, comma, high_text = text[1:-1].partition(",")
        low = int(low_text)
        high = (int(high_text) if high_text else low + MAX_REPEATS) if comma else low
    elif kind == "op" and text in ("?", "*", "+"):
        low, high = {"?": (0, 1), "*": (0, MAX_REPEATS), "+": (1, 1 + MAX_REPEATS)}[text]
    else:
        return node, i
    return _Node("rep", node, low, high), i + 1


def _unescape(text: str) -> str:
    out: list[str] = []
    chars = iter(text)
    for char in chars:
        out.append(_ESCAPES.get(next(chars, ""), "") if char == "\\" else char)
    return "".join(out)


def _class_chars(body: str) -> tuple[str, ...]:
    negated = body.startswith("^")
    chars: list[str] = []
    items = [_ESCAPES.get(c[1], c[1]) if c.startswith("\\") else c for c in re.findall(r"\\.|.", body[negated:], re.S)]
    k = 0
    while k < len(items):
        if k + 2 < len(items) and items[k + 1] == "-":
            chars.extend(chr(c) for c in range(ord(items[k]), ord(items[k + 2]) + 1))
            k += 3
        else:
            chars.append(items[k])
            k += 1
    if negated:
        chars = [chr(c) for c in range(32, 127) if chr(c) not in chars]
    if not chars:
        raise TickmindError(f"grammar: the character class [{body}] is empty")
    return tuple(chars)
