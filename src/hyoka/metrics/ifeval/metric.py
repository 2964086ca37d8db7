"""The ``ifeval`` metric: IFEval / M-IFEval scoring through hyoka's metric contract.

It reads each document's ``instruction_id_list`` and ``kwargs`` (never the references),
checks every output, and reports lm-eval's four values; the samples file gets each
instruction's strict and loose decision (details), metrics.json the pooled
instruction-level accuracies and one per instruction type (see `scoring`).
"""

from __future__ import annotations

from typing import Any, Sequence

from hyoka.errors import TaskConfigError
from hyoka.metrics.base import Metric, MetricValue, SampleScore, ScoreInput, ScoringContext, mean_and_stderr, register_metric
from hyoka.metrics.ifeval.scoring import HEADLINE, INST_LOOSE, INST_STRICT, PROMPT_LOOSE, PROMPT_STRICT, pool_instructions, score_document


#: import names of the `ifeval` extra (pyproject.toml)
_LIBRARIES = ("langdetect", "nltk", "punkt", "janome", "ja_sentence_segmenter")


@register_metric("ifeval")
class IFEvalMetric(Metric):
    name = "ifeval"

    def labels(self) -> list[str]:
        return list(HEADLINE)

    def check(self, context: ScoringContext) -> None:
        """The checks' libraries must be importable before the first model call."""
        import importlib.util

        missing = [m for m in _LIBRARIES if importlib.util.find_spec(m) is None]
        if missing:
            raise TaskConfigError(f"metric 'ifeval' needs {', '.join(missing)}: pip install 'hyoka[ifeval]'")

    def score_batch(self, items: Sequence[ScoreInput], context: ScoringContext) -> list[SampleScore]:
        scores = []
        for item in items:
            scored = score_document(item.doc, item.outputs)
            scores.append(SampleScore(scored.values, scored.details, scored.per_output))
        return scores

    def aggregate(self, items: Sequence[ScoreInput], scores: Sequence[SampleScore]) -> dict[str, MetricValue]:
        # the repeat-spread pass hands scores without details: decide again from the outputs
        details: list[dict[str, Any]] = [
            s.details if s.details else score_document(item.doc, item.outputs).details for item, s in zip(items, scores)
        ]
        out = {
            PROMPT_STRICT: mean_and_stderr([s.values[PROMPT_STRICT] for s in scores]),
            PROMPT_LOOSE: mean_and_stderr([s.values[PROMPT_LOOSE] for s in scores]),
        }
        # instruction level is pooled over all instructions (lm-eval's agg_inst_level_acc,
        # which reports no standard error); n is the number of instruction decisions
        for label, pooled in pool_instructions(details).items():
            out[label] = MetricValue(pooled.value, None, pooled.total)
        out.setdefault(INST_STRICT, MetricValue(float("nan"), None, 0))
        out.setdefault(INST_LOOSE, MetricValue(float("nan"), None, 0))
        return out
