"""The `mock:` backend through the real CLI and runner: dry runs show the exact prompts,
scripts answer by document or prompt, errors are injected, and its identity keeps the
request cache working."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from conftest import hyoka_cmd, mock_backend
from hyoka.cli import main
from hyoka.errors import ModelSpecError
from hyoka.models.base import GenerateRequest, GenerationParams, LoglikelihoodRequest, RequestOrigin


def _samples(run: Path, task: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (run / f"samples_{task}.jsonl").read_text(encoding="utf-8").splitlines()]


def _script(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def test_dry_run_shows_the_exact_prompts(tmp_path: Path) -> None:
    """`hyoka run mock: --tasks T --limit 3`, the command a task author runs."""
    out = subprocess.run(
        hyoka_cmd("run", "mock:", "--tasks", "demo_ja", "--limit", "3", "--output", str(tmp_path / "run"), "--quiet"),
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    rows = _samples(tmp_path / "run", "demo_ja")
    assert [r["prompt"] for r in rows] == ["質問：日本の首都はどこですか？\n答え：", "質問：富士山がある国はどこですか？\n答え：",
                                           "質問：一週間は何日ですか？\n答え："]  # fmt: skip
    summary = json.loads((tmp_path / "run" / "summary.json").read_text(encoding="utf-8"))
    assert summary["model"]["backend"] == "mock" and summary["execution"]["model_calls"] == 12


def test_script_by_document_picks_choices_and_injects_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    script = _script(tmp_path / "s.jsonl", [
        {"task": "demo_ja", "doc_id": 0, "logprobs": [-3.0, -0.1, -2.0, -4.0]},  # gold is choice 1
        {"doc_id": 1, "logprobs": {"中国": -0.5, "韓国": -2.0, "日本": -1.0, "タイ": -3.0}},  # wrong: 中国
        {"task": "demo_ja", "doc_id": 2, "error": "server_error: 503 after 5 tries"},
        {"task": "other_task", "doc_id": 0, "error": "never used"},
    ])  # fmt: skip
    run = tmp_path / "run"
    code = main(["run", "mock:", "--model-args", f"script={script}", "--tasks", "demo_ja", "--limit", "3",
                 "--output", str(run), "--quiet"])  # fmt: skip
    assert code == 1  # a failed request: the run says so in its exit code
    rows = _samples(run, "demo_ja")
    assert [r["prediction"] for r in rows] == [1, 0, None]
    assert rows[2]["error"] == "server_error: 503 after 5 tries"
    metrics = json.loads((run / "metrics.json").read_text(encoding="utf-8"))["tasks"]["demo_ja"]
    assert metrics["errors"] == 1 and metrics["metrics"]["accuracy"]["value"] == 0.5
    assert "4 errors" in capsys.readouterr().out  # each of its 4 choices failed


def test_generation_splits_reasoning_and_follows_stop_and_max_tokens(tmp_path: Path) -> None:
    backend = mock_backend(tmp_path, [
        {"task": "t", "doc_id": 0, "output": "<think>まず考える</think>東京です。\n補足"},
        {"doc_id": 1, "output": ["一つ目", "二つ目"]},
        {"prompt": "exact prompt", "output": "by prompt", "reasoning": "given"},
        {"pattern": "^pat+ern$", "output": "by pattern"},
    ], reasoning="")  # fmt: skip
    params = GenerationParams(max_tokens=3, stop=("\n",))

    def ask(prompt: str, origin: RequestOrigin | None = None, p: GenerationParams = GenerationParams()) -> Any:
        return backend.generate([GenerateRequest(prompt, p, origin=origin)])[0]

    first = ask("?", RequestOrigin("t", 0))
    assert (first.text, first.reasoning, first.finish_reason) == ("東京です。\n補足", "まず考える", "stop")
    assert first.reasoning_tokens == len("まず考える") and first.completion_tokens == len("<think>まず考える</think>東京です。\n補足")
    assert ask("?", RequestOrigin("t", 0), GenerationParams(stop=("\n",))).text == "東京です。"
    cut = ask("?", RequestOrigin("t", 0), GenerationParams(max_tokens=10))
    assert (cut.text, cut.reasoning, cut.finish_reason) == ("", "まず考", "length")  # stopped while thinking
    assert [ask("?", RequestOrigin("u", 1, i)).text for i in range(3)] == ["一つ目", "二つ目", "一つ目"]
    assert (ask("exact prompt").text, ask("exact prompt").reasoning) == ("by prompt", "given")
    assert ask("patttern").text == "by pattern"
    unscripted = ask("something else", p=params)
    assert (unscripted.text, unscripted.finish_reason) == ("moc", "length")  # "mock answer", 3 characters


def test_error_every_k_th_request_and_no_caching_of_failures(tmp_path: Path) -> None:
    backend = mock_backend(error_every=3)
    results = backend.loglikelihood([LoglikelihoodRequest("c", f"x{i}") for i in range(7)])
    assert [r.error is not None for r in results] == [False, False, True, False, False, True, False]
    assert (results[2].error or "").startswith("mock_error: injected failure")
    # error injection is not part of the identity: a rerun without it hits the cache
    assert mock_backend(error_every=3).identity == mock_backend().identity


def test_identity_follows_the_script_content(tmp_path: Path) -> None:
    script = _script(tmp_path / "s.jsonl", [{"doc_id": 0, "output": "a"}])
    first = mock_backend(script=script).identity
    assert mock_backend(script=script).identity == first
    _script(script, [{"doc_id": 0, "output": "b"}])
    assert mock_backend(script=script).identity != first
    assert mock_backend(reply="x").identity != mock_backend(reply="y").identity


def test_rerun_of_a_mock_run_comes_from_the_cache(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["run", "mock:", "--tasks", "demo_ja", "--limit", "2", "--output", str(tmp_path / "run"), "--quiet"]
    assert main(args) == 0
    assert main(args) == 0
    assert "8 requests: 8 from cache, 0 model calls" in capsys.readouterr().out


@pytest.mark.parametrize(
    "rows, message",
    [
        (['{"doc_id": 0, "output": "a"}', '{"doc_id": 0, "output": "b"}'], r"s\.jsonl:2: a second row for doc_id 0 \(first on line 1\)"),
        (['{"doc_id": "x", "output": "a"}'], r":1: doc_id must be a document index"),
        (['{"doc_id": 0, "prompt": "p", "output": "a"}'], r":1: give one of doc_id, prompt or pattern"),
        (['{"prompt": "p"}'], r":1: nothing to answer with"),
        (['{"doc_id": 0, "logprobs": ["a"]}'], r":1: logprobs must be a list of numbers"),
        (['{"pattern": "(", "output": "a"}'], r":1: pattern is not a regular expression"),
        (['{"doc_id": 0, "answer": "a"}'], r":1: unknown fields \['answer'\]"),
        (["[1, 2]"], r":1: expected one object a line"),
    ],
)
def test_bad_script_lines_are_one_line_errors(tmp_path: Path, rows: list[str], message: str) -> None:
    path = tmp_path / "s.jsonl"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    with pytest.raises(ModelSpecError, match=message) as info:
        mock_backend(script=path)
    assert "\n" not in str(info.value)


def test_bad_mock_arguments_exit_2_with_one_line(tmp_path: Path) -> None:
    out = subprocess.run(
        hyoka_cmd("run", "mock:", "--model-args", "error_every=0", "--tasks", "demo_ja", "--output", str(tmp_path / "r")),
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert out.returncode == 2
    assert out.stderr.strip().splitlines() == [
        "hyoka: error: --model-args error_every: must be >= 1 (got '0')"
    ]
