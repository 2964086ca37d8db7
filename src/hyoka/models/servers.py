"""Managed inference servers: start one (vLLM, llama.cpp) for a run, stop it whatever happens.

One lifecycle for every server kind:
- a free port on 127.0.0.1, the server in its own process group (so its workers die with it)
  under a small guard (hyoka.models.server_guard) that SIGKILLs the group as soon as hyoka is
  gone — `kill -9` of hyoka included, within milliseconds: no orphan keeps computing;
- its output in a log file: the folder the backend was given (the run directory), else the cache dir;
- health polling until it answers, or a one-line error with the log's tail when it exits or
  does not come up within the start-up timeout;
- teardown on normal exit, on error, on Ctrl-C and on SIGTERM: the context manager / backend
  close, an atexit hook, and a SIGTERM handler that stops every live server then exits 143.
"""

from __future__ import annotations

import atexit
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from typing import TYPE_CHECKING

from hyoka.errors import BackendUnavailable
from hyoka.models.base import (
    Backend,
    GenerateRequest,
    GenerateResult,
    LoglikelihoodRequest,
    LoglikelihoodResult,
    ModelIdentity,
)

if TYPE_CHECKING:
    from hyoka.models.openai_api import OpenAIBackend

_LIVE: set["ManagedServer"] = set()
_LOCK = threading.Lock()
_HOOKS_INSTALLED = False


def default_log_dir() -> Path:
    """Where a server logs when no folder was given (a backend built outside a run)."""
    from hyoka.data.files import cache_dir

    return cache_dir() / "server-logs"


