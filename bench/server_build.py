"""What tickmind's portable llama-server build costs against a native one, on one machine.

tickmind builds llama-server with the instruction sets the CPU reports, named one by one and
never AMX (``ai/serving/_cpu.py``), instead of ``-march=native``, which crashes on CPUs that
report AMX. On a CPU where native works both run; this measures what the choice gives up.

Both binaries serve the packaged model in turn, alternating rounds so the machine's noise
falls on both alike; every request is the same planner-sized prompt (a fixed ~400-token
system prefix and one arena state line) with a fixed answer length, and llama-server's own
timings give prompt and generation speed. Prompt caching is defeated by a per-request nonce
at the start of the user message, so every round reads its prompt anew.

    .venv/bin/python bench/server_build.py --native PATH [--portable PATH] [--rounds 7]

``--portable`` defaults to tickmind's build for this CPU. The last lines are
``prompt_portable_over_native: X`` and ``generation_portable_over_native: X`` (medians;
1.0 means the portable build costs nothing).
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ai.serving import LocalServer, ServerBinary, ServerSpec, find_llama_server  # noqa: E402

SYSTEM = (
    "You plan soldiers in a two-team arena. For every agent line, answer one plan line: the "
    "agent id, then steps separated by ';'. Actions: attack TARGET, approach TARGET, take_cover "
    "COVER, retreat, scan, wait TICKS, move_to X,Y, patrol X,Y/X,Y. Targets are ids the agent "
    "sees. " * 6
)
STATE = "7 hp90 E:9@20,5/12@31,7 F:3@8,2 cover:3@12,6 ammo 12"
ANSWER_TOKENS = 48


def measure(binary: ServerBinary, rounds: int, offset: int) -> list[tuple[float, float]]:
    """(prompt tok/s, generation tok/s) of ``rounds`` requests to ``binary``."""
    speeds = []
    spec = ServerSpec(kind="llama-server", binary=binary, slots=1, build=False, max_restarts=0)
    with LocalServer(spec, say=lambda _l: None) as server, httpx.Client(timeout=300, trust_env=False) as http:
        for i in range(rounds):
            body = {
                "model": "local",
                "messages": [{"role": "system", "content": SYSTEM}, {"role": "user", "content": f"#{offset + i} {STATE}"}],
                "max_tokens": ANSWER_TOKENS,
                "temperature": 0,
                "ignore_eos": True,
                "cache_prompt": False,
            }
            timings = http.post(server.base_url + "/chat/completions", json=body).json()["timings"]
            speeds.append((float(timings["prompt_per_second"]), float(timings["predicted_per_second"])))
    return speeds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--native", type=Path, required=True, help="a llama-server built with -march=native")
    parser.add_argument("--portable", type=Path, default=None, help="default: tickmind's build for this CPU")
    parser.add_argument("--rounds", type=int, default=7, help="alternating rounds, each a server start and 3 requests")
    args = parser.parse_args()
    portable = ServerBinary(args.portable, "env") if args.portable else find_llama_server()
    if portable is None:
        parser.error("no portable build: run `tickmind build-server` or pass --portable")
    native = ServerBinary(args.native, "env")
    results: dict[str, list[tuple[float, float]]] = {"native": [], "portable": []}
    for r in range(args.rounds):
        order = (("native", native), ("portable", portable))
        for name, binary in order if r % 2 == 0 else order[::-1]:
            results[name] += measure(binary, 3, offset=1000 * r)
    print(f"{'build':<10} {'prompt tok/s (median)':>22} {'generation tok/s (median)':>26}  requests")
    medians = {}
    for name, speeds in results.items():
        prompt = statistics.median(s[0] for s in speeds)
        generation = statistics.median(s[1] for s in speeds)
        medians[name] = (prompt, generation)
        print(f"{name:<10} {prompt:>22.1f} {generation:>26.1f}  {len(speeds)}")
    print(f"portable binary: {portable.describe()}")
    print(f"prompt_portable_over_native: {medians['portable'][0] / medians['native'][0]:.3f}")
    print(f"generation_portable_over_native: {medians['portable'][1] / medians['native'][1]:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
