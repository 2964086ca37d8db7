"""MGSM ja/en, GSM8K and BBH end to end with the real Gemma 3 270M through llamacpp:
prompts built from the data mirror, real generation (2 documents, 24 tokens, to stay
cheap), the task's extractors on the output, and exact_match in metrics.json."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from conftest import hyoka_cmd
from hyoka.tasks.registry import load_registry
from hyoka.text.extract import build_extractor

TASKS = ["mgsm_ja_cot", "mgsm_en_cot", "gsm8k_cot", "bbh_date_understanding", "bbh_direct_sports_understanding"]


@pytest.mark.slow
def test_math_and_bbh_tasks_run_with_gemma(tmp_path: Path, gemma_gguf: Path, shared_data: Path) -> None:
    out = tmp_path / "run"
    result = subprocess.run(
        hyoka_cmd("run", f"llamacpp:{gemma_gguf}", "--model-args", "n_threads=1", "--tasks", ",".join(TASKS), "--limit", "2",
                  "--gen", "max_tokens=24", "--output", str(out), "--quiet"),
        capture_output=True, text=True, timeout=600, env=dict(os.environ),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    metrics = json.loads((out / "metrics.json").read_text())
    registry = load_registry([])
    for task in TASKS:
        value = metrics["tasks"][task]["metrics"]["exact_match"]
        assert 0.0 <= value["value"] <= 1.0 and value["n"] == 2
        config = registry.tasks[task].config
        extract = build_extractor([{"name": e.name, **e.params()} for e in config.extract])
        samples = [json.loads(line) for line in (out / f"samples_{task}.jsonl").read_text().splitlines()]
        assert len(samples) == 2
        for sample in samples:
            assert sample["error"] is None and isinstance(sample["output"], str)
            assert sample["extracted"] == extract(sample["output"])  # the task's own rule on the real output
            assert sample["metrics"]["exact_match"] == float(sample["extracted"] in sample["references"])
