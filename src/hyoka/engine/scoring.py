"""From samples to requests, and from responses back to scored per-sample records."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Sequence

from hyoka.engine.executor import PendingRequest
from hyoka.metrics.base import Metric, MetricValue, get_metric
from hyoka.core.types import GenerateResult, LoglikelihoodResult, RequestOrigin, Result
from hyoka.models.base import Backend, GenerateRequest, GenerationParams, LoglikelihoodRequest
from hyoka.tasks.config import MetricSpec, TaskConfig
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
    output: Any
    reasoning: str | None
    extracted: str | None
    prediction: Any
    metrics: dict[str, float]
    fewshot_ids: list[int]
    doc: dict[str, Any]
    error: str | None = None
    messages: list[dict[str, str]] = field(default_factory=list)

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
        out.append(ScoringMetric(label, get_metric(spec.name, **params), choice_score))
    return out


def generation_params(config: TaskConfig, overrides: dict[str, Any]) -> GenerationParams:
    g = config.generation
    values: dict[str, Any] = {
        "max_tokens": g.max_tokens,
        "temperature": g.temperature,
        "top_p": g.top_p,
        "stop": tuple(g.stop),
        "seed": g.seed,
    }
    values.update(overrides)
    if isinstance(values.get("stop"), list):
        values["stop"] = tuple(values["stop"])
    return GenerationParams(**values)


class TaskScorer:
    """Builds a task's requests and scores its samples; one per (task, backend) in a run."""

    def __init__(self, config: TaskConfig, backend: Backend, *, use_chat_template: bool, gen_overrides: dict[str, Any]):
        self.config = config
        self.backend = backend
        self.use_chat_template = use_chat_template
        self.params = generation_params(config, gen_overrides)
        self.metrics = scoring_metrics(config.metrics)
        self.extract: Callable[[str], str] = build_extractor([{"name": e.name, **e.params()} for e in config.extract])

    def prompt_of(self, sample: Sample) -> str:
        return self.backend.render(sample.messages, use_chat_template=self.use_chat_template)

    def requests_for(self, sample: Sample) -> list[PendingRequest]:
        prompt = self.prompt_of(sample)
        if self.config.formulation == "loglikelihood":
            assert sample.choices is not None
            # a chat template's generation prompt already ends the turn: no delimiter after it
            delim = "" if self.use_chat_template else self.config.prompt.target_delimiter
            return [
                PendingRequest("loglikelihood", LoglikelihoodRequest(prompt, delim + c, self._origin(sample, i)))
                for i, c in enumerate(sample.choices)
            ]
        messages = tuple(sample.messages)
        return [PendingRequest("generate", GenerateRequest(prompt, self.params, messages, self._origin(sample, 0)))]

    def _origin(self, sample: Sample, index: int) -> RequestOrigin:
        return RequestOrigin(self.config.name, sample.doc_id, index)

    def score(self, sample: Sample, results: Sequence[Result]) -> SampleRecord:
        if self.config.formulation == "loglikelihood":
            return self._score_choices(sample, [r for r in results if isinstance(r, LoglikelihoodResult)])
        result = results[0]
        assert isinstance(result, GenerateResult)
        return self._score_generation(sample, result)

    def _record(self, sample: Sample, **fields: Any) -> SampleRecord:
        return SampleRecord(
            task=self.config.name,
            doc_id=sample.doc_id,
            prompt=self.prompt_of(sample),
            choices=sample.choices,
            references=sample.references,
            gold_index=sample.gold_index,
            fewshot_ids=sample.fewshot_ids,
            doc=sample.doc,
            messages=[{"role": m.role, "content": m.content} for m in sample.messages],
            **fields,
        )

    def _score_choices(self, sample: Sample, results: list[LoglikelihoodResult]) -> SampleRecord:
        assert sample.choices is not None and sample.gold_index is not None
        errors = [r.error for r in results if r.error]
        logprobs = [r.logprob for r in results]
        output = {"logprobs": logprobs, "is_greedy": [r.is_greedy for r in results]}
        if errors:
            return self._record(sample, output=output, reasoning=None, extracted=None, prediction=None, metrics={}, error=errors[0])
        picks = {
            "raw": _argmax(logprobs),
            "per_char": _argmax([lp / max(1, len(c)) for lp, c in zip(logprobs, sample.choices)]),
        }
        metrics = {
            m.label: m.metric.sample(str(picks[m.choice_score]), [str(sample.gold_index)]) for m in self.metrics
        }
        return self._record(
            sample, output=output, reasoning=None, extracted=None, prediction=picks["raw"], metrics=metrics
        )

    def _score_generation(self, sample: Sample, result: GenerateResult) -> SampleRecord:
        if result.error:
            return self._record(
                sample, output=None, reasoning=None, extracted=None, prediction=None, metrics={}, error=result.error
            )
        # the backend split the reasoning off: text is the answer
        extracted = self.extract(result.text)
        metrics = {m.label: m.metric.sample(extracted, sample.references) for m in self.metrics}
        return self._record(
            sample, output=result.text, reasoning=result.reasoning, extracted=extracted, prediction=extracted, metrics=metrics
        )

    def aggregate(self, records: list[SampleRecord]) -> dict[str, MetricValue]:
        scored = [r for r in records if r.error is None]
        out = {}
        for m in self.metrics:
            values = [r.metrics[m.label] for r in scored]
            predictions = [str(r.prediction) for r in scored]
            references = [
                [str(r.gold_index)] if self.config.formulation == "loglikelihood" else r.references for r in scored
            ]
            out[m.label] = m.metric.aggregate(predictions, references, values)
        return out


def _argmax(values: list[float]) -> int:
    return max(range(len(values)), key=values.__getitem__)
