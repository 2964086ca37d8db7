"""A task's `prompt_version` reaches the run's provenance and the leaderboard's settings
marks; the leaderboard's 0-shot/few-shot interval comes from the paired per-document values.

Real runs through the CLI with the scripted `mock:` backend (docs/mock.md), so each
document's score, and with it the right interval, is known by hand.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from hyoka.cli import main
from hyoka.reporting.leaderboard import Z95

TASK = """
name: pv_task
language: ja
prompt_version: "{version}"
dataset:
  format: jsonl
  splits:
    train: {{path: train.jsonl}}
    test: {{path: test.jsonl}}
  eval_split: test
formulation: generate
prompt:
  doc_to_text: "問：{{{{ q }}}}\\n答："
  doc_to_target: "{{{{ a }}}}"
fewshot: {{num: 2, split: train, sampler: first}}
generation: {{max_tokens: 8, stop: ["\\n"]}}
metrics: [exact_match]
"""

#: per document: right (1) or wrong (0) without examples and with two; the 2-shot run gets
#: one more right, on the documents the 0-shot run already found easy (positive covariance)
ZERO = [1, 1, 1, 0, 0, 0]
TWO = [1, 1, 1, 1, 0, 0]

SUITE = """
leaderboard: pv
categories:
  X:
    - {task: pv_task, metric: exact_match, shots: [0, 2]}
"""
COLUMN = "pv_task:exact_match (0/2-shot)"


def _task_dir(root: Path, version: str) -> Path:
    folder = root / f"tasks-{version}"
    folder.mkdir(parents=True)
    (folder / "pv_task.yaml").write_text(TASK.format(version=version), encoding="utf-8")
    docs = [{"q": f"q{i}", "a": f"a{i}"} for i in range(len(ZERO))]
    (folder / "test.jsonl").write_text("".join(json.dumps(d) + "\n" for d in docs), encoding="utf-8")
    examples = [{"q": "例一", "a": "x"}, {"q": "例二", "a": "y"}]
    (folder / "train.jsonl").write_text("".join(json.dumps(d, ensure_ascii=False) + "\n" for d in examples), encoding="utf-8")
    return folder


def _script(root: Path) -> Path:
    """One script for every run (one model identity): the 2-shot prompts (they hold the
    first example) match the first rows, the 0-shot prompts the later ones."""
    rows = [{"pattern": f"例一[\\s\\S]*問：q{i}\n", "output": f"a{i}" if ok else "wrong"} for i, ok in enumerate(TWO)]
    rows += [{"pattern": f"問：q{i}\n", "output": f"a{i}" if ok else "wrong"} for i, ok in enumerate(ZERO)]
    path = root / "script.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def _run(tasks: Path, script: Path, shots: int, out: Path) -> Path:
    code = main(["run", "mock:", "--model-args", f"script={script}", "--tasks", "pv_task", "--include-path", str(tasks),
                 "--num-fewshot", str(shots), "--output", str(out), "--quiet"])  # fmt: skip
    assert code == 0
    return out


def _board(tmp_path: Path, *args: str) -> dict:
    out = tmp_path / "board"
    assert main(["leaderboard", *args, "--output", str(out)]) == 0
    (name,) = [p for p in out.glob("leaderboard_*.json")]
    return json.loads(name.read_text(encoding="utf-8"))


def test_paired_interval_of_the_zero_and_few_shot_mean(tmp_path: Path) -> None:
    tasks, script = _task_dir(tmp_path, "v1"), _script(tmp_path)
    zero, two = _run(tasks, script, 0, tmp_path / "r0"), _run(tasks, script, 2, tmp_path / "r2")
    for run, expected in ((zero, ZERO), (two, TWO)):  # the script did what the test assumes
        samples = [json.loads(line) for line in (run / "samples_pv_task.jsonl").read_text().splitlines()]
        assert [s["metrics"]["exact_match"] for s in sorted(samples, key=lambda s: s["doc_id"])] == expected
    suite = tmp_path / "pv.yaml"
    suite.write_text(SUITE, encoding="utf-8")
    (row,) = _board(tmp_path, str(zero), str(two), "--suite", str(suite))["rows"]
    cell = row["scores"][COLUMN]
    # by hand: per-document means d = (1, 1, 1, .5, 0, 0); mean 3.5/6 = 0.583333;
    # squared deviations sum to 3(5/12)^2 + (1/12)^2 + 2(7/12)^2 = 1.208333;
    # stderr = sqrt(1.208333 / 5 / 6) = 0.200693
    assert cell["value"] == pytest.approx(0.583333, abs=1e-6)
    assert cell["stderr"] == pytest.approx(0.200693, abs=1e-6)
    lo, hi = cell["ci95"]
    assert (hi - lo) / 2 == pytest.approx(Z95 * 0.200693, abs=1e-5)
    # the independent formula (sqrt(se0^2 + se2^2) / 2 = 0.153659) would have been too narrow
    independent = math.sqrt(0.3 / 6 + (0.8 / 3) / 6) / 2
    assert independent == pytest.approx(0.153659, abs=1e-6) and cell["stderr"] > independent + 0.04
    assert row["categories"]["X"]["stderr"] == pytest.approx(0.200693, abs=1e-6)


def test_prompt_version_is_recorded_and_a_different_one_is_marked(tmp_path: Path) -> None:
    script = _script(tmp_path)
    a = _run(_task_dir(tmp_path, "v1"), script, 0, tmp_path / "a")
    b = _run(_task_dir(tmp_path, "v2"), script, 0, tmp_path / "b")
    for run, version in ((a, "v1"), (b, "v2")):
        summary = json.loads((run / "summary.json").read_text(encoding="utf-8"))
        assert summary["tasks"]["pv_task"]["prompt_version"] == version
    rows = _board(tmp_path, str(a), str(b), "--rows", "run")["rows"]
    assert len(rows) == 2
    marks = [m for r in rows for m in (r.get("marked") or {}).values()]
    assert len(marks) == 1 and "prompt version" in marks[0], rows
    # the same runs, same prompt version: nothing marked
    a2 = _run(_task_dir(tmp_path / "again", "v1"), script, 0, tmp_path / "a2")
    rows = _board(tmp_path / "again", str(a), str(a2), "--rows", "run")["rows"]
    assert not [m for r in rows for m in (r.get("marked") or {}).values()]


def test_runs_of_different_documents_fall_back_to_the_independent_interval(tmp_path: Path) -> None:
    tasks, script = _task_dir(tmp_path, "v1"), _script(tmp_path)
    zero = _run(tasks, script, 0, tmp_path / "r0")  # 6 documents: 1,1,1,0,0,0
    code = main(["run", "mock:", "--model-args", f"script={script}", "--tasks", "pv_task", "--include-path", str(tasks),
                 "--num-fewshot", "2", "--limit", "5", "--output", str(tmp_path / "r2"), "--quiet"])  # fmt: skip
    assert code == 0  # 5 documents: 1,1,1,1,0
    suite = tmp_path / "pv.yaml"
    suite.write_text(SUITE, encoding="utf-8")
    (row,) = _board(tmp_path, str(zero), str(tmp_path / "r2"), "--suite", str(suite))["rows"]
    cell = row["scores"][COLUMN]
    # by hand: (0.5 + 0.8) / 2; se0^2 = 0.3 / 6 = 0.05, se2^2 = 0.2 / 5 = 0.04: sqrt(0.09) / 2 = 0.15
    assert cell["value"] == pytest.approx(0.65) and cell["stderr"] == pytest.approx(0.15)
    assert any("as if the 0/2-shot scores were independent" in note for note in row["notes"]), row["notes"]
