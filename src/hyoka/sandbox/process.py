"""Run one program in a fresh sandbox and classify what happened.

The program goes in on stdin, stdout/stderr come back through pipes that are drained
continuously (only a tail is kept, and the run is stopped past `max_output_bytes`), and
the harness reports on a separate status pipe. On a timeout hyoka SIGKILLs the sandbox's
PID-namespace init (bwrap reports its pid on --info-fd); the kernel then kills every
process left in the namespace, detached daemons included, and bwrap exits.
"""

from __future__ import annotations

import ast
import json
import os
import secrets
import selectors
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from hyoka.sandbox import bwrap
from hyoka.sandbox.settings import ExecResult, SandboxSettings

#: how long the pipes may stay open after bwrap was killed or exited
DRAIN_GRACE_S = 2.0


@lru_cache(maxsize=1)
def harness_source() -> str:
    return (Path(__file__).parent / "harness.py").read_text(encoding="utf-8")


@dataclass
class _Tail:
    limit: int
    total: int = 0
    data: bytearray = field(default_factory=bytearray)

    def add(self, chunk: bytes) -> None:
        self.total += len(chunk)
        self.data += chunk
        if len(self.data) > 2 * self.limit:  # trim now and then, not on every chunk
            del self.data[: len(self.data) - self.limit]

    def text(self) -> str:
        return bytes(self.data[-self.limit :]).decode("utf-8", "replace")


def _harness_config(settings: SandboxSettings, slot: int, status_fd: int) -> dict:
    cfg = {
        # bwrap passes inherited fds through unchanged, so the harness writes to the same number
        "status_fd": status_fd,
        "cpu_s": settings.cpu_s,
        "memory_mb": settings.memory_mb,
        "max_procs": settings.max_procs,
        "max_file_mb": settings.max_file_mb,
        "max_open_files": settings.max_open_files,
    }
    ids = bwrap.sandbox_uid(slot)
    if ids is not None:
        cfg["uid"], cfg["gid"] = ids
    return cfg


def run_program(source: str, settings: SandboxSettings, *, slot: int = 0, unsafe: bool = False) -> ExecResult:
    """Execute `source` once. Never raises: a failure of the sandbox itself is `sandbox_error`."""
    start = time.monotonic()
    try:
        result = _run(source, settings, slot=slot, unsafe=unsafe)
    except Exception as exc:  # noqa: BLE001 - one program's trouble never stops a run
        result = ExecResult("sandbox_error", message=f"{type(exc).__name__}: {exc}")
    result.duration_s = round(time.monotonic() - start, 4)
    return result


def _spawn(settings: SandboxSettings, slot: int, unsafe: bool, fds: tuple[int, int], workdir: str | None) -> subprocess.Popen:
    status_w, info_w = fds
    cfg = ",".join(f"{k}={v}" for k, v in _harness_config(settings, slot, status_w).items())
    interp = bwrap.host_interpreter()
    if unsafe:  # --unsafe-exec: the same harness and rlimits, on the host, no namespaces
        argv = [*interp.argv(), "-c", harness_source(), cfg]
        cwd, env = workdir, {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "TMPDIR": workdir or "/tmp"}
    else:
        argv = bwrap.command(interp, tmp_mb=settings.tmp_mb, harness=harness_source(), config=cfg, info_fd=info_w)
        cwd, env = "/", {}

    return subprocess.Popen(
        argv,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=cwd,
        env=env,
        pass_fds=fds,
        start_new_session=True,  # its own process group: the unsafe mode kills it as a group
    )


