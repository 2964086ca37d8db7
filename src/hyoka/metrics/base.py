"""Metric interface and registry.

Metrics see documents, never a model. The scorer (hyoka.engine.scoring) hands a metric
every scored document of a task at once, as `ScoreInput`s, and gets one `SampleScore` per
document back:

    class MyMetric(Metric):
        name = "my_metric"

        # simple metrics: one number per output; the default score_batch averages them
        # over a document's n outputs (`--gen n=N` / `--repeats N`)
        def sample(self, prediction: str, references: Sequence[str]) -> float: ...

        # metrics that need the whole document (code execution, IFEval) or a batch
        # (a sandbox pool, judge calls) override score_batch instead
        def score_batch(self, items, context) -> list[SampleScore]: ...

        # pooled aggregates (pass@k, IFEval instruction-level, correlations) override
        # aggregate; the default is the mean of each label over documents, with the
        # standard error of the mean
        def aggregate(self, items, scores) -> dict[str, MetricValue]: ...

- `ScoreInput`: the task, the document (doc_id, doc fields, the exact prompt sent), its
  references and, one entry per output, `predictions` (after the task's extractors;
  for multiple choice the chosen index as text, references then hold the gold index) and
  `outputs` (the raw answer text, reasoning already removed; None for multiple choice).
- `SampleScore`: `values` (label → float; the labels of `labels()`; a document the metric
  could not score, e.g. one the judge failed on, leaves them out), `details` (anything
  JSON-serialisable, written beside the document in samples_<task>.jsonl) and, when a
  metric scores each output on its own, `per_output` (one values dict per output: gives
  metrics.json the spread between repeats).
- A metric's label is what results call it: the task's `label:` or the metric's name
  (`self.label`). A metric reporting several numbers returns them under `labels()`.
- `ScoringContext`: run-level services a metric may need (the cache folder, a worker
  count, the judge, whether code may be executed). `check(context)` runs before the
  first model call: a metric that cannot work in this run says so there, in one line.

Per-sample metrics aggregate by mean with the standard error of the mean; corpus metrics
(correlations, ...) override `aggregate` and give a bootstrap standard error.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence


@dataclass(frozen=True)
class MetricValue:
    value: float
    stderr: float | None
    n: int
    #: documents the metric could not score (e.g. no usable judge verdict), left out of `n`
    failed: int = 0
    #: their reasons, with counts
    failures: Mapping[str, int] | None = None


def mean_and_stderr(values: Sequence[float]) -> MetricValue:
    n = len(values)
    if n == 0:
        return MetricValue(float("nan"), None, 0)
    mean = sum(values) / n
    if n < 2:
        return MetricValue(mean, None, n)
    var = sum((v - mean) ** 2 for v in values) / (n - 1)
    return MetricValue(mean, math.sqrt(var / n), n)


@dataclass(frozen=True)
class ScoreInput:
    """One scored document: what a metric may look at."""

    task: str
    doc_id: int
    doc: Mapping[str, Any]
    #: the exact text sent to the model
    prompt: str
    references: list[str]
    #: one per output: the extracted answer (multiple choice: the chosen index, as text)
    predictions: list[str]
    #: one per output: the answer text with reasoning removed (None for multiple choice)
    outputs: list[str | None]
    choices: list[str] | None = None


@dataclass
class SampleScore:
    """A metric's verdict on one document."""

    values: dict[str, float]
    details: dict[str, Any] = field(default_factory=dict)
    #: the values of each output on its own (None: the metric scores the document as a whole)
    per_output: list[dict[str, float]] | None = None


@dataclass
class ScoringContext:
    """Run-level services for metrics. Built once per run; never holds the evaluated model."""

    #: a folder metrics may keep their own caches in (next to the request cache)
    cache_dir: Path | None = None
    #: parallelism a metric may use (sandboxes, judge requests)
    workers: int = 1
    #: the judge for judged metrics (hyoka.judge.Judge), None when the run has none
    judge: Any = None
    #: whether the user allowed model-written code to run (`--unsafe-exec`)
    unsafe_exec: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


class Metric:
    """Scores documents. Implement `sample` (one output vs its references) or `score_batch`."""

    name: str = ""
    higher_is_better: bool = True
    #: the name in results; the scorer sets it from the task's `label:` (default: `name`)
    label: str = ""

    def labels(self) -> list[str]:
        """The labels this metric reports (the keys of every SampleScore.values)."""
        return [self.label or self.name]

    def check(self, context: ScoringContext) -> None:
        """Raise a one-line HyokaError when this run cannot score this metric (before any model call)."""

    def check_docs(self, docs: Mapping[int, Mapping[str, Any]], *, task: str) -> None:
        """Raise a one-line HyokaError when the run's documents (by doc_id) lack what this
        metric reads from them (before any model call, and before `check` loads anything heavy)."""

    def sample(self, prediction: str, references: Sequence[str]) -> float:
        """The per-output value (0..1 for most metrics; the raw number for correlations)."""
        raise NotImplementedError(f"metric '{self.name}' implements neither sample nor score_batch")

    def score_batch(self, items: Sequence[ScoreInput], context: ScoringContext) -> list[SampleScore]:
        """One SampleScore per item; by default each output through `sample`, averaged."""
        label = self.labels()[0]
        scores = []
        for item in items:
            per_output = [self.sample(p, item.references) for p in item.predictions]
            value = sum(per_output) / len(per_output) if per_output else float("nan")
            scores.append(SampleScore({label: value}, per_output=[{label: v} for v in per_output]))
        return scores

    def aggregate(self, items: Sequence[ScoreInput], scores: Sequence[SampleScore]) -> dict[str, MetricValue]:
        """The task's values: by default each label's mean over documents, with its standard error."""
        return {label: mean_and_stderr([s.values[label] for s in scores if label in s.values]) for label in self.labels()}


MetricFactory = Callable[..., Metric]
METRICS: dict[str, MetricFactory] = {}


def register_metric(name: str) -> Callable[[MetricFactory], MetricFactory]:
    def deco(factory: MetricFactory) -> MetricFactory:
        known = METRICS.get(name)
        if known is not None and (known.__module__, known.__qualname__) != (factory.__module__, factory.__qualname__):
            # two metrics under one name: the later would silently replace the earlier
            raise ValueError(f"metric '{name}' is already registered by {known.__module__}.{known.__qualname__}")
        METRICS[name] = factory
        return factory

    return deco


def get_metric(name: str, **params: object) -> Metric:
    # importing the package registers every built-in metric
    import hyoka.metrics  # noqa: F401

    from hyoka.errors import TaskConfigError

    if name not in METRICS:
        raise TaskConfigError(f"unknown metric '{name}'; known: {', '.join(sorted(METRICS))}")
    try:
        return METRICS[name](**params)
    except TypeError as exc:  # an unknown or mistyped parameter in the task's metrics: list
        raise TaskConfigError(f"metric '{name}': bad parameters {sorted(params)} ({exc})") from None
