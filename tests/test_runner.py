"""The runner through the real CLI with the scripted `mock:` backend: N outputs per document
(all scored, spread between repeats), the metric contract (score_batch, details, pooled
aggregates), checks before the first model call, and a second run into the same folder."""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path
from typing import Any, Sequence

import pytest

from hyoka.cli import main
from hyoka.metrics.base import Metric, MetricValue, SampleScore, ScoreInput, ScoringContext, register_metric

DOCS = [{"q": "日本の首都は?", "a": "東京"}, {"q": "富士山の高さ(m)は?", "a": "3776"},
        {"q": "一週間は何日?", "a": "7"}, {"q": "1+1は?", "a": "2"}]  # fmt: skip


@register_metric("test_any_correct")
class AnyCorrect(Metric):
    """A pooled metric written against the contract: a document passes when any of its
    outputs is exactly right (pass@n), the details name the passing outputs, and a
    second label counts the scored documents."""

    name = "test_any_correct"

    def labels(self) -> list[str]:
        return [self.label, f"{self.label}_docs"]

    def score_batch(self, items: Sequence[ScoreInput], context: ScoringContext) -> list[SampleScore]:
        assert isinstance(context, ScoringContext)
        out = []
        for item in items:
            hits = [i for i, p in enumerate(item.predictions) if p in item.references]
            values = {self.label: float(bool(hits)), f"{self.label}_docs": 1.0}
            out.append(SampleScore(values, details={"passing_outputs": hits, "doc_q": item.doc["q"]}))
        return out

    def aggregate(self, items: Sequence[ScoreInput], scores: Sequence[SampleScore]) -> dict[str, MetricValue]:
        passed = sum(s.values[self.label] for s in scores)
        n = len(scores)
        return {self.label: MetricValue(passed / n, None, n), f"{self.label}_docs": MetricValue(float(n), None, n)}


@pytest.fixture
def task_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A user's generate task with its data in a mirror of its own (HYOKA_DATA_DIR)."""
    data = tmp_path / "data" / "tiny"
    data.mkdir(parents=True)
    body = "".join(json.dumps(d, ensure_ascii=False) + "\n" for d in DOCS)
    (data / "tiny.jsonl").write_text(body, encoding="utf-8")
    monkeypatch.setenv("HYOKA_DATA_DIR", str(tmp_path / "data"))
    tasks = tmp_path / "tasks"
    tasks.mkdir()
    sha = hashlib.sha256(body.encode("utf-8")).hexdigest()
    for name, metrics in (("tiny_gen", "[exact_match, test_any_correct]"), ("tiny_gen_b", "[exact_match]")):
        (tasks / f"{name}.yaml").write_text(
            f"name: {name}\nlanguage: ja\ngroups: [tiny]\n"
            "dataset:\n  source: test\n  revision: '1'\n  licence: CC0\n  format: jsonl\n"
            f"  splits:\n    test: {{mirror_path: tiny/tiny.jsonl, sha256: {sha}}}\n  eval_split: test\n"
            "formulation: generate\nprompt:\n  doc_to_text: '{{ q }}'\n  doc_to_target: '{{ a }}'\n"
            f"generation: {{max_tokens: 64}}\nmetrics: {metrics}\n",
            encoding="utf-8",
        )
    return tasks


def _script(folder: Path, rows: list[dict[str, Any]]) -> Path:
    path = folder / "script.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def _run(task_dir: Path, out: Path, *extra: str, tasks: str = "tiny_gen", model_args: str | None = None) -> int:
    args = ["run", "mock:", "--tasks", tasks, "--include-path", str(task_dir), "--output", str(out), "--quiet", *extra]
    return main(args + (["--model-args", model_args] if model_args else []))


