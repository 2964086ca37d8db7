"""From typed results back to scored sample records and task metrics. No model here.

`score_task(config, docs, context)` is the one function `hyoka run` and `hyoka score` share:
each `DocResults` is a document (Sample), the exact prompt it was sent with, and its typed
results (loglikelihood: one per choice; generate: one per output). It returns the sample
records (samples_<task>.jsonl) and the task's metrics (a `TaskOutcome`).

Generation: each output goes through the task's extractors; every output is scored, and a
document's value is the metric's verdict over all of them (by default the mean). A
document with a failed output is an error: counted, not scored (a rerun asks again).
With N > 1 outputs, each metric's spread between repeats (the standard deviation of the
task value computed from output i of every document, i = 1..N) is reported beside it.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Callable, Iterable, Mapping, Sequence

from hyoka.core.types import GenerateResult, LoglikelihoodResult, Result
from hyoka.metrics.base import Metric, MetricValue, SampleScore, ScoreInput, ScoringContext, get_metric
from hyoka.results.aggregate import TaskResult
from hyoka.results.metrics_file import GroupSpec, metrics_json
from hyoka.tasks.config import MetricSpec, TaskConfig
from hyoka.tasks.registry import Registry
from hyoka.tasks.task import Sample
from hyoka.text.extract import build_extractor


@dataclass
class SampleRecord:
    task: str
    doc_id: int
    prompt: str
    choices: list[str] | None
    references: list[str]
    gold_index: int | None
    #: generate: the (first) answer text, reasoning removed; loglikelihood: {logprobs, is_greedy}
    output: Any
    reasoning: str | None
    extracted: str | None
    prediction: Any
    metrics: dict[str, float]
    fewshot_ids: list[int]
    doc: dict[str, Any]
    error: str | None = None
    messages: list[dict[str, str]] = field(default_factory=list)
    #: n > 1 outputs: each one's {output, reasoning, extracted} (the first is also above)
    repeats: list[dict[str, Any]] | None = None
    #: metric label → what the metric wrote about this document (SampleScore.details)
    details: dict[str, Any] | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class ScoringMetric:
    """A metric as a task uses it: the label in results, and for multiple choice which score picks."""

    label: str
    metric: Metric
    choice_score: str = "raw"  # "raw" | "per_char" (loglikelihood only)


def scoring_metrics(specs: list[MetricSpec]) -> list[ScoringMetric]:
    out = []
    for spec in specs:
        params = spec.params()
        label = str(params.pop("label", spec.name))
        choice_score = str(params.pop("choice_score", "raw"))
        metric = get_metric(spec.name, **params)
        metric.label = label
        out.append(ScoringMetric(label, metric, choice_score))
    return out


def metric_labels(specs: list[MetricSpec]) -> list[str]:
    """Every label a task's metrics report (a metric may report several)."""
    return [label for m in scoring_metrics(specs) for label in m.metric.labels()]


@dataclass
class DocResults:
    """One document as scoring sees it: the sample, the exact prompt sent, its results."""

    sample: Sample
    prompt: str
    results: Sequence[Result]


@dataclass
class TaskOutcome:
    task: str
    records: list[SampleRecord]
    metrics: dict[str, MetricValue]
    #: per-document values of each label (group micro averages)
    values: dict[str, list[float]]
    errors: int
    #: outputs per document (the largest)
    repeats: int = 1
    #: label → standard deviation of the task value between repeats (n > 1)
    repeat_std: dict[str, float] = field(default_factory=dict)

    def task_result(self) -> TaskResult:
        return TaskResult(self.task, self.metrics, self.values, self.errors, self.repeats, self.repeat_std)


def score_task(config: TaskConfig, docs: Sequence[DocResults], context: ScoringContext | None = None) -> TaskOutcome:
    """Scored records and task metrics from typed results (see the module docstring)."""
    return TaskScorer(config).score(docs, context or ScoringContext())


