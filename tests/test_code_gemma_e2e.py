"""Gemma 3 270M (llama.cpp, CPU) writes code for humaneval and jhumaneval in both styles,
and the sandbox scores it: the whole path from prompt to pass@1 with a real model.

Small on purpose (one problem per task, at most 48 new tokens, one thread: llama.cpp's
threads spin badly on a shared 2-core machine): the numbers are not the point, the path
is. The figures of a `--limit 20` run are in the code branch's report.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from conftest import hyoka_cmd, require
from hyoka.sandbox import OUTCOMES, unavailable_reason

TEMPLATE = Path(__file__).parent / "fixtures" / "gemma_chat_template.jinja"
#: completion style continues the prompt as is; chat style goes through the chat template
RUNS = {
    "completion": (["humaneval", "jhumaneval"], "n_threads=1", []),
    "chat": (["humaneval_chat", "jhumaneval_chat"], f"n_threads=1,chat_template={TEMPLATE}", ["--chat"]),
}


@pytest.mark.slow
def test_gemma_writes_code_for_both_sets_in_both_styles(gemma_gguf: Path, shared_data: Path, tmp_path: Path) -> None:
    require(unavailable_reason() is None, f"bubblewrap cannot run here: {unavailable_reason()}")
    for style, (tasks, model_args, flags) in RUNS.items():
        _check_run(gemma_gguf, tmp_path / style, tasks, model_args, flags)


def _check_run(gguf: Path, out: Path, tasks: list[str], model_args: str, flags: list[str]) -> None:
    done = subprocess.run(
        hyoka_cmd("run", f"llamacpp:{gguf}", "--model-args", model_args, "--tasks", ",".join(tasks), "--limit", "1",
                  *flags, "--gen", "max_tokens=48", "--output", str(out), "--quiet"),
        capture_output=True, text=True, timeout=900,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    metrics = json.loads((out / "metrics.json").read_text())
    for task in tasks:
        records = [json.loads(line) for line in (out / f"samples_{task}.jsonl").read_text().splitlines()]
        assert len(records) == 1 and records[0]["output"], records
        details = records[0]["details"]["code_exec"]
        assert details["n"] == 1 and details["samples"][0]["outcome"] in OUTCOMES
        assert details["samples"][0]["outcome"] != "sandbox_error", details
        if "chat" in task:  # the program came out of the answer's code block (or nothing did)
            assert records[0]["extracted"] is not None
        assert "pass@1" in json.dumps(metrics[task] if task in metrics else metrics), metrics
