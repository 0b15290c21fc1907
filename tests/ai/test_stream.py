"""Streaming: each agent's plan is judged the moment its entry closes, on both wires, and a
realtime planner applies it before the batch ends — once, and replayably."""

from __future__ import annotations

import asyncio
import json
import re
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

import ai.wire._stream as _stream
from ai import Attack, BatchExecutor, MapBounds, Planner, TakeCover
from ai.clients import CompletionRequest, CompletionResult, TextCallback
from ai.wire import AgentSnapshot, Rejection, SeenEntity, StreamingPlans, ValidPlan
from engine import start_run, verify
from examples.arena import build_arena

BOUNDS = MapBounds(0, 0, 80, 50)
A = AgentSnapshot(1, 0, 0, 10.0, 10.0, BOUNDS, enemies=(SeenEntity(9, 30, 10),), objects=(SeenEntity(3, 12, 12, "cover"),))
B = AgentSnapshot(2, 0, 0, 60.0, 40.0, BOUNDS)


def feed_by_char(stream: StreamingPlans, text: str) -> list[tuple[int, object]]:
    """(position in text after which a verdict came out, verdict)."""
    out = []
    for i, char in enumerate(text):
        out += [(i, verdict) for verdict in stream.feed(char)]
    return out


def test_a_plan_line_is_judged_when_its_newline_arrives() -> None:
    text = "1 take_cover 3;attack 9\n2 attack 77\n"
    verdicts = feed_by_char(StreamingPlans([1, 2], [A, B], wire="lines"), text)
    assert [i for i, _ in verdicts] == [text.index("\n"), len(text) - 1]
    assert verdicts[0][1] == ValidPlan(1, (TakeCover(cover=3), Attack(target=9)))
    assert isinstance(verdicts[1][1], Rejection)  # 77 is not on agent 2's line


def test_a_json_entry_is_judged_when_its_object_closes() -> None:
    first = {"agent_id": 1, "steps": [{"act": "attack", "target": 9}]}
    text = json.dumps({"plans": [first, {"agent_id": 2, "steps": [{"act": "scan"}]}]})
    verdicts = feed_by_char(StreamingPlans([1, 2], [A, B], wire="json"), text)
    assert verdicts[0] == (len(json.dumps({"plans": [first]})) - 3, ValidPlan(1, (Attack(target=9),)))
    assert [v.agent_id for _, v in verdicts] == [1, 2]  # type: ignore[attr-defined]


def test_braces_and_escapes_inside_strings_do_not_close_an_entry() -> None:
    noisy = {"agent_id": 1, "note": 'a } ] \\" { [ \\\\', "steps": [{"act": "attack", "target": 9}]}
    text = json.dumps({"plans": [noisy, {"agent_id": 2, "steps": [{"act": "scan"}]}]})
    verdicts = feed_by_char(StreamingPlans([1, 2], [A, B], wire="json"), text)
    assert [(i, v.agent_id) for i, v in verdicts] == [(len(json.dumps({"plans": [noisy]})) - 3, 1), (len(text) - 3, 2)]  # type: ignore[attr-defined]
    assert verdicts[0][1] == ValidPlan(1, (Attack(target=9),))


