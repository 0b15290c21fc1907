"""Where a recorded tick's state hash goes, by component type, on the arena's own states.

Why: the state hash is what a recorded tick pays on top of the tick (issue #18's
``recorded_over_tick``), and the choices left to make it cheaper depend on which part costs
what: encoding each type's values, the per-row digests of the detail, or the root's
blake2b. This prints, for one heuristic arena world after its warm-up:

- per type, the encoding of every value the tick after a step (change-tracked values
  re-encode only what was assigned) and the digests of the detail, in ms per tick;
- the whole hash the tick after a step, with the detail and the root alone (alternate
  ticks), and the root again at once with every cache filled: the cost of one pass over
  the values and of blake2b, whatever changed.

Medians over ``--ticks`` ticks, each timed once; the world is stepped between them, so the
figures are of states a run goes through.

    .venv/bin/python bench/hash_split.py
    .venv/bin/python bench/hash_split.py --agents 100 --warmup 420
"""

from __future__ import annotations

import argparse
import statistics
import time

from _windows import window_for

from engine import World
from engine._hashing import _row_digests, encode_type
from examples.arena import build_arena


def _ms(start: float) -> float:
    return (time.perf_counter() - start) * 1e3


def split_by_type(world: World) -> dict[str, tuple[float, float]]:
    """(encode ms, digest ms) of each type present, for the world as it stands."""
    out: dict[str, tuple[float, float]] = {}
    for info, pairs in world._present_components():
        entities = world._entity_ids(info, pairs)
        start = time.perf_counter()
        blob, encoded, ends = encode_type(info, pairs, entities, world._packed)
        encode_ms = _ms(start)
        start = time.perf_counter()
        _row_digests(blob, len(entities), encoded, ends)
        out[info.name] = (encode_ms, _ms(start))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--agents", type=int, default=1000)
    parser.add_argument("--warmup", type=int, default=None, help="ticks before timing (default: bench/_windows.py's)")
    parser.add_argument("--ticks", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    world = build_arena({"agents": args.agents}, args.seed)
    world.run(window_for(args.agents, args.warmup).warmup)
    by_type: dict[str, list[tuple[float, float]]] = {}
    whole: dict[str, list[float]] = {"with detail": [], "root alone": [], "root, caches filled": []}
    for tick in range(args.ticks):
        world.step()
        for name, split in split_by_type(world).items():
            by_type.setdefault(name, []).append(split)
        world.step()
        start = time.perf_counter()
        if tick % 2:
            world.state_root()
            whole["root alone"].append(_ms(start))
        else:
            world.state_hash()
            whole["with detail"].append(_ms(start))
        start = time.perf_counter()
        world.state_root()
        whole["root, caches filled"].append(_ms(start))

    print(f"{args.agents:,} agents, seed {args.seed}, {args.ticks} ticks after the warm-up: ms per tick (median)")
    print(f"{'type':24} {'encode':>8} {'digests':>8}")
    rows = {name: (statistics.median(s[0] for s in v), statistics.median(s[1] for s in v)) for name, v in by_type.items()}
    for name, (encode_ms, digest_ms) in sorted(rows.items(), key=lambda kv: -kv[1][0]):
        print(f"{name:24} {encode_ms:>8.3f} {digest_ms:>8.3f}")
    print(f"{'all types':24} {sum(r[0] for r in rows.values()):>8.3f} {sum(r[1] for r in rows.values()):>8.3f}")
    print("\nthe whole hash, the tick after a step")
    for label, values in whole.items():
        print(f"  {label:22} {statistics.median(values):>8.3f}")


if __name__ == "__main__":
    main()
