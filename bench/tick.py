"""Tick costs, as ratios against baselines measured in the same run.

Four parts (``--parts``, default all of them):

scheduler  Bare scheduler cost: three trivial systems (integrate, bounce, age) over N entities,
           tickmind's World against the same work as module-level esper processors (what a user
           would write with esper directly). tickmind adds sorted cached queries, per-system RNG
           contexts and timing; the ratio says what that costs. The state hash (what recording
           adds per tick) is measured separately.
arena      The full arena tick (heuristic controller, no model) at 100 / 1,000 / 10,000 agents,
           ``build_arena({"agents": N}, seed)`` (the map grows with N): ms per tick per system
           (``world.timings`` diffed around the timed window; medians of repeats) after a
           warm-up, as a multiple of the whole-tick budget (0.3 / 2.5 / 25 ms), and the state
           hash apart. A 10,000-agent tick takes seconds, so that size gets 2 warm-up ticks.
every      ``perception_every=4`` against 1, at 1,000 and 10,000 agents.
naive      Perception, steering and the physics sync written the way a first version would:
           per-entity esper loops, an O(n^2) Python neighbour search, a pure-Python segment
           test against every wall per candidate, nearest first until the k nearest visible
           of each kind are found (perception's own answer: each pass is checked against the
           perception system run on the same state, and a differing answer gets no ratio),
           one pymunk call per body; timed on the arena's states of the timed window (one
           pass after each timed repeat), against the tickmind systems it replaces.
           Above 1,000 agents the O(n^2) parts run for a sample of perceivers/movers against
           everyone and are scaled up (the table says so).

    .venv/bin/python bench/tick.py                      # everything, about 5 minutes on 2 cores
    .venv/bin/python bench/tick.py --parts scheduler    # the bare scheduler table only
    .venv/bin/python bench/tick.py --parts arena naive --arena-sizes 100 1000
    .venv/bin/python bench/tick.py --parts arena --arena-sizes 1000 10000 --no-gc   # GC's share
    .venv/bin/python bench/tick.py --parts none --summary   # issue #18's figures only (bench/tick_summary.py)
"""

from __future__ import annotations

import argparse
import gc
import math
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

import esper
from _windows import BUDGET_MS, Window, window_for

from ai import Faction, Perceivable, Perception, Senses
from engine import DesiredVelocity, Position, TickContext, Velocity, World, component
from engine._schedule import SystemSpec
from examples.arena import ArenaOutcome, ArenaScore, build_arena
from nav import NavConfig, NavGoal, NavPath
from physics import Body, PhysicsBridge, Wall

PARTS = ("scheduler", "arena", "every", "naive")
NAIVE_FULL_UP_TO = 1_000  # agents; above this the naive O(n^2) parts are sampled and scaled


# --- 1. bare scheduler ---------------------------------------------------------------------


@component
class Age:
    ticks: int


DT = 1 / 60


def integrate(world: World, ctx: TickContext) -> None:
    dt = ctx.dt
    for _, (p, v) in world.get_components(Position, Velocity):
        p.x += v.vx * dt
        p.y += v.vy * dt


def bounce(world: World, ctx: TickContext) -> None:
    for _, (p, v) in world.get_components(Position, Velocity):
        if p.x < 0.0 or p.x > 100.0:
            v.vx = -v.vx
        if p.y < 0.0 or p.y > 100.0:
            v.vy = -v.vy


def age(world: World, ctx: TickContext) -> None:
    for _, a in world.get_component(Age):
        a.ticks += 1


