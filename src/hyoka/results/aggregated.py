"""aggregated_results.json: one small file per run with the numbers people compare.

Written next to metrics.json and summary.json (docs/results.md): each task's headline score
and its sub-scores, each group's scores, the suite's headline scores and their overall
mean when the run was a suite (`--suite swallow_ja`), and the settings the run used. It is
derived only from metrics.json and summary.json, so a run folder can
be re-aggregated without a model: a task's headline is the metric its suite names, else
its first metric (metrics.json keeps each task's metrics in the order the task declares them).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from hyoka.results.run_dir import METRICS_FILE, SUMMARY_FILE, read_json_file, write_json

AGGREGATED_FILE = "aggregated_results.json"


def write_aggregated(run_dir: Path, metrics: dict[str, Any], summary: dict[str, Any]) -> Path:
    """Build aggregated_results.json from a run's metrics and summary dicts (and the metrics of
    its MT-Bench member folders, when the suite has them), write it, return its path."""
    path = run_dir / AGGREGATED_FILE
    write_json(path, aggregate_results(with_mtbench_members(run_dir, metrics, summary), summary))
    return path


def rewrite_aggregated(run_dir: Path) -> Path:
    """aggregated_results.json again from the files in the run folder (after its MT-Bench members ran)."""
    return write_aggregated(run_dir, read_json_file(run_dir / METRICS_FILE), read_json_file(run_dir / SUMMARY_FILE))


def with_mtbench_members(run_dir: Path, metrics: dict[str, Any], summary: dict[str, Any]) -> dict[str, Any]:
    """`metrics` plus one task entry per MT-Bench member of the suite, read from the member's
    own run folder (`hyoka mtbench`'s metrics.json) under the member's name; a member that has
    not run (yet) adds nothing."""
    members = (((summary.get("settings") or {}).get("suite") or {}).get("mtbench")) or {}
    tasks = dict(metrics.get("tasks", {}))
    for name, member in members.items():
        path = run_dir / member["folder"] / METRICS_FILE
        if path.is_file():
            bench_tasks = read_json_file(path).get("tasks", {})
            tasks.update({name: entry for entry in bench_tasks.values()})  # one task: mtbench_LANG
    return {**metrics, "tasks": tasks}


def aggregate_results(metrics: dict[str, Any], summary: dict[str, Any]) -> dict[str, Any]:
    suite = (summary.get("settings") or {}).get("suite")
    suite_scores: dict[str, Any] = (suite or {}).get("scores") or {}
    headline_of = {spec["source"]: spec["metric"] for spec in suite_scores.values()}
    tasks = {name: _task_entry(entry, headline_of.get(name)) for name, entry in metrics.get("tasks", {}).items()}
    groups = {name: {"members": g.get("members", []), "scores": _values(g)} for name, g in metrics.get("groups", {}).items()}
    out: dict[str, Any] = {
        "model": (summary.get("model") or {}).get("spec") or (summary.get("model") or {}).get("name"),
        "tasks": tasks,
        "groups": groups,
        "settings": _settings(summary),
    }
    if suite_scores:
        out["suite"] = _suite_entry(suite, metrics, cut=summary.get("limit") is not None or bool(summary.get("docs")))
    return out


def _values(entry: dict[str, Any]) -> dict[str, float | None]:
    return {label: v.get("value") for label, v in entry.get("metrics", {}).items()}


def _task_entry(entry: dict[str, Any], suite_metric: str | None) -> dict[str, Any]:
    scores = _values(entry)
    headline = suite_metric if suite_metric in scores else next(iter(scores), None)
    n = max((v.get("n") or 0 for v in entry.get("metrics", {}).values()), default=0)
    return {
        "headline": {"metric": headline, "value": scores.get(headline) if headline else None},
        "scores": scores,
        "n": n,
        "errors": entry.get("errors", 0),
    }


def _suite_entry(suite: dict[str, Any], metrics: dict[str, Any], *, cut: bool) -> dict[str, Any]:
    scores: dict[str, Any] = {}
    missing: list[str] = []
    for display, spec in suite["scores"].items():
        source = metrics.get("tasks", {}).get(spec["source"]) or metrics.get("groups", {}).get(spec["source"])
        value = _values(source).get(spec["metric"]) if source else None
        if value is None or (isinstance(value, float) and math.isnan(value)):
            missing.append(display)
            scores[display] = {"source": spec["source"], "metric": spec["metric"], "value": None, "scaled": None}
            continue
        scaled = value * spec.get("scale", 1.0)
        scores[display] = {"source": spec["source"], "metric": spec["metric"], "value": value, "scaled": scaled}
    present = [s["scaled"] for s in scores.values() if s["scaled"] is not None]
    return {
        "name": suite["name"],
        "scores": scores,
        # the plain mean of the scaled headline scores that this run has
        "overall": sum(present) / len(present) if present else None,
        # comparable with a full run's overall only when every headline score is there,
        # no member was skipped and no --limit or --docs cut the tasks short
        "complete": bool(scores) and not missing and not suite.get("skipped") and not cut,
        "missing": missing,
        "skipped": suite.get("skipped", {}),
        "unavailable": suite.get("unavailable", []),
        # MT-Bench members that ran: their `hyoka mtbench` folders inside the run folder
        "mtbench": suite.get("mtbench", {}),
        "notes": suite.get("notes", []),
    }


def _settings(summary: dict[str, Any]) -> dict[str, Any]:
    """What decides the numbers: chat template, system prompt, generation per task, limit, docs."""
    tasks = summary.get("tasks") or {}
    return {
        "chat_template_applied": summary.get("chat_template_applied"),
        "system_prompt": summary.get("system_prompt"),
        "limit": summary.get("limit"),
        "docs": summary.get("docs"),  # --docs START:END: a part of each task, as --limit is
        "generation_overrides": summary.get("generation_overrides"),
        "generation": {name: t.get("generation") for name, t in tasks.items() if t.get("generation")},
        "num_fewshot": {name: t.get("num_fewshot") for name, t in tasks.items()},
        "model_settings": summary.get("settings"),
    }
