"""Suites: a group that also says how it is run and how its overall score is formed.

`hyoka run MODEL --suite swallow_ja` (docs/swallow.md):

1. the suite's settings (chat template, system prompt, generation) apply below the user's
   own: command line > `--settings` file > suite > each task's defaults;
2. tasks whose data is neither in `HYOKA_DATA_DIR` nor downloadable now are skipped, each
   named with the reason, before any model call; `optional_tasks` that hyoka does not have
   yet are named as skipped too;
   MT-Bench members (`mtbench:`) run when the run has a judge (hyoka.mtbench.suite_members),
   else they are named as skipped;
3. when the suite asks for the chat template and the model has none, the run goes on
   without it and says so (a note on stderr and in the results);
4. the suite's `scores` (headline metric of each member, scaled to 0..1) and their mean
   are written to aggregated_results.json (hyoka.results.aggregated).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import Any

from hyoka.errors import DatasetError, HyokaError, TaskConfigError
from hyoka.tasks.config import GroupConfig, SuiteMTBench
from hyoka.tasks.registry import Registry


@dataclass
class SuitePlan:
    name: str
    config: GroupConfig
    #: tasks to run (data present or downloadable)
    tasks: list[str]
    #: member task → why it is not run (its data is not here)
    skipped: dict[str, str] = field(default_factory=dict)
    #: optional members hyoka does not have yet
    unavailable: list[str] = field(default_factory=list)
    #: MT-Bench members that run (a judge was given); each writes a `hyoka mtbench` run
    #: folder of its name inside the run folder
    mtbench: dict[str, SuiteMTBench] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    #: setting → value the suite contributed (what the user did not set)
    applied: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        """What the run records (summary.json settings.suite), and all aggregated_results.json
        needs to form the suite's scores."""
        scores = self.config.scores or {}
        return {
            "name": self.name,
            "scores": {k: v.model_dump() for k, v in scores.items()},
            "applied_settings": self.applied,
            "skipped": self.skipped,
            "unavailable": self.unavailable,
            "mtbench": {name: {**m.model_dump(), "folder": name} for name, m in self.mtbench.items()},
            "notes": self.notes,
        }


def find_suite(registry: Registry, names: list[str]) -> GroupConfig | None:
    """The suite when exactly one group with settings or scores was asked for, else None."""
    if len(names) != 1:
        return None
    config = registry.groups.get(names[0])
    if config is None or (config.settings is None and config.scores is None and not config.optional_tasks):
        return None
    return config


#: why an MT-Bench member does not run without a judge
NO_JUDGE = "MT-Bench is judged by an LLM and this run has none: add --judge BACKEND:NAME (docs/judge.md)"


def plan_suite(registry: Registry, suite: GroupConfig, *, unsafe_exec: bool = False, judge: bool = False) -> SuitePlan:
    """Which members run, and why the others do not (data and metrics checked before any model
    loads). `judge`: the run has a judge, so the MT-Bench members run too."""
    from hyoka.data.files import resolve_file

    for display, score in (suite.scores or {}).items():
        known = score.source in registry.tasks or score.source in registry.groups or score.source in suite.mtbench
        if not known:
            raise TaskConfigError(
                f"suite '{suite.group}': scores.{display}.source '{score.source}' is not a task, group or "
                "mtbench member; fix the suite file"
            )
    plan = SuitePlan(suite.group, suite, [])
    candidates = registry.resolve([suite.group])
    for optional in suite.optional_tasks:
        if optional in registry.tasks or optional in registry.groups:
            candidates += [t for t in registry.resolve([optional]) if t not in candidates]
        else:
            plan.unavailable.append(optional)
    for task in candidates:
        config = registry.tasks[task].config
        splits = {config.dataset.eval_split, *([config.fewshot.split] if config.fewshot.split else [])}
        try:
            for split in sorted(splits):
                resolve_file(config.dataset.splits[split], task=task)
        except DatasetError as exc:
            plan.skipped[task] = str(exc).removeprefix(f"task '{task}': ")
            continue
        problem = _metric_problem(config, unsafe_exec=unsafe_exec)
        if problem is not None:
            plan.skipped[task] = problem
            continue
        plan.tasks.append(task)
    for member, bench in suite.mtbench.items():
        if judge:
            plan.mtbench[member] = bench
        else:
            plan.skipped[member] = NO_JUDGE
    if not plan.tasks and not plan.mtbench:
        raise HyokaError(f"--suite {suite.group}: no task has its data here; " + _skipped_text(plan))
    return plan


def _metric_problem(config: Any, *, unsafe_exec: bool) -> str | None:
    """Why one of the task's metrics cannot score in this run (code without a sandbox, a
    missing library), or None: the metric's own check, as the runner would call it."""
    from hyoka.metrics.base import ScoringContext, get_metric

    for spec in config.metrics:
        params = {k: v for k, v in spec.params().items() if k not in ("label", "choice_score")}
        try:
            get_metric(spec.name, **params).check(ScoringContext(unsafe_exec=unsafe_exec))
        except HyokaError as exc:
            return str(exc)
    return None


def _skipped_text(plan: SuitePlan) -> str:
    first, why = next(iter(plan.skipped.items()))
    others = f" (and {len(plan.skipped) - 1} more tasks)" if len(plan.skipped) > 1 else ""
    return f"{first}: {why}{others}"


def apply_settings(
    plan: SuitePlan, *, gen: dict[str, Any], system_prompt: str | None, chat: bool
) -> tuple[dict[str, Any], str | None, bool]:
    """The suite's settings under the user's: returns (generation, system prompt, chat)."""
    settings = plan.config.settings
    if settings is None:
        return gen, system_prompt, chat
    suite_gen = settings.generation.model_dump(exclude_none=True)
    merged = {**suite_gen, **gen}
    plan.applied.update({f"generation.{k}": v for k, v in suite_gen.items() if k not in gen})
    if system_prompt is None and settings.system_prompt is not None:
        system_prompt = settings.system_prompt
        plan.applied["system_prompt"] = system_prompt
    if not chat and settings.chat:
        chat = True
        plan.applied["chat"] = True
    return merged, system_prompt, chat


def chat_usable(plan: SuitePlan, backend: Any) -> bool:
    """Whether the chat template the suite asked for can be applied; if not, a note."""
    from hyoka.core.types import Message

    try:
        backend.apply_chat_template([Message("user", "x")])
        return True
    except HyokaError as exc:
        reason = str(exc).split(";")[0]  # the backend's own advice names --chat, which the user did not give
        note = (
            f"suite {plan.name} asks for the chat template, but {reason}; "
            "running with plain prompts (pass --model-args chat_template=FILE to use one)"
        )
        plan.notes.append(note)
        plan.applied.pop("chat", None)
        print(f"hyoka: note: {note}", file=sys.stderr)
        return False


def report_plan(plan: SuitePlan) -> None:
    """The skipped members, one line each, on stderr (before the model loads)."""
    for task, why in plan.skipped.items():
        print(f"hyoka: suite {plan.name}: skipping {task}: {why}", file=sys.stderr)
    for task in plan.unavailable:
        print(f"hyoka: suite {plan.name}: skipping {task}: not available in hyoka yet", file=sys.stderr)
