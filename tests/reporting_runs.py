"""Real Gemma run folders for the reporting tests (compare, leaderboard, blend, report, W&B).

Made once per test session by the real CLI (`hyoka run` with llama.cpp), kept tiny: the
same model with two prompt styles (0-shot and 2-shot) on JCommonsenseQA (log-likelihood)
and jaster's JCommonsenseQA (generated answer, as Nejumi scores it).
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from conftest import SHARED_DATA, hyoka_cmd, require

LIMIT = "4"  # documents per task: 20 log-likelihood requests and 4 three-token generations a run
TASKS = "jcommonsenseqa,jaster_jcommonsenseqa"


@dataclass(frozen=True)
class GemmaRuns:
    zero: Path  # --num-fewshot 0
    two: Path  # --num-fewshot 2
    env: dict[str, str]


def run_env(cache: Path) -> dict[str, str]:
    return {**os.environ, "HYOKA_DATA_DIR": str(SHARED_DATA), "HYOKA_CACHE_DIR": str(cache), "HYOKA_OFFLINE": "1",
            "HF_HUB_OFFLINE": "1"}  # fmt: skip


@pytest.fixture(scope="session")
def gemma_runs(gemma_gguf: Path, tmp_path_factory: pytest.TempPathFactory) -> GemmaRuns:
    require((SHARED_DATA / "SOURCES.md").is_file(), f"benchmark data mirror not found at {SHARED_DATA}")
    root = tmp_path_factory.mktemp("gemma-runs")
    env = run_env(root / "cache")
    out, procs = {}, []
    for shots in ("0", "2"):  # the two runs side by side: one process per CPU core
        folder = root / "runs" / f"gemma-{shots}shot"
        cmd = hyoka_cmd("run", f"llamacpp:{gemma_gguf}", "--tasks", TASKS, "--limit", LIMIT,
                        "--num-fewshot", shots, "--output", str(folder), "--quiet")  # fmt: skip
        procs.append(subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
        out[shots] = folder
    for proc in procs:
        _, stderr = proc.communicate(timeout=600)
        assert proc.returncode == 0, stderr[-2000:]
    return GemmaRuns(out["0"], out["2"], env)


def _mtbench(answers: Path, judge_args: str, out: Path, env: dict[str, str]) -> Path:
    cmd = hyoka_cmd("mtbench", "--answers", str(answers), "--judge", "mock:", "--judge-args", judge_args,
                    "--output", str(out), "--quiet")  # fmt: skip
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    return out


@pytest.fixture(scope="session")
def mtbench_runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Two real `hyoka mtbench` runs of GPT-4's saved Japanese MT-Bench answers (the data
    mirror), judged by the scripted `mock:` backend: the first rates 3/10 where the judge
    sees a reference answer (math, reasoning, coding: 60 of 160 answered turns) and 8/10
    elsewhere; the second rates every answer 7/10."""
    answers = SHARED_DATA / "japanese_mt_bench" / "model_answer" / "gpt-4.jsonl"
    require(answers.is_file(), f"MT-Bench answers not found at {answers}")
    root = tmp_path_factory.mktemp("mtbench")
    env = run_env(root / "cache")
    script = root / "judge.jsonl"
    script.write_text('{"pattern": "参考回答|Reference Answer", "output": "[[3]]"}\n{"output": "[[8]]"}\n', encoding="utf-8")
    return (_mtbench(answers, f"script={script}", root / "scripted", env),
            _mtbench(answers, "reply=[[7]]", root / "sevens", env))  # fmt: skip
