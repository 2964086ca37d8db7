"""metrics.json: task results, group aggregates (micro, macro, llm-jp-eval categories).

`metrics_json` is the one function that writes its content, for `hyoka run` and
`hyoka score` alike. Groups arrive as `GroupSpec`s (the engine reads them from the task
registry), so this layer knows nothing of task files.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Sequence

from hyoka.metrics.base import MetricValue
from hyoka.results.aggregate import AVG_KEY, TaskResult, aggregate_categories, aggregate_group


@dataclass(frozen=True)
class GroupSpec:
    name: str
    #: member tasks, in the group's order
    members: tuple[str, ...]
    #: llm-jp-eval categories: category → {task: metric}
    categories: Mapping[str, Mapping[str, str]] | None = None


def value_json(v: MetricValue) -> dict[str, Any]:
    out: dict[str, Any] = {"value": v.value, "stderr": v.stderr, "n": v.n}
    if v.failures is not None:  # documents a metric could not score, counted beside its value
        out.update(failed=v.failed, failures=dict(v.failures))
    return out


def task_json(r: TaskResult) -> dict[str, Any]:
    metrics = {m: value_json(v) for m, v in r.metrics.items()}
    for m, std in r.repeat_std.items():
        if m in metrics:
            metrics[m]["repeat_std"] = std
    entry: dict[str, Any] = {"metrics": metrics, "errors": r.errors}
    if r.repeats > 1:
        entry["repeats"] = r.repeats
    return entry


def metrics_json(results: Mapping[str, TaskResult], groups: Sequence[GroupSpec]) -> dict[str, Any]:
    """{"tasks": {...}, "groups": {...}}; a group is reported when two or more of its members ran."""
    tasks = {name: task_json(r) for name, r in results.items()}
    out_groups: dict[str, Any] = {}
    for group in groups:
        members = [results[t] for t in group.members if t in results]
        if len(members) < 2:
            continue
        entry: dict[str, Any] = {
            "members": [m.task for m in members],
            "metrics": {m: value_json(v) for m, v in aggregate_group(members).items()},
            "errors": sum(m.errors for m in members),
        }
        if group.categories:
            entry.update(_categories_json(group.categories, results, entry["metrics"]))
        out_groups[group.name] = entry
    return {"tasks": tasks, "groups": out_groups}


def _categories_json(
    categories: Mapping[str, Mapping[str, str]], results: Mapping[str, TaskResult], metrics: dict[str, Any]
) -> dict[str, Any]:
    """Category scores and AVG go into the group's metrics (so tables show them) and, with
    the task → metric map behind each, under "categories"."""
    scored = aggregate_categories(categories, results)
    metrics.update({c: value_json(v) for c, v in scored.scores.items()})
    if scored.avg is not None:
        metrics[AVG_KEY] = value_json(scored.avg)
    detail = {
        c: {"tasks": dict(members), **({"missing": scored.missing[c]} if c in scored.missing else {})}
        for c, members in categories.items()
    }
    return {"categories": detail}
