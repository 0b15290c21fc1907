"""A model server process on 127.0.0.1: started on a free port, health-checked, always stopped.

Two servers can serve the packaged GGUF, and they behave differently under load (measured
in bench/RESULTS.md):

- ``llama-server`` (llama.cpp's own, which tickmind builds for this CPU on first use:
  :mod:`ai.serving._build`) batches concurrent requests across ``slots`` (continuous
  batching) and caches each slot's prompt prefix: more requests in flight buy throughput. It
  takes ``response_format`` with ``json_schema`` and a raw GBNF ``grammar``.
- ``llama-cpp-python``'s server (if you install it) answers one request at a time: in-flight
  requests just queue. It takes ``{"type": "json_object", "schema": ...}`` and a raw
  ``grammar``. pip builds it with ``-march=native``, which crashes on CPUs with AMX.

``kind="auto"`` is llama-server. The process runs under :mod:`ai.serving._guard` (it dies
with its parent, even on SIGKILL), in its own process group (a Ctrl-C in the terminal reaches
the run, which then stops it in order), with its output in a log file whose tail goes into
every error.

A watcher thread waits on the process. A server that dies on its own is restarted on the same
port ``max_restarts`` times (default once: a stray kill, the OOM killer); a death beyond that
(a crash loop, as a SIGILL gives) leaves :attr:`LocalServer.failure` set, which
:meth:`LocalServer.check` raises: one message with the exit, the cause when it is known, the
fix, and the end of the log. The watcher is also the thread that spawns the restarted
process, and lives as long as it does: the die-with-parent signal follows that thread.
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
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import httpx

from ..clients import OpenAIClient, SchemaFormat
from ._errors import ServerCrashed, ServingError
from ._exit import describe_exit, fix_for_illegal_instruction, is_illegal_instruction
from ._files import ServerBinary, find_llama_server, find_model_file
from ._served import ServedClient

__all__ = ["LocalServer", "ServerKind", "ServerSpec", "available_kinds", "free_port"]

ServerKind = Literal["llama-server", "llama-cpp-python"]
_KINDS: tuple[ServerKind, ...] = ("llama-server", "llama-cpp-python")
MODEL_ALIAS = "local"
_LOG_TAIL = 2000
_WATCH_EVERY_S = 0.2
_CRASH_TAIL_LINES = 8


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

    ``binary`` is the llama-server to run (default: :func:`~ai.serving.find_llama_server`,
    or, with ``build``, one built for this CPU now). ``max_restarts`` is how often a server
    that died on its own is started again before the run is told it is gone.
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
    binary: ServerBinary | None = None
    build: bool = True
    max_restarts: int = 1

    def __post_init__(self) -> None:
        if self.kind != "auto" and self.kind not in _KINDS:
            raise ServingError(f"server kind must be 'auto' or one of {list(_KINDS)}, got {self.kind!r}")
        if self.slots < 1 or self.context_per_slot < 256 or self.threads < 1:
            raise ServingError("slots and threads must be >= 1 and context_per_slot >= 256")
        if self.cache_ram_mib < 0:
            raise ServingError(f"cache_ram_mib must be >= 0 (0 turns the cache off), got {self.cache_ram_mib!r}")
        if self.max_restarts < 0:
            raise ServingError(f"max_restarts must be >= 0, got {self.max_restarts!r}")

    def resolved(self, say: Callable[[str], None] = print) -> ServerSpec:
        """This spec with ``kind``, ``model`` and ``binary`` decided: the shipped weights, and
        llama-server (built for this CPU first, through ``say``, if ``build`` and none is)."""
        model = find_model_file(self.model)  # a missing model fails before a long build
        kind = "llama-server" if self.kind == "auto" else self.kind
        if kind == "llama-cpp-python":
            if importlib.util.find_spec("llama_cpp") is None:
                raise ServingError('--server llama-cpp-python: pip install "llama-cpp-python[server]" first')
            return replace(self, kind=kind, model=model)
        binary = self.binary or find_llama_server()
        if binary is None and self.build:
            from ._build import ensure_llama_server  # the build checks itself through this module

            binary = ensure_llama_server(say=say)
        if binary is None:
            raise ServingError("no llama-server for this CPU: build one with `tickmind build-server`")
        return replace(self, kind=kind, model=model, binary=binary)


def available_kinds() -> list[ServerKind]:
    """The servers this machine can start now, without a build, preferred first."""
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
    dialect. ``check()`` raises :class:`~ai.serving.ServerCrashed` once the server is gone for
    good; ``restarts`` counts the times it was started again.
    """

    def __init__(
        self,
        spec: ServerSpec | None = None,
        *,
        log_path: str | os.PathLike[str] | None = None,
        say: Callable[[str], None] = print,
    ) -> None:
        self.spec = (spec or ServerSpec()).resolved(say)
        self.kind: ServerKind = self.spec.kind  # type: ignore[assignment]  # resolved above
        self.port = self.spec.port or free_port(self.spec.host)
        self.restarts = 0
        self.failure: ServerCrashed | None = None
        self._log_path = Path(log_path) if log_path is not None else None
        self._log_file: Any = None
        self._process: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._watcher: threading.Thread | None = None
        self._restart_hooks: list[Callable[[], None]] = []
        self._serving = threading.Event()  # set while a healthy process is up

    # --- lifecycle ---------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return f"http://{self.spec.host}:{self.port}/v1"

    @property
    def log_path(self) -> Path | None:
        return self._log_path

    @property
    def running(self) -> bool:
        process = self._process
        return process is not None and process.poll() is None

    @property
    def pid(self) -> int | None:
        process = self._process
        return process.pid if process is not None else None

    def start(self) -> LocalServer:
        """Spawn the server and wait until it answers; raises :class:`ServingError` if it dies
        or does not become healthy within ``startup_timeout`` seconds."""
        if self._process is not None or self._stopping.is_set():
            raise ServingError("this local server was already started")
        if self._log_path is None:
            handle, name = tempfile.mkstemp(prefix=f"tickmind-{self.kind}-", suffix=".log")
            os.close(handle)
            self._log_path = Path(name)
        self._log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log_file = open(self._log_path, "wb")  # noqa: SIM115  # closed in stop()
        atexit.register(self.stop)
        try:
            self._spawn()
            self._wait_healthy()
        except BaseException:
            self.stop()
            raise
        self._serving.set()
        self._watcher = threading.Thread(target=self._watch, name=f"tickmind-{self.kind}-watch", daemon=True)
        self._watcher.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the server (SIGTERM to its group, then SIGKILL); safe to call twice."""
        self._stopping.set()
        self._serving.clear()
        atexit.unregister(self.stop)
        with self._lock:
            process, self._process = self._process, None
        if process is not None and process.poll() is None:
            _signal_group(process, signal.SIGTERM)
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                _signal_group(process, signal.SIGKILL)
                process.wait(timeout)
        watcher, self._watcher = self._watcher, None
        if watcher is not None and watcher is not threading.current_thread():
            watcher.join(timeout)
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None

    def on_restart(self, hook: Callable[[], None]) -> None:
        """Call ``hook()`` (on the watcher thread) each time a restarted server is healthy:
        a circuit breaker that opened while it was down should close for the new process."""
        self._restart_hooks.append(hook)

    def wait_until_serving(self, timeout: float) -> bool:
        """Block until a healthy process is up (True), or it is gone for good, stopped, or
        ``timeout`` passed (False). A request that failed because the process died waits
        here for its restart instead of failing the job."""
        deadline = time.monotonic() + timeout
        while self.failure is None and not self._stopping.is_set():
            if self._serving.is_set() and self.running:
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.05)
        return False

    def died_within(self, seconds: float) -> bool:
        """Whether the process is (or within ``seconds`` is seen to be) dead or restarting."""
        deadline = time.monotonic() + seconds
        while True:
            if not (self._serving.is_set() and self.running):
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.02)

    def check(self) -> None:
        """Raise :class:`~ai.serving.ServerCrashed` if the server died more often than it may."""
        if self.failure is not None:
            raise self.failure

    def explain_failure(self, error: ServingError) -> ServingError:
        """``error`` (a request that got no answer) as the server's death, if it died of it."""
        process = self._process
        if process is None:
            return error
        try:
            code = process.wait(2.0)
        except subprocess.TimeoutExpired:
            return error
        return self._crash(code, times=1)

    def __enter__(self) -> LocalServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # --- watching ----------------------------------------------------------------------------

    def _spawn(self) -> None:
        command = [sys.executable, "-m", "ai.serving._guard", str(os.getpid()), "--", *self.command()]
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env=self._env(),
        )
        with self._lock:
            if self._stopping.is_set():  # stop() ran while this one started
                _signal_group(process, signal.SIGKILL)
                process.wait()
                return
            self._process = process

    def _watch(self) -> None:
        """Wait on the process; restart it or record its failure when it dies on its own."""
        deaths = 0
        while not self._stopping.wait(_WATCH_EVERY_S):
            process = self._process
            if process is None or process.poll() is None:
                continue
            if self._stopping.is_set():
                return
            self._serving.clear()
            deaths += 1
            code = process.returncode
            if deaths > self.spec.max_restarts:
                self.failure = self._crash(code, times=deaths)
                return
            self._note(
                f"{self.kind} {describe_exit(code)}; restarting it on port {self.port} ({deaths} of {self.spec.max_restarts})"
            )
            try:
                self._spawn()
                self._wait_healthy()
            except ServingError as exc:
                if self._stopping.is_set():
                    return
                self.failure = ServerCrashed(f"the embedded {self.kind} could not be restarted: {exc}", exit_code=None)
                return
            self.restarts += 1
            self._serving.set()
            for hook in self._restart_hooks:
                hook()

    def _crash(self, code: int, *, times: int) -> ServerCrashed:
        what = f"the embedded {self.kind} {describe_exit(code)}"
        if times > 1:
            what += f" again after {times - 1} restart{'s' * (times > 2)}"
        if is_illegal_instruction(code):
            what += ": " + fix_for_illegal_instruction(self.spec.binary, self.kind)
        return ServerCrashed(what, exit_code=code, log_tail=self._log_tail(lines=_CRASH_TAIL_LINES))

    def _note(self, line: str) -> None:
        if self._log_file is not None:
            self._log_file.write(f"--- tickmind: {line} ---\n".encode())
            self._log_file.flush()

    # --- talking to it -----------------------------------------------------------------------

    def client(self, **options: Any) -> ServedClient:
        """An OpenAI-compatible client for this server, in the schema form it accepts, that
        rides out the server's restarts (:class:`~ai.serving.ServedClient`)."""
        schema_format: SchemaFormat = "json_schema" if self.kind == "llama-server" else "json_object"
        return ServedClient(OpenAIClient(self.base_url, MODEL_ALIAS, schema_format=schema_format, **options), self)

    @property
    def concurrency(self) -> int:
        """Requests worth keeping in flight: one per thread of a batching server (up to its
        slots), else one. On a CPU, prompts are prefilled one after another whatever the
        slots, and each cold slot prefills the whole system prefix again: eight requests in
        flight on 2 cores took 20 s for a first wave that two answer in 5 (RESULTS §23)."""
        return min(self.spec.slots, self.spec.threads) if self.kind == "llama-server" else 1

    def command(self) -> list[str]:
        """The server's command line (without the guard)."""
        spec = self.spec
        model = str(spec.model)
        threads = str(spec.threads)
        if self.kind == "llama-server":
            assert spec.binary is not None  # resolved
            return [
                str(spec.binary.path), "-m", model, "--alias", MODEL_ALIAS,
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
                if process is None:
                    raise ServingError(f"{self.kind} was stopped while it started")
                if process.poll() is not None:
                    raise self._crash(process.returncode, times=1)
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

    def _log_tail(self, lines: int | None = None) -> str:
        if self._log_path is None or not self._log_path.exists():
            return ""
        if self._log_file is not None:
            self._log_file.flush()
        text = self._log_path.read_bytes()[-_LOG_TAIL:].decode("utf-8", "replace").strip()
        if lines is not None:
            text = "\n".join(text.splitlines()[-lines:])
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
