"""One replan wave against a real model: the seed's naive baseline vs tickmind's batching,
measured in the same run on the same server.

For each wave size N (1, 5, 10, 20, 50 agents of a 100-agent arena after 120 heuristic
ticks, so they see enemies, friends and cover):

- **naive** (the seed's baseline): one request per agent, sequentially, a verbose prompt
  (prose rules and the agent's whole state as indented JSON), a generic JSON schema, no
  streaming;
- **json**: tickmind's compact cached prefix and state lines, the tight per-batch JSON schema,
  streaming, packed and concurrent as the server suits (see "shape" below);
- **lines**: the same with the plan-lines wire and its GBNF grammar (llama.cpp servers);
- **lead**: plan lines, with the planner's realtime lead request (``PlannerConfig.lead_request``):
  one agent asked alone first, the other N-1 (shaped as above) once its answer is in;
- **solo** ("one by one"): the same prompt and plan-lines wire as **lines**, one agent per
  request, one request at a time: what batching is measured against. The naive row differs
  in prompt, schema and wire too, so its ratio is the end-to-end gain, not batching's;
- **squads**: the arena's group orders, N squad lines (the same 100 agents grouped as the
  planner groups them, squads of 10) with the squad tier's prompt, plan lines, shaped as
  **lines**. Each valid squad plan is carried out by all its members, so its effective
  agents per second are the members its valid plans cover over the wall time.

Every request goes through ``ai.BatchExecutor`` as in a run, built by ``ai.llm.batch_request``
(what the planner sends). Per row: wall time of the wave, time to the first valid plan
(streamed entries judged as they close, ``ai.llm.StreamingPlans``), valid-plan rate (the
validator of a run), prompt/answer tokens per agent as the server counts them.

Each row first warms the server with its own system prompt (one tiny request per slot it
will use), then sends agents no earlier row sent: what a run sees once under way, where the
fixed prefix is cached and every agent's state line is new. (Without this, a row reusing the
previous row's agents found their lines in the server's cache.)

Shape: ``m`` requests in flight and ``k`` agents per request come from
``ai.llm.batch_shape(N, parallel)``: a server that batches (llama-server, ``parallel`` slots)
gets one agent per request and every slot busy; one that serialises gets the whole wave in
one request (its cached prefix is paid once; more in flight would only queue).

    .venv/bin/python bench/batching.py [--server auto|llama-server|llama-cpp-python]
        [--url URL --model NAME --schema-format json_schema|json_object --parallel M]
        [--agents 1 5 10 20 50] [--skip-naive-above 20]

The last lines, at 10 agents: ``batching_speedup@10: X`` (valid plans per second of the
better of lines and lead over solo's: the same prompt and wire, so batching alone; "none"
when solo planned nothing validly), ``end_to_end_speedup@10: X`` (the best tickmind
row's valid plans per second over naive's; "none" when naive planned no agent validly, since
a baseline with no valid output is no baseline to claim against), ``agents_per_s@10: X``
(the best row's valid plans per second) and, with the squads row,
``effective_agents_per_s@10: X`` (agents covered by squad plans per second, when every
squad's plan was valid). Each row is one wave: single figures, not medians.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ai import BatchExecutor, Perception
from ai.clients import CompletionRequest, LLMClient, OpenAIClient  # noqa: E402
from ai.llm import BatchJob, batch_request, batch_shape
from ai.wire import AgentSnapshot, StreamingPlans, ValidPlan, build_snapshot, parse_batch_response
from engine import World  # noqa: E402
from examples.arena import arena_snapshots, arena_tiers, build_arena  # noqa: E402
from examples.arena._squads import DEFAULT_SQUAD_SIZE, arena_squads  # noqa: E402

TIMEOUT_S = 600.0
FULL = arena_tiers()[0]  # what the arena's planner offers its model: the actions it executes
SQUAD = arena_tiers(squads=True)[0]  # and what it offers for a squad


@dataclass
class Row:
    agents: int
    setup: str
    k: int
    m: int
    wall_s: float
    first_plan_s: float | None
    valid: int
    prompt_tokens: int
    answer_tokens: int
    prompt_chars: int

    @property
    def valid_per_s(self) -> float:
        return self.valid / self.wall_s

    def line(self, naive: Row | None) -> str:
        """The row; its last column is its valid plans per second over the naive row's, blank
        where naive planned no agent validly (nothing to compare against)."""
        first = f"{self.first_plan_s:7.2f}" if self.first_plan_s is not None else "      -"
        share = f"{100 * self.first_plan_s / self.wall_s:5.0f}%" if self.first_plan_s else "     -"
        ratio = f"{self.valid_per_s / naive.valid_per_s:6.2f}x" if naive is not None and naive.valid else "      -"
        return (
            f"{self.agents:>6} {self.setup:<6} {self.k:>3} {self.m:>3} {self.wall_s:8.2f} {first} {share} "
            f"{100 * self.valid / self.agents:6.0f}% {self.prompt_tokens / self.agents:8.0f} "
            f"{self.answer_tokens / self.agents:7.1f} {self.prompt_chars / self.agents:8.0f} "
            f"{self.valid_per_s:8.2f} {ratio}"
        )


HEADER = (
    f"{'agents':>6} {'setup':<6} {'k':>3} {'m':>3} {'wall_s':>8} {'first_s':>7} {'first%':>6} "
    f"{'valid':>7} {'ptok/ag':>8} {'otok/ag':>7} {'pchr/ag':>8} {'valid/s':>8} {'valid/s vs naive':>7}"
)


def arena_after_120_ticks() -> World:
    """A 100-agent arena after 120 heuristic ticks: its agents see enemies, friends and cover."""
    world = build_arena({"agents": 100, "planner": "heuristic"}, seed=0)
    world.run(120)
    return world


def snapshots(world: World, count: int) -> list[AgentSnapshot]:
    config = arena_snapshots()
    agents = [entity for entity, _ in world.get_component(Perception)][:count]
    return [build_snapshot(world, entity, config=config) for entity in agents]


def squad_snapshots(world: World) -> tuple[list[AgentSnapshot], list[int]]:
    """The same agents as the arena's planner groups them (squads of ``DEFAULT_SQUAD_SIZE``):
    one state line per squad, and each squad's member count."""
    orders = arena_squads(DEFAULT_SQUAD_SIZE)
    units = orders.units(world, [entity for entity, _ in world.get_component(Perception)])
    return [orders.snapshot(world, unit, arena_snapshots()) for unit in units], [len(unit) for unit in units]


