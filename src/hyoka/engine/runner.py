"""One evaluation run: tasks → samples → prompts → requests → cache/model → scores → run directory.

Everything that can be checked without the model is checked before the first model call:
the output folder, every task of the run (data, prompts rendered once with the backend,
generation settings, output counts, what its metrics need), and the results already in
the folder. A second run into the same folder (same model) keeps the tasks of the first
that it does not run again: metrics.json and summary.json hold both.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Sequence

from hyoka.core.types import GenerateResult, LoglikelihoodResult, Result
from hyoka.cache import NullCache, RequestCache
from hyoka.engine.executor import ExecutionStats, PendingRequest, execute
from hyoka.engine.requests import TaskRequests
from hyoka.engine.scoring import DocResults, TaskScorer, metric_labels, run_metrics_json
from hyoka.errors import HyokaError, TaskConfigError
from hyoka.metrics.base import ScoringContext
from hyoka.models.base import Backend
from hyoka.results.aggregate import TaskResult, category_metric_problems
from hyoka.results.provenance import run_header
from hyoka.results.aggregated import write_aggregated
from hyoka.results.run_dir import (
    METRICS_FILE,
    SUMMARY_FILE,
    check_output_dir,
    read_json_file,
    read_task_results,
    samples_file,
    write_json,
    write_jsonl,
)
from hyoka.tasks.config import TaskConfig
from hyoka.tasks.registry import Registry
from hyoka.tasks.task import LoadedTask, PromptOptions, Sample, load_task


@dataclass
class RunOptions:
    tasks: list[str]
    output: Path
    limit: int | None = None
    #: --docs START:END: only the documents with ids in [START, END) (a cluster job's range)
    docs: tuple[int, int] | None = None
    prompt: PromptOptions = field(default_factory=PromptOptions)
    use_chat_template: bool = False
    gen_overrides: dict[str, Any] = field(default_factory=dict)
    #: outputs per document (the same as --gen n=N)
    repeats: int = 1
    show_progress: bool = True
    model_spec: str = ""
    #: resolved model settings and where each value came from (hyoka.models.settings), for the summary
    settings: dict[str, Any] | None = None
    #: --unsafe-exec: model-written code may run without the sandbox where bubblewrap cannot run
    unsafe_exec: bool = False


@dataclass
class RunOutcome:
    run_dir: Path
    metrics: dict[str, Any]
    stats: ExecutionStats


@dataclass
class TaskPlan:
    """A task ready to send: its samples, each prompt rendered once, and the requests."""

    config: TaskConfig
    loaded: LoadedTask
    requests: TaskRequests
    scorer: TaskScorer
    samples: list[Sample]
    prompts: list[str]
    pending: list[list[PendingRequest]]


def run_evaluation(
    registry: Registry, backend: Backend, cache: RequestCache, options: RunOptions, context: ScoringContext | None = None
) -> RunOutcome:
    started = time.time()
    check_output_dir(options.output)
    task_names = registry.resolve(options.tasks)
    check_categories(registry, task_names)
    earlier = _earlier_results(options.output, backend, keep=lambda t: t not in task_names)
    # the run's own settings win over a context built elsewhere (the CLI adds the judge)
    context = replace(
        context or ScoringContext(cache_dir=None if isinstance(cache, NullCache) else cache.path.parent),
        unsafe_exec=options.unsafe_exec,
    )
    plans = [plan_task(registry.tasks[name].config, backend, options) for name in task_names]
    for plan in plans:
        plan.scorer.check(context, {s.doc_id: s.doc for s in plan.samples})
    totals = ExecutionStats()
    results: dict[str, TaskResult] = {}
    provenance: dict[str, Any] = {}
    for plan in plans:
        name = plan.config.name
        flat = [r for reqs in plan.pending for r in reqs]
        responses, stats = execute(backend, cache, flat, description=name, show_progress=options.show_progress)
        totals.add(stats)
        outcome = plan.scorer.score(_per_document(plan, responses), context)
        write_jsonl(samples_file(options.output, name), (r.as_dict() for r in outcome.records))
        results[name] = outcome.task_result()
        provenance[name] = _provenance(plan, options, stats, responses)
    metrics = run_metrics_json(registry, {**earlier.results, **results})
    write_json(options.output / METRICS_FILE, metrics)
    summary = _summary(backend, options, {**earlier.provenance, **provenance}, totals, started)
    if context.judge is not None:  # who judged, with which settings, at what cost (judged tasks)
        summary["judge"] = context.judge.summary()
    write_json(options.output / SUMMARY_FILE, summary)
    write_aggregated(options.output, metrics, summary)  # aggregated_results.json (docs/results.md)
    return RunOutcome(options.output, metrics, totals)


def plan_task(config: TaskConfig, backend: Backend, options: RunOptions) -> TaskPlan:
    """Load, build and render one task; every error here comes before any model call."""
    requests = TaskRequests(
        config, gen_overrides=options.gen_overrides, repeats=options.repeats, use_chat_template=options.use_chat_template
    )
    scorer = TaskScorer(config)
    loaded = load_task(config)
    samples = loaded.build_samples(limit=options.limit, options=options.prompt, docs=options.docs)
    prompts = [backend.render(s.messages, use_chat_template=options.use_chat_template) for s in samples]
    pending = [requests.for_sample(s, p) for s, p in zip(samples, prompts)]
    return TaskPlan(config, loaded, requests, scorer, samples, prompts, pending)


def _per_document(plan: TaskPlan, responses: Sequence[Result]) -> list[DocResults]:
    docs, i = [], 0
    for sample, prompt, reqs in zip(plan.samples, plan.prompts, plan.pending):
        docs.append(DocResults(sample, prompt, responses[i : i + len(reqs)]))
        i += len(reqs)
    return docs


def _token_counts(results: Sequence[Result]) -> dict[str, int]:
    generated = [r for r in results if isinstance(r, GenerateResult)]
    return {
        "prompt_tokens": sum(r.prompt_tokens or 0 for r in generated),
        "completion_tokens": sum(r.completion_tokens or 0 for r in generated),
        "reasoning_tokens": sum(r.reasoning_tokens or 0 for r in generated),
        "scored_continuation_tokens": sum(r.num_tokens or 0 for r in results if isinstance(r, LoglikelihoodResult)),
    }


def _provenance(plan: TaskPlan, options: RunOptions, stats: ExecutionStats, responses: Sequence[Result]) -> dict[str, Any]:
    config = plan.config
    return {
        "config_hash": config.config_hash(),
        "dataset": {
            "source": config.dataset.source,
            "revision": config.dataset.revision,
            "licence": config.dataset.licence,
            # the checksum of each file as read, and its pin: every sample can be rebuilt from these
            "files": {
                s: {"sha256": f.sha256, "origin": f.origin, **({"url": f.url} if f.url else {})}
                for s, f in plan.loaded.files.items()
            },
        },
        "formulation": config.formulation,
        "prompt_version": config.prompt_version,
        "num_fewshot": options.prompt.num_fewshot if options.prompt.num_fewshot is not None else config.fewshot.num,
        "fewshot_seed": config.fewshot.seed,
        "generation": {**plan.requests.params.as_dict(), "n": plan.requests.n} if config.formulation == "generate" else None,
        # run settings per task: a later run into the same folder may differ
        "limit": options.limit,
        **({"docs": list(options.docs)} if options.docs else {}),
        "chat_template_applied": options.use_chat_template,
        "system_prompt": options.prompt.system_prompt,
        "samples": len(plan.samples),
        "execution": asdict(stats),
        "tokens": _token_counts(responses),
    }


# -- an output folder that already holds results ---------------------------------------------------


@dataclass
class _Earlier:
    results: dict[str, TaskResult] = field(default_factory=dict)
    provenance: dict[str, Any] = field(default_factory=dict)


def _earlier_results(run_dir: Path, backend: Backend, keep: Any) -> _Earlier:
    """Results of earlier runs in this folder, for tasks this run does not redo (same model only)."""
    summary_path = run_dir / SUMMARY_FILE
    if not (run_dir / METRICS_FILE).is_file() or not summary_path.is_file():
        return _Earlier()
    summary = read_json_file(summary_path)
    model = summary.get("model") if isinstance(summary, dict) else None
    if not isinstance(model, dict) or "rescored_from" in summary:
        raise HyokaError(f"--output {run_dir}: holds results that are not a `hyoka run` of a model; choose another folder")
    ours = backend.identity.as_dict()
    if any(model.get(k) != v for k, v in ours.items()):
        raise HyokaError(
            f"--output {run_dir}: holds results of another model ({model.get('spec') or model.get('name')}); "
            "a run adds tasks to a folder of the same model only: choose another folder"
        )
    results = {t: r for t, r in read_task_results(run_dir).items() if keep(t)}
    tasks = summary.get("tasks") if isinstance(summary.get("tasks"), dict) else {}
    return _Earlier(results, {t: p for t, p in tasks.items() if t in results})


def check_categories(registry: Registry, task_names: list[str]) -> None:
    """Before a run: every category member must report the metric its category averages."""
    for group in registry.groups_touching(task_names):
        config = registry.groups.get(group)
        if config is None or not config.categories:
            continue
        labels = {
            t: metric_labels(registry.tasks[t].config.metrics)
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
        **({"docs": list(options.docs)} if options.docs else {}),
        "generation_overrides": options.gen_overrides,
        "repeats": options.repeats,
        "unsafe_exec": options.unsafe_exec,
        "execution": asdict(totals),
        # API backends: retries by reason, token usage, cost (absent for local backends)
        "transport": backend.transport_stats() if hasattr(backend, "transport_stats") else None,
        "settings": options.settings,
        "tasks": provenance,
    }