class TaskScorer:
    """Scores one task's documents: extractors, then every metric on all documents at once."""

    def __init__(self, config: TaskConfig) -> None:
        self.config = config
        self.metrics = scoring_metrics(config.metrics)
        self.extract: Callable[[str], str] = build_extractor([{"name": e.name, **e.params()} for e in config.extract])

    def check(self, context: ScoringContext, docs: Mapping[int, Mapping[str, Any]] | None = None) -> None:
        for m in self.metrics:
            m.metric.check_docs(docs or {}, task=self.config.name)
            m.metric.check(context)

    def score(self, docs: Sequence[DocResults], context: ScoringContext) -> TaskOutcome:
        records = [self._record(d) for d in docs]
        scored = [(d, r) for d, r in zip(docs, records) if r.error is None]
        metrics: dict[str, MetricValue] = {}
        values: dict[str, list[float]] = {}
        repeat_std: dict[str, float] = {}
        for m in self.metrics:
            items = [self._input(d, r, m) for d, r in scored]
            scores = self._score_batch(m, items, context)
            for (_, record), s in zip(scored, scores):
                record.metrics.update(s.values)
                if s.details:
                    record.details = {**(record.details or {}), m.label: s.details}
            metrics.update(m.metric.aggregate(items, scores))
            for label in m.metric.labels():
                values[label] = [s.values[label] for s in scores if label in s.values]
            repeat_std.update(_repeat_std(m.metric, items, scores))
        repeats = max((len(d.results) for d in docs), default=1) if self.config.formulation == "generate" else 1
        errors = sum(1 for r in records if r.error is not None)
        return TaskOutcome(self.config.name, records, metrics, values, errors, repeats, repeat_std)

    def _score_batch(self, m: ScoringMetric, items: list[ScoreInput], context: ScoringContext) -> list[SampleScore]:
        scores = m.metric.score_batch(items, context) if items else []
        labels = set(m.metric.labels())
        # a document a metric could not score (a judge without a verdict) has no values
        if len(scores) != len(items) or any(not set(s.values) <= labels for s in scores):
            raise RuntimeError(f"metric '{m.metric.name}' returned scores that do not match its documents or labels {sorted(labels)}")
        return scores

    # -- one document -------------------------------------------------------------------------

    def _record(self, d: DocResults) -> SampleRecord:
        s = d.sample
        record = SampleRecord(
            task=self.config.name,
            doc_id=s.doc_id,
            prompt=d.prompt,
            choices=s.choices,
            references=s.references,
            gold_index=s.gold_index,
            output=None,
            reasoning=None,
            extracted=None,
            prediction=None,
            metrics={},
            fewshot_ids=s.fewshot_ids,
            doc=s.doc,
            messages=[{"role": m.role, "content": m.content} for m in s.messages],
        )
        errors = [r.error for r in d.results if r.error]
        if self.config.formulation == "loglikelihood":
            lls = [r for r in d.results if isinstance(r, LoglikelihoodResult)]
            record.output = {"logprobs": [r.logprob for r in lls], "is_greedy": [r.is_greedy for r in lls]}
            if not errors:
                record.prediction = _argmax(record.output["logprobs"])
        else:
            outputs = [r for r in d.results if isinstance(r, GenerateResult)]
            if not errors and outputs:
                extracted = [self.extract(r.text) for r in outputs]
                record.output, record.reasoning = outputs[0].text, outputs[0].reasoning
                record.extracted = record.prediction = extracted[0]
                if len(outputs) > 1:
                    record.repeats = [
                        {"output": r.text, "reasoning": r.reasoning, "extracted": e} for r, e in zip(outputs, extracted)
                    ]
            elif not errors:
                errors = ["no output"]
        record.error = errors[0] if errors else None
        return record

    def _input(self, d: DocResults, record: SampleRecord, m: ScoringMetric) -> ScoreInput:
        s = d.sample
        if self.config.formulation == "loglikelihood":
            assert s.choices is not None and s.gold_index is not None
            logprobs = record.output["logprobs"]
            if m.choice_score == "per_char":
                pick = _argmax([lp / max(1, len(c)) for lp, c in zip(logprobs, s.choices)])
            else:
                pick = _argmax(logprobs)
            return ScoreInput(self.config.name, s.doc_id, s.doc, d.prompt, [str(s.gold_index)], [str(pick)], [None], s.choices)
        repeats = record.repeats or [{"output": record.output, "extracted": record.extracted}]
        return ScoreInput(
            self.config.name, s.doc_id, s.doc, d.prompt, s.references,
            [r["extracted"] for r in repeats], [r["output"] for r in repeats], s.choices,
        )  # fmt: skip


def _repeat_std(metric: Metric, items: list[ScoreInput], scores: list[SampleScore]) -> dict[str, float]:
    """Std of the task value between repeats: aggregate over output i of every document, per i."""
    n = min((len(i.predictions) for i in items), default=1)
    if n < 2 or any(s.per_output is None or len(s.per_output) < n for s in scores):
        return {}
    per_repeat: dict[str, list[float]] = {}
    for i in range(n):
        items_i = [replace(item, predictions=[item.predictions[i]], outputs=[item.outputs[i]]) for item in items]
        scores_i = [SampleScore(s.per_output[i]) for s in scores]  # type: ignore[index]
        for label, value in metric.aggregate(items_i, scores_i).items():
            per_repeat.setdefault(label, []).append(value.value)
    return {label: _std(vs) for label, vs in per_repeat.items()}


def _std(values: list[float]) -> float:
    mean = sum(values) / len(values)
    return math.sqrt(sum((v - mean) ** 2 for v in values) / (len(values) - 1))


def _argmax(values: list[float]) -> int:
    return max(range(len(values)), key=values.__getitem__)


# -- metrics.json for a run or a re-scoring ---------------------------------------------------


def group_specs(registry: Registry, tasks: Iterable[str]) -> list[GroupSpec]:
    """The registry's groups that touch these tasks, as results/ needs them."""
    specs = []
    for group in registry.groups_touching(tasks):
        config = registry.groups.get(group)
        categories = config.categories if config is not None and config.categories else None
        specs.append(GroupSpec(group, tuple(registry.group_members(group)), categories))
    return specs


def run_metrics_json(registry: Registry, results: Mapping[str, TaskResult]) -> dict[str, Any]:
    """metrics.json's content for these task results, groups included."""
    return metrics_json(results, group_specs(registry, results))
