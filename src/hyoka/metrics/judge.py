"""The `judge` metric: a task's generated answers scored by an LLM judge (hyoka.judge).

In a task YAML (parameters: hyoka.judge.task_scoring.JudgeMetricSpec, docs/judge.md):

    metrics:
      - name: judge
        mode: pairwise                       # or single
        prompts: {mirror_path: ..., sha256: ...}
        prompt: pair
        baseline: {mirror_path: ..., sha256: ...}

The judge model is the run's (`hyoka run MODEL --tasks T --judge BACKEND:NAME`) and
arrives in the ScoringContext. Documents the judge could not score (no usable verdict, a
failed judge request, no baseline answer) are left out of the values and counted beside
them (`failed`, `failures` by reason in metrics.json), never scored as wrong.
"""

from __future__ import annotations

from typing import Any, Sequence

from hyoka.errors import HyokaError
from hyoka.judge.task_scoring import LABELS, JudgedDoc, JudgeResources, judge_docs, load_resources, parse_spec
from hyoka.metrics.base import Metric, MetricValue, SampleScore, ScoreInput, ScoringContext, mean_and_stderr, register_metric


@register_metric("judge")
class JudgeMetric(Metric):
    name = "judge"

    def __init__(self, **params: Any) -> None:
        self.spec = parse_spec(params)
        self._resources: JudgeResources | None = None

    def labels(self) -> list[str]:
        # a task's `label:` prefixes the values (two judged metrics in one task stay apart)
        prefix = "" if self.label in ("", self.name) else f"{self.label}_"
        return [prefix + label for label in LABELS[self.spec.mode]]

    def resources(self, task: str) -> JudgeResources:
        if self._resources is None:
            self._resources = load_resources(self.spec, task=task)
        return self._resources

    def check(self, context: ScoringContext) -> None:
        """Before any model call: a judge is given and the pinned files are there and intact."""
        if context.judge is None:
            raise HyokaError("metric 'judge' needs a judge model: add --judge BACKEND:NAME (settings: --judge-args k=v,...)")
        self.resources("judge metric")

    def score_batch(self, items: Sequence[ScoreInput], context: ScoringContext) -> list[SampleScore]:
        self.check(context)
        task = items[0].task if items else "judge"
        docs = [JudgedDoc(f"{i.task}/{i.doc_id}", i.doc, list(i.outputs)) for i in items]
        show_progress = bool(context.extra.get("show_progress", True))
        scores = judge_docs(context.judge, self.spec, self.resources(task), docs, task=task, show_progress=show_progress)
        names = dict(zip(LABELS[self.spec.mode], self.labels()))
        return [
            SampleScore({names[k]: v for k, v in s.values.items()}, {**s.details, "failure": s.failure, "failures": s.failures})
            for s in scores
        ]

    def aggregate(self, items: Sequence[ScoreInput], scores: Sequence[SampleScore]) -> dict[str, MetricValue]:
        """Each value's mean over the judged documents; the others counted by reason beside it."""
        failures: dict[str, int] = {}
        for s in scores:
            reason = s.details.get("failure")
            if reason:
                failures[reason] = failures.get(reason, 0) + 1
        out = {}
        for label in self.labels():
            m = mean_and_stderr([s.values[label] for s in scores if label in s.values])
            out[label] = MetricValue(m.value, m.stderr, m.n, failed=sum(failures.values()), failures=failures)
        return out
