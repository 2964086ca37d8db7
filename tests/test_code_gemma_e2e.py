"""Gemma 3 270M (llama.cpp, CPU) writes code for humaneval and jhumaneval in both styles,
and the sandbox scores it: the whole path from prompt to pass@1 with a real model.

Small on purpose (3 problems per task, at most 96 new tokens): the numbers are not the
point, the path is. `--limit 20` by hand: see the report in docs/tasks.md.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from conftest import hyoka_cmd, require
from hyoka.sandbox import OUTCOMES, unavailable_reason

#: completion style continues the prompt as is; chat style goes through the chat template
RUNS = {"completion": (["humaneval", "jhumaneval"], []), "chat": (["humaneval_chat", "jhumaneval_chat"], ["--chat"])}


@pytest.mark.slow
def test_gemma_writes_code_for_both_sets_in_both_styles(gemma_gguf: Path, shared_data: Path, tmp_path: Path) -> None:
    require(unavailable_reason() is None, f"bubblewrap cannot run here: {unavailable_reason()}")
    for style, (tasks, flags) in RUNS.items():
        _check_run(gemma_gguf, tmp_path / style, tasks, flags)


def _check_run(gguf: Path, out: Path, tasks: list[str], flags: list[str]) -> None:
    done = subprocess.run(
        hyoka_cmd("run", f"llamacpp:{gguf}", "--tasks", ",".join(tasks), "--limit", "3", *flags,
                  "--gen", "max_tokens=96", "--output", str(out), "--quiet"),
        capture_output=True, text=True, timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    metrics = json.loads((out / "metrics.json").read_text())
    for task in tasks:
        records = [json.loads(line) for line in (out / f"samples_{task}.jsonl").read_text().splitlines()]
        assert len(records) == 3
        for record in records:
            details = record["details"]["code_exec"] if "code_exec" in record["details"] else record["details"]
            assert details["n"] == 1 and details["samples"][0]["outcome"] in OUTCOMES
            assert details["samples"][0]["outcome"] != "sandbox_error", details
        assert "pass@1" in json.dumps(metrics), metrics
