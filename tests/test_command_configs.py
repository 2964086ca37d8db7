"""`hyoka mtbench --config FILE` and `hyoka submit --config FILE` take the same YAML
mechanism as `hyoka run --config` (docs/run-config.md): keys are the command's options,
flags given override the file, the resolved options land in the run folder."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import yaml

from conftest import SHARED_DATA, require
from hyoka.cli import main

SLURM = """\
scheduler: slurm
account: lab
default_seconds_per_doc: 1
node_kinds:
  gpu: {gpus: 1, cpus: 8, memory: 64G, walltime: "00:30:00", partition: gpu}
"""


def _cli(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(args))
    return code, out.getvalue(), err.getvalue()


def _write(path: Path, data: dict) -> Path:
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def test_mtbench_config_file_with_a_flag_overriding_it(tmp_path: Path) -> None:
    answers = SHARED_DATA / "japanese_mt_bench" / "model_answer" / "gpt-4.jsonl"
    require(answers.is_file(), f"MT-Bench answers not found at {answers}")
    out = tmp_path / "mt"
    config = _write(tmp_path / "mtbench.yaml", {
        "answers": str(answers), "judge": "mock:", "judge_args": {"reply": "[[7]]"},
        "categories": ["writing", "math"], "per_category": 2, "turns": [1], "output": str(out), "quiet": True,
    })  # fmt: skip
    code, _, err = _cli("mtbench", "--config", str(config), "--per-category", "1")
    assert code == 0, err
    judgments = [json.loads(line) for line in (out / "judgments.jsonl").read_text(encoding="utf-8").splitlines()]
    # the file's categories and turn, the command line's --per-category 1: one writing and one math answer, turn 1
    assert sorted(j["category"] for j in judgments) == ["math", "writing"] and {j["turn"] for j in judgments} == {1}
    assert {j["rating"] for j in judgments} == {7}
    saved = yaml.safe_load((out / "run_config.yaml").read_text(encoding="utf-8"))
    assert saved["judge"] == "mock:" and saved["per_category"] == 1 and saved["categories"] == "writing,math"
    assert saved["judge_args"] == ["reply=[[7]]"]
    # the saved file reruns the same command
    again = tmp_path / "again"
    code, _, err = _cli("mtbench", "--config", str(out / "run_config.yaml"), "--output", str(again))
    assert code == 0, err
    assert (again / "judgments.jsonl").read_text(encoding="utf-8").count("\n") == len(judgments)


def test_mtbench_config_errors_are_one_line(tmp_path: Path) -> None:
    bad = _write(tmp_path / "bad.yaml", {"judge": "mock:", "no_such_option": 1})
    code, _, err = _cli("mtbench", "--config", str(bad))
    assert code == 2 and len(err.strip().splitlines()) == 1 and "unknown key 'no_such_option'" in err
    no_judge = _write(tmp_path / "nojudge.yaml", {"answers": "a.jsonl"})
    code, _, err = _cli("mtbench", "--config", str(no_judge))
    assert code == 2 and len(err.strip().splitlines()) == 1 and "--judge" in err and "judge:" in err


def test_submit_config_file_with_a_flag_overriding_it(tmp_path: Path) -> None:
    profile = tmp_path / "profile.yaml"
    profile.write_text(SLURM, encoding="utf-8")
    run = tmp_path / "run"
    config = _write(tmp_path / "submit.yaml", {
        "model": "llamacpp:/models/gemma-3-270m-q4_k_m.gguf", "tasks": ["demo_ja"], "limit": 5,
        "profile": str(profile), "output": str(run), "dry_run": True, "gen": {"max_tokens": 8},
    })  # fmt: skip
    code, out, err = _cli("submit", "--config", str(config), "--limit", "3")
    assert code == 0, err
    assert "nothing submitted" in out
    plan = json.loads((run / "plan.json").read_text(encoding="utf-8"))
    docs = sum(p["end"] - p["start"] for j in plan["jobs"] for p in j["pieces"])
    assert docs == 3, plan["jobs"]
    saved = yaml.safe_load((run / "run_config.yaml").read_text(encoding="utf-8"))
    assert saved["limit"] == 3 and saved["tasks"] == "demo_ja" and saved["gen"] == ["max_tokens=8"]
    # --dry-run is what this call did, not a setting: saved, it made every resubmission from the file a dry run
    assert "dry_run" not in saved and "resume" not in saved
