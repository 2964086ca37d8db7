"""`hyoka run --config run.yaml`: options from a file, flags override, the resolved config
saved in the run folder reruns the same run (mock: backend, no model)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import yaml

from conftest import hyoka_cmd


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(hyoka_cmd("run", *args), capture_output=True, text=True, timeout=120)


def test_config_file_flags_override_and_saved_config_reruns(tmp_path: Path) -> None:
    config = tmp_path / "run.yaml"
    config.write_text(yaml.safe_dump({
        "model": "mock:", "tasks": ["demo_ja"], "limit": 5, "num-fewshot": 0, "quiet": True,
        "model_args": {"reply": "東京"}, "gen": {"max_tokens": 8}, "output": str(tmp_path / "from-file"),
    }, allow_unicode=True), encoding="utf-8")  # fmt: skip
    done = _run("--config", str(config), "--limit", "3")  # the flag wins over the file's limit 5
    assert done.returncode == 0, done.stderr
    run = tmp_path / "from-file"
    assert json.loads((run / "metrics.json").read_text())["tasks"]["demo_ja"]["metrics"]["accuracy"]["n"] == 3
    saved = yaml.safe_load((run / "run_config.yaml").read_text(encoding="utf-8"))
    assert saved["model"] == "mock:" and saved["tasks"] == "demo_ja" and saved["limit"] == 3
    assert saved["model_args"] == "reply=東京" and saved["gen"] == ["max_tokens=8"]
    # the saved config alone reruns the run (into another folder): the same scores
    again = _run("--config", str(run / "run_config.yaml"), "--output", str(tmp_path / "rerun"))
    assert again.returncode == 0, again.stderr
    first, second = (json.loads((p / "metrics.json").read_text()) for p in (run, tmp_path / "rerun"))
    assert first["tasks"] == second["tasks"]


def test_bad_config_is_one_line(tmp_path: Path) -> None:
    config = tmp_path / "run.yaml"
    config.write_text("model: 'mock:'\ntasks: demo_ja\nlimt: 3\n", encoding="utf-8")
    done = _run("--config", str(config))
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1
    assert "unknown key 'limt'" in done.stderr and str(config) in done.stderr
    config.write_text("model: 'mock:'\nlimit: three\ntasks: demo_ja\n", encoding="utf-8")
    done = _run("--config", str(config))
    assert done.returncode == 2 and "limit: expected int" in done.stderr
    done = _run("mock:")  # neither --tasks nor a config
    assert done.returncode == 2 and "--tasks" in done.stderr
