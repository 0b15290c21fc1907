"""A model server process on 127.0.0.1: started on a free port, health-checked, always stopped.

Two servers can serve the packaged GGUF, and they behave differently under load (measured
in bench/RESULTS.md):

- ``llama-server`` (llama.cpp's own, built by ``tickmind build-server``) batches concurrent
  requests across ``slots`` (continuous batching) and caches each slot's prompt prefix: more
  requests in flight buy throughput. It takes ``response_format`` with ``json_schema`` and a
  raw GBNF ``grammar``.
- ``llama-cpp-python``'s server (installed by ``tickmind[local]``) answers one request at a
  time: in-flight requests just queue. It takes ``{"type": "json_object", "schema": ...}``
  and a raw ``grammar``.

``kind="auto"`` picks llama-server when one is built, else llama-cpp-python. The process
runs under :mod:`ai.serving._guard` (it dies with its parent, even on SIGKILL), in its own
process group (a Ctrl-C in the terminal reaches the run, which then stops it in order), with
its output in a log file whose tail goes into every start-up error.
"""

from __future__ import annotations

import atexit
import importlib.util
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import httpx

from ..clients import OpenAIClient
from ._errors import ServingError
from ._files import find_llama_server, find_model_file

__all__ = ["LocalServer", "ServerKind", "ServerSpec", "available_kinds", "free_port"]

ServerKind = Literal["llama-server", "llama-cpp-python"]
_KINDS: tuple[ServerKind, ...] = ("llama-server", "llama-cpp-python")
MODEL_ALIAS = "local"
_LOG_TAIL = 2000


@dataclass(frozen=True)
class ServerSpec:
    """How to serve: which server, which weights, how many parallel slots and how much context.

    ``slots`` only matters to llama-server (llama-cpp-python serialises requests); each slot
    gets ``context_per_slot`` tokens, which must hold the system prefix plus a packed batch
    and its answer. ``threads`` defaults to every core.

    ``cache_ram_mib`` caps llama-server's RAM cache of prompts between requests (its own
    default is 8 GiB, and its resident set reached 7 GB in a long run here). Our prompts
    share one short system prefix, so a small cache keeps every hit that matters. It is
    passed as ``LLAMA_ARG_CACHE_RAM``, which a build without the option ignores, and a value
    already set in the environment wins.
    """

    kind: ServerKind | Literal["auto"] = "auto"
    model: Path | None = None
    slots: int = 8
    context_per_slot: int = 4096  # 25 agents' state lines (<= ~130 tokens each) + the prefix
    threads: int = field(default_factory=lambda: os.cpu_count() or 1)
    host: str = "127.0.0.1"
    port: int | None = None
    startup_timeout: float = 120.0
    cache_ram_mib: int = 256

    def __post_init__(self) -> None:
        if self.kind != "auto" and self.kind not in _KINDS:
            raise ServingError(f"server kind must be 'auto' or one of {list(_KINDS)}, got {self.kind!r}")
        if self.slots < 1 or self.context_per_slot < 256 or self.threads < 1:
            raise ServingError("slots and threads must be >= 1 and context_per_slot >= 256")
        if self.cache_ram_mib < 0:
            raise ServingError(f"cache_ram_mib must be >= 0 (0 turns the cache off), got {self.cache_ram_mib!r}")

    def resolved(self) -> ServerSpec:
        """This spec with ``kind`` and ``model`` decided (what is installed, what is shipped)."""
        kind = self.kind
        if kind == "auto":
            kinds = available_kinds()
            if not kinds:
                raise ServingError(
                    'no local model server: pip install "tickmind[local]" (llama-cpp-python), '
                    "or build llama.cpp's server with `tickmind build-server`"
                )
            kind = kinds[0]
        return replace(self, kind=kind, model=find_model_file(self.model))


def available_kinds() -> list[ServerKind]:
    """The servers this machine can start, preferred first (llama-server batches)."""
    kinds: list[ServerKind] = []
    if find_llama_server() is not None:
        kinds.append("llama-server")
    if importlib.util.find_spec("llama_cpp") is not None:
        kinds.append("llama-cpp-python")
    return kinds