# --- the seed's baseline ----------------------------------------------------------------------

NAIVE_SYSTEM = (
    "You are the tactical brain of one soldier in a two-team arena battle. You will receive the "
    "complete state of your soldier as JSON: its position in metres, its health and ammunition, "
    "the enemies and friends it can see with their positions, and the cover objects nearby. "
    "Think about the situation: stay alive, help your team capture the objective, attack enemies "
    "in range, take cover when hurt. Available actions: move_to (x, y), approach (target), retreat "
    "(target), take_cover (cover), attack (target), wait (ticks), scan, patrol (points), regroup. "
    'Answer with JSON of the form {"plans": [{"agent_id": <id>, "steps": [{"act": <action>, ...}]}]}.'
)
NAIVE_SCHEMA = {
    "type": "object",
    "properties": {
        "plans": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "agent_id": {"type": "integer"},
                    "steps": {"type": "array", "items": {"type": "object"}},
                },
                "required": ["agent_id", "steps"],
            },
        }
    },
    "required": ["plans"],
}


def naive_request(snapshot: AgentSnapshot, request_id: str) -> CompletionRequest:
    state = {
        "agent_id": snapshot.agent_id,
        "position": {"x": snapshot.x, "y": snapshot.y},
        "attributes": dict(snapshot.attrs),
        "team": snapshot.team,
        "visible_enemies": [{"id": e.id, "x": e.x, "y": e.y} for e in snapshot.enemies],
        "visible_friends": [{"id": e.id, "x": e.x, "y": e.y} for e in snapshot.allies],
        "visible_objects": [{"id": e.id, "kind": e.kind, "x": e.x, "y": e.y} for e in snapshot.objects],
        "previous_plan": {"status": snapshot.last_status, "reason": snapshot.last_reason},
        "map": {"width": snapshot.bounds.x_max, "height": snapshot.bounds.y_max},
    }
    user = "Current state of your soldier:\n" + json.dumps(state, indent=2) + "\nWhat should it do next?"
    return CompletionRequest(request_id=request_id, system=NAIVE_SYSTEM, user=user, max_tokens=200, schema=NAIVE_SCHEMA)


# --- running one wave ---------------------------------------------------------------------------


