"""OpenAI-compatible and Ollama clients against a real HTTP server on 127.0.0.1.

The server is ``http.server`` in a thread, answering canned responses (bodies, SSE and NDJSON
streams written chunk by chunk, error statuses, stalls); requests cross real sockets. A few
narrow unit tests use ``httpx.MockTransport``.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from ai.clients import (
    CompletionRequest,
    CompletionResult,
    LLMBadResponse,
    LLMClient,
    LLMError,
    LLMRateLimited,
    LLMTimeout,
    LLMUnavailable,
    OllamaClient,
    OpenAIClient,
)
from ai.llm import BatchExecutor, BatchJob, JobStatus, RunMetrics

SCHEMA = {"type": "object", "properties": {"plans": {"type": "array"}}, "required": ["plans"]}
KEY = "sk-test-secret-123"


@dataclass
class Canned:
    """One response: a body (bytes) or a stream (list of chunks, flushed one at a time)."""

    body: bytes | list[bytes] = b"{}"
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    stall: bool = False  #: hold the response until the test ends (a timeout test)


@dataclass
class Seen:
    path: str
    headers: dict[str, str]
    json: Any


class LoopbackServer:
    def __init__(self) -> None:
        self.respond: Callable[[Seen], Canned] = lambda seen: Canned()
        self.seen: list[Seen] = []
        self.release = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                seen = Seen(self.path, {k.lower(): v for k, v in self.headers.items()}, json.loads(raw))
                server.seen.append(seen)
                canned = server.respond(seen)
                if canned.stall:
                    server.release.wait(10)
                    return
                try:
                    self.send_response(canned.status)
                    for name, value in canned.headers.items():
                        self.send_header(name, value)
                    if isinstance(canned.body, bytes):
                        self.send_header("Content-Length", str(len(canned.body)))
                        self.end_headers()
                        self.wfile.write(canned.body)
                    else:  # HTTP/1.0: the body ends when the connection closes
                        self.end_headers()
                        for chunk in canned.body:
                            self.wfile.write(chunk)
                            self.wfile.flush()
                except (BrokenPipeError, ConnectionResetError):
                    pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, args=(0.01,), name="loopback-llm", daemon=True
        )  # a short poll interval: shutdown() returns within it

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> LoopbackServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(5)


@pytest.fixture
def server() -> Iterator[LoopbackServer]:
    with LoopbackServer() as srv:
        yield srv


def request(rid: str = "r1", *, stream: bool = False, schema: dict[str, Any] | None = SCHEMA) -> CompletionRequest:
    return CompletionRequest(
        request_id=rid, system="You plan.", user="agent 1 at (2,3)", max_tokens=96, seed=42,
        stream=stream, schema=schema,
    )


def complete(
    client: LLMClient, req: CompletionRequest, on_text: Callable[[str], None] | None = None
) -> CompletionResult:
    async def main() -> CompletionResult:
        try:
            return await client.complete(req, on_text=on_text)
        finally:
            await client.aclose()

    return asyncio.run(main())


def failure(client: LLMClient, req: CompletionRequest | None = None) -> LLMError:
    with pytest.raises(LLMError) as info:
        complete(client, req or request())
    return info.value


def openai_body(text: str, **extra: Any) -> bytes:
    return json.dumps(
        {
            "model": "smol",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 31, "completion_tokens": 9},
            **extra,
        }
    ).encode()


def sse(*events: dict[str, Any]) -> list[bytes]:
    return [b": keep-alive\n\n"] + [f"data: {json.dumps(e)}\n\n".encode() for e in events] + [b"data: [DONE]\n\n"]


# -- OpenAI-compatible ---------------------------------------------------------------------


def test_openai_request_payload_and_result(server: LoopbackServer) -> None:
    server.respond = lambda seen: Canned(openai_body('{"plans":[]}'))
    result = complete(OpenAIClient(server.url + "/v1", "smol", api_key=KEY), request())
    (seen,) = server.seen
    assert seen.path == "/v1/chat/completions"
    assert seen.headers["authorization"] == f"Bearer {KEY}"
    assert [m["role"] for m in seen.json["messages"]] == ["system", "user"]
    assert (seen.json["max_tokens"], seen.json["temperature"], seen.json["seed"]) == (96, 0.0, 42)
    assert seen.json["response_format"]["type"] == "json_schema"
    assert seen.json["response_format"]["json_schema"]["schema"] == SCHEMA
    assert (result.text, result.prompt_tokens, result.completion_tokens) == ('{"plans":[]}', 31, 9)
    assert (result.model, result.finish_reason) == ("smol", "stop") and result.ttfb_s is not None


def test_openai_json_object_mode_and_extra_fields(server: LoopbackServer) -> None:
    server.respond = lambda seen: Canned(openai_body("{}"))
    client = OpenAIClient(server.url + "/v1", "m", schema_format="json_object", extra={"grammar": "root ::= \"{}\""})
    complete(client, request())
    payload = server.seen[0].json
    assert payload["response_format"] == {"type": "json_object", "schema": SCHEMA}
    assert payload["grammar"] == 'root ::= "{}"' and "authorization" not in server.seen[0].headers


def test_a_grammar_request_sends_the_grammar_instead_of_the_schema(server: LoopbackServer) -> None:
    server.respond = lambda seen: Canned(openai_body("1 scan\n"))
    grammar = 'root ::= "1 scan\\n"'
    req = CompletionRequest(request_id="g", system="s", user="u", max_tokens=8, schema=SCHEMA, grammar=grammar)
    assert complete(OpenAIClient(server.url + "/v1", schema_format="json_object"), req).text == "1 scan\n"
    payload = server.seen[0].json
    assert payload["grammar"] == grammar and "response_format" not in payload


def test_ollama_refuses_a_grammar_naming_the_json_wire(server: LoopbackServer) -> None:
    req = CompletionRequest(request_id="g", system="s", user="u", max_tokens=8, grammar='root ::= "x"')
    error = failure(OllamaClient(server.url), req)
    assert isinstance(error, LLMBadResponse) and "wire='json'" in str(error) and server.url in str(error)
    assert server.seen == []  # refused before sending anything


def test_openai_streams_sse_chunks_in_order(server: LoopbackServer) -> None:
    parts = ['{"plans":', '[{"agent_id":1,', '"steps":[]}]}']
    events = [{"model": "smol", "choices": [{"delta": {"content": p}, "finish_reason": None}]} for p in parts]
    events[-1]["choices"][0]["finish_reason"] = "stop"
    events.append({"choices": [], "usage": {"prompt_tokens": 12, "completion_tokens": 7}})
    server.respond = lambda seen: Canned(sse(*events), headers={"Content-Type": "text/event-stream"})
    chunks: list[str] = []
    result = complete(OpenAIClient(server.url + "/v1"), request(stream=True), chunks.append)
    assert chunks == parts and result.text == "".join(parts)
    assert (result.prompt_tokens, result.completion_tokens, result.finish_reason) == (12, 7, "stop")
    assert server.seen[0].json["stream"] is True and server.seen[0].json["stream_options"] == {"include_usage": True}


def test_openai_error_inside_a_stream_is_a_bad_response(server: LoopbackServer) -> None:
    server.respond = lambda seen: Canned(sse({"error": {"message": "grammar failed"}}))
    err = failure(OpenAIClient(server.url + "/v1"), request(stream=True))
    assert isinstance(err, LLMBadResponse) and "grammar failed" in str(err)


# -- Ollama --------------------------------------------------------------------------------


def test_ollama_request_payload_and_result(server: LoopbackServer) -> None:
    body = {"model": "smollm2", "message": {"role": "assistant", "content": "{}"}, "done": True,
            "done_reason": "stop", "prompt_eval_count": 20, "eval_count": 3}
    server.respond = lambda seen: Canned(json.dumps(body).encode())
    result = complete(OllamaClient(server.url, "smollm2", options={"num_ctx": 4096}), request())
    (seen,) = server.seen
    assert seen.path == "/api/chat" and seen.json["format"] == SCHEMA and seen.json["stream"] is False
    assert seen.json["options"] == {"temperature": 0.0, "seed": 42, "num_predict": 96, "num_ctx": 4096}
    assert (result.text, result.prompt_tokens, result.completion_tokens, result.finish_reason) == ("{}", 20, 3, "stop")


def test_ollama_streams_ndjson(server: LoopbackServer) -> None:
    lines = [{"model": "s", "message": {"content": c}, "done": False} for c in ("{", '"plans"', ":[]}")]
    lines.append({"model": "s", "message": {"content": ""}, "done": True, "prompt_eval_count": 5, "eval_count": 4})
    server.respond = lambda seen: Canned([json.dumps(x).encode() + b"\n" for x in lines])
    chunks: list[str] = []
    result = complete(OllamaClient(server.url), request(stream=True, schema=None), chunks.append)
    assert chunks == ["{", '"plans"', ":[]}"] and result.text == '{"plans":[]}'
    assert (result.prompt_tokens, result.completion_tokens) == (5, 4) and "format" not in server.seen[0].json


# -- errors over real sockets --------------------------------------------------------------


def test_429_carries_retry_after_and_never_the_key(server: LoopbackServer) -> None:
    server.respond = lambda seen: Canned(b'{"error":{"message":"slow down"}}', 429, {"Retry-After": "3"})
    err = failure(OpenAIClient(server.url + "/v1", api_key=KEY))
    assert isinstance(err, LLMRateLimited) and err.retry_after == 3.0 and err.status_code == 429
    assert "slow down" in str(err) and server.url + "/v1/chat/completions" in str(err) and "openai" in str(err)
    assert KEY not in str(err) and KEY not in repr(err)


@pytest.mark.parametrize(
    "status, body, kind, text",
    [
        (503, b"loading model", LLMUnavailable, "loading model"),
        (400, b'{"error":{"message":"unknown field: format"}}', LLMBadResponse, "unknown field: format"),
        (404, b'{"error":"model \'x\' not found"}', LLMBadResponse, "model 'x' not found"),
        (422, b'{"detail":[{"msg":"field required"}]}', LLMBadResponse, "field required"),
        (200, b"<html>proxy error</html>", LLMBadResponse, "not JSON"),
        (200, b'{"choices": []}', LLMBadResponse, "unexpected response shape"),
    ],
)
def test_http_failures_map_to_our_errors(
    server: LoopbackServer, status: int, body: bytes, kind: type[LLMError], text: str
) -> None:
    server.respond = lambda seen: Canned(body, status)
    err = failure(OllamaClient(server.url) if b"not found" in body else OpenAIClient(server.url + "/v1"))
    assert type(err) is kind and text in str(err)


def test_connection_refused_is_unavailable() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    err = failure(OllamaClient(f"http://127.0.0.1:{port}"))
    assert isinstance(err, LLMUnavailable) and isinstance(err.__cause__, httpx.ConnectError)
    assert f"127.0.0.1:{port}/api/chat" in str(err) and err.retryable


def test_a_stalled_server_is_a_timeout(server: LoopbackServer) -> None:
    server.respond = lambda seen: Canned(stall=True)
    err = failure(OpenAIClient(server.url + "/v1", timeout=0.2))
    assert isinstance(err, LLMTimeout) and isinstance(err.__cause__, httpx.TimeoutException)


@pytest.mark.parametrize("stream", [False, True])
def test_an_answer_past_max_response_bytes_is_refused_before_it_is_all_read(server: LoopbackServer, stream: bool) -> None:
    """Chaos finding: answers were read whole, whatever their size (a runaway model, a
    wrong endpoint serving a file); now the read stops at the cap, even in one long line."""
    runaway = '{"plans":[' + '{"act":"wait","ticks":1},' * 20_000  # ~500 KB, one line
    body = [b"data: " + json.dumps({"choices": [{"delta": {"content": runaway}}]}).encode()] if stream else openai_body(runaway)
    server.respond = lambda seen: Canned(body)
    err = failure(OpenAIClient(server.url + "/v1", max_response_bytes=100_000), request(stream=stream))
    assert isinstance(err, LLMBadResponse) and "max_response_bytes=100,000" in str(err) and not err.retryable
    if not stream:  # the same answer under a cap it fits
        assert complete(OpenAIClient(server.url + "/v1", max_response_bytes=1_000_000), request()).text == runaway


@pytest.mark.parametrize("backend", ["openai", "ollama"])
def test_a_stream_cut_before_its_end_marker_is_unavailable_not_an_answer(server: LoopbackServer, backend: str) -> None:
    """Chaos finding: a stream whose connection closed mid-answer was taken as the whole
    answer; it is a transport failure (retryable), like a body shorter than its length."""
    if backend == "openai":
        body = sse({"choices": [{"delta": {"content": '{"plans":[{"agent_id":1,'}, "finish_reason": None}]})[:-1]
        client: LLMClient = OpenAIClient(server.url + "/v1")
    else:
        body = [json.dumps({"message": {"content": '{"plans":['}, "done": False}).encode() + b"\n"]
        client = OllamaClient(server.url)
    server.respond = lambda seen: Canned(body)
    err = failure(client, request(stream=True))
    assert isinstance(err, LLMUnavailable) and err.retryable and "end marker" in str(err)


def test_executor_drives_a_real_http_backend(server: LoopbackServer) -> None:
    server.respond = lambda seen: Canned(openai_body(f'{{"echo":"{seen.json["messages"][1]["content"]}"}}'))
    client = OpenAIClient(server.url + "/v1", "smol")
    jobs = [
        BatchJob(
            job_id=f"j{i}",
            request=CompletionRequest(request_id=f"j{i}", system="s", user=f"u{i}", max_tokens=8),
            agent_ids=(i,),
            submit_tick=0,
        )
        for i in range(4)
    ]
    with BatchExecutor(client, max_concurrency=2) as ex:
        for j in jobs:
            ex.submit(j)
        results = ex.wait([j.job_id for j in jobs], timeout=10)
    assert [r.status for r in results] == [JobStatus.OK] * 4
    assert [json.loads(r.result.text)["echo"] for r in results if r.result] == ["u0", "u1", "u2", "u3"]
    assert len(server.seen) == 4


def test_a_server_with_garbled_usage_still_answers_and_the_executor_finishes_the_job(server: LoopbackServer) -> None:
    """usage {"prompt_tokens": "lots"} reached the metrics' sum: the job left the executor's
    books half way, and a lockstep run hung for its wait timeout, then crashed."""
    garbled = {"usage": {"prompt_tokens": "lots", "completion_tokens": -3}, "model": 7}
    server.respond = lambda seen: Canned(openai_body('{"plans":[]}', **garbled))
    client = OpenAIClient(server.url + "/v1", "smol")
    result = complete(client, request())
    assert result.text == '{"plans":[]}' and result.model == "smol"  # the client's own name
    assert result.prompt_tokens > 0 and result.completion_tokens > 0, "estimated, not taken"
    job = BatchJob(job_id="j0", request=request("j0"), agent_ids=(1,), submit_tick=0)
    metrics = RunMetrics(prometheus=False)
    with BatchExecutor(OpenAIClient(server.url + "/v1", "smol"), max_concurrency=1, metrics=metrics) as ex:
        ex.submit(job)
        (done,) = ex.wait(["j0"], timeout=30)
    assert done.status is JobStatus.OK
    assert metrics.summary()["tokens"]["prompt"] == done.result.prompt_tokens  # type: ignore[union-attr]


# -- narrow unit tests on an in-process transport ------------------------------------------


def test_retry_after_as_http_date() -> None:
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    transport = httpx.MockTransport(lambda req: httpx.Response(429, headers={"Retry-After": when}))
    err = failure(OpenAIClient("http://mock/v1", transport=transport))
    assert isinstance(err, LLMRateLimited) and err.retry_after is not None and 20 < err.retry_after <= 30


def test_repr_and_url_hide_credentials() -> None:
    client = OpenAIClient("https://user:pw@api.example.com/v1?key=abc", api_key=KEY)
    assert KEY not in repr(client) and "pw" not in client.url and "abc" not in client.url
    asyncio.run(client.aclose())
