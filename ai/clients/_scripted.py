"""A scripted model for tests: deterministic answers through the real client protocol.

    client = ScriptedClient(lambda req: plans_json({1: [{"act": "wait", "ticks": 5}]}),
                            latency=(0.01, 0.05), seed=7)

The script is a function ``request -> item`` or a sequence of items used in call order
(a single item answers every call). An item is

- a ``str``: the model's text;
- a :class:`Reply`: text with its own latency;
- an exception instance: raised as given (foreign ones too, to test how callers wrap them);
- :data:`STALL` / :class:`Stall`: hang until cancelled (a timeout test).

Simulated latency is drawn per call from a numpy generator keyed by (seed, request id, how
many times that id was seen), so concurrent requests finish in a random order that is the
same on every run, whatever order they started in.

The client records what it saw (``requests``, ``completed``) and how many calls overlapped
(``in_flight``, ``max_in_flight``), so tests observe concurrency instead of timing it.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NoReturn, TypeAlias

from engine import TickmindError, keyed_rng

from ._errors import LLMBadResponse
from ._protocol import CompletionRequest, CompletionResult, TextCallback, estimate_tokens

__all__ = [
    "STALL",
    "RecordingSleep",
    "Reply",
    "ScriptItem",
    "ScriptedClient",
    "Stall",
    "drop_agents",
    "duplicate_agent",
    "fail_then",
    "plans_json",
    "truncated",
]


@dataclass(frozen=True)
class Reply:
    """Model text with its own latency in seconds (None: the client's latency draw)."""

    text: str
    delay: float | None = None


@dataclass(frozen=True)
class Stall:
    """Never answer: the call hangs until it is cancelled (by a timeout or shutdown)."""


STALL = Stall()

ScriptItem: TypeAlias = str | Reply | BaseException | Stall
Script: TypeAlias = Callable[[CompletionRequest], ScriptItem] | Sequence[ScriptItem] | ScriptItem


class ScriptedClient:
    """An :class:`~ai.clients.LLMClient` that answers from a script.

    ``latency=(low, high)`` draws a uniform delay per call (seconds); None answers at once.
    ``chunk_size`` is how many characters each ``on_text`` chunk carries when streaming.
    ``sleep`` is injectable for tests with a fake clock.
    """

    backend = "scripted"

    def __init__(
        self,
        script: Script,
        *,
        latency: tuple[float, float] | None = None,
        seed: int = 0,
        model: str = "scripted",
        chunk_size: int = 16,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if latency is not None and not 0.0 <= latency[0] <= latency[1]:
            raise TickmindError(f"ScriptedClient latency must be (low, high) with 0 <= low <= high, got {latency}")
        if chunk_size < 1:
            raise TickmindError(f"ScriptedClient chunk_size must be >= 1, got {chunk_size}")
        self._script = script
        self._latency = latency
        self._seed = seed
        self._sleep = sleep
        self.model = model
        self.chunk_size = chunk_size
        self.requests: list[CompletionRequest] = []  #: every request, in call order
        self.completed: list[str] = []  #: request ids of calls that answered, in answer order
        self.in_flight = 0
        self.max_in_flight = 0
        self.closed = False
        self._seen: Counter[str] = Counter()

    @property
    def calls(self) -> int:
        return len(self.requests)

    def _next_item(self, request: CompletionRequest) -> ScriptItem:
        script = self._script
        if isinstance(script, (str, Reply, Stall, BaseException)):
            return script
        if callable(script):
            return script(request)
        index = len(self.requests) - 1
        if index >= len(script):
            raise LLMBadResponse(
                f"script exhausted: it has {len(script)} answers and this is call {index + 1}",
                backend=self.backend,
                request_id=request.request_id,
            )
        return script[index]

    def _delay(self, request: CompletionRequest, item: ScriptItem) -> float:
        if isinstance(item, Reply) and item.delay is not None:
            return item.delay
        if self._latency is None:
            return 0.0
        seen = self._seen[request.request_id]
        rng = keyed_rng(self._seed, f"{request.request_id}#{seen}")
        low, high = self._latency
        return float(rng.uniform(low, high))

    async def complete(
        self, request: CompletionRequest, *, on_text: TextCallback | None = None
    ) -> CompletionResult:
        if self.closed:
            raise TickmindError("ScriptedClient used after aclose()")
        start = time.monotonic()
        self.requests.append(request)
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            item = self._next_item(request)
            delay = self._delay(request, item)
            self._seen[request.request_id] += 1
            if isinstance(item, Stall):
                await _hang()
            if delay > 0:
                await self._sleep(delay)
            if isinstance(item, BaseException):
                raise item
            text = item.text if isinstance(item, Reply) else item
            ttfb = time.monotonic() - start
            if on_text is not None:
                for i in range(0, len(text), self.chunk_size):
                    on_text(text[i : i + self.chunk_size])
                    await asyncio.sleep(0)  # let other tasks run between chunks, as a socket would
            self.completed.append(request.request_id)
            return CompletionResult(
                text=text,
                prompt_tokens=estimate_tokens(request.system) + estimate_tokens(request.user),
                completion_tokens=estimate_tokens(text),
                model=self.model,
                total_s=time.monotonic() - start,
                ttfb_s=ttfb,
                finish_reason="stop",
            )
        finally:
            self.in_flight -= 1

    async def aclose(self) -> None:
        self.closed = True


async def _hang() -> NoReturn:
    await asyncio.get_running_loop().create_future()  # resolved by nobody: only cancellation ends it
    raise AssertionError("unreachable")


class RecordingSleep:
    """A stand-in for ``asyncio.sleep`` (for ``sleep=`` of the executor or scripted client):
    records each delay asked for and returns at once, so tests check backoff and Retry-After
    without waiting on the wall clock."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)
        await asyncio.sleep(0)


# -- scripting wrong (and right) answers ------------------------------------------------------


def plans_json(plans: Mapping[int, Sequence[Mapping[str, Any]]]) -> str:
    """A batch answer ``{"plans": [{"agent_id": id, "steps": [...]}]}`` in agent id order."""
    body = [{"agent_id": agent, "steps": list(steps)} for agent, steps in sorted(plans.items())]
    return json.dumps({"plans": body}, separators=(",", ":"))


def _edit_plans(text: str, edit: Callable[[list[Any]], list[Any]]) -> str:
    data = json.loads(text)
    data["plans"] = edit(data["plans"])
    return json.dumps(data, separators=(",", ":"))


def drop_agents(text: str, agent_ids: Iterable[int]) -> str:
    """``text`` (a batch answer) with these agents' plans left out: a model that forgot some."""
    drop = set(agent_ids)
    return _edit_plans(text, lambda plans: [p for p in plans if p.get("agent_id") not in drop])


def duplicate_agent(text: str, agent_id: int, steps: Sequence[Mapping[str, Any]] = ()) -> str:
    """``text`` with a second plan for ``agent_id`` appended (empty steps unless given)."""
    return _edit_plans(text, lambda plans: [*plans, {"agent_id": agent_id, "steps": list(steps)}])


def truncated(text: str, keep: float = 0.5) -> str:
    """The first ``keep`` fraction of ``text``: invalid JSON, as when max_tokens cuts a reply."""
    return text[: max(0, min(len(text) - 1, int(len(text) * keep)))]


def fail_then(
    errors: Sequence[BaseException], then: ScriptItem | Callable[[CompletionRequest], ScriptItem]
) -> Callable[[CompletionRequest], ScriptItem]:
    """A script that raises ``errors`` in turn on the first calls *of each request id*, then
    answers ``then``. Keyed by request id, so it scripts retries under any concurrency."""
    calls: Counter[str] = Counter()

    def script(request: CompletionRequest) -> ScriptItem:
        n = calls[request.request_id]
        calls[request.request_id] += 1
        if n < len(errors):
            return errors[n]
        return then(request) if callable(then) else then

    return script


_PREFERENCE = ("attack", "approach", "move_to")


def follow_schema(request: CompletionRequest) -> str:
    """A stand-in model that answers any planner request validly, from the request's schema.

    For each agent (in the schema's order) it attacks the first enemy it may name, else
    approaches it, else walks to the middle of the map: deterministic, instant, and never
    wrong — the baseline that scripted faults (``drop_agents``, ``truncated``...) edit.
    """
    schema = request.schema or {}
    entries = schema.get("properties", {}).get("plans", {}).get("prefixItems", [])
    plans = {}
    for entry in entries:
        props = entry["properties"]
        options = {o["properties"]["act"]["const"]: o["properties"] for o in props["steps"]["items"]["anyOf"]}
        plans[props["agent_id"]["const"]] = [_first_choice(options)]
    return plans_json(plans)


def _first_choice(options: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    for act in _PREFERENCE:
        fields = options.get(act)
        if fields is None:
            continue
        if act == "move_to":
            x, y = fields["x"], fields["y"]
            return {"act": act, "x": (x["minimum"] + x["maximum"]) // 2, "y": (y["minimum"] + y["maximum"]) // 2}
        targets = [t for t in fields["target"]["enum"] if t is not None]
        if targets:
            return {"act": act, "target": targets[0]}
    act = next(iter(options))
    return {"act": act, **{name: None for name in options[act] if name != "act"}}