def run_wave(
    make_client: Callable[[], LLMClient],
    snaps: Sequence[AgentSnapshot],
    setup: str,
    k: int,
    m: int,
) -> Row:
    """Submit the wave as jobs of ``k`` agents, ``m`` in flight; wait for all. ``lead``: the
    first agent goes alone and the rest (``k``, ``m`` shaped for N-1) after it answers."""
    lead = setup == "lead"
    rest = snaps[1:] if lead else snaps
    chunks = ([tuple(snaps[:1])] if lead else []) + [tuple(rest[i : i + k]) for i in range(0, len(rest), k)]
    wire = "lines" if setup in ("lines", "lead", "solo", "squads") else "json"
    tier = SQUAD if setup == "squads" else FULL

    first_plan: list[float] = []
    lock = threading.Lock()
    started = time.monotonic()

    def reader(stream: StreamingPlans):  # type: ignore[no-untyped-def]
        def read(_job: str, _attempt: int, chunk: str) -> None:
            if any(isinstance(v, ValidPlan) for v in stream.feed(chunk)):
                with lock:
                    first_plan.append(time.monotonic() - started)

        return read

    jobs = []
    for i, chunk in enumerate(chunks):
        job_id = f"{setup}-{i:04d}"
        if setup == "naive":
            request, on_text = naive_request(chunk[0], job_id), None
        else:
            request = batch_request(
                job_id, chunk, tier=tier, wire=wire, max_tokens_per_agent=120 if wire == "json" else 40, stream=True
            )
            on_text = reader(StreamingPlans([s.agent_id for s in chunk], chunk, tier=tier, wire=wire))
        jobs.append(BatchJob(job_id=job_id, request=request, agent_ids=tuple(s.agent_id for s in chunk), submit_tick=0, on_text=on_text))

    # A fresh client per wave: an httpx pool belongs to the event loop (executor) that used it.
    executor = BatchExecutor(make_client(), max_concurrency=m, max_pending=len(jobs) + 1, timeout=TIMEOUT_S)
    with executor:
        started = time.monotonic()
        results = []
        for batch in ([jobs[:1], jobs[1:]] if lead else [jobs]):
            for job in batch:
                executor.submit(job)
            results += executor.wait([job.job_id for job in batch], TIMEOUT_S * len(batch))
    wall = time.monotonic() - started

    valid = prompt_tokens = answer_tokens = prompt_chars = 0
    for job, chunk, result in zip(jobs, chunks, results, strict=True):
        prompt_chars += len(job.request.system) + len(job.request.user)
        if not result.ok or result.result is None:
            print(f"  {job.job_id}: {result.status.value} {result.error}", file=sys.stderr)
            continue
        prompt_tokens += result.result.prompt_tokens
        answer_tokens += result.result.completion_tokens
        outcome = parse_batch_response(result.result.text, job.agent_ids, chunk, tier=tier, wire=wire)
        valid += len(outcome.plans)
    first = min(first_plan) if first_plan else None
    return Row(len(snaps), setup, k, m, wall, first, valid, prompt_tokens, answer_tokens, prompt_chars)


#: Agents used only to warm the server's prompt caches before each timed row.
WARM_UP_AGENTS = 8


class _Rotation:
    """Hands out agents no earlier row used, wrapping around (with a note) once all are used."""

    def __init__(self, agents: Sequence[AgentSnapshot]) -> None:
        self._agents, self._next = list(agents), 0

    def take(self, count: int) -> list[AgentSnapshot]:
        if self._next + count > len(self._agents):
            print(f"  (agents reused from here: {count} more than the {len(self._agents)} fresh ones)", file=sys.stderr)
            self._next = 0
        taken = self._agents[self._next : self._next + count]
        self._next += count
        return taken


