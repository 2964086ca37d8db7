"""The request cache and executor, with the scripted `mock:` backend standing in for a model."""

from __future__ import annotations

import json
import math
import sqlite3
from pathlib import Path

import pytest

from conftest import mock_backend
from hyoka.core.types import GenerateResult, LoglikelihoodResult, result_from_json, result_to_json
from hyoka.cache import RequestCache, request_key
from hyoka.engine.executor import PendingRequest, execute
from hyoka.errors import GenerationParamsError, HyokaError
from hyoka.metrics.base import MetricValue
from hyoka.models.base import GenerateRequest, GenerationParams, LoglikelihoodRequest
from hyoka.models.tokenization import encode_pair, split_context_continuation
from hyoka.results.aggregate import TaskResult, aggregate_group, macro

#: an API that gave up after its retries, for every prompt "FAIL"
FAILING = [{"prompt": "FAIL", "error": "server_error: 500 after 5 tries"}]


def gen(prompt: str, seed: int = 1) -> PendingRequest:
    return PendingRequest("generate", GenerateRequest(prompt, GenerationParams(seed=seed)))


def test_cache_hits_and_keys(tmp_path: Path) -> None:
    cache = RequestCache(tmp_path / "c.sqlite")
    backend = mock_backend(echo=True, batch_size=2)
    pending = [gen("あいうえお"), gen("かきくけこ"), gen("あいうえお"), PendingRequest("loglikelihood", LoglikelihoodRequest("a", "bc"))]
    responses, stats = execute(backend, cache, pending, description="t", show_progress=False)
    assert [r.text for r in responses[:3] if isinstance(r, GenerateResult)] == ["あいうえお", "かきくけこ", "あいうえお"]
    assert isinstance(responses[3], LoglikelihoodResult) and responses[3].logprob == -2.0
    assert stats.model_calls == 3  # the duplicate prompt is sent once
    again, stats2 = execute(backend, cache, pending, description="t", show_progress=False)
    assert again == responses and stats2.model_calls == 0 and stats2.cache_hits == 4
    # another seed, another model: other keys
    _, stats3 = execute(backend, cache, [gen("あいうえお", seed=2)], description="t", show_progress=False)
    _, stats4 = execute(mock_backend(echo=True, reply="other"), cache, [gen("あいうえお")], description="t", show_progress=False)
    assert stats3.model_calls == 1 and stats4.model_calls == 1


def test_failed_requests_are_counted_not_cached_and_retried(tmp_path: Path) -> None:
    cache = RequestCache(tmp_path / "c.sqlite")
    backend = mock_backend(tmp_path, FAILING)
    responses, stats = execute(backend, cache, [gen("ok"), gen("FAIL")], description="t", show_progress=False)
    assert (responses[1].error or "").startswith("server_error")
    assert stats.errors == 1 and stats.error_reasons == {"server_error": 1}
    backend.requests.clear()
    _, stats2 = execute(backend, cache, [gen("ok"), gen("FAIL")], description="t", show_progress=False)
    assert [r.prompt for r in backend.requests] == ["FAIL"] and stats2.cache_hits == 1


def test_cache_stores_typed_results_and_survives_reopen(tmp_path: Path) -> None:
    request = GenerateRequest("問", GenerationParams())
    result = GenerateResult("答", reasoning="考え", prompt_tokens=1, completion_tokens=5, reasoning_tokens=2, finish_reason="stop")
    key = request_key({"m": 1}, request)
    RequestCache(tmp_path / "c.sqlite").put_many([(key, {"m": 1}, request, result)])
    assert RequestCache(tmp_path / "c.sqlite").get_many([key, "missing"]) == {key: result}


def test_result_serialisation_round_trips_and_old_rows_are_split_once() -> None:
    ll = LoglikelihoodResult(-1.5, True, 3)
    gr = GenerateResult.from_output("<think>まず</think> 東京 ", prompt_tokens=4)
    assert (gr.text, gr.reasoning) == ("東京", "まず")
    assert result_from_json("loglikelihood", result_to_json(ll)) == ll
    assert result_from_json("generate", json.loads(json.dumps(result_to_json(gr)))) == gr
    # a row an older hyoka cached: raw text with the thinking inside, no reasoning_tokens key
    old = result_from_json("generate", {"text": "<think>a</think>b", "reasoning": None, "extra": {}, "error": None})
    assert isinstance(old, GenerateResult) and (old.text, old.reasoning) == ("b", "a")