def build_tickmind(n: int) -> World:
    world = World(seed=0)
    for i in range(n):
        world.create_entity(Position(i % 100, i // 100 % 100), Velocity(1.0 + i % 7, 2.0 - i % 5), Age(0))
    world.add_system(integrate, stage="physics")
    world.add_system(bounce, stage="physics", after=["integrate"])
    world.add_system(age)
    return world


class Integrate(esper.Processor):
    def process(self) -> None:
        for _, (p, v) in esper.get_components(Position, Velocity):
            p.x += v.vx * DT
            p.y += v.vy * DT


class Bounce(esper.Processor):
    def process(self) -> None:
        for _, (p, v) in esper.get_components(Position, Velocity):
            if p.x < 0.0 or p.x > 100.0:
                v.vx = -v.vx
            if p.y < 0.0 or p.y > 100.0:
                v.vy = -v.vy


class Aging(esper.Processor):
    def process(self) -> None:
        for _, a in esper.get_component(Age):
            a.ticks += 1


def build_esper(n: int) -> None:
    name = f"bench-{n}"
    esper.switch_world(name)
    esper.clear_database()
    for p in list(esper._processors):
        esper.remove_processor(type(p))
    for i in range(n):
        esper.create_entity(Position(i % 100, i // 100 % 100), Velocity(1.0 + i % 7, 2.0 - i % 5), Age(0))
    esper.add_processor(Integrate(), priority=3)
    esper.add_processor(Bounce(), priority=2)
    esper.add_processor(Aging(), priority=1)


def per_tick_ms(step: Callable[[], object], ticks: int, repeats: int) -> float:
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(ticks):
            step()
        samples.append((time.perf_counter() - start) * 1000 / ticks)
    return statistics.median(samples)


def bench_scheduler(sizes: list[int], ticks_at_100: int, repeats: int) -> None:
    print(f"## bare scheduler: median of {repeats} repeats")
    print(f"{'entities':>9} {'esper ms':>9} {'tickmind ms':>12} {'ratio':>6} {'hash ms':>8} {'hash/tick':>9}")
    for n in sizes:
        ticks = max(10, ticks_at_100 * 100 // max(n, 100))
        build_esper(n)
        naive = per_tick_ms(esper.process, ticks, repeats)
        world = build_tickmind(n)
        ours = per_tick_ms(world.step, ticks, repeats)
        hashing = per_tick_ms(world.state_hash, max(3, ticks // 4), repeats)
        world.close()
        print(f"{n:>9} {naive:>9.3f} {ours:>12.3f} {ours / naive:>6.2f} {hashing:>8.3f} {hashing / ours:>9.2f}")


# --- 2. the arena tick ---------------------------------------------------------------------


@dataclass
class ArenaRun:
    """One arena world measured over its timed window (the world is kept for the naive part)."""

    n: int
    every: int
    window: Window
    world: World | None  #: None once released
    tick_ms: float  #: wall ms per tick, median of repeats
    outside_ms: float  #: wall ms per tick spent outside any system (scheduler, flushes), median
    systems: dict[str, float]  #: ms per tick per system, median of repeats
    shots: int  #: shots fired inside the timed window
    warmup_s: float
    seen: float  #: visible agents per perceiver at the end
    hash_ms: float = math.nan
    alive: tuple[int, ...] = ()  #: agents per team at the end

    def live(self) -> World:
        assert self.world is not None, "this run's world was already released"
        return self.world

    def release(self) -> None:
        """Close the world and drop it (a 10,000-agent world holds gigabytes)."""
        self.alive = self.live().resource(ArenaOutcome).alive
        self.live().close()
        self.world = None


def measure_arena(
    n: int,
    every: int,
    window: Window,
    seed: int,
    no_gc: bool = False,
    between: Callable[[World], None] | None = None,
) -> ArenaRun:
    """Build, warm up, then time ``window.repeats`` runs of ``window.ticks`` ticks (rounded up
    to a multiple of ``every``), calling ``between(world)`` after each, untimed; ``no_gc``
    turns the cyclic collector off while timing."""
    world = build_arena({"agents": n, "perception_every": every}, seed)
    start = time.perf_counter()
    world.run(window.warmup)
    warmup_s = time.perf_counter() - start
    score = world.resource(ArenaScore)
    shots = score.shots
    ticks = math.ceil(window.ticks / every) * every  # every perceiver refreshed equally often
    walls: list[float] = []
    outside: list[float] = []
    per_system: list[dict[str, float]] = []
    if no_gc:
        gc.collect()
        gc.disable()
    try:
        for _ in range(window.repeats):
            before = dict(world.timings)
            start = time.perf_counter()
            world.run(ticks)
            walls.append((time.perf_counter() - start) * 1e3 / ticks)
            per_system.append({k: (v - before.get(k, 0.0)) * 1e3 / ticks for k, v in world.timings.items()})
            outside.append(walls[-1] - sum(per_system[-1].values()))
            if between is not None:
                between(world)
    finally:
        gc.enable()
    systems = {name: statistics.median(s.get(name, 0.0) for s in per_system) for name in per_system[-1]}
    perceptions = world.get_component(Perception)
    seen = sum(len(p.visible) for _, p in perceptions) / max(1, len(perceptions))
    return ArenaRun(
        n, every, window, world, statistics.median(walls), statistics.median(outside), systems,
        score.shots - shots, warmup_s, seen,
    )


def measure_hash(world: World, repeats: int) -> float:
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        world.state_hash()
        samples.append((time.perf_counter() - start) * 1e3)
    return statistics.median(samples)


def print_arena(runs: list[ArenaRun], no_gc: bool) -> None:
    gc_note = ", cyclic GC off while timing" if no_gc else ""
    print(f"\n## arena tick, heuristic control, perception_every=1{gc_note}: ms per tick (median of repeats)")
    print("  ".join(f"{r.n:,} agents: {r.window.warmup} warm-up ticks, {r.window.repeats} x {r.window.ticks}" for r in runs))
    head = f"{'':22}" + "".join(f"{f'{r.n:,} agents':>15}" for r in runs)
    print(head)
    names = list(dict.fromkeys(name for r in runs for name in r.systems))

    def row(label: str, values: list[str]) -> None:
        print(f"{label:22}" + "".join(f"{v:>15}" for v in values))

    for name in names:
        row(name, [f"{r.systems.get(name, 0.0):.3f}" for r in runs])
    row("outside systems", [f"{r.outside_ms:.3f}" for r in runs])
    row("tick (wall)", [f"{r.tick_ms:.3f}" for r in runs])
    row("budget ms", [f"{BUDGET_MS.get(r.n, math.nan):g}" for r in runs])
    row("tick / budget", [f"{r.tick_ms / BUDGET_MS.get(r.n, math.nan):.1f}x" for r in runs])
    row("largest system", [max(r.systems, key=r.systems.__getitem__) for r in runs])
    row("  its share", [f"{max(r.systems.values()) / r.tick_ms:.0%}" for r in runs])
    row("state_hash ms", [f"{r.hash_ms:.3f}" for r in runs])
    row("hash / tick", [f"{r.hash_ms / r.tick_ms:.2f}" for r in runs])
    row("visible per agent", [f"{r.seen:.0f}" for r in runs])
    row("shots in window", [str(r.shots) for r in runs])
    row("alive at end", ["/".join(map(str, r.alive)) for r in runs])
    row("warm-up s", [f"{r.warmup_s:.1f}" for r in runs])


def print_every(pairs: list[tuple[ArenaRun, ArenaRun]]) -> None:
    print("\n## perception_every=4 against 1 (each its own world, same seed and warm-up)")
    print(f"{'agents':>7} {'perc ms e=1':>12} {'perc ms e=4':>12} {'ratio':>6} {'tick ms e=1':>12} {'tick ms e=4':>12} {'ratio':>6}")
    for one, four in pairs:
        p1, p4 = one.systems["perception"], four.systems["perception"]
        print(
            f"{one.n:>7,} {p1:>12.2f} {p4:>12.2f} {p4 / p1:>6.2f} "
            f"{one.tick_ms:>12.2f} {four.tick_ms:>12.2f} {four.tick_ms / one.tick_ms:>6.2f}"
        )


# --- 3. the naive baseline -----------------------------------------------------------------


def use_esper(world: World) -> None:
    """Make ``world``'s esper context the current one: the naive code talks to esper directly,
    as a first version would, and World keeps the context private (this is what it does)."""
    world._use()


def segment_clear(boxes: list[tuple[float, float, float, float]], ax: float, ay: float, bx: float, by: float) -> bool:
    """Pure-Python Liang-Barsky against every box, bounding boxes compared first: True when
    no box interior lies on the segment (the per-pair test a first version would write). The
    segment runs from its lexicographically smaller end, as ``nav.BoxSight`` orients it, so
    both give the same answer to the bit."""
    if bx < ax or (bx == ax and by < ay):
        ax, ay, bx, by = bx, by, ax, ay
    lo_x, hi_x = (ax, bx) if ax < bx else (bx, ax)
    lo_y, hi_y = (ay, by) if ay < by else (by, ay)
    dx, dy = bx - ax, by - ay
    for x0, y0, x1, y1 in boxes:
        if lo_x >= x1 or hi_x <= x0 or lo_y >= y1 or hi_y <= y0:
            continue
        enter, leave = 0.0, 1.0
        if dx != 0.0:
            t0, t1 = (x0 - ax) / dx, (x1 - ax) / dx
            enter, leave = max(enter, min(t0, t1)), min(leave, max(t0, t1))
        elif ax <= x0 or ax >= x1:
            continue
        if dy != 0.0:
            t0, t1 = (y0 - ay) / dy, (y1 - ay) / dy
            enter, leave = max(enter, min(t0, t1)), min(leave, max(t0, t1))
        elif ay <= y0 or ay >= y1:
            continue
        if enter < leave:
            return False
    return True


Sightings = dict[int, tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...], tuple[int, ...]]]


def naive_perception(
    world: World, boxes: list[tuple[float, float, float, float]], stride: int, cap: int
) -> tuple[Sightings, int]:
    """Every ``stride``-th perceiver, as a first version would: every agent and object in
    range, sorted nearest first (ties by id), then line of sight per candidate until ``cap``
    of each kind are visible; lists as ``Perception`` has them with ``max_listed=cap``.
    Returns them and how many perceivers ran."""
    use_esper(world)
    agents = list(esper.get_components(Position, Faction))
    objects = list(esper.get_components(Position, Perceivable))
    perceivers = sorted(esper.get_components(Position, Faction, Senses))[::stride]
    out: Sightings = {}
    for entity, (pos, faction, senses) in perceivers:
        x, y, r2, team = pos.x, pos.y, senses.range * senses.range, faction.team
        enemies: list[tuple[float, int, float, float]] = []
        allies: list[tuple[float, int, float, float]] = []
        things: list[tuple[float, int, float, float]] = []
        for other, (p, f) in agents:
            dx, dy = p.x - x, p.y - y
            d2 = dx * dx + dy * dy
            if other != entity and d2 <= r2:
                (allies if f.team == team else enemies).append((d2, other, p.x, p.y))
        for other, (p, marker) in objects:
            dx, dy = p.x - x, p.y - y
            d2 = dx * dx + dy * dy
            if d2 <= r2:
                d = math.sqrt(d2)
                pull = min(1.0, marker.radius / d) if d > 0.0 else 1.0  # stop at its near side
                things.append((d2, other, p.x + (x - p.x) * pull, p.y + (y - p.y) * pull))

        def nearest_visible(candidates: list[tuple[float, int, float, float]]) -> tuple[int, ...]:
            seen: list[int] = []
            for _, other, ex, ey in sorted(candidates):
                if len(seen) == cap:
                    break
                if segment_clear(boxes, x, y, ex, ey):
                    seen.append(other)
            return tuple(seen)

        listed_enemies, listed_allies = nearest_visible(enemies), nearest_visible(allies)
        visible = tuple(sorted(listed_enemies + listed_allies))
        out[entity] = (visible, listed_enemies, listed_allies, nearest_visible(things))
    return out, len(perceivers)


def perception_spec(world: World) -> SystemSpec:
    """The world's perception system as scheduled (``fn`` holds its ``max_listed``)."""
    return next(s for s in world.schedule.systems() if s.name == "perception")


def perceived_now(world: World) -> dict[int, tuple[tuple[int, ...], ...]]:
    """Run the world's perception system once on the state as it stands and return its lists:
    the answers the naive pass must give."""
    spec = perception_spec(world)
    spec.ctx.tick = world.tick
    spec.fn(world, spec.ctx)
    return {e: (p.visible, p.enemies, p.allies, p.objects) for e, p in world.get_component(Perception)}


def naive_steering(world: World, cfg: NavConfig, stride: int) -> int:
    """Every ``stride``-th nav agent: seek its waypoint, ease into the last one, push away from
    every other nav agent closer than the separation radius (all pairs), write DesiredVelocity.
    Returns how many agents ran."""
    use_esper(world)
    movers = sorted(esper.get_components(Position, NavGoal, NavPath, DesiredVelocity))[::stride]
    everyone = [(e, p) for e, (p, _) in esper.get_components(Position, NavGoal)]
    radius = float(cfg.separation_radius)  # type: ignore[arg-type]
    r2 = radius * radius
    for entity, (pos, goal, path, dv) in movers:
        x, y = pos.x, pos.y
        wps = path.waypoints
        tx, ty = wps[path.index] if path.index < len(wps) else (goal.x, goal.y)
        fx, fy = wps[-1] if wps else (goal.x, goal.y)
        speed = goal.speed * min(1.0, math.hypot(fx - x, fy - y) / cfg.slow_radius)
        dist = math.hypot(tx - x, ty - y)
        vx, vy = ((tx - x) / dist * speed, (ty - y) / dist * speed) if dist > 1e-12 else (0.0, 0.0)
        px = py = 0.0
        for other, p in everyone:
            if other == entity:
                continue
            ox, oy = x - p.x, y - p.y
            d2 = ox * ox + oy * oy
            if d2 < r2:
                d = math.sqrt(d2)
                if d > 0.0:
                    push = (1.0 - d / radius) / d
                    px += ox * push
                    py += oy * push
        vx += px * cfg.separation_weight * goal.speed
        vy += py * cfg.separation_weight * goal.speed
        mag = math.hypot(vx, vy)
        if mag > goal.speed > 0.0:
            vx, vy = vx * goal.speed / mag, vy * goal.speed / mag
        dv.vx, dv.vy = vx, vy
    return len(movers)


def naive_physics(world: World, bridge: PhysicsBridge, bodies: dict[int, object]) -> None:
    """Body by body: set each pymunk velocity from DesiredVelocity (clamped), step the space,
    read each position and velocity back into the components."""
    use_esper(world)
    for entity, (spec, dv) in esper.get_components(Body, DesiredVelocity):
        vx, vy = dv.vx, dv.vy
        speed = math.hypot(vx, vy)
        if speed > spec.max_speed:
            vx, vy = vx * spec.max_speed / speed, vy * spec.max_speed / speed
        bodies[entity].velocity = (vx, vy)  # type: ignore[attr-defined]
    h = world.dt / bridge.substeps
    for _ in range(bridge.substeps):
        bridge.space.step(h)
    for entity, (_, pos, vel) in esper.get_components(Body, Position, Velocity):
        body = bodies[entity]
        pos.x, pos.y = body.position  # type: ignore[attr-defined]
        vel.vx, vel.vy = body.velocity  # type: ignore[attr-defined]


@dataclass
class NaiveRow:
    system: str
    naive_ms: float
    ours_ms: float
    note: str = ""
    comparable: bool = True  #: False: the naive answers differed, so no ratio


class NaiveProbe:
    """Called between the timed repeats of an arena run (outside the timing): one naive pass
    (perception, steering, physics sync, in tick order) on the world as it stands, so the
    naive code sees the same spread of states as the tickmind window. Above NAIVE_FULL_UP_TO
    agents the O(n^2) parts run for ``sample`` perceivers/movers and are scaled up. Its
    physics pass really steps the space, so the world gets one extra physics step per
    repeat; the timed ticks do not include it."""

    def __init__(self, n: int, sample: int) -> None:
        self.sampled = n > NAIVE_FULL_UP_TO
        self.sample = sample
        self.samples: list[tuple[float, float, float]] = []
        self.work: tuple[str, str, str] = ("", "", "")
        self.checked = self.differ = 0  #: naive perceptions compared with the system's, and how many differed

    def __call__(self, world: World) -> None:
        boxes = [(w.x0, w.y0, w.x1, w.y1) for _, w in world.get_component(Wall)]
        cfg = world.resource(NavConfig)
        bridge = world.resource(PhysicsBridge)
        bodies: dict[int, object] = {e: bridge.body(e) for e in bridge.entities()}
        perceivers = len(world.get_components(Faction, Senses))
        movers = len(world.get_components(NavGoal, NavPath))
        p_stride = max(1, math.ceil(perceivers / self.sample)) if self.sampled else 1
        m_stride = max(1, math.ceil(movers / self.sample)) if self.sampled else 1
        cap = perception_spec(world).fn.max_listed
        t0 = time.perf_counter()
        naive_seen, p_ran = naive_perception(world, boxes, p_stride, cap)
        t1 = time.perf_counter()
        expected = perceived_now(world)  # untimed; the same state, since nothing moved yet
        self.differ += sum(seen != expected.get(entity) for entity, seen in naive_seen.items())
        self.checked += len(naive_seen)
        t2 = time.perf_counter()
        m_ran = naive_steering(world, cfg, m_stride)
        t3 = time.perf_counter()
        naive_physics(world, bridge, bodies)
        t4 = time.perf_counter()
        self.samples.append((
            (t1 - t0) * 1e3 * perceivers / max(p_ran, 1),
            (t3 - t2) * 1e3 * movers / max(m_ran, 1),
            (t4 - t3) * 1e3,
        ))
        self.work = (  # what the last pass covered
            f"{perceivers:,} perceivers" + (f"; {p_ran} timed, x{p_stride}" if p_stride > 1 else ""),
            f"{movers:,} with a NavGoal" + (f"; {m_ran} timed, x{m_stride}" if m_stride > 1 else ""),
            f"{len(bodies):,} bodies",
        )

    def rows(self, run: ArenaRun) -> list[NaiveRow]:
        perc, steer, phys = (statistics.median(s[i] for s in self.samples) for i in range(3))
        ours = run.systems
        agree = f"; {self.differ} of {self.checked} differ from Perception" if self.differ else f"; all {self.checked} match Perception"
        rows = [
            NaiveRow("perception", perc, ours["perception"], self.work[0] + agree, comparable=not self.differ),
            NaiveRow("nav / steering", steer, ours["nav"], self.work[1]),
            NaiveRow("physics sync + step", phys, ours["physics.step"], self.work[2]),
        ]
        naive_ms, ours_ms = sum(r.naive_ms for r in rows), sum(r.ours_ms for r in rows)
        rows.append(NaiveRow("total of these", naive_ms, ours_ms, comparable=all(r.comparable for r in rows)))
        return rows


def print_naive(results: list[tuple[int, list[NaiveRow]]]) -> None:
    print("\n## naive baseline vs tickmind, ms per tick (naive: one pass after each timed repeat, median)")
    print(f"{'agents':>7} {'system':22} {'naive ms':>11} {'tickmind ms':>12} {'naive/tickmind':>15}  work (sampled: timed, scaled up)")
    for n, rows in results:
        for row in rows:
            print(
                f"{n:>7,} {row.system:22} {row.naive_ms:>11.2f} {row.ours_ms:>12.3f} "
                f"{(f'{row.naive_ms / row.ours_ms:.1f}' if row.comparable else '-'):>15}  {row.note}"
            )
    print(
        "naive 'nav / steering' does no path planning (tickmind's 'nav' includes replanning for "
        "changed goals); naive perception tests line of sight in pure Python, nearest first, until it "
        "has the k nearest visible of each kind, and its lists are checked against the perception system's"
    )


# --- main ------------------------------------------------------------------------------------


def progress(message: str) -> None:
    print(f"# {message}", file=sys.stderr, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--parts", nargs="+", choices=(*PARTS, "none"), default=list(PARTS))
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1000, 10000], help="scheduler entities")
    parser.add_argument("--ticks", type=int, default=200, help="scheduler ticks at 100 entities")
    parser.add_argument("--repeats", type=int, default=5, help="scheduler repeats")
    parser.add_argument("--arena-sizes", type=int, nargs="+", default=[100, 1000, 10000])
    parser.add_argument("--warmup", type=int, default=None, help="arena warm-up ticks for every size")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--naive-sample", type=int, default=200, help="perceivers/movers timed above 1,000 agents")
    parser.add_argument("--no-gc", action="store_true", help="arena: cyclic GC off while timing")
    parser.add_argument(
        "--summary", action="store_true",
        help="print issue #18's figures last, one line each (bench/tick_summary.py); --parts none for only those",
    )
    args = parser.parse_args()
    parts = set(args.parts)

    if "scheduler" in parts:
        bench_scheduler(args.sizes, args.ticks, args.repeats)
    runs: list[ArenaRun] = []
    naive: list[tuple[int, list[NaiveRow]]] = []
    every: list[tuple[ArenaRun, ArenaRun]] = []
    for n in args.arena_sizes if parts & {"arena", "every", "naive"} else []:
        window = window_for(n, args.warmup)
        probe = NaiveProbe(n, args.naive_sample) if "naive" in parts else None
        run = measure_arena(n, 1, window, args.seed, args.no_gc, probe)
        run.hash_ms = measure_hash(run.live(), 3 if n > NAIVE_FULL_UP_TO else 5)
        progress(f"{n:,} agents: warm-up {run.warmup_s:.1f} s, {run.tick_ms:.2f} ms/tick")
        if probe is not None:
            naive.append((n, probe.rows(run)))
        run.release()
        runs.append(run)
        if "every" in parts and n >= 1000:
            # The naive probe runs between the timed repeats of ``run``: every=1 is timed
            # again without it, so both sides of the ratio run undisturbed.
            one = run
            if probe is not None:
                one = measure_arena(n, 1, window, args.seed, args.no_gc)
                one.release()
            four = measure_arena(n, 4, window, args.seed, args.no_gc)
            four.release()
            every.append((one, four))
            progress(f"{n:,} agents, every=4: {four.tick_ms:.2f} ms/tick")
        gc.collect()
    if "arena" in parts:
        print_arena(runs, args.no_gc)
    if every:
        print_every(every)
    if naive:
        print_naive(naive)
    if args.summary:
        from tick_summary import print_summary, summary

        print_summary(summary(args.seed, warmup=args.warmup))


if __name__ == "__main__":
    main()
