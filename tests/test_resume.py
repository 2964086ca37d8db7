"""A real `hyoka run` killed with SIGKILL mid-run resumes without repeating finished model calls.

Kept small so it stays cheap: 12 questions (60 loglikelihood requests, two executor batches
of 32 and 28 for llamacpp:). The run is killed the moment the cache holds the first
committed batch (polling the SQLite file), i.e. while the model computes the second; the
rerun must make exactly the missing calls, and give the metrics and predictions of an
uninterrupted run of the same size.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

from conftest import hyoka_cmd

LIMIT = 12  # 12 JCommonsenseQA questions = 60 loglikelihood requests (5 choices each)


def cached_rows(db: Path) -> int:
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(db, timeout=5) as conn:
            return int(conn.execute("SELECT COUNT(*) FROM responses").fetchone()[0])
    except sqlite3.OperationalError:  # the table is created by the run itself
        return 0


def run_args(gguf: Path, out: Path) -> list[str]:
    # one thread: on a shared, busy CI machine llama.cpp's thread barriers cost more than
    # they give (2.5x faster here with 2 cores and other jobs running)
    return hyoka_cmd(
        "run", f"llamacpp:{gguf}", "--tasks", "jcommonsenseqa", "--limit", str(LIMIT), "--output", str(out), "--quiet",
        "--model-args", "n_threads=1",
    )  # fmt: skip


def test_sigkill_midrun_then_resume(tmp_path: Path, gemma_gguf: Path, shared_data: Path) -> None:
    env = {**os.environ, "HYOKA_CACHE_DIR": str(tmp_path / "cache")}
    db = tmp_path / "cache" / "requests.sqlite"
    total = LIMIT * 5

    proc = subprocess.Popen(run_args(gemma_gguf, tmp_path / "run"), env=env, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    while cached_rows(db) < 1:  # the first batch is committed: kill while the next one runs
        assert proc.poll() is None, "the run ended before it could be killed"
        assert time.monotonic() < deadline, "the run made no progress"
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    finished = cached_rows(db)
    assert 0 < finished < total

    resumed = subprocess.run(run_args(gemma_gguf, tmp_path / "run"), env=env, capture_output=True, text=True, timeout=600)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    execution = summary["execution"]
    assert execution["cache_hits"] == finished
    assert execution["model_calls"] == total - finished

    # the same run uninterrupted, in a fresh cache, gives identical metrics and predictions
    clean_env = {**os.environ, "HYOKA_CACHE_DIR": str(tmp_path / "clean-cache")}
    clean = subprocess.run(run_args(gemma_gguf, tmp_path / "clean"), env=clean_env, capture_output=True, text=True, timeout=600)
    assert clean.returncode == 0, clean.stderr[-2000:]
    resumed_metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    clean_metrics = json.loads((tmp_path / "clean" / "metrics.json").read_text())
    assert resumed_metrics == clean_metrics

    def predictions(run: Path) -> list[int]:
        lines = (run / "samples_jcommonsenseqa.jsonl").read_text().splitlines()
        return [json.loads(line)["prediction"] for line in lines]

    assert predictions(tmp_path / "run") == predictions(tmp_path / "clean")