# --- the server ---------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--server", default="auto", choices=["auto", "llama-server", "llama-cpp-python"])
    parser.add_argument("--url", help="an OpenAI-compatible server to use instead of the embedded one")
    parser.add_argument("--model", default="local")
    parser.add_argument("--schema-format", default="json_schema", choices=["json_schema", "json_object"])
    parser.add_argument("--parallel", type=int, default=None, help="requests the server runs at once")
    parser.add_argument("--slots", type=int, default=8, help="llama-server slots (embedded)")
    parser.add_argument("--agents", type=int, nargs="+", default=[1, 5, 10, 20, 50])
    setups = ["naive", "solo", "json", "lines", "lead", "squads"]
    parser.add_argument("--setups", nargs="+", default=setups, choices=setups)
    parser.add_argument("--skip-naive-above", type=int, default=50, help="no naive baseline above this N")
    args = parser.parse_args(argv)

    from ai.serving import LocalServer, ServerSpec

    server = None
    make_client: Callable[[], LLMClient]
    if args.url:
        url, model, schema_format = args.url, args.model, args.schema_format
        make_client = lambda: OpenAIClient(url, model, schema_format=schema_format)  # noqa: E731
        parallel = args.parallel or 1
        where = args.url
    else:
        server = LocalServer(ServerSpec(kind=args.server, slots=args.slots)).start()
        make_client = server.client
        parallel = args.parallel or server.concurrency
        where = f"embedded {server.kind} ({server.spec.model.name if server.spec.model else '?'}), {parallel} parallel"
    print(f"server: {where}")
    print(HEADER)
    rows: list[Row] = []
    squad_rates: list[tuple[int, Row, int]] = []
    try:
        world = arena_after_120_ticks()
        pool = snapshots(world, 100)
        warm, fresh = pool[:WARM_UP_AGENTS], _Rotation(pool[WARM_UP_AGENTS:])
        squads, members = squad_snapshots(world)
        for count in args.agents:
            naive: Row | None = None
            for setup in args.setups:
                if (setup == "naive" and count > args.skip_naive_above) or (setup == "lead" and count < 2):
                    continue
                if setup == "squads":
                    if count > len(squads):
                        continue
                    k, m = batch_shape(count, parallel)
                    run_wave(make_client, squads[-1:], setup, 1, m)  # the squad prompt cached, as in a run
                    row = run_wave(make_client, squads[:count], setup, k, m)
                    rows.append(row)
                    carried = sum(members[:count])
                    # no ratio to naive: a squad plan covers its members, a naive plan one agent
                    print(row.line(None), f"  ({carried} agents in {count} squads)", flush=True)
                    squad_rates.append((count, row, carried))
                    continue
                if setup in ("naive", "solo"):
                    k, m = 1, 1
                else:
                    k, m = batch_shape(count - 1 if setup == "lead" else count, parallel)
                # Steady state of a run: the setup's system prompt cached in every slot, and
                # agents no earlier row has sent (a server also caches a prompt's agent lines).
                run_wave(make_client, warm[: max(m, 1)], "lines" if setup in ("lead", "solo") else setup, 1, m)
                row = run_wave(make_client, fresh.take(count), setup, k, m)
                naive = row if setup == "naive" else naive
                rows.append(row)
                print(row.line(naive), flush=True)
    finally:
        if server is not None:
            server.stop()
    at10 = [r for r in rows if r.agents == 10]
    naive10 = [r for r in at10 if r.setup == "naive"]
    solo10 = [r for r in at10 if r.setup == "solo"]
    batched10 = [r for r in at10 if r.setup not in ("naive", "solo", "squads")]
    same_wire10 = [r for r in batched10 if r.setup in ("lines", "lead")]  # solo's prompt and wire
    tickmind_rows = [r for r in rows if r.setup != "naive"]
    if tickmind_rows:
        print(f"valid plans (tickmind rows): {statistics.fmean(r.valid / r.agents for r in tickmind_rows):.1%}")
    if solo10 and same_wire10:
        batched = max(same_wire10, key=lambda r: r.valid_per_s)
        if solo10[0].valid:
            ratio = batched.valid_per_s / solo10[0].valid_per_s
            print(f"batching_speedup@10: {ratio:.2f} ({batched.setup} / one by one, valid plans per second: same prompt and wire)")
        else:
            print("batching_speedup@10: none (one by one planned no agent validly)")
    if batched10:
        best = max(batched10, key=lambda r: r.valid_per_s)
        if naive10 and naive10[0].valid:
            print(f"end_to_end_speedup@10: {best.valid_per_s / naive10[0].valid_per_s:.2f} ({best.setup} / naive, valid plans per second)")
        elif naive10:
            print(f"end_to_end_speedup@10: none (the naive baseline planned none of its {naive10[0].agents} agents validly)")
        print(f"agents_per_s@10: {best.valid_per_s:.2f} ({best.setup}, valid plans per second)")
    for count, row, carried in squad_rates:
        if count != 10:
            continue
        if row.valid == row.agents:
            why = f"10 squad lines of the arena's {carried} agents, every squad's plan valid"
            print(f"effective_agents_per_s@10: {carried / row.wall_s:.2f} ({why})")
        else:  # which squads' members a valid plan covers is not kept per squad
            print(f"effective_agents_per_s@10: none ({row.valid} of 10 squad plans valid; members covered unknown)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
