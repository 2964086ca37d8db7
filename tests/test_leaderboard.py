"""`hyoka leaderboard` (Nejumi form, suite files, marks) and `hyoka blend`, on real runs."""

from __future__ import annotations

import csv
import io
import json
import math
import os
import statistics
import subprocess
from pathlib import Path

import pytest

from conftest import hyoka_cmd
from hyoka.reporting.runs import load_run
from reporting_runs import GemmaRuns  # the gemma_runs fixture is registered in conftest.py

pytestmark = pytest.mark.slow

SUITE = """
leaderboard: mini
description: two categories in the Nejumi way
total: TOTAL
categories:
  MC:
    - {task: jaster_jcommonsenseqa, metric: exact_match, shots: [0, 2]}
  LL:
    - {task: jcommonsenseqa, metric: accuracy, shots: [0, 2]}
    - {task: jcommonsenseqa, metric: accuracy, shots: [0], scale: 0.5, label: half}
"""


def _hyoka(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(hyoka_cmd(*args), env=env, capture_output=True, text=True, timeout=120)


def _metric(run: Path, task: str, metric: str) -> dict:
    return load_run(run).task_metrics(task)[metric]


def _mean_of_shots(runs: GemmaRuns, task: str, metric: str) -> tuple[float, float]:
    """Nejumi's per-task score: the mean of the 0-shot and few-shot scores, and its stderr
    from the paired per-document values (both runs scored the same documents)."""
    m0, m2 = _metric(runs.zero, task, metric), _metric(runs.two, task, metric)
    per_doc = [{r["doc_id"]: r["metrics"][metric] for r in map(json.loads, (run / f"samples_{task}.jsonl").read_text().splitlines())}
               for run in (runs.zero, runs.two)]  # fmt: skip
    assert per_doc[0].keys() == per_doc[1].keys()
    means = [(per_doc[0][d] + per_doc[1][d]) / 2 for d in per_doc[0]]
    return (m0["value"] + m2["value"]) / 2, statistics.stdev(means) / math.sqrt(len(means))


def test_nejumi_leaderboard_over_a_folder_of_runs(gemma_runs: GemmaRuns, tmp_path: Path) -> None:
    folder = gemma_runs.zero.parent  # holds both runs
    done = _hyoka("leaderboard", str(folder), "--suite", "nejumi", "--output", str(tmp_path), env=gemma_runs.env)
    assert done.returncode == 0, done.stderr
    assert "GLP_知識・質問応答" in done.stdout and "jaster_jcommonsenseqa:exact_match (0/2-shot)" in done.stdout
    board = json.loads((tmp_path / "leaderboard_nejumi.json").read_text())
    assert len(board["rows"]) == 1  # both runs are one model: one row
    row = board["rows"][0]
    value, _ = _mean_of_shots(gemma_runs, "jaster_jcommonsenseqa", "exact_match")
    cell = row["scores"]["jaster_jcommonsenseqa:exact_match (0/2-shot)"]
    assert cell["value"] == pytest.approx(value)
    assert sorted(s["num_fewshot"] for s in cell["sources"]) == [0, 2]
    # categories with members these runs lack are not scored, nor is the total
    assert row["categories"]["GLP_知識・質問応答"] is None and row["total"] is None
    assert (tmp_path / "leaderboard_nejumi.md").read_text().count("|") > 10
    assert (tmp_path / "leaderboard_nejumi.csv").is_file()


def test_nejumi_mtbench_categories_are_scaled_to_one(gemma_runs: GemmaRuns, mtbench_runs: tuple[Path, Path], tmp_path: Path) -> None:
    mtbench_run = mtbench_runs[0]
    done = _hyoka("leaderboard", str(gemma_runs.zero.parent), str(mtbench_run), "--suite", "nejumi", "--output",
                  str(tmp_path), env=gemma_runs.env)  # fmt: skip
    assert done.returncode == 0, done.stderr
    rows = {r["model"]: r for r in json.loads((tmp_path / "leaderboard_nejumi.json").read_text())["rows"]}
    assert len(rows) == 2  # Gemma (two jaster runs) and GPT-4 (brought MT-Bench answers)
    gpt4 = rows["gpt-4"]
    assert gpt4["categories"]["GLP_表現"]["value"] == pytest.approx(0.8)  # roleplay, writing, humanities: 8/10
    assert gpt4["categories"]["GLP_推論"]["value"] == pytest.approx(0.3)  # reasoning: judged with a reference
    assert gpt4["scores"]["mtbench_ja:score_extraction"]["value"] == pytest.approx(0.8)
    assert gpt4["categories"]["GLP_抽出"] is None  # needs jaster chABSA, wiki_ner and wiki_coreference too
    assert gpt4["categories"]["GLP_数学的推論"] is None  # needs jaster MAWPS and MGSM too
    overall = load_run(mtbench_run).task_metrics("mtbench_ja")["score"]["value"]
    assert gpt4["scores"]["MT-Bench ja /10"]["value"] == pytest.approx(overall / 10)
    assert gpt4["total"] is None


def test_suite_file_categories_and_total(gemma_runs: GemmaRuns, tmp_path: Path) -> None:
    suite = tmp_path / "mini.yaml"
    suite.write_text(SUITE, encoding="utf-8")
    done = _hyoka("leaderboard", str(gemma_runs.zero), str(gemma_runs.two), "--suite", str(suite), "--output",
                  str(tmp_path), env=gemma_runs.env)  # fmt: skip
    assert done.returncode == 0, done.stderr
    row = json.loads((tmp_path / "leaderboard_mini.json").read_text())["rows"][0]
    mc, mc_se = _mean_of_shots(gemma_runs, "jaster_jcommonsenseqa", "exact_match")
    ll, _ = _mean_of_shots(gemma_runs, "jcommonsenseqa", "accuracy")
    half = _metric(gemma_runs.zero, "jcommonsenseqa", "accuracy")["value"] * 0.5
    assert row["categories"]["MC"]["value"] == pytest.approx(mc)
    assert row["categories"]["LL"]["value"] == pytest.approx((ll + half) / 2)
    assert row["total"]["value"] == pytest.approx((mc + (ll + half) / 2) / 2)
    lo, hi = row["categories"]["MC"]["ci95"]
    assert (hi - lo) / 2 == pytest.approx(1.959964 * mc_se, rel=1e-4)


def test_rows_with_different_settings_are_marked(gemma_runs: GemmaRuns, tmp_path: Path) -> None:
    done = _hyoka("leaderboard", str(gemma_runs.zero), str(gemma_runs.two), "--rows", "run", "--output", str(tmp_path),
                  env=gemma_runs.env)  # fmt: skip
    assert done.returncode == 0, done.stderr
    rows = list(csv.DictReader(io.StringIO((tmp_path / "leaderboard_tasks.csv").read_text())))
    assert len(rows) == 2
    marked = [r for r in rows if r["jcommonsenseqa:accuracy marked"]]
    assert len(marked) == 1 and "few-shot" in marked[0]["jcommonsenseqa:accuracy marked"]
    assert "†" in done.stdout and "few-shot" in done.stdout


def test_bad_suite_is_one_line(gemma_runs: GemmaRuns, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("leaderboard: x\ncategories:\n  A:\n    - {task: t, shots: zero}\n", encoding="utf-8")
    done = _hyoka("leaderboard", str(gemma_runs.zero), "--suite", str(bad), "--output", str(tmp_path), env=gemma_runs.env)
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1
    assert "categories.A.0.shots" in done.stderr


# --- blend ---------------------------------------------------------------------------------------


def test_blended_run_gives_the_same_leaderboard_row(gemma_runs: GemmaRuns, tmp_path: Path) -> None:
    suite = tmp_path / "mini.yaml"
    suite.write_text(SUITE, encoding="utf-8")
    blended = tmp_path / "blended"
    done = _hyoka("blend", "--output", str(blended), f"{gemma_runs.zero}:jcommonsenseqa,jaster_jcommonsenseqa",
                  f"{gemma_runs.two}:jaster_jcommonsenseqa,jcommonsenseqa", env=gemma_runs.env)  # fmt: skip
    assert done.returncode == 0, done.stderr
    summary = json.loads((blended / "summary.json").read_text())
    sources = summary["blend"]["sources"]
    assert [s["run"] for s in sources] == [str(gemma_runs.zero.resolve()), str(gemma_runs.two.resolve())]
    assert summary["tasks"]["jcommonsenseqa@2shot"]["source"] == str(gemma_runs.two.resolve())
    rows = {}
    for name, runs in (("sources", [gemma_runs.zero, gemma_runs.two]), ("blend", [blended])):
        out = tmp_path / name
        done = _hyoka("leaderboard", *map(str, runs), "--suite", str(suite), "--output", str(out), env=gemma_runs.env)
        assert done.returncode == 0, done.stderr
        row = json.loads((out / "leaderboard_mini.json").read_text())["rows"][0]
        rows[name] = {k: row[k] for k in ("model", "model_key", "total", "categories")} | {
            "scores": {c: (s["value"], s["stderr"]) for c, s in row["scores"].items()}}
    assert rows["blend"]["scores"] == rows["sources"]["scores"]
    assert rows["blend"]["total"]["value"] == rows["sources"]["total"]["value"]
    assert rows["blend"]["model_key"] == rows["sources"]["model_key"]
    # other commands read it as a run
    assert _hyoka("show", str(blended), env=gemma_runs.env).returncode == 0
    cmp = _hyoka("compare", str(gemma_runs.zero), str(blended), "--tasks", "jcommonsenseqa", env=gemma_runs.env)
    assert cmp.returncode == 0 and "+0.0000" in cmp.stdout, cmp.stderr


def test_blending_two_models_is_refused(gemma_runs: GemmaRuns, mtbench_runs: tuple[Path, Path], tmp_path: Path) -> None:
    mtbench_run = mtbench_runs[0]
    out = tmp_path / "blended"
    done = _hyoka("blend", "--output", str(out), f"{gemma_runs.zero}:jcommonsenseqa", str(mtbench_run), env=gemma_runs.env)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "different model" in lines[0] and "blend runs of one model only" in lines[0], lines
    assert not out.exists()


def test_blended_mtbench_run_keeps_its_row(gemma_runs: GemmaRuns, mtbench_runs: tuple[Path, Path], tmp_path: Path) -> None:
    mtbench_run = mtbench_runs[0]
    blended = tmp_path / "blended"
    assert _hyoka("blend", "--output", str(blended), str(mtbench_run), env=gemma_runs.env).returncode == 0
    assert (blended / "mtbench_ja" / "judgments.jsonl").is_file()
    rows = []
    for name, run in (("a", mtbench_run), ("b", blended)):
        done = _hyoka("leaderboard", str(run), "--suite", "nejumi", "--output", str(tmp_path / name), env=gemma_runs.env)
        assert done.returncode == 0, done.stderr
        rows.append(json.loads((tmp_path / name / "leaderboard_nejumi.json").read_text())["rows"][0])
    values = [{c: s and (s["value"], s["stderr"]) for c, s in row["categories"].items()} for row in rows]
    assert values[0] == values[1] and values[0]["GLP_表現"] == pytest.approx((0.8, 0.0))
    assert rows[0]["model_key"] == rows[1]["model_key"]
    # the blended row names the blend as the source, the original names the MT-Bench run
    assert rows[1]["categories"]["GLP_表現"]["sources"][0]["run"] == str(blended)


def test_report_and_blend_of_an_mtbench_run(mtbench_runs: tuple[Path, Path], tmp_path: Path) -> None:
    """MT-Bench runs keep judgments, not samples: the report lists each judged answer turn."""
    out = tmp_path / "mt.html"
    done = _hyoka("report", str(mtbench_runs[0]), "-o", str(out), env=dict(os.environ))
    assert done.returncode == 0, done.stderr
    page = out.read_text(encoding="utf-8")
    data = json.loads(page.split('id="hyoka-data">', 1)[1].split("</script>", 1)[0])
    assert len(data["samples"]) == 160 and {s[3] for s in data["samples"]} == {"judged"}
    assert {s[13]["category"] for s in data["samples"]} >= {"writing", "math"}