def test_cache_keys_are_unchanged_by_the_typed_requests() -> None:
    """Keys hash the request's text and settings only (never its origin), exactly as the
    dict payloads of earlier versions did: existing caches keep their hits."""
    from hyoka.core.types import RequestOrigin, sha256_text, stable_json

    params = GenerationParams(max_tokens=8, stop=("\n",))
    request = GenerateRequest("p", params, origin=RequestOrigin("t", 3))
    legacy = {"prompt": "p", "params": {"max_tokens": 8, "temperature": 0.0, "top_p": 1.0, "stop": ["\n"], "seed": 1234, "n": 1}}
    expected = sha256_text(stable_json({"model": {"m": 1}, "kind": "generate", "request": legacy, "repeat": 2}))
    assert request_key({"m": 1}, request, 2) == expected
    assert request_key({"m": 1}, GenerateRequest("p", params, origin=RequestOrigin("u", 9)), 2) == expected


@pytest.mark.parametrize(
    "values, field",
    [({"max_tokens": -5}, "max_tokens"), ({"max_tokens": 0}, "max_tokens"), ({"temperature": -1}, "temperature"),
     ({"top_p": 5}, "top_p"), ({"top_p": 0}, "top_p"), ({"n": 0}, "n"), ({"max_tokens": "many"}, "max_tokens"),
     ({"temperature": float("nan")}, "temperature"), ({"stop": [""]}, "stop")],
)  # fmt: skip
def test_generation_params_are_range_checked(values: dict, field: str) -> None:
    with pytest.raises(GenerationParamsError, match=f"^generation setting {field}=") as info:
        GenerationParams(**values)
    assert isinstance(info.value, ValueError) and isinstance(info.value, HyokaError) and "\n" not in str(info.value)
    assert GenerationParams(stop=["a"]).stop == ("a",)  # a YAML list becomes a tuple


def test_old_cache_rows_stay_readable(tmp_path: Path) -> None:
    """A cache file written before typed results (raw text with <think>) reads as a result."""
    request = GenerateRequest("p", GenerationParams())
    key = request_key({"m": 1}, request)
    cache = RequestCache(tmp_path / "c.sqlite")
    cache.close()
    with sqlite3.connect(tmp_path / "c.sqlite") as db:
        row = {"text": "<think>x</think>y", "reasoning": None, "prompt_tokens": 1, "completion_tokens": 2,
               "finish_reason": "stop", "extra": {}, "error": None}  # fmt: skip
        db.execute("INSERT INTO responses VALUES (?,?,?,?,?,?)", (key, "generate", "{}", "{}", json.dumps(row), 0.0))
    [found] = RequestCache(tmp_path / "c.sqlite").get_many([key]).values()
    assert found == GenerateResult("y", "x", 1, 2, None, "stop")


def test_trailing_space_moves_to_the_continuation() -> None:
    assert split_context_continuation("答え: ", "B") == ("答え:", " B")
    chars = lambda s: [ord(c) for c in s]  # noqa: E731 - a character-level "tokenizer"
    assert encode_pair(chars, "ab ", "c") == (chars("ab"), chars(" c"))


def test_group_aggregates() -> None:
    a = TaskResult("a", {"acc": MetricValue(1.0, 0.0, 2)}, {"acc": [1.0, 1.0]}, 0)
    b = TaskResult("b", {"acc": MetricValue(0.25, 0.25, 4)}, {"acc": [1.0, 0.0, 0.0, 0.0]}, 1)
    out = aggregate_group([a, b])
    assert out["acc_macro"].value == 0.625
    assert math.isclose(out["acc_micro"].value, 3 / 6)
    assert out["acc_micro"].n == 6
    assert math.isclose(macro([MetricValue(0.5, 0.1, 10), MetricValue(0.7, 0.1, 10)]).stderr or 0, math.sqrt(0.02) / 2)