def test_a_runaway_entry_that_never_closes_is_fed_in_linear_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """Chaos finding: an open entry re-decoded on every chunk took 35 s for 400 KB of
    48-character chunks, on the executor's thread. Counted, not timed: every character is
    scanned once in all, and the entry, which never closes, is never decoded."""
    scanned: list[int] = []
    decoded: list[int] = []
    structure, decoder = _stream._STRUCTURE, _stream._DECODER

    class CountingStructure:
        def finditer(self, buffer: str, start: int) -> Iterator[re.Match[str]]:
            scanned.append(len(buffer) - start)
            return structure.finditer(buffer, start)

    class CountingDecoder:
        def raw_decode(self, buffer: str, start: int) -> tuple[object, int]:
            decoded.append(start)
            return decoder.raw_decode(buffer, start)

    text = '{"plans":[{"agent_id":1,"steps":[' + '{"act":"wait","ticks":1},' * 16_000
    stream = StreamingPlans([1, 2], [A, B], wire="json")
    monkeypatch.setattr(_stream, "_STRUCTURE", CountingStructure())
    monkeypatch.setattr(_stream, "_DECODER", CountingDecoder())
    for i in range(0, len(text), 48):
        assert stream.feed(text[i : i + 48]) == []
    assert 0 < len(scanned) <= len(range(0, len(text), 48)), "at most one scan per chunk"
    assert sum(scanned) <= len(text), "each character scanned once in all"
    assert decoded == []


def test_strangers_and_repeats_are_left_to_the_final_parse_and_reset_restarts_the_text() -> None:
    stream = StreamingPlans([1, 2], [A, B], wire="lines")
    assert stream.feed("5 scan\n1 scan\n1 attack 9\n") == [ValidPlan(1, (_scan(),))]
    stream.feed("2 sc")
    stream.reset()  # a retry: the half line is gone, agent 1's verdict stands
    assert stream.feed("an\n2 scan\n") == [ValidPlan(2, (_scan(),))]
    assert stream.judged == {1, 2}


def _scan():  # type: ignore[no-untyped-def]
    from ai import Scan

    return Scan()


class HalfStreamingClient:
    """Streams each answer's first line, then holds the rest until released: a slow batch."""

    backend = "half-streaming"

    def __init__(self) -> None:
        self.release = threading.Event()
        self.streamed = threading.Event()

    async def complete(self, request: CompletionRequest, *, on_text: TextCallback | None = None) -> CompletionResult:
        ids = [int(line.split()[0][1:]) for line in request.user.splitlines()[1:]]
        lines = [f"{agent} scan\n" for agent in ids]
        if on_text is not None:
            on_text(lines[0])
        self.streamed.set()
        while not self.release.is_set():
            await asyncio.sleep(0.01)
        if on_text is not None:
            for line in lines[1:]:
                on_text(line)
        return CompletionResult(text="".join(lines), prompt_tokens=10, completion_tokens=4, model="m", total_s=0.0)

    async def aclose(self) -> None:
        pass


def test_realtime_applies_streamed_plans_before_the_batch_ends_and_replays(tmp_path: Path) -> None:
    client = HalfStreamingClient()
    config = {"agents": 4, "planner": "llm", "mode": "realtime", "wire": "lines", "agents_per_request": 2, "lead_request": False}
    with start_run(build_arena, config, seed=2, out=tmp_path / "run") as run, BatchExecutor(client) as executor:
        planner = run.world.resource(Planner)
        planner.attach(executor)
        run.world.step()  # the first wave is asked: 2 jobs of 2 agents
        assert client.streamed.wait(30)
        for _ in range(500):  # until the streamed first lines are applied (the batch still holds)
            run.world.step()
            if planner.stats.plans["llm"] == 2:
                break
        assert planner.stats.plans["llm"] == 2 and planner.jobs_in_flight == 2
        client.release.set()
        for _ in range(500):
            run.world.step()
            if planner.jobs_in_flight == 0:
                break
        run.world.step()
        assert planner.stats.plans["llm"] == 4  # the rest, and no agent twice
    records = [json.loads(line) for line in (tmp_path / "run" / "journal.jsonl").read_text().splitlines()[1:]]
    model = [r for r in records if r["meta"].get("tier") == "llm"]
    assert sorted(r["entity"] for r in model) == sorted({r["entity"] for r in model})
    assert all(r["meta"].get("streamed") for r in model)  # every line was applied as it closed
    ticks = sorted(r["t"] for r in model)
    assert ticks[1] < ticks[2]  # the first lines landed while the rest was held back
    assert verify(tmp_path / "run").ok
