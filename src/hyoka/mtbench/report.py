"""MT-Bench reports: the `tasks` block `hyoka show` prints, the category × turn table
printed after a run, and the radar chart."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hyoka.mtbench.data import CATEGORIES
from hyoka.mtbench.items import UNANSWERED
from hyoka.mtbench.scoring import headline_key
from hyoka.results.table import format_table


def task_metrics(name: str, detail: dict[str, Any], mode: str) -> dict[str, Any]:
    """The `tasks` block `hyoka show` prints: one row per score, failures beside each."""
    metric = headline_key(mode)

    def row(entry: dict[str, Any]) -> dict[str, Any]:
        value = entry["score"] if mode == "single" else entry.get("win_rate_adjusted")
        return {"value": value, "stderr": entry["stderr"], "n": entry["n"], "failed": entry["failed"],
                "unanswered": entry["unanswered"], "judge_failed": entry["judge_failed"]}  # fmt: skip

    metrics = {metric: row(detail["overall"])}
    if mode == "single":
        metrics["score_10"] = {**row(detail["overall"]), "value": detail["overall"]["score_10"]}
    for turn, entry in detail["turns"].items():
        metrics[f"{metric}_turn{turn}"] = row(entry)
    for category, entry in detail["categories"].items():
        metrics[f"{metric}_{category}"] = row(entry)
    return {"tasks": {name: {"metrics": metrics, "errors": detail["overall"]["failed"]}}, "groups": {}}


def radar(detail: dict[str, Any], mode: str, stem: Path, model_id: str) -> list[Path]:
    """The radar chart of the category scores (`stem`.png and `stem`.svg)."""
    from hyoka.mtbench.radar import radar_chart

    key = headline_key(mode)
    values = {c: detail["categories"].get(c, {}).get(key) for c in CATEGORIES}
    values.update({c: e.get(key) for c, e in detail["categories"].items() if c not in values})
    failed = {c: detail["categories"].get(c, {}).get("failed", 0) for c in values}
    title = f"{detail['benchmark']} — {model_id}"
    return radar_chart(values, stem, title=title, max_value=10.0 if mode == "single" else 1.0, failed=failed)


def results_table(metrics: dict[str, Any]) -> str:
    """Category × turn table (printed after a run). Beside every row: the items left unjudged
    because there was no answer (`unanswered`) apart from those the judge failed on."""
    detail = metrics["mtbench"]
    single = detail["mode"] == "single"
    key = headline_key(detail["mode"])
    turns = sorted(detail["turns"])
    header = ["category", *[f"turn {t}" for t in turns], "average", "/10" if single else "", "unanswered", "judge failed"]
    rows = []

    def cell(entry: dict[str, Any] | None) -> str:
        if not entry or entry.get(key) is None:
            return "-"
        return f"{entry[key]:.2f}" if single else f"{entry[key]:.3f}"

    for name, entry in [*detail["categories"].items(), ("overall", detail["overall"])]:
        per_turn = entry.get("turns", detail["turns"] if name == "overall" else {})
        tail = f"{entry['score_10']:.4f}" if single and entry.get("score_10") is not None else ""
        rows.append([name, *[cell(per_turn.get(t)) for t in turns], cell(entry), tail,
                     str(entry.get("unanswered", 0)), str(entry.get("judge_failed", entry["failed"]))])  # fmt: skip
    lines = [format_table(header, rows, align="l" + "r" * (len(header) - 1))]
    calls = detail["judge_calls"]
    lines.append(f"\njudge calls: {calls['judgments']} judgments, {calls['failed']} failed, {calls['retried']} retried "
                 f"(failures: {calls['failures'] or 'none'})")  # fmt: skip
    unanswered = {k: v for k, v in detail["overall"]["failures"].items() if k in UNANSWERED}
    if unanswered:
        lines.append(f"not judged, no answer: {unanswered}")
    ratio = detail["language"]["japanese_ratio"]
    if ratio is not None:
        lines.append(f"Japanese characters in answers: {ratio:.1%}")
    return "\n".join(lines)
