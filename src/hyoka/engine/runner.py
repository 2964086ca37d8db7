"""One evaluation run: tasks → samples → requests → cache/model → scores → run directory."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Sequence

from hyoka.core.types import GenerateResult, LoglikelihoodResult, Result
from hyoka.engine.cache import RequestCache
from hyoka.engine.executor import ExecutionStats, execute
from hyoka.engine.scoring import SampleRecord, TaskScorer
from hyoka.metrics.base import MetricValue
from hyoka.models.base import Backend
from hyoka.results.aggregate import AVG_KEY, TaskResult, aggregate_categories, aggregate_group, category_metric_problems
from hyoka.results.provenance import run_header
from hyoka.results.aggregated import write_aggregated
from hyoka.results.run_dir import METRICS_FILE, SUMMARY_FILE, samples_file, write_json, write_jsonl
from hyoka.tasks.registry import Registry
from hyoka.tasks.task import PromptOptions, load_task


@dataclass
class RunOptions:
    tasks: list[str]
    output: Path
    limit: int | None = None
    prompt: PromptOptions = field(default_factory=PromptOptions)
    use_chat_template: bool = False
    gen_overrides: dict[str, Any] = field(default_factory=dict)
    show_progress: bool = True
    model_spec: str = ""
    #: resolved model settings and where each value came from (hyoka.models.settings), for the summary
    settings: dict[str, Any] | None = None


@dataclass
class RunOutcome:
    run_dir: Path
    metrics: dict[str, Any]
    stats: ExecutionStats


def run_evaluation(registry: Registry, backend: Backend, cache: RequestCache, options: RunOptions) -> RunOutcome:
    started = time.time()
    options.output.mkdir(parents=True, exist_ok=True)
    task_names = registry.resolve(options.tasks)
    check_categories(registry, task_names)
    totals = ExecutionStats()
    results: dict[str, TaskResult] = {}
    provenance: dict[str, Any] = {}
    for name in task_names:
        config = registry.tasks[name].config
        loaded = load_task(config)
        scorer = TaskScorer(
            config, backend, use_chat_template=options.use_chat_template, gen_overrides=options.gen_overrides
        )
        samples = loaded.build_samples(limit=options.limit, options=options.prompt)
        per_sample = [scorer.requests_for(s) for s in samples]
        flat = [r for reqs in per_sample for r in reqs]
        responses, stats = execute(backend, cache, flat, description=name, show_progress=options.show_progress)
        totals.add(stats)
        records = _score_all(scorer, samples, per_sample, responses)
        write_jsonl(samples_file(options.output, name), (r.as_dict() for r in records))
        metrics = scorer.aggregate(records)
        errors = sum(1 for r in records if r.error is not None)
        values = {m: [r.metrics[m] for r in records if r.error is None] for m in metrics}
        results[name] = TaskResult(name, metrics, values, errors)
        provenance[name] = {
            "config_hash": config.config_hash(),
            "dataset": {
                "source": config.dataset.source,
                "revision": config.dataset.revision,
                "licence": config.dataset.licence,
                "files": {s: {"sha256": f.sha256, "origin": f.origin} for s, f in loaded.files.items()},
            },
            "formulation": config.formulation,
            "num_fewshot": options.prompt.num_fewshot if options.prompt.num_fewshot is not None else config.fewshot.num,
            "fewshot_seed": config.fewshot.seed,
            "generation": scorer.params.as_dict() if config.formulation == "generate" else None,
            "samples": len(records),
            "execution": asdict(stats),
            "tokens": _token_counts(responses),
        }
    metrics_json = _metrics_json(registry, results)
    write_json(options.output / METRICS_FILE, metrics_json)
    summary = _summary(backend, options, provenance, totals, started)
    write_json(options.output / SUMMARY_FILE, summary)
    write_aggregated(options.output, registry, metrics_json, summary)  # aggregated_results.json (docs/results.md)
    return RunOutcome(options.output, metrics_json, totals)


def _score_all(
    scorer: TaskScorer, samples: list[Any], per_sample: list[list[Any]], responses: Sequence[Result]
) -> list[SampleRecord]:
    records, i = [], 0
    for sample, reqs in zip(samples, per_sample):
        records.append(scorer.score(sample, responses[i : i + len(reqs)]))
        i += len(reqs)
    return records


def _token_counts(results: Sequence[Result]) -> dict[str, int]:
    generated = [r for r in results if isinstance(r, GenerateResult)]
    return {
        "prompt_tokens": sum(r.prompt_tokens or 0 for r in generated),
        "completion_tokens": sum(r.completion_tokens or 0 for r in generated),
        "reasoning_tokens": sum(r.reasoning_tokens or 0 for r in generated),
        "scored_continuation_tokens": sum(r.num_tokens or 0 for r in results if isinstance(r, LoglikelihoodResult)),
    }


def _value_json(v: MetricValue) -> dict[str, Any]:
    return {"value": v.value, "stderr": v.stderr, "n": v.n}


def _metrics_json(registry: Registry, results: dict[str, TaskResult]) -> dict[str, Any]:
    tasks = {
        name: {"metrics": {m: _value_json(v) for m, v in r.metrics.items()}, "errors": r.errors}
        for name, r in results.items()
    }
    groups = {}
    for group in registry.groups_touching(results):
        members = [results[t] for t in registry.group_members(group) if t in results]
        if len(members) < 2:
            continue
        groups[group] = {
            "members": [m.task for m in members],
            "metrics": {m: _value_json(v) for m, v in aggregate_group(members).items()},
            "errors": sum(m.errors for m in members),
        }
        config = registry.groups.get(group)
        if config is not None and config.categories:
            groups[group].update(_categories_json(config.categories, results, groups[group]["metrics"]))
    return {"tasks": tasks, "groups": groups}


def _categories_json(
    categories: dict[str, dict[str, str]], results: dict[str, TaskResult], metrics: dict[str, Any]
) -> dict[str, Any]:
    """Category scores and AVG go into the group's metrics (so tables show them) and, with
    the task → metric map behind each, under "categories"."""
    scored = aggregate_categories(categories, results)
    metrics.update({c: _value_json(v) for c, v in scored.scores.items()})
    if scored.avg is not None:
        metrics[AVG_KEY] = _value_json(scored.avg)
    detail = {
        c: {"tasks": dict(members), **({"missing": scored.missing[c]} if c in scored.missing else {})}
        for c, members in categories.items()
    }
    return {"categories": detail}


def check_categories(registry: Registry, task_names: list[str]) -> None:
    """Before a run: every category member must report the metric its category averages."""
    from hyoka.engine.scoring import scoring_metrics
    from hyoka.errors import TaskConfigError

    for group in registry.groups_touching(task_names):
        config = registry.groups.get(group)
        if config is None or not config.categories:
            continue
        labels = {
            t: [m.label for m in scoring_metrics(registry.tasks[t].config.metrics)]
            for members in config.categories.values()
            for t in members
            if t in registry.tasks
        }
        problems = category_metric_problems(config.categories, labels)
        if problems:
            more = f" (+{len(problems) - 1} more)" if len(problems) > 1 else ""
            raise TaskConfigError(f"group '{group}': {problems[0]}{more}; fix the group's categories")


def _summary(
    backend: Backend, options: RunOptions, provenance: dict[str, Any], totals: ExecutionStats, started: float
) -> dict[str, Any]:
    return {
        **run_header(started),
        "model": {"spec": options.model_spec, **backend.identity.as_dict()},
        "chat_template_applied": options.use_chat_template,
        "system_prompt": options.prompt.system_prompt,
        "limit": options.limit,
        "generation_overrides": options.gen_overrides,
        "execution": asdict(totals),
        # API backends: retries by reason, token usage, cost (absent for local backends)
        "transport": backend.transport_stats() if hasattr(backend, "transport_stats") else None,
        "settings": options.settings,
        "tasks": provenance,
    }
