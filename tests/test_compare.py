"""`hyoka compare`: paired differences, intervals and tests, on real runs and on synthetic
paired data whose true difference is known."""

from __future__ import annotations

import json
import math
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest

from conftest import hyoka_cmd
from hyoka.reporting.runs import load_run
from hyoka.reporting.stats import benjamini_hochberg, holm, mcnemar_exact, paired_bootstrap, paired_permutation
from reporting_runs import GemmaRuns  # the gemma_runs fixture is registered in conftest.py

# --- synthetic data: the interval covers the true difference at the nominal rate ---------------

DRAWS = 200
#: coverage of a 95% interval over 200 draws: binomial sd 0.0154; 3 sd either side, and
#: percentile bootstrap intervals run a little narrow at moderate n, so the low side is 0.90
COVERAGE_RANGE = (0.90, 0.995)


def _coverage(draw, true_diff: float, seed: int) -> float:
    rng = np.random.default_rng(seed)
    hits = 0
    for i in range(DRAWS):
        a, b = draw(rng)
        interval = paired_bootstrap(a, b, resamples=1000, seed=i)
        hits += interval.covers(true_diff)
    return hits / DRAWS


def test_bootstrap_interval_covers_true_difference_binary() -> None:
    """Correlated 0/1 scores: P(a)=0.60, P(b)=0.70, so the true difference is 0.10."""
    n = 150

    def draw(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        skill = rng.random(n)  # a shared document difficulty makes the pairs correlated
        a = (skill < 0.60).astype(float)
        flip = rng.random(n)
        # b is right wherever a is, and on 1/4 of a's misses: 0.6 + 0.4 * 0.25 = 0.70
        b = np.where(a == 1, 1.0, (flip < 0.25).astype(float))
        return a, b

    coverage = _coverage(draw, 0.10, seed=1)
    assert COVERAGE_RANGE[0] <= coverage <= COVERAGE_RANGE[1], coverage


def test_bootstrap_interval_covers_true_difference_continuous() -> None:
    """Scores in [0, 1] (like char F1) with a known mean shift of -0.05."""
    n = 120

    def draw(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        a = rng.beta(4, 3, size=n)  # mean 4/7
        b = np.clip(a - 0.05 + rng.normal(0, 0.02, size=n), -1, 2)  # no clipping happens in [0,1] terms
        return a, b

    coverage = _coverage(draw, -0.05, seed=2)
    assert COVERAGE_RANGE[0] <= coverage <= COVERAGE_RANGE[1], coverage


def test_mcnemar_exact_matches_binomial_test() -> None:
    scipy_stats = pytest.importorskip("scipy.stats")
    a = [1] * 30 + [0] * 12 + [1] * 3 + [0] * 55
    b = [1] * 30 + [1] * 12 + [0] * 3 + [0] * 55
    p, only_a, only_b = mcnemar_exact(a, b)
    assert (only_a, only_b) == (3, 12)
    assert p == pytest.approx(scipy_stats.binomtest(3, 15, 0.5).pvalue, rel=1e-12)
    assert mcnemar_exact([1, 0], [1, 0]) == (1.0, 0, 0)


def test_permutation_test_exact_and_monte_carlo() -> None:
    # 5 non-zero differences, all positive: exactly 2 of 32 sign patterns are as extreme
    assert paired_permutation([0, 0, 0, 0, 0, 0.5], [0.1, 0.2, 0.3, 0.4, 0.5, 0.5]) == pytest.approx(2 / 32)
    rng = np.random.default_rng(0)
    a = rng.random(200)
    null_p = paired_permutation(a, a + rng.normal(0, 0.1, 200), resamples=4000)
    shifted_p = paired_permutation(a, a + 0.05 + rng.normal(0, 0.1, 200), resamples=4000)
    assert null_p > 0.01 and shifted_p < 0.001


def test_holm_and_bh_adjustments() -> None:
    p = [0.01, 0.04, 0.03, 0.20]
    assert holm(p) == pytest.approx([0.04, 0.09, 0.09, 0.20])
    assert benjamini_hochberg(p) == pytest.approx([0.04, 0.0533333, 0.0533333, 0.20], rel=1e-4)


# --- real runs ---------------------------------------------------------------------------------


def _compare(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(hyoka_cmd("compare", *args), env=env, capture_output=True, text=True, timeout=120)


@pytest.mark.slow
def test_compare_refuses_runs_whose_prompts_differ(gemma_runs: GemmaRuns) -> None:
    done = _compare(str(gemma_runs.zero), str(gemma_runs.two), env=gemma_runs.env)
    assert done.returncode == 2, done.stdout
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "few-shot differs" in lines[0] and "--allow fewshot" in lines[0], done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.slow
def test_compare_two_prompt_styles_on_real_runs(gemma_runs: GemmaRuns, tmp_path) -> None:
    out = tmp_path / "cmp.json"
    done = _compare(str(gemma_runs.zero), str(gemma_runs.two), "--allow", "fewshot", "--json", str(out),
                    env=gemma_runs.env)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "holm" in done.stdout and "jcommonsenseqa" in done.stdout
    result = json.loads(out.read_text())
    by_task = {t["task"]: t for t in result["tasks"]}
    assert set(by_task) == {"jcommonsenseqa", "jaster_jcommonsenseqa"}
    a, b = load_run(gemma_runs.zero), load_run(gemma_runs.two)
    for task, row in by_task.items():
        metric = row["metric"]
        assert metric == a.headline_metric(task)
        # every document was scored by both runs, so the means are the runs' own scores
        assert row["mean_a"] == pytest.approx(a.task_metrics(task)[metric]["value"])
        assert row["mean_b"] == pytest.approx(b.task_metrics(task)[metric]["value"])
        assert row["diff"] == pytest.approx(row["mean_b"] - row["mean_a"])
        assert row["ci_low"] <= row["diff"] <= row["ci_high"]
        assert row["test"] == "mcnemar-exact"  # accuracy and exact match are 0/1
        va, vb = a.per_doc_values(task, metric), b.per_doc_values(task, metric)
        assert row["only_a"] == sum(1 for d in va if va[d] == 1 and vb[d] == 0)
        assert row["only_b"] == sum(1 for d in va if va[d] == 0 and vb[d] == 1)
        assert 0 <= row["p_value"] <= row["p_adjusted"] <= 1
        assert row["n"] == len(va)


@pytest.mark.slow
def test_compare_a_run_with_itself_finds_no_difference(gemma_runs: GemmaRuns, tmp_path) -> None:
    out = tmp_path / "same.json"
    done = _compare(str(gemma_runs.two), str(gemma_runs.two), "--json", str(out), env=gemma_runs.env)
    assert done.returncode == 0, done.stderr
    for row in json.loads(out.read_text())["tasks"]:
        assert row["diff"] == 0 and row["ci_low"] == 0 and row["ci_high"] == 0
        assert row["p_value"] == 1 and not row["significant"]
        assert not math.isnan(row["p_adjusted"])


def test_compare_mtbench_runs_per_answered_turn(mtbench_runs: tuple[Path, Path], tmp_path: Path) -> None:
    scripted, sevens = mtbench_runs
    refused = _compare(str(sevens), str(scripted), env=dict(os.environ))
    assert refused.returncode == 2 and "judge differs" in refused.stderr  # the two judges are different scripts
    out = tmp_path / "mt.json"
    done = _compare(str(sevens), str(scripted), "--allow", "judge", "--json", str(out), env=dict(os.environ))
    assert done.returncode == 0, done.stderr
    [row] = json.loads(out.read_text())["tasks"]
    # 60 of 160 answered turns go from 7 to 3, the other 100 from 7 to 8
    assert row["n"] == 160 and row["test"] == "permutation"
    assert row["diff"] == pytest.approx((60 * -4 + 100 * 1) / 160)
    assert row["ci_low"] <= row["diff"] <= row["ci_high"] and row["significant"]
    done = _compare(str(sevens), str(scripted), "--allow", "judge", "--metric", "score_writing", "--json", str(out),
                    env=dict(os.environ))  # fmt: skip
    [row] = json.loads(out.read_text())["tasks"]
    assert row["n"] == 20 and row["diff"] == pytest.approx(1.0) and row["ci_low"] == row["ci_high"] == pytest.approx(1.0)


def test_compare_bad_input_is_one_line(tmp_path) -> None:
    done = subprocess.run(hyoka_cmd("compare", str(tmp_path), str(tmp_path)), capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1 and "metrics.json" in done.stderr
