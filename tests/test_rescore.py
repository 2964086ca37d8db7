"""`hyoka score`: re-scoring saved outputs reproduces a finished run, and reads other JSONL.

The run is made by the scripted `mock:` backend through the real runner, so these tests
need no model; the jaster tasks read the real data mirror (HYOKA_DATA_DIR).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from conftest import SHARED_DATA, mock_backend, require
from hyoka.cli import main
from hyoka.cache import NullCache
from hyoka.engine.rescore import RescoreError, RescoreOptions, rescore
from hyoka.engine.runner import RunOptions, run_evaluation
from hyoka.tasks.registry import Registry, load_registry

#: canned answers; a document's hash picks one, so some are right and most are wrong
ANSWERS = ["neutral", "entailment", "YES", "NO", "3.2", "1.0", "4", "東京", "contradiction\n\n補足", "\n\n空"]
MAX_CHOICES = 10


def _hash(text: str) -> int:
    return int(hashlib.sha256(text.encode("utf-8")).hexdigest()[:8], 16)


def canned_script(tasks: list[str], limit: int) -> list[dict[str, Any]]:
    """A reproducible 'model': per document, an answer and a log-likelihood per choice."""
    return [
        {
            "task": task,
            "doc_id": i,
            "output": ANSWERS[_hash(f"{task}:{i}") % len(ANSWERS)],
            "logprobs": [-float(_hash(f"{task}:{i}:{c}") % 97) / 7 for c in range(MAX_CHOICES)],
        }
        for task in tasks
        for i in range(limit)
    ]


@pytest.fixture(scope="module")
def registry() -> Registry:
    return load_registry()


def _need_data(registry: Registry, task: str) -> None:
    files = [s.mirror_path for s in registry.tasks[task].config.dataset.splits.values() if not s.package_resource]
    missing = [f for f in files if not (SHARED_DATA / f).is_file()]
    require(not missing, f"benchmark data missing under {SHARED_DATA}: {', '.join(missing)}")


def _run(registry: Registry, tasks: list[str], output: Path, limit: int = 40) -> dict[str, Any]:
    options = RunOptions(tasks=tasks, output=output, limit=limit, show_progress=False)
    backend = mock_backend(output.parent, canned_script(registry.resolve(tasks), limit))
    return run_evaluation(registry, backend, NullCache(), options).metrics


@pytest.mark.parametrize("task", ["jaster_jnli", "jaster_jemhopqa", "jaster_jsts", "jaster_jemhopqa_cot", "demo_ja"])
def test_rescoring_a_run_reproduces_its_metrics(registry: Registry, task: str, tmp_path: Path) -> None:
    if task != "demo_ja":
        _need_data(registry, task)
    run_metrics = _run(registry, [task], tmp_path / "run")
    samples = tmp_path / "run" / f"samples_{task}.jsonl"
    outcome = rescore(registry, RescoreOptions(samples=samples, task=task, output=tmp_path / "again"))
    assert outcome.matched_by == "id:doc_id"
    assert outcome.metrics["tasks"][task] == run_metrics["tasks"][task]
    written = json.loads((tmp_path / "again" / "metrics.json").read_text(encoding="utf-8"))
    assert written["tasks"][task] == run_metrics["tasks"][task]
    before = [json.loads(line) for line in samples.read_text(encoding="utf-8").splitlines()]
    after = [json.loads(line) for line in (tmp_path / "again" / samples.name).read_text(encoding="utf-8").splitlines()]
    assert [(r["doc_id"], r["extracted"], r["metrics"]) for r in before] == [
        (r["doc_id"], r["extracted"], r["metrics"]) for r in after
    ]


def test_cli_score_reproduces_run(registry: Registry, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _need_data(registry, "jaster_janli")
    run_metrics = _run(registry, ["jaster_janli"], tmp_path / "run", limit=30)
    samples = tmp_path / "run" / "samples_jaster_janli.jsonl"
    code = main(["score", str(samples), "--task", "jaster_janli", "--output", str(tmp_path / "again")])
    assert code == 0
    assert "jaster_janli" in capsys.readouterr().out
    again = json.loads((tmp_path / "again" / "metrics.json").read_text(encoding="utf-8"))
    assert again["tasks"] == run_metrics["tasks"]


def test_external_jsonl_by_document_field(registry: Registry, tmp_path: Path) -> None:
    """Someone else's outputs, keyed by JEMHopQA's own qid: perfect answers score 1.0."""
    _need_data(registry, "jaster_jemhopqa")
    from hyoka.tasks.task import load_task

    docs = load_task(registry.tasks["jaster_jemhopqa"].config).eval_docs
    path = tmp_path / "outputs.jsonl"
    rows = [{"qid": d["qid"], "response": d["answer"]} for d in docs[::-1][:15]]  # any order
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    outcome = rescore(registry, RescoreOptions(samples=path, task="jaster_jemhopqa", id_field="qid"))
    assert outcome.response_field == "response" and outcome.matched_by == "id:qid"
    assert outcome.metrics["tasks"]["jaster_jemhopqa"]["metrics"]["char_f1"]["value"] == 1.0
    assert len(outcome.records) == 15


def test_external_jsonl_by_prompt_inside_a_chat_template(registry: Registry, tmp_path: Path) -> None:
    _need_data(registry, "jaster_jnli")
    from hyoka.tasks.task import PromptOptions, load_task

    task = load_task(registry.tasks["jaster_jnli"].config)
    samples = task.build_samples(limit=12, options=PromptOptions(num_fewshot=2))
    path = tmp_path / "chat.jsonl"
    with path.open("w", encoding="utf-8") as f:
        for s in samples:
            prompt = f"<start_of_turn>user\n{s.messages[0].content}<end_of_turn>\n<start_of_turn>model\n"
            f.write(json.dumps({"prompt": prompt, "generated_text": s.references[0]}, ensure_ascii=False) + "\n")
    outcome = rescore(registry, RescoreOptions(samples=path, task="jaster_jnli"))
    assert outcome.matched_by == "prompt:prompt"
    assert [r.doc_id for r in outcome.records] == list(range(12))
    assert outcome.metrics["tasks"]["jaster_jnli"]["metrics"]["exact_match"]["value"] == 1.0


@pytest.mark.parametrize(
    "lines, message",
    [
        (['{"doc_id": 0, "output": "x"}', '{"doc_id": 0, "output": "y"}'], r":2: a second output for document 0"),
        (['{"doc_id": 99999, "output": "x"}'], r":1: doc_id=99999 is not a document index"),
        (['{"doc_id": 0, "reply": "x"}'], r"name the model output with --response-field"),
        (['{"prompt": "存在しない質問", "output": "x"}'], r":1: the prompt text matches no document"),
        (["not json"], r":1: not JSON"),
    ],
)
def test_bad_samples_files_are_one_line_errors(
    registry: Registry, tmp_path: Path, lines: list[str], message: str
) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(RescoreError, match=message) as info:
        rescore(registry, RescoreOptions(samples=path, task="demo_ja"))
    assert "\n" not in str(info.value)


def test_cli_score_error_exit_code(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "nope.jsonl"
    assert main(["score", str(missing), "--task", "demo_ja"]) == 2
    assert "no such samples file" in capsys.readouterr().err


def test_category_naming_a_metric_its_task_lacks_fails_before_the_run(registry: Registry, tmp_path: Path) -> None:
    from hyoka.errors import TaskConfigError

    folder = tmp_path / "groups"
    folder.mkdir()
    (folder / "bad_suite.yaml").write_text(
        "group: bad_suite\ncategories:\n  X:\n    demo_ja: char_f1\n", encoding="utf-8"
    )
    custom = load_registry([folder])
    with pytest.raises(TaskConfigError, match=r"group 'bad_suite': category X: task 'demo_ja' reports .*not 'char_f1'"):
        _run(custom, ["bad_suite"], tmp_path / "run")
    assert not (tmp_path / "run" / "samples_demo_ja.jsonl").exists()
