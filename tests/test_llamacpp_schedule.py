"""The in-process llama.cpp backend's decode schedule (hyoka.models.llamacpp): it follows
llama-cpp-python's server, so a switch between generation and scoring starts from an empty
cache, and a scored row that was not kept is decoded again instead of failing."""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import pytest

from conftest import require
from hyoka.models import llamacpp
from hyoka.models.base import GenerateRequest, GenerationParams, LoglikelihoodRequest

CONTEXT = "質問：日本の首都はどこですか？\n答え："
# multi-token continuations that differ from their first token on
REQUESTS = [LoglikelihoodRequest(CONTEXT, c) for c in ("東京都庁のある場所", "大阪城のある場所", "京都御所のある場所")]


def _backend(gguf: Path) -> llamacpp.LlamaCppBackend:
    require(importlib.util.find_spec("llama_cpp") is not None, "llama-cpp-python is not installed")
    return llamacpp.LlamaCppBackend(str(gguf), {"n_ctx": "512"})


@pytest.mark.slow
def test_scoring_after_generation_equals_a_fresh_backend(gemma_gguf: Path) -> None:
    fresh = _backend(gemma_gguf)
    want = [r.logprob for r in fresh.loglikelihood(REQUESTS)]
    fresh.close()
    used = _backend(gemma_gguf)
    # a short prompt sharing the scoring prompts' first tokens: reusing its KV (decoded in a batch of
    # two or three) would change the numerics
    used.generate([GenerateRequest("質問", GenerationParams(max_tokens=4))])
    got = [r.logprob for r in used.loglikelihood(REQUESTS)]
    used.close()
    assert got == want  # bit-equal: the KV cache the generation left behind is not reused


@pytest.mark.slow
def test_evicted_rows_are_decoded_again(gemma_gguf: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(llamacpp, "MAX_KEPT_ROWS", 1)
    backend = _backend(gemma_gguf)
    results = backend.loglikelihood(REQUESTS)
    backend.close()
    # each request needs the row of the context's last token, which the previous one evicted
    assert all(r.error is None and math.isfinite(r.logprob) and r.logprob < 0 for r in results)