def _run(source: str, settings: SandboxSettings, *, slot: int, unsafe: bool) -> ExecResult:
    nonce = secrets.token_hex(16)
    status_r, status_w = os.pipe()
    info_r, info_w = os.pipe()
    workdir = tempfile.mkdtemp(prefix="hyoka-unsafe-") if unsafe else None
    try:
        proc = _spawn(settings, slot, unsafe, (status_w, info_w), workdir)
    finally:
        os.close(status_w)
        os.close(info_w)
    try:
        io = _Io(proc, (status_r, info_r), (nonce + "\n" + source).encode("utf-8"), settings)
        if not io.pump(deadline=time.monotonic() + settings.timeout_s) and proc.poll() is None:
            io.timed_out = True
        if io.timed_out or io.over_limit:
            _kill(proc, io, unsafe)
        io.pump(deadline=time.monotonic() + DRAIN_GRACE_S)  # whatever is still in the pipes
        try:
            code = proc.wait(timeout=DRAIN_GRACE_S)
        except subprocess.TimeoutExpired:
            proc.kill()  # bwrap did not follow its namespace; --die-with-parent still ends it
            code = proc.wait()
        if unsafe:
            _kill(proc, io, unsafe)  # leftovers of the process group (daemons) go with it
        io.check_report_pipe()
        return _classify(io, code, nonce, settings)
    finally:
        for stream in (proc.stdin, proc.stdout, proc.stderr):
            if stream:
                stream.close()
        os.close(status_r)
        os.close(info_r)
        if workdir:
            import shutil

            shutil.rmtree(workdir, ignore_errors=True)


def _kill(proc: subprocess.Popen, io: "_Io", unsafe: bool) -> None:
    """Kill the program and everything it started.

    Sandboxed: SIGKILL the PID namespace's init (bwrap reported its pid); the kernel then
    kills every process in the namespace and bwrap reaps its child and exits, so not even
    a zombie is left. Unsafe: the process group (a daemon that called setsid escapes it).
    """
    try:
        if unsafe:
            os.killpg(proc.pid, signal.SIGKILL)
            return
        init_pid = io.namespace_init()
        if init_pid is not None and proc.poll() is None:  # bwrap has not reaped it: the pid is still its
            os.kill(init_pid, signal.SIGKILL)
        else:
            proc.kill()
    except (ProcessLookupError, PermissionError):
        pass


class _Io:
    """Feeds stdin and drains stdout, stderr and the status pipe without blocking."""

    def __init__(self, proc: subprocess.Popen, fds: tuple[int, int], payload: bytes, settings: SandboxSettings) -> None:
        status_r, info_r = fds
        self.proc = proc
        self.settings = settings
        self.stdout = _Tail(settings.tail_bytes)
        self.stderr = _Tail(settings.tail_bytes)
        self.status = _Tail(64 * 1024)
        self.info = _Tail(64 * 1024)
        self.payload = memoryview(payload)
        self.timed_out = False
        self.over_limit = False
        #: why a report pipe stopped being ours (closed or replaced under hyoka): then the
        #: missing end report says nothing about the program
        self.lost: str | None = None
        self._status_fd = status_r
        self._status_identity = _pipe_identity(status_r)
        self.sel = selectors.DefaultSelector()
        assert proc.stdin and proc.stdout and proc.stderr
        for stream in (proc.stdin, proc.stdout, proc.stderr):
            os.set_blocking(stream.fileno(), False)
        for fd in fds:
            os.set_blocking(fd, False)
        self.sel.register(proc.stdin.fileno(), selectors.EVENT_WRITE, "stdin")
        self.sel.register(proc.stdout.fileno(), selectors.EVENT_READ, self.stdout)
        self.sel.register(proc.stderr.fileno(), selectors.EVENT_READ, self.stderr)
        self.sel.register(status_r, selectors.EVENT_READ, self.status)
        self.sel.register(info_r, selectors.EVENT_READ, self.info)

    def pump(self, *, deadline: float) -> bool:
        """Move data until every pipe is closed (True), the deadline passes or output is over the limit."""
        while self.sel.get_map():
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            for key, _ in self.sel.select(timeout=min(left, 0.5)):
                if key.data == "stdin":
                    self._feed(key.fd)
                else:
                    self._read(key.fd, key.data)
            if self.over_limit:
                return False
        return True

    def _feed(self, fd: int) -> None:
        try:
            sent = os.write(fd, self.payload[:65536])
        except BlockingIOError:
            return  # the pipe is full for now: try again when it is writable
        except OSError:
            sent = len(self.payload)  # the harness is gone; nothing more to send
        self.payload = self.payload[sent:]
        if not self.payload:
            self.sel.unregister(fd)
            assert self.proc.stdin
            self.proc.stdin.close()

    def _read(self, fd: int, tail: _Tail) -> None:
        try:
            chunk = os.read(fd, 65536)
        except BlockingIOError:
            return
        except OSError as exc:
            chunk = b""
            if tail in (self.status, self.info):
                self.lost = f"reading the sandbox's report pipe failed ({exc})"
        if not chunk:
            self.sel.unregister(fd)
            return
        tail.add(chunk)
        if tail in (self.stdout, self.stderr) and self.stdout.total + self.stderr.total > self.settings.max_output_bytes:
            self.over_limit = True

    def check_report_pipe(self) -> None:
        """Notice a report pipe that another part of the process closed (its number reused)."""
        if self.lost is None and _pipe_identity(self._status_fd) != self._status_identity:
            self.lost = "the sandbox's report pipe was closed or replaced while the program ran"

    def namespace_init(self) -> int | None:
        try:
            pid = json.loads(bytes(self.info.data).decode()).get("child-pid")
        except ValueError:
            return None
        return pid if isinstance(pid, int) and pid > 1 else None

    def events(self) -> list[dict]:
        out = []
        for line in bytes(self.status.data).decode("utf-8", "replace").splitlines():
            try:
                event = ast.literal_eval(line)  # literals only: a program writing here cannot run code
            except Exception:  # noqa: BLE001 - junk on the status pipe is ignored
                continue
            if isinstance(event, dict):
                out.append(event)
        return out


