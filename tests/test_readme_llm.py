"""The README's LLM-planning examples: the lockstep one against a real OpenAI-compatible
HTTP server on 127.0.0.1 that answers every planner request validly (a stand-in for
llama.cpp or vLLM), the realtime one against the real embedded model."""

import importlib.util
import json
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

import examples.arena  # noqa: F401 - imported with the module: verify's rebuilt arenas find its actions registered
from ai.clients import CompletionRequest, follow_schema
from engine import verify

README = Path(__file__).parent.parent / "README.md"
_spec = importlib.util.spec_from_file_location("markdown_blocks", Path(__file__).parent / "markdown_blocks.py")
assert _spec is not None and _spec.loader is not None
markdown_blocks = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(markdown_blocks)


class PlanningServer(BaseHTTPRequestHandler):
    requests: list[dict] = []

    def log_message(self, *args: object) -> None:
        pass

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).requests.append(body)
        schema = body["response_format"]["json_schema"]["schema"]
        text = follow_schema(CompletionRequest(system="", user="", schema=schema, max_tokens=1, request_id="r"))
        reply = {
            "model": body["model"],
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 10, "completion_tokens": 10},
        }
        data = json.dumps(reply).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), PlanningServer)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/v1"
    httpd.shutdown()
    thread.join()


def test_llm_planning_example_runs_against_a_real_server_and_replays(tmp_path: Path, server: str) -> None:
    code = markdown_blocks.python_block(README, "Agents planned by a language model")
    assert "http://127.0.0.1:8080/v1" in code and "run.world.run(600)" in code
    code = code.replace("http://127.0.0.1:8080/v1", server).replace("run.world.run(600)", "run.world.run(60)")
    PlanningServer.requests.clear()
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert len(PlanningServer.requests) >= 25, "the first wave alone is 25 batched requests"
    journal = [json.loads(line) for line in (tmp_path / "runs" / "llm" / "journal.jsonl").read_text().splitlines()[1:]]
    assert sum(r["meta"].get("tier") == "llm" for r in journal) >= 100
    report = verify(tmp_path / "runs" / "llm")
    assert report.ok and report.ticks_checked == 60, report.format()


def test_realtime_example_is_planned_by_the_real_model_and_replays(tmp_path: Path) -> None:
    code = markdown_blocks.python_block(README, "Agents planned by a language model", index=1)
    assert 'connect_model("local")' in code and "run.world.run(2400, speed=1.0)" in code
    code = code.replace("run.world.run(2400, speed=1.0)", "run.world.run(240, speed=1.0)")
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    share = re.search(r"model share (\d+)%", done.stdout)
    assert share is not None and int(share.group(1)) >= 50, done.stdout  # the opening orders alone cover all
    journal = [json.loads(line) for line in (tmp_path / "runs" / "realtime" / "journal.jsonl").read_text().splitlines()[1:]]
    assert sum(r["meta"].get("tier") == "llm" for r in journal) >= 10, "every squad of the first wave"
    report = verify(tmp_path / "runs" / "realtime")
    assert report.ok and report.ticks_checked == 240, report.format()
