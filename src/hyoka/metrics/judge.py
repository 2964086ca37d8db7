"""The `judge` metric: a task's generated answers scored by an LLM judge.

In a task YAML (every parameter in `JudgeMetricSpec`; docs/judge.md):

    metrics:
      - name: judge
        mode: pairwise                       # or single
        prompts: {mirror_path: ..., sha256: ...}
        prompt: pair
        baseline: {mirror_path: ..., sha256: ...}

The metric holds no model: the judge is the run's (`hyoka run MODEL --tasks T --judge
BACKEND:NAME`) and arrives in the ScoringContext as a `DocumentJudge` (hyoka.judge's
`TaskJudge`, which builds the judge items, asks the judge through the request cache and
reads the verdicts). Documents the judge could not score (no usable verdict or rating, a
failed judge request, no baseline answer) are left out of the values and counted beside
them (`failed`, `failures` by reason in metrics.json), never scored as wrong.
"""

from __future__ import annotations

from typing import Any, Literal, Mapping, Protocol, Sequence

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from hyoka.errors import HyokaError, TaskConfigError
from hyoka.metrics.base import Metric, MetricValue, SampleScore, ScoreInput, ScoringContext, mean_and_stderr, register_metric
from hyoka.data.files import DataFile

Mode = Literal["single", "pairwise"]

#: the values each mode gives a document (the first is the headline score)
LABELS: dict[str, tuple[str, ...]] = {
    "single": ("judge_score",),
    "pairwise": ("win_rate_adjusted", "win_rate", "loss_rate", "tie_rate"),
}


class JudgeMetricSpec(BaseModel):
    """The `judge` metric's parameters in a task YAML (`metrics: [{name: judge, ...}]`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    mode: Mode = Field(description="single: rate each answer 1-10; pairwise: against the baseline, both orders")
    prompts: DataFile = Field(description="pinned FastChat judge_prompts.jsonl")
    prompt: str = Field(description="name of the prompt in that file")
    reference_prompt: str | None = Field(default=None, description="prompt for documents with a reference answer")
    question_field: str = Field(default="question", description="doc field with the question; dots index into lists, e.g. turns.0")
    id_field: str = Field(default="question_id", description="doc field matching the answers files' question_id")
    category_field: str = Field(default="category", description="doc field with the category (for reference_categories)")
    reference_field: str | None = Field(default=None, description="doc field with the reference answer")
    references: DataFile | None = Field(default=None, description="pinned FastChat answers file with reference answers, by id")
    reference_categories: list[str] | None = Field(
        default=None, description="only these categories are judged against a reference (FastChat: math, reasoning, coding)"
    )
    baseline: DataFile | None = Field(default=None, description="pairwise: pinned FastChat answers file of the baseline model")
    baseline_model: str | None = Field(default=None, description="the baseline's name, for results (default: its model_id)")

    @model_validator(mode="after")
    def _consistent(self) -> "JudgeMetricSpec":
        if self.mode == "pairwise" and self.baseline is None:
            raise ValueError("mode pairwise needs baseline: a pinned answers file to compare against")
        if self.mode == "single" and self.baseline is not None:
            raise ValueError("baseline is for mode pairwise; remove it or set mode: pairwise")
        if self.reference_prompt is not None and self.reference_field is None and self.references is None:
            raise ValueError("reference_prompt needs reference_field or references (where the reference answers are)")
        if (self.reference_field is not None or self.references is not None) and self.reference_prompt is None:
            raise ValueError("reference answers need reference_prompt (a prompt with {ref_answer_1})")
        return self


def parse_spec(params: Mapping[str, Any]) -> JudgeMetricSpec:
    """The metric's parameters, or one line naming the field that is wrong."""
    try:
        return JudgeMetricSpec.model_validate(dict(params))
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"]) or "(parameters)"
        message = str(err["msg"]).removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            message = f"unknown parameter; known: {', '.join(JudgeMetricSpec.model_fields)}"
        raise TaskConfigError(f"metric 'judge': {where}: {message}") from None


class DocumentJudge(Protocol):
    """What the run puts in ScoringContext.judge (hyoka.judge.task_scoring.TaskJudge)."""

    def check(self, spec: JudgeMetricSpec, *, task: str) -> None:
        """Read and verify the spec's files (one-line error), before any model call."""

    def score(self, spec: JudgeMetricSpec, items: Sequence[ScoreInput]) -> list[SampleScore]:
        """One SampleScore per item, values under LABELS[spec.mode] (none when unjudged),
        details["failure"] the reason a document could not be judged."""
        ...

    def summary(self) -> dict[str, Any]:
        """The judge's identity, settings and request counts, for summary.json."""
        ...


@register_metric("judge")
class JudgeMetric(Metric):
    name = "judge"

    def __init__(self, **params: Any) -> None:
        self.spec = parse_spec(params)

    def labels(self) -> list[str]:
        # a task's `label:` prefixes the values, so two judged metrics in one task stay apart
        prefix = "" if self.label in ("", self.name) else f"{self.label}_"
        return [prefix + label for label in LABELS[self.spec.mode]]

    def _judge(self, context: ScoringContext) -> DocumentJudge:
        if context.judge is None:
            raise HyokaError("metric 'judge' needs a judge model: add --judge BACKEND:NAME (judge settings: --judge-args k=v,...)")
        return context.judge  # type: ignore[no-any-return]

    def check(self, context: ScoringContext) -> None:
        self._judge(context).check(self.spec, task="metric judge")

    def score_batch(self, items: Sequence[ScoreInput], context: ScoringContext) -> list[SampleScore]:
        scores = self._judge(context).score(self.spec, items)
        names = dict(zip(LABELS[self.spec.mode], self.labels()))
        return [SampleScore({names[k]: v for k, v in s.values.items()}, s.details) for s in scores]

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
