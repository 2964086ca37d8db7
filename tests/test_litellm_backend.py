"""`litellm:` against the real llama.cpp server, through litellm's OpenAI-compatible route:
same outputs as `openai:` on the same server, same retry accounting, keys written nowhere."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from conftest import import_or_require
from hyoka.errors import ModelSpecError
from test_api_backend import _fresh_model, _run, _samples, _scores, cache_dir, gguf, server  # noqa: F401  (fixtures)


def _litellm_args(base_url: str, **extra: str) -> list[str]:
    args = {"base_url": base_url, "api": "completions", **extra}
    return ["--model-args", ",".join(f"{k}={v}" for k, v in args.items())]


@pytest.mark.slow
def test_litellm_matches_openai_backend_and_keeps_keys_out(
    server: str, tmp_path: Path, cache_dir: Path, monkeypatch: pytest.MonkeyPatch  # noqa: F811
) -> None:
    import_or_require("litellm", "pip install 'hyoka[litellm]'")
    key = "sk-hyokatest-" + "".join(random.choice("abcdef0123456789") for _ in range(24))
    monkeypatch.setenv("HYOKA_TEST_API_KEY", key)
    task = ["--tasks", "demo_ja_gen", "--limit", "2", "--no-cache"]
    _fresh_model(server, "generate")
    code_openai, by_openai, _ = _run(
        "openai:generate", tmp_path / "openai", *task, "--model-args", f"base_url={server},preset=llamacpp"
    )
    _fresh_model(server, "generate")
    out = tmp_path / "litellm"
    code, by_litellm, summary = _run(
        "litellm:openai/generate", out, *task,
        *_litellm_args(server, api_key_env="HYOKA_TEST_API_KEY", concurrency="1", price_in="1", price_out="2"),
    )  # fmt: skip
    assert code == code_openai == 0
    assert [s["output"] for s in _samples(out, "demo_ja_gen")] == [
        s["output"] for s in _samples(tmp_path / "openai", "demo_ja_gen")
    ]
    assert _scores(by_litellm) == _scores(by_openai)
    transport = summary["transport"]
    assert transport["attempts"] == 2 and transport["usage"]["completion_tokens"] > 0
    assert transport["cost_usd"] > 0
    assert summary["model"]["backend"] == "litellm"
    for path in [p for folder in (out, cache_dir) for p in folder.rglob("*") if p.is_file()]:
        assert key.encode() not in path.read_bytes(), f"API key leaked into {path}"


def test_litellm_errors_are_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    from hyoka.models.litellm_backend import LiteLLMBackend

    with pytest.raises(ModelSpecError, match="PROVIDER/MODEL"):
        LiteLLMBackend("claude-3-5-sonnet", {})
    with pytest.raises(ModelSpecError, match="API keys are read only from the environment"):
        LiteLLMBackend("anthropic/claude-3-5-sonnet", {"api_key": "sk-x"})
    with pytest.raises(ModelSpecError, match="--model-args temprature: unknown argument"):
        LiteLLMBackend("anthropic/claude-3-5-sonnet", {"temprature": "0"})
    monkeypatch.delenv("HYOKA_NO_SUCH_KEY", raising=False)
    with pytest.raises(ModelSpecError, match="no API key: set HYOKA_NO_SUCH_KEY"):
        LiteLLMBackend("anthropic/claude-3-5-sonnet", {"api_key_env": "HYOKA_NO_SUCH_KEY"})


def test_deepinfra_preset(monkeypatch: pytest.MonkeyPatch) -> None:
    from hyoka.models.openai_api import OpenAIBackend

    monkeypatch.delenv("DEEPINFRA_API_KEY", raising=False)
    monkeypatch.chdir(Path(__file__).parent)  # no .env here
    with pytest.raises(ModelSpecError, match="no API key: set DEEPINFRA_API_KEY"):
        OpenAIBackend("meta-llama/Llama-3.3-70B-Instruct", {"preset": "deepinfra"})
    monkeypatch.setenv("DEEPINFRA_API_KEY", "di-test")
    backend = OpenAIBackend("meta-llama/Llama-3.3-70B-Instruct", {"preset": "deepinfra"})
    assert backend.config.base_url == "https://api.deepinfra.com/v1/openai" and backend.config.api == "chat"
    assert "di-test" not in repr(backend.identity)
