"""Hostile programs in the real bubblewrap sandbox: each is contained, recorded with the
right outcome, leaves no process behind, and the host's files are unchanged.

All programs run in one parallel batch (module fixture) with low limits, so the suite
stays fast; each program's verdict is then its own test.
"""

from __future__ import annotations

import hashlib
import os
import resource
import socket
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path

import pytest

from conftest import require
from hyoka.cache import RequestCache
from hyoka.sandbox import SandboxPool, SandboxSettings, unavailable_reason
from hyoka.sandbox.bwrap import SANDBOX_UID_BASE

SECRET_NAME = "HYOKA_TEST_API_KEY"
SECRET = "sk-hyoka-secret-5d1c0ffee"
SETTINGS = SandboxSettings(timeout_s=3, cpu_s=2, memory_mb=512, max_procs=16, tmp_mb=16, max_file_mb=8)


@dataclass(frozen=True)
class Hostile:
    name: str
    source: str
    outcome: str
    #: a piece of the recorded message (the exception line / why it stopped)
    message: str = ""


def hostile_programs(host: Path, cache_file: Path, port: int) -> list[Hostile]:
    return [
        Hostile("socket_localhost", f"import socket\nsocket.create_connection(('127.0.0.1', {port}), timeout=1)\n", "error", "Error"),
        Hostile("socket_outside", "import socket\nsocket.create_connection(('1.1.1.1', 80), timeout=1)\n", "error", "OSError"),
        Hostile("dns_lookup", "import socket\nsocket.getaddrinfo('pypi.org', 443)\n", "error", "gaierror"),
        Hostile("env_secret", f"import os\nprint(os.environ['{SECRET_NAME}'])\n", "error", "KeyError"),
        Hostile(
            "proc_environ",
            "import os\nfor p in os.listdir('/proc'):\n    try: print(open(f'/proc/{p}/environ','rb').read())\n"
            "    except OSError: pass\nassert len([p for p in os.listdir('/proc') if p.isdigit()]) <= 2\n",
            "passed",
        ),
        Hostile("read_cache", f"print(open({str(cache_file)!r}, 'rb').read()[:100])\n", "error", "FileNotFoundError"),
        Hostile("read_home", "print(open('/root/.bashrc').read())\n", "error", "FileNotFoundError"),
        Hostile("read_shadow", "print(open('/etc/shadow').read())\n", "error", "FileNotFoundError"),
        Hostile("write_host", f"open({str(host / 'pwned.txt')!r}, 'w').write('x')\n", "error", "Error"),
        Hostile("write_system", "open('/usr/pwned', 'w').write('x')\n", "error", "OSError"),
        Hostile("write_root", "open('/pwned', 'w').write('x')\n", "error", "Error"),
        Hostile("delete_files", f"import shutil\nshutil.rmtree({str(host)!r})\n", "error", "FileNotFoundError"),
        Hostile("delete_system", "import os\nos.remove('/usr/bin/env')\n", "error", "OSError"),
        Hostile("fork_bomb", "import os\nwhile True:\n    os.fork()\n", "error", "BlockingIOError"),
        Hostile("memory_bomb", "x = []\nwhile True:\n    x.append(bytearray(10**8))\n", "error", "MemoryError"),
        Hostile("infinite_loop", "while True:\n    pass\n", "timeout", "limit"),
        Hostile("sleep_forever", "import time\ntime.sleep(10**6)\n", "timeout", "wall-clock"),
        Hostile(
            "daemon",
            "import os, signal, time\nif os.fork() == 0:\n    os.setsid()\n    if os.fork() == 0:\n"
            "        signal.signal(signal.SIGTERM, signal.SIG_IGN)\n        signal.signal(signal.SIGHUP, signal.SIG_IGN)\n"
            "        while True: time.sleep(1)\n    os._exit(0)\ntime.sleep(0.3)\n",
            "passed",
        ),
        Hostile(
            "kill_parent",
            "import os, time\ntry:\n    os.kill(os.getppid(), 9)\nexcept PermissionError:\n    pass\n"
            "try:\n    os.kill(-1, 9)\nexcept OSError:\n    pass\ntime.sleep(0.2)\nprint('still here')\n",
            "passed",
        ),
        Hostile(
            "fill_disk",
            "i = 0\nwhile True:\n    with open(f'/tmp/fill{i}', 'wb') as f:\n        f.write(b'0' * 4 * 2**20)\n    i += 1\n",
            "error",
            "No space left",
        ),
        Hostile("big_file", "open('/tmp/big', 'wb').write(b'0' * 64 * 2**20)\n", "error", "File too large"),
        Hostile("segfault", "import ctypes\nctypes.string_at(0)\n", "error", "SIGSEGV"),
        Hostile("stdout_100mb", "import sys\nfor _ in range(100):\n    sys.stdout.write('x' * 2**20)\n", "error", "output limit"),
        Hostile("chdir_runner", "import os\nos.chdir('/')\nos.chdir('..')\nprint(os.getcwd())\n", "passed"),
        Hostile("exit_early", "import os\nos._exit(0)\nassert False\n", "error", "before the tests finished"),
        Hostile("sys_exit", "import sys\nsys.exit(0)\n", "error", "SystemExit"),
    ]


