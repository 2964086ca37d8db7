"""The hf backend (Gemma 270M dequantised to safetensors) and the llama.cpp backend (the same
GGUF) agree on JCommonsenseQA: llama.cpp quantises activations, so small log-likelihood
differences are expected, but the chosen answers and the accuracy must agree."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from conftest import hyoka_cmd

LIMIT = 200


def run_jcqa(spec: str, out: Path, cache: Path, *extra: str) -> list[dict]:
    env = {**os.environ, "HYOKA_CACHE_DIR": str(cache)}
    result = subprocess.run(
        hyoka_cmd("run", spec, "--tasks", "jcommonsenseqa", "--limit", str(LIMIT), "--output", str(out), "--quiet", *extra),
        env=env, capture_output=True, text=True, timeout=1800,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return [json.loads(line) for line in (out / "samples_jcommonsenseqa.jsonl").read_text().splitlines()]


@pytest.mark.slow
def test_hf_and_llamacpp_agree_on_jcommonsenseqa(
    tmp_path: Path, gemma_gguf: Path, gemma_hf_folder: Path, shared_data: Path
) -> None:
    llama = run_jcqa(f"llamacpp:{gemma_gguf}", tmp_path / "llama", tmp_path / "cache")
    # batch_size=auto (lm-eval users' habit): the largest batch that fits, same scores
    hf = run_jcqa(f"hf:{gemma_hf_folder}", tmp_path / "hf", tmp_path / "cache", "--model-args", "batch_size=auto")
    assert len(llama) == len(hf) == LIMIT
    assert [r["prompt"] for r in llama] == [r["prompt"] for r in hf]

    agree = sum(a["prediction"] == b["prediction"] for a, b in zip(llama, hf)) / LIMIT
    acc_llama = sum(r["metrics"]["accuracy"] for r in llama) / LIMIT
    acc_hf = sum(r["metrics"]["accuracy"] for r in hf) / LIMIT
    print(f"agreement {agree:.3f}; accuracy llama.cpp {acc_llama:.3f}, hf {acc_hf:.3f}")
    assert agree >= 0.93
    assert abs(acc_llama - acc_hf) <= 0.03
    assert acc_hf > 0.3  # far above the 0.2 of chance: the scores mean something
