"""A managed inference server dies with hyoka, even when hyoka is killed with SIGKILL."""

from __future__ import annotations

import importlib.util
import os
import signal
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from conftest import hyoka_cmd, require

LOCAL = Path(__file__).parent / "fixtures" / "local_task"


def _pids_with(needle: str) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if needle in cmdline and int(entry.name) != os.getpid():
            pids.append(int(entry.name))
    return pids


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:  # noqa: S310 (loopback)
            return response.status == 200
    except OSError:
        return False


def test_sigkill_of_hyoka_takes_the_server_down_within_2s(gemma_gguf: Path, tmp_path: Path) -> None:
    require(importlib.util.find_spec("uvicorn") is not None, "llama-cpp-python server extras are not installed")
    out = tmp_path / "run"
    hyoka = subprocess.Popen(
        # a long answer keeps the server computing when hyoka is killed (the case that used to linger)
        hyoka_cmd("run", f"llamacpp-server:{gemma_gguf}", "--tasks", "local_gen", "--include-path", str(LOCAL),
                  "--output", str(out), "--model-args", "n_ctx=2048", "--gen", "max_tokens=1500", "--gen", "stop=[]",
                  "--no-cache", "--quiet"),  # fmt: skip
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        port = None
        while port is None or not _answers(f"http://127.0.0.1:{port}/v1/models"):
            assert hyoka.poll() is None, "hyoka ended before its server came up"
            assert time.monotonic() < deadline, "the server did not come up"
            configs = list(out.glob("llamacpp-server-*.json"))
            port = configs[0].stem.rsplit("-", 1)[1] if configs else None
            time.sleep(0.1)
        servers = _pids_with(f"{out}/llamacpp-server-{port}.json")
        assert servers, "no server process found"
        time.sleep(2.0)  # the first (long) request is in flight: the server is computing
        hyoka.send_signal(signal.SIGKILL)
        hyoka.wait(timeout=10)
        killed_at = time.monotonic()
        while _pids_with(str(out)):
            assert time.monotonic() - killed_at < 2.0, f"server processes outlived hyoka: {_pids_with(str(out))}"
            time.sleep(0.05)
    finally:
        if hyoka.poll() is None:
            hyoka.kill()
        for pid in _pids_with(str(out)):  # only ours: their command line names this test's folder
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