def _tree_hash(root: Path) -> str:
    h = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        h.update(str(path.relative_to(root)).encode())
        if path.is_file():
            h.update(path.read_bytes())
    return h.hexdigest()


def _sandboxed_pids() -> set[int]:
    """Live processes in another PID namespace than ours, or running under a sandbox uid.

    Zombies are dead: bwrap's namespace init can linger as one for a moment until the
    host's init reaps it.
    """
    own_ns = os.readlink("/proc/self/ns/pid")
    found = set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            ns = os.readlink(f"/proc/{entry}/ns/pid")
            uid = os.stat(f"/proc/{entry}").st_uid
            state = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        if state in ("Z", "X"):
            continue
        if ns != own_ns or uid >= SANDBOX_UID_BASE:
            found.add(int(entry))
    return found


class _Listener:
    """A real TCP server on the host's 127.0.0.1 that counts connections."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            conn.close()

    def close(self) -> None:
        self.sock.close()


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory):
    require(unavailable_reason() is None, f"bubblewrap cannot run here: {unavailable_reason()}")
    host = tmp_path_factory.mktemp("host")
    (host / "notes.txt").write_text("host file\n")
    (host / "sub").mkdir()
    (host / "sub" / "data.bin").write_bytes(os.urandom(1000))
    cache = RequestCache(host / "cache" / "requests.sqlite")
    cache.put_records("code_exec", [("k", {"m": 1}, {"prompt": "p"}, {"text": SECRET})])
    cache.close()
    listener = _Listener()
    canary = subprocess.Popen(["sleep", "60"])
    programs = hostile_programs(host, host / "cache" / "requests.sqlite", listener.port)
    before = {"hash": _tree_hash(host), "pids": _sandboxed_pids(), "cwd": os.getcwd()}
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    os.environ[SECRET_NAME] = SECRET
    try:
        results = SandboxPool(SETTINGS, workers=4).run([p.source for p in programs])
    finally:
        del os.environ[SECRET_NAME]
    after = {
        "hash": _tree_hash(host),
        "pids": _sandboxed_pids(),
        "cwd": os.getcwd(),
        "rss_growth_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before,
        "connections": listener.connections,
        "canary_alive": canary.poll() is None,
    }
    listener.close()
    canary.kill()
    canary.wait()
    yield {p.name: (p, r) for p, r in zip(programs, results)}, before, after


NAMES = [p.name for p in hostile_programs(Path("/h"), Path("/c"), 1)]


def test_at_least_fifteen_hostile_programs() -> None:
    assert len(NAMES) >= 15


@pytest.mark.parametrize("name", NAMES)
def test_hostile_program_outcome(batch, name: str) -> None:
    by_name, _, _ = batch
    program, result = by_name[name]
    assert result.outcome == program.outcome, (result.message, result.stderr_tail[-500:])
    assert program.message in result.message, result
    assert SECRET not in result.stdout_tail + result.stderr_tail + result.message


def test_no_sandboxed_process_left(batch) -> None:
    _, before, after = batch
    assert after["pids"] - before["pids"] == set()


def test_host_unchanged(batch) -> None:
    _, before, after = batch
    assert after["hash"] == before["hash"]
    assert after["cwd"] == before["cwd"]
    assert after["canary_alive"], "a program killed a host process"
    assert after["connections"] == 0, "a program reached the host's 127.0.0.1"
    # 100 MB of stdout is drained, not kept: hyoka's own memory barely moves
    assert after["rss_growth_kb"] < 50 * 1024


def test_exception_line_is_recorded(batch) -> None:
    by_name, _, _ = batch
    _, result = by_name["write_host"]
    assert result.line.startswith("open(") and result.line_number == 1
    _, result = by_name["memory_bomb"]
    assert result.line == "x.append(bytearray(10**8))" and "MemoryError" in result.stderr_tail
