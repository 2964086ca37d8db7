"""Task metrics → group metrics (micro: pooled over samples; macro: mean of task scores;
categories: llm-jp-eval's per-category means and their AVG)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Mapping, Sequence

from hyoka.metrics.base import MetricValue, mean_and_stderr


@dataclass(frozen=True)
class TaskResult:
    task: str
    metrics: dict[str, MetricValue]
    #: per-sample values of each metric, for micro averages
    values: dict[str, list[float]]
    errors: int
    #: outputs per document (--repeats / --gen n)
    repeats: int = 1
    #: metric → standard deviation of the task value between repeats (repeats > 1)
    repeat_std: dict[str, float] = field(default_factory=dict)


def macro(values: list[MetricValue]) -> MetricValue:
    """Mean of task scores; its standard error from the tasks' own (independent samples)."""
    finite = [v for v in values if not math.isnan(v.value)]
    if not finite:
        return MetricValue(float("nan"), None, 0)
    mean = sum(v.value for v in finite) / len(finite)
    if any(v.stderr is None for v in finite):
        return MetricValue(mean, None, sum(v.n for v in finite))
    se = math.sqrt(sum(v.stderr**2 for v in finite)) / len(finite)  # type: ignore[operator]
    return MetricValue(mean, se, sum(v.n for v in finite))


def aggregate_group(members: list[TaskResult]) -> dict[str, MetricValue]:
    """For every metric all members share: `<metric>` (macro) and `<metric>_micro`."""
    if not members:
        return {}
    shared = set(members[0].metrics)
    for m in members[1:]:
        shared &= set(m.metrics)
    out: dict[str, MetricValue] = {}
    for name in sorted(shared):
        out[f"{name}_macro"] = macro([m.metrics[name] for m in members])
        out[f"{name}_micro"] = mean_and_stderr([v for m in members for v in m.values.get(name, [])])
    return out


# -- llm-jp-eval style categories (GroupConfig.categories) --------------------------------

#: the key of the mean over categories, as llm-jp-eval names it
AVG_KEY = "AVG"


@dataclass(frozen=True)
class CategoryScores:
    """Per-category means, their mean (AVG), and what kept a category from being scored."""

    scores: dict[str, MetricValue]
    avg: MetricValue | None
    #: category → member tasks that were not run (or failed entirely) in this run
    missing: dict[str, list[str]]


def category_metric_problems(
    categories: Mapping[str, Mapping[str, str]], task_metrics: Mapping[str, Sequence[str]]
) -> list[str]:
    """Members naming a metric their task does not report (checked before a run starts).

    `task_metrics` maps each known task to the metric labels it reports.
    """
    problems = []
    for category, members in categories.items():
        for task, metric in members.items():
            labels = task_metrics.get(task)
            if labels is not None and metric not in labels:
                problems.append(
                    f"category {category}: task '{task}' reports {', '.join(labels)}, not '{metric}'"
                )
    return problems


def aggregate_categories(
    categories: Mapping[str, Mapping[str, str]], results: Mapping[str, TaskResult]
) -> CategoryScores:
    """llm-jp-eval's aggregation: each category is the plain mean of its members' scores
    (each with the category's metric), AVG the plain mean of the category scores.

    A category is scored only when every member has a result, and AVG only when every
    category is scored: a partial run (some tasks, or a task whose samples all failed)
    must not print an AVG that looks comparable to a full one. Standard errors combine
    the members' as independent (see `macro`).
    """
    scores: dict[str, MetricValue] = {}
    missing: dict[str, list[str]] = {}
    for category, members in categories.items():
        absent = [t for t, metric in members.items() if t not in results or metric not in results[t].metrics]
        if absent:
            missing[category] = absent
            continue
        scores[category] = macro([results[t].metrics[metric] for t, metric in members.items()])
    complete = bool(categories) and not missing
    avg = macro(list(scores.values())) if complete else None
    return CategoryScores(scores, avg, missing)