def free_port(host: str = "127.0.0.1") -> int:
    """A port nobody listens on right now (the server binds it a moment later)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


class LocalServer:
    """One model server process. Use it as a context manager, or ``start()``/``stop()``.

    ``client()`` gives an :class:`~ai.clients.OpenAIClient` that speaks this server's schema
    dialect. Start it from the main thread: the kernel's die-with-parent signal follows the
    thread that spawned the process.
    """

    def __init__(self, spec: ServerSpec | None = None, *, log_path: str | os.PathLike[str] | None = None) -> None:
        self.spec = (spec or ServerSpec()).resolved()
        self.kind: ServerKind = self.spec.kind  # type: ignore[assignment]  # resolved above
        self.port = self.spec.port or free_port(self.spec.host)
        self._log_path = Path(log_path) if log_path is not None else None
        self._log_file: Any = None
        self._process: subprocess.Popen[bytes] | None = None

    # --- lifecycle ---------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return f"http://{self.spec.host}:{self.port}/v1"

    @property
    def log_path(self) -> Path | None:
        return self._log_path

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self) -> LocalServer:
        """Spawn the server and wait until it answers; raises :class:`ServingError` if it dies
        or does not become healthy within ``startup_timeout`` seconds."""
        if self._process is not None:
            raise ServingError("this local server was already started")
        if self._log_path is None:
            handle, name = tempfile.mkstemp(prefix=f"tickmind-{self.kind}-", suffix=".log")
            os.close(handle)
            self._log_path = Path(name)
        self._log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log_file = open(self._log_path, "wb")  # noqa: SIM115  # closed in stop()
        command = [sys.executable, "-m", "ai.serving._guard", str(os.getpid()), "--", *self.command()]
        self._process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env=self._env(),
        )
        atexit.register(self.stop)
        try:
            self._wait_healthy()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the server (SIGTERM to its group, then SIGKILL); safe to call twice."""
        process, self._process = self._process, None
        atexit.unregister(self.stop)
        if process is not None and process.poll() is None:
            _signal_group(process, signal.SIGTERM)
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                _signal_group(process, signal.SIGKILL)
                process.wait(timeout)
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None

    def __enter__(self) -> LocalServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # --- talking to it -----------------------------------------------------------------------

    def client(self, **options: Any) -> OpenAIClient:
        """An OpenAI-compatible client for this server, in the schema form it accepts."""
        if self.kind == "llama-server":
            return OpenAIClient(self.base_url, MODEL_ALIAS, schema_format="json_schema", **options)
        return OpenAIClient(self.base_url, MODEL_ALIAS, schema_format="json_object", **options)

    @property
    def concurrency(self) -> int:
        """Requests worth keeping in flight: the slots of a batching server, else one."""
        return self.spec.slots if self.kind == "llama-server" else 1

    def command(self) -> list[str]:
        """The server's command line (without the guard)."""
        spec = self.spec
        model = str(spec.model)
        threads = str(spec.threads)
        if self.kind == "llama-server":
            binary = find_llama_server()
            if binary is None:
                raise ServingError("llama-server is not built: run `tickmind build-server`")
            return [
                str(binary), "-m", model, "--alias", MODEL_ALIAS,
                "-np", str(spec.slots), "-c", str(spec.slots * spec.context_per_slot),
                "-t", threads, "-tb", threads,
                "--host", spec.host, "--port", str(self.port),
            ]  # fmt: skip
        return [
            sys.executable, "-m", "llama_cpp.server", "--model", model, "--model_alias", MODEL_ALIAS,
            "--n_threads", threads, "--n_threads_batch", threads,
            "--n_ctx", str(max(spec.context_per_slot, 4096)), "--n_batch", "512",
            "--interrupt_requests", "False", "--host", spec.host, "--port", str(self.port),
        ]  # fmt: skip

    def _env(self) -> dict[str, str]:
        env = _child_env()
        if self.kind == "llama-server":
            env.setdefault("LLAMA_ARG_CACHE_RAM", str(self.spec.cache_ram_mib))
        return env

    def _wait_healthy(self) -> None:
        # llama-server answers /health 503 while loading; llama-cpp-python serves once loaded.
        url = f"http://{self.spec.host}:{self.port}" + ("/health" if self.kind == "llama-server" else "/v1/models")
        deadline = time.monotonic() + self.spec.startup_timeout
        with httpx.Client(timeout=2.0, trust_env=False) as http:
            while True:
                process = self._process
                assert process is not None
                if process.poll() is not None:
                    raise ServingError(f"{self.kind} exited with code {process.returncode} at start-up{self._log_tail()}")
                try:
                    if http.get(url).status_code == 200:
                        return
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise ServingError(
                        f"{self.kind} did not become healthy at {url} within "
                        f"{self.spec.startup_timeout:g} s{self._log_tail()}"
                    )
                time.sleep(0.1)

    def _log_tail(self) -> str:
        if self._log_path is None or not self._log_path.exists():
            return ""
        if self._log_file is not None:
            self._log_file.flush()
        text = self._log_path.read_bytes()[-_LOG_TAIL:].decode("utf-8", "replace").strip()
        return f"; log {self._log_path} ends:\n{text}" if text else f"; log {self._log_path} is empty"

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"LocalServer({self.kind}, {self.base_url}, {state})"


def _signal_group(process: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    try:
        os.killpg(process.pid, sig)
    except ProcessLookupError:
        pass


def _child_env() -> dict[str, str]:
    """The server's environment: ours, with this package importable (for the guard)."""
    env = dict(os.environ)
    root = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH", "")) if p)
    return env