def free_port(host: str = "127.0.0.1") -> int:
    """A port nobody listens on now (the kernel's pick); the server binds it moments later."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


@dataclass(frozen=True)
class ServerSpec:
    """How to start and probe one server. `{port}`, `{host}` and `{log_dir}` in argv and in the
    config files are filled in (plain replacement: JSON braces stay as they are)."""

    name: str  # for messages and the log file name, e.g. "llamacpp-server"
    argv: tuple[str, ...]
    health_path: str = "/v1/models"
    startup_timeout: float = 300.0
    host: str = "127.0.0.1"
    env: tuple[tuple[str, str], ...] = ()
    #: seconds between SIGTERM and SIGKILL at teardown
    stop_grace: float = 10.0
    #: (file name, text) written into the log folder before start (server config files)
    config_files: tuple[tuple[str, str], ...] = ()


@dataclass
class ManagedServer:
    spec: ServerSpec
    log_dir: Path | None = None
    port: int = 0
    process: subprocess.Popen[bytes] | None = None
    log_path: Path | None = None
    _log_file: Any = field(default=None, repr=False)

    def __hash__(self) -> int:
        return id(self)

    @property
    def base_url(self) -> str:
        return f"http://{self.spec.host}:{self.port}"

    def __enter__(self) -> "ManagedServer":
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> str:
        """Start and wait until healthy; the base URL (without /v1)."""
        if self.process is not None:
            return self.base_url
        _install_hooks()
        self.port = free_port(self.spec.host)
        folder = self.log_dir or default_log_dir()
        folder.mkdir(parents=True, exist_ok=True)
        fill = {"{port}": str(self.port), "{host}": self.spec.host, "{log_dir}": str(folder)}
        argv = [_fill(a, fill) for a in self.spec.argv]
        for file_name, text in self.spec.config_files:
            (folder / _fill(file_name, fill)).write_text(_fill(text, fill), encoding="utf-8")
        self.log_path = folder / f"{self.spec.name}-{self.port}.log"
        self._log_file = self.log_path.open("ab")
        env = {**os.environ, **dict(self.spec.env)}
        if not Path(argv[0]).is_file() and shutil.which(argv[0]) is None:
            self._log_file.close()
            raise BackendUnavailable(f"{self.spec.name}: cannot start {argv[0]} (no such program)")
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "hyoka.models.server_guard", *argv],
                # the guard watches this pipe: hyoka gone (even by kill -9) → EOF → the group dies
                stdin=subprocess.PIPE,
                stdout=self._log_file,
                stderr=subprocess.STDOUT,
                env=env,
                start_new_session=True,  # own process group: killpg reaches the server and its workers
            )
        except OSError as exc:
            self._log_file.close()
            raise BackendUnavailable(f"{self.spec.name}: cannot start {argv[0]} ({exc.strerror})") from None
        with _LOCK:
            _LIVE.add(self)
        try:
            self._wait_healthy()
        except BaseException:
            self.stop()
            raise
        return self.base_url

    def _wait_healthy(self) -> None:
        deadline = time.monotonic() + self.spec.startup_timeout
        url = self.base_url + self.spec.health_path
        while True:
            assert self.process is not None
            code = self.process.poll()
            if code is not None:
                raise BackendUnavailable(
                    f"{self.spec.name} exited with status {code} while starting; log {self.log_path}: {self.log_tail()}"
                )
            if _answers(url):
                return
            if time.monotonic() > deadline:
                raise BackendUnavailable(
                    f"{self.spec.name} did not answer {self.spec.health_path} within {self.spec.startup_timeout:g}s "
                    f"(raise startup_timeout=); log {self.log_path}: {self.log_tail()}"
                )
            time.sleep(0.25)

    def log_tail(self, lines: int = 3, chars: int = 400) -> str:
        """The last lines of the log, on one line (for one-line errors)."""
        if self.log_path is None or not self.log_path.is_file():
            return "(no log)"
        if self._log_file is not None and not self._log_file.closed:
            self._log_file.flush()
        text = self.log_path.read_bytes()[-8192:].decode("utf-8", errors="replace")
        tail = " | ".join(line.strip() for line in text.splitlines()[-lines:] if line.strip())
        return tail[-chars:] or "(empty log)"

    def stop(self) -> None:
        """SIGTERM to the whole process group, SIGKILL after the grace period. Safe to call twice."""
        process, self.process = self.process, None
        with _LOCK:
            _LIVE.discard(self)
        if process is not None:
            _kill_group(process, self.spec.stop_grace)
            if process.stdin is not None:
                process.stdin.close()
        if self._log_file is not None and not self._log_file.closed:
            self._log_file.close()

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None


def _fill(text: str, values: dict[str, str]) -> str:
    for key, value in values.items():
        text = text.replace(key, value)
    return text


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 (loopback only)
            return 200 <= response.status < 300
    except (urllib.error.URLError, OSError, ValueError):
        return False


def _kill_group(process: subprocess.Popen[bytes], grace: float) -> None:
    # started with start_new_session: the server leads its own group, whose id is its pid,
    # even after the leader itself has exited and been reaped
    pgid: int | None = process.pid
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 5.0)):
        try:
            if pgid is not None:
                os.killpg(pgid, sig)
            else:
                process.send_signal(sig)
        except ProcessLookupError:
            pass
        try:
            process.wait(timeout=wait)
            break
        except subprocess.TimeoutExpired:
            continue
    # workers that outlived the leader (same group) get SIGKILL too
    if pgid is not None:
        try:
            os.killpg(pgid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


def stop_all() -> None:
    with _LOCK:
        live = list(_LIVE)
    for server in live:
        server.stop()


def _install_hooks() -> None:
    """atexit + SIGTERM handler, once. SIGINT already becomes KeyboardInterrupt, whose unwinding
    closes the backend; SIGTERM would kill us without unwinding, so it is turned into an exit."""
    global _HOOKS_INSTALLED
    if _HOOKS_INSTALLED:
        return
    _HOOKS_INSTALLED = True
    atexit.register(stop_all)
    if threading.current_thread() is not threading.main_thread():
        return
    previous = signal.getsignal(signal.SIGTERM)

    def on_sigterm(signum: int, frame: Any) -> None:
        stop_all()
        if callable(previous):
            previous(signum, frame)
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, on_sigterm)


def python_module_argv(module: str, args: Sequence[str]) -> tuple[str, ...]:
    """Run a module with the interpreter hyoka runs on (the venv that has its extras)."""
    return (sys.executable, "-m", module, *args)


class ServedBackend(Backend):
    """A backend that is an OpenAI-compatible client of a server it started and owns.

    Subclasses set `self.server` (a ManagedServer), `self.client` (an OpenAIBackend) and
    `self._identity`; requests, statistics and teardown are the same for every such server.
    """

    server: ManagedServer
    client: "OpenAIBackend"
    _identity: ModelIdentity
    #: the registry passes `log_dir=` (the run folder) to backends that say so
    uses_log_dir = True

    @property
    def identity(self) -> ModelIdentity:
        return self._identity

    def loglikelihood(self, requests: Sequence[LoglikelihoodRequest]) -> list[LoglikelihoodResult]:
        return self.client.loglikelihood(requests)

    def generate(self, requests: Sequence[GenerateRequest]) -> list[GenerateResult]:
        return self.client.generate(requests)

    def preferred_batch_size(self) -> int:
        return self.client.preferred_batch_size()

    def transport_stats(self) -> dict[str, Any]:
        return {**self.client.transport_stats(), "server_log": str(self.server.log_path)}

    def close(self) -> None:
        server = getattr(self, "server", None)
        if server is not None:
            server.stop()