def _pipe_identity(fd: int) -> tuple[int, int] | None:
    try:
        st = os.fstat(fd)
    except OSError:
        return None
    return (st.st_dev, st.st_ino)


def _signal_name(code: int) -> str | None:
    # bwrap exits 128+N when the program died of signal N; Popen gives -N for bwrap itself
    number = -code if code < 0 else code - 128 if code > 128 else None
    if number is None:
        return None
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def _classify(io: _Io, code: int, nonce: str, settings: SandboxSettings) -> ExecResult:
    events = io.events()
    names = [e.get("event") for e in events]
    tails = {"stderr_tail": io.stderr.text(), "stdout_tail": io.stdout.text(), "exit_code": code}
    start_pid = next((e.get("pid") for e in events if e.get("event") == "start"), None)
    end = next(
        (e for e in events if e.get("event") == "end" and e.get("nonce") == nonce and e.get("pid") == start_pid), None
    )
    if io.over_limit:
        return ExecResult("error", message=f"output limit exceeded ({settings.max_output_bytes} bytes)", **tails)
    if end is not None:
        return ExecResult(
            end["outcome"] if end.get("outcome") in ("passed", "failed", "error") else "error",
            message=str(end.get("message", "")),
            line=str(end.get("line", "")),
            line_number=end.get("line_number"),
            **tails,
        )
    if io.lost is not None:
        return ExecResult("sandbox_error", message=io.lost, **tails)
    if io.timed_out:
        return ExecResult("timeout", message=f"wall-clock limit of {settings.timeout_s:g} s", **tails)
    if "setup_failed" in names:
        failed = next(e for e in events if e.get("event") == "setup_failed")
        return ExecResult("sandbox_error", message=f"sandbox set-up failed: {failed.get('message')}", **tails)
    if "start" not in names:
        detail = (io.stderr.text().strip().splitlines() or [f"exit code {code}"])[-1]
        return ExecResult("sandbox_error", message=f"the sandbox did not start: {detail}", **tails)
    sig = _signal_name(code)
    if sig == "SIGXCPU":
        return ExecResult("timeout", message=f"CPU-time limit of {settings.cpu_s} s", **tails)
    if sig is not None:
        return ExecResult("error", message=f"killed by {sig}", **tails)
    return ExecResult("error", message=f"exited with code {code} before the tests finished", **tails)
