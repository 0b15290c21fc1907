"""Plan lines: the grammar admits exactly what the JSON schema admits (checked against
llama.cpp's own grammar parser), lines decode into the JSON wire's entries, and the one
validator judges them."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ai import FULL_TIER, Attack, MapBounds, Patrol, TakeCover, Tier
from ai.serving import LocalServer, ServerSpec
from ai.wire import (
    AgentSnapshot,
    Rejection,
    RejectReason,
    SeenEntity,
    ValidPlan,
    WireUnsupported,
    decode_lines,
    lines_grammar,
    parse_batch_response,
    system_prompt,
    view_of,
)
from ai.wire._formats import _range_patterns, _value, decode_line

BOUNDS = MapBounds(0, 0, 80, 50)
A = AgentSnapshot(
    1, 0, 0, 10.0, 10.0, BOUNDS,
    enemies=(SeenEntity(5, 20, 10), SeenEntity(9, 30, 10)),
    objects=(SeenEntity(3, 12, 12, "cover"),),
)  # fmt: skip
B = AgentSnapshot(2, 0, 0, 60.0, 40.0, BOUNDS, allowed=("move_to", "wait", "scan", "patrol"))


def as_regex(patterns: list[str]) -> re.Pattern[str]:
    """GBNF alternatives of literals and classes ("8" "0" | [1-7] [0-9]) as a Python regex."""
    alternatives = ["".join(re.escape(atom[1:-1]) if atom.startswith('"') else atom for atom in p.split()) for p in patterns]
    return re.compile("|".join(f"(?:{a})" for a in alternatives))


@given(st.integers(0, 3000), st.integers(0, 3000))
def test_integer_range_patterns_match_exactly_the_range(a: int, b: int) -> None:
    low, high = min(a, b), max(a, b)
    regex = as_regex(_range_patterns(low, high))
    for n in {low, high, (low + high) // 2, low - 1, high + 1, 0, 9, 10, 99, 100, 999, 1000}:
        assert bool(regex.fullmatch(str(n))) == (low <= n <= high), (low, high, n)
    assert not regex.fullmatch("0" + str(max(low, 1)))  # no leading zeros


def test_the_grammar_is_accepted_by_llama_cpp_and_names_each_agent_in_order(tmp_path: Path) -> None:
    grammar = lines_grammar([view_of(A, Tier.LLM), view_of(B, Tier.LLM)], max_steps=3)
    with LocalServer(ServerSpec(slots=1), log_path=tmp_path / "server.log") as server:  # the real llama-server
        body = {"model": "local", "messages": [{"role": "user", "content": "Plan agents 1 and 2."}],
                "grammar": grammar, "max_tokens": 120, "temperature": 0}  # fmt: skip
        reply = httpx.post(server.base_url + "/chat/completions", json=body, timeout=120, trust_env=False)
    assert reply.status_code == 200, reply.text  # llama.cpp answers 400 to a grammar it cannot parse
    answer = reply.json()["choices"][0]["message"]["content"]
    assert [entry["agent_id"] for entry in decode_lines(answer, complete_only=True)] == [1, 2], answer
    root = grammar.splitlines()[0]
    assert root == "root ::= line0 line1"
    assert 'line0 ::= "1 " step0 (";" step0){0,2} "\\n"' in grammar
    assert '"9"' in grammar and '"5"' in grammar  # A's visible enemies are its only targets
    step1 = next(line for line in grammar.splitlines() if line.startswith("step1 ::="))
    assert "attack" not in step1 and "patrol" in step1  # B is offered only its allowed actions


def test_lines_decode_into_json_wire_entries() -> None:
    assert decode_line("7 take_cover 3;attack 9") == {
        "agent_id": 7,
        "steps": [{"act": "take_cover", "cover": 3}, {"act": "attack", "target": 9}],
    }
    assert decode_line("A7 retreat -") == {"agent_id": 7, "steps": [{"act": "retreat", "target": None}]}
    assert decode_line("7 patrol 10,5")["steps"] == [{"act": "patrol", "points": [[10, 5]]}]  # type: ignore[index]
    assert decode_line("7 patrol 10,5/20.5,6")["steps"] == [{"act": "patrol", "points": [[10, 5], [20.5, 6]]}]  # type: ignore[index]
    assert decode_line("Sure! Here are the plans:") is None
    assert decode_lines("1 scan\n2 wait 30\n3 sc", complete_only=True) == [
        {"agent_id": 1, "steps": [{"act": "scan"}]},
        {"agent_id": 2, "steps": [{"act": "wait", "ticks": 30}]},
    ]


def test_the_validator_judges_lines_like_json() -> None:
    text = "1 take_cover 3;attack 9\n2 patrol 10,5/70,45\n"
    outcome = parse_batch_response(text, [1, 2], [A, B], wire="lines")
    assert outcome.results == (
        ValidPlan(1, (TakeCover(cover=3), Attack(target=9))),
        ValidPlan(2, (Patrol(points=((10.0, 5.0), (70.0, 45.0))),)),
    )
    bad = "1 attack 77\n2 attack 5\n"  # 77 not visible; attack not allowed for agent 2
    reasons = [r.reason_code for r in parse_batch_response(bad, [1, 2], [A, B], wire="lines").results if isinstance(r, Rejection)]
    assert reasons == [RejectReason.TARGET_NOT_VISIBLE, RejectReason.ACTION_NOT_ALLOWED]
    extra = parse_batch_response("1 scan 4\n", [1, 2], [A, B], wire="lines").results
    assert [type(r) for r in extra] == [Rejection, Rejection]
    assert [r.reason_code for r in extra if isinstance(r, Rejection)] == [RejectReason.BAD_FIELDS, RejectReason.MISSING]
    nothing = parse_batch_response("I cannot help with that.", [1, 2], [A, B], wire="lines")
    assert {r.reason_code for r in nothing.results if isinstance(r, Rejection)} == {RejectReason.NOT_JSON}


def test_fields_a_line_cannot_hold_are_refused_by_name() -> None:
    for spec in ({"type": "object"}, {"type": "array", "items": {"type": "array", "items": {}}}, {"enum": ["two words"]}):
        with pytest.raises(WireUnsupported, match="signal.payload"):
            _value(spec, {}, "signal.payload")


def test_the_lines_prompt_teaches_the_line_format() -> None:
    core = replace(FULL_TIER, actions=("move_to", "take_cover", "attack", "patrol"))  # whatever else a test registered
    prompt = system_prompt(core, "lines")
    assert "7 take_cover 3;attack 9" in prompt and "patrol X,Y/X,Y..." in prompt
    assert "JSON" not in prompt
    assert system_prompt(core, "lines") == prompt  # byte-identical: a cacheable prefix