def _json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def test_n_outputs_per_document_are_all_scored(task_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # outputs per document: right, wrong, right (doc 3: wrong every time)
    rows = [{"task": "tiny_gen", "doc_id": i, "output": [d["a"], "違う", d["a"]] if i < 3 else ["x"]} for i, d in enumerate(DOCS)]
    script = f"script={_script(tmp_path, rows)}"
    assert _run(task_dir, tmp_path / "run", "--repeats", "3", model_args=script) == 0
    assert "12 requests: 0 from cache, 12 model calls" in capsys.readouterr().out
    entry = _json(tmp_path / "run" / "metrics.json")["tasks"]["tiny_gen"]
    em = entry["metrics"]["exact_match"]
    assert entry["repeats"] == 3 and math.isclose(em["value"], (2 / 3 * 3 + 0) / 4)
    # task means per repeat: 3/4, 0, 3/4 → their standard deviation
    assert math.isclose(em["repeat_std"], math.sqrt(((0.75 - 0.5) ** 2 * 2 + 0.5**2) / 2))
    assert entry["metrics"]["test_any_correct"]["value"] == 0.75  # the pooled metric's own aggregate
    records = [json.loads(line) for line in (tmp_path / "run" / "samples_tiny_gen.jsonl").read_text().splitlines()]
    assert [r["extracted"] for r in records[0]["repeats"]] == ["東京", "違う", "東京"]
    assert math.isclose(records[0]["metrics"]["exact_match"], 2 / 3)
    assert records[0]["details"]["test_any_correct"] == {"passing_outputs": [0, 2], "doc_q": "日本の首都は?"}
    summary = _json(tmp_path / "run" / "summary.json")
    assert summary["tasks"]["tiny_gen"]["generation"]["n"] == 3
    # --gen n=3 is the same thing: every output from the cache; n=4 asks only for the new one
    assert _run(task_dir, tmp_path / "run2", "--gen", "n=3", model_args=script) == 0
    assert "12 requests: 12 from cache, 0 model calls" in capsys.readouterr().out
    assert _json(tmp_path / "run2" / "metrics.json")["tasks"] == _json(tmp_path / "run" / "metrics.json")["tasks"]
    assert _run(task_dir, tmp_path / "run3", "--repeats", "4", model_args=script) == 0
    assert "16 requests: 12 from cache, 4 model calls" in capsys.readouterr().out


def test_rescoring_n_outputs_reproduces_the_run(task_dir: Path, tmp_path: Path) -> None:
    rows = [{"doc_id": i, "output": [d["a"], "<think>うーん</think>違う"]} for i, d in enumerate(DOCS)]
    assert _run(task_dir, tmp_path / "run", "--repeats", "2", model_args=f"script={_script(tmp_path, rows)}") == 0
    samples = tmp_path / "run" / "samples_tiny_gen.jsonl"
    assert main(["score", str(samples), "--task", "tiny_gen", "--include-path", str(task_dir), "--output", str(tmp_path / "again")]) == 0
    run, again = _json(tmp_path / "run" / "metrics.json"), _json(tmp_path / "again" / "metrics.json")
    assert again["tasks"]["tiny_gen"] == run["tasks"]["tiny_gen"]
    assert run["tasks"]["tiny_gen"]["metrics"]["exact_match"]["value"] == 0.5
    first = json.loads(samples.read_text(encoding="utf-8").splitlines()[0])
    assert first["repeats"][1] == {"output": "違う", "reasoning": "うーん", "extracted": "違う"}


@pytest.mark.parametrize(
    "args, message",
    [
        (["--tasks", "demo_ja", "--repeats", "2"], "task 'demo_ja' scores choices by log-likelihood"),
        (["--tasks", "tiny_gen", "--gen", "n=2", "--repeats", "3"], "--gen n=2 and --repeats 3 ask for different output counts"),
        (["--tasks", "tiny_gen", "--repeats", "0"], "--repeats 0: give a number of outputs per document >= 1"),
        (["--tasks", "tiny_gen", "--gen", "top_p=5"], "--gen top_p: must be <= 1.0"),
        (["--tasks", "tiny_gen,demo_ja", "--gen", "temperature=-1"], "--gen temperature: must be >= 0.0"),
    ],
)
def test_bad_run_options_fail_before_any_model_call(
    task_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    out = tmp_path / "run"
    code = main(["run", "mock:", "--include-path", str(task_dir), "--output", str(out), "--quiet", *args])
    err = capsys.readouterr().err
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1
    assert not list(out.glob("samples_*"))  # nothing ran


def test_a_second_run_into_the_folder_keeps_the_first_runs_tasks(task_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = [{"doc_id": i, "output": d["a"] if i % 2 else "違う"} for i, d in enumerate(DOCS)]
    args = f"script={_script(tmp_path, rows)}"
    out = tmp_path / "run"
    assert _run(task_dir, out, tasks="tiny_gen", model_args=args) == 0
    assert _run(task_dir, out, tasks="tiny_gen_b,demo_ja", model_args=args) == 0
    metrics = _json(out / "metrics.json")
    assert set(metrics["tasks"]) == {"tiny_gen", "tiny_gen_b", "demo_ja"}
    # the group spans both runs: micro over both tasks' documents (read back from the first's samples)
    assert metrics["groups"]["tiny"]["members"] == ["tiny_gen", "tiny_gen_b"]
    assert metrics["groups"]["tiny"]["metrics"]["exact_match_micro"] == {"value": 0.5, "stderr": pytest.approx(0.189, abs=1e-3), "n": 8}
    assert set(_json(out / "summary.json")["tasks"]) == {"tiny_gen", "tiny_gen_b", "demo_ja"}
    # running a task again replaces its entry; the others stay
    assert _run(task_dir, out, tasks="tiny_gen", model_args=args, *("--limit", "2")) == 0
    again = _json(out / "metrics.json")
    assert again["tasks"]["tiny_gen"]["metrics"]["exact_match"]["n"] == 2 and "demo_ja" in again["tasks"]
    assert _json(out / "summary.json")["tasks"]["tiny_gen"]["limit"] == 2
    # another model's results do not mix in
    capsys.readouterr()
    assert _run(task_dir, out, tasks="tiny_gen", model_args="reply=other") == 2
    err = capsys.readouterr().err
    assert "holds results of another model" in err and len(err.strip().splitlines()) == 1
    assert not list(out.glob(".*.tmp"))


def test_output_problems_are_one_line_and_leave_no_temporary_files(task_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a_file = tmp_path / "file"
    a_file.write_text("x", encoding="utf-8")
    assert _run(task_dir, a_file) == 2
    assert "is a file, not a folder" in capsys.readouterr().err
    # metrics.json cannot be replaced (a folder in its way): named, after the samples are written
    out = tmp_path / "run"
    (out / "metrics.json").mkdir(parents=True)
    assert _run(task_dir, out) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "metrics.json: cannot write it" in err[0] and "rerunning" in err[0]
    assert (out / "samples_tiny_gen.jsonl").is_file()
    assert not [p.name for p in out.iterdir() if p.name.endswith(".tmp")]


def test_a_document_range_gives_those_documents_as_the_full_run_does(
    task_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # few-shot examples drawn per document (seeded by its id): a range must not change any draw
    base = (task_dir / "tiny_gen.yaml").read_text(encoding="utf-8")
    test_split = next(line for line in base.splitlines() if line.startswith("    test: "))
    (task_dir / "tiny_gen_shots.yaml").write_text(
        base.replace("name: tiny_gen\n", "name: tiny_gen_shots\n").replace(test_split, test_split + "\n" + test_split.replace("test:", "train:"))
        + "fewshot: {num: 2, split: train, sampler: random, seed: 7}\n",
        encoding="utf-8",
    )
    assert _run(task_dir, tmp_path / "full", "--no-cache", tasks="tiny_gen_shots", model_args="echo=true") == 0
    assert _run(task_dir, tmp_path / "part", "--no-cache", "--docs", "1:3", tasks="tiny_gen_shots", model_args="echo=true") == 0
    full = [json.loads(line) for line in (tmp_path / "full" / "samples_tiny_gen_shots.jsonl").read_text().splitlines()]
    part = [json.loads(line) for line in (tmp_path / "part" / "samples_tiny_gen_shots.jsonl").read_text().splitlines()]
    assert [r["doc_id"] for r in part] == [1, 2]
    assert [r["prompt"] for r in part] == [r["prompt"] for r in full[1:3]]
    assert len({r["prompt"] for r in full}) == 4  # the prompts differ, so equality above means something
    assert _json(tmp_path / "part" / "summary.json")["docs"] == [1, 3]
    capsys.readouterr()
    with pytest.raises(SystemExit) as exit_:
        _run(task_dir, tmp_path / "bad", "--docs", "3:1")
    assert exit_.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["hyoka run: error: argument --docs: '3:1': write START:END with 0 <= START < END, e.g. 100:200"]  # no usage block
    # a range past every task's end was an empty run, exit 0, that looked finished
    assert _run(task_dir, tmp_path / "past", "--docs", "40:50") == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["hyoka: error: --docs 40:50: no task has a document in this range (tiny_gen has 4); documents are numbered from 0"]
    assert not (tmp_path / "past").exists()

    # a suite over part of each task is not complete (its overall is not a full run's)
    (task_dir / "tiny_suite.yaml").write_text(
        "group: tiny_suite\ntasks: [tiny_gen]\nscores:\n  tiny: {source: tiny_gen, metric: exact_match}\n", encoding="utf-8"
    )
    for out, extra in (("suite_part", ["--docs", "1:3"]), ("suite_full", [])):
        assert _run(task_dir, tmp_path / out, *extra, tasks="tiny_suite") == 0
    part, full = (_json(tmp_path / out / "aggregated_results.json") for out in ("suite_part", "suite_full"))
    assert part["suite"]["complete"] is False and part["settings"]["docs"] == [1, 3]  # was: complete, docs not named
    assert full["suite"]["complete"] is True and full["settings"]["docs"] is None
