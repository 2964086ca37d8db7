"""Everything about a run that can be checked without the model, checked before it loads.

A run that would fail on its second task's options, a hook that raises on document 37, or an
output folder that cannot be written must fail in seconds, not after the first task's model
calls. `preflight_run` builds every task's prompts (for the documents the run will use), its
extractors and metrics, and probes the output folder; `task_problems` is the part that
`hyoka validate` shares, so validate rejects what a run would reject for a file's content.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hyoka.errors import HyokaError, TaskConfigError
# the output folder's check lives with the run directory; re-exported for the commands
from hyoka.results.run_dir import OutputError, check_output_dir  # noqa: F401
from hyoka.tasks.config import TaskConfig
from hyoka.tasks.registry import Registry, static_problems
from hyoka.tasks.task import PromptOptions, load_task


@dataclass(frozen=True)
class RunPlan:
    """What preflight found: the tasks the run will evaluate, in order."""

    tasks: list[str]


def task_problems(config: TaskConfig) -> list[tuple[str, str]]:
    """(field, problem) for a task's content: templates, hooks, extractors, metrics."""
    from hyoka.engine.scoring import scoring_metrics
    from hyoka.text.extract import build_extractor

    problems = static_problems(config)
    try:
        build_extractor([{"name": e.name, **e.params()} for e in config.extract])
    except HyokaError as exc:
        problems.append(("extract", str(exc)))
    try:
        scoring_metrics(config.metrics)
    except HyokaError as exc:
        problems.append(("metrics", str(exc)))
    return problems


def preflight_run(
    registry: Registry,
    names: list[str],
    *,
    limit: int | None,
    prompt: PromptOptions,
    docs: tuple[int, int] | None = None,
    gen_overrides: dict[str, Any],
    output: Path,
) -> RunPlan:
    """Raise one HyokaError for the first thing that would stop the run; else the plan."""
    if limit is not None and limit <= 0:
        raise HyokaError("--limit must be a positive number of documents per task")
    if prompt.num_fewshot is not None and prompt.num_fewshot < 0:
        raise HyokaError(f"--num-fewshot {prompt.num_fewshot}: give 0 or more examples")
    tasks = registry.resolve(names)
    from hyoka.engine.runner import check_categories

    check_categories(registry, tasks)
    sizes: dict[str, int] = {}  # documents of each task that --docs found nothing in
    for name in tasks:
        spec = registry.tasks[name]
        problems = task_problems(spec.config)
        if problems:
            field, message = problems[0]
            raise TaskConfigError(f"{spec.path}: {field}: {message}")
        _check_generation(spec.config, gen_overrides)
        # reads the data and renders every prompt the run will send: hooks, templates,
        # few-shot options fail here, naming the task and the document
        loaded = load_task(spec.config)
        if not loaded.build_samples(limit=limit, options=prompt, docs=docs):
            sizes[name] = len(loaded.eval_docs) if limit is None else min(limit, len(loaded.eval_docs))
    if docs is not None and len(sizes) == len(tasks):  # an empty run that looks like a finished one
        counts = ", ".join(f"{name} has {n}" for name, n in list(sizes.items())[:3])
        raise HyokaError(
            f"--docs {docs[0]}:{docs[1]}: no task has a document in this range ({counts}"
            f"{' within --limit' if limit is not None else ''}); documents are numbered from 0"
        )
    check_output_dir(output)
    return RunPlan(tasks)


def _check_generation(config: TaskConfig, overrides: dict[str, Any]) -> None:
    from hyoka.models.args import GenerationOverrides, validate_args

    values = {**config.generation.model_dump(), **overrides}
    validate_args(GenerationOverrides, {k: v for k, v in values.items() if k in GenerationOverrides.model_fields}, source="--gen")
