"""Open-QA metrics on answer spans, strict and quasi (the Swallow suite's six numbers).

Each metric reads the answer span out of the model's whole answer itself (the task has no
extractor chain), because the strict and the quasi span are taken from the same output
in different ways (hyoka.text.answer_span):

=====================  ==========================  ====================================
label in Swallow       metric                       comparison
=====================  ==========================  ====================================
exact_match            span_exact_match             span == gold
f1_score               span_char_f1                 character F1 of the raw strings
llmjpeval_f1_score     span_llmjp_char_f1           llm-jp-eval's char_f1
quasi_exact_match      quasi_exact_match            both sides through quasi_normalize
f1_score_quasi         quasi_char_f1                …
llmjpeval_f1_score_quasi quasi_llmjp_char_f1        …
=====================  ==========================  ====================================

Strict compares the gold as written; quasi normalises the gold too (hyoka's one
normaliser on both sides; Swallow leaves its already-clean golds as they are).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Callable, Sequence

from hyoka.metrics.base import Metric, SampleScore, ScoreInput, ScoringContext, register_metric
from hyoka.metrics.char_f1 import multiset_f1
from hyoka.metrics.exact_match import require_references
from hyoka.metrics.llmjp_char_f1 import token_sort_ratio
from hyoka.text.answer_span import Mode, answer_span, quasi_normalize

Compare = Callable[[str, str], float]

COMPARISONS: dict[str, Compare] = {
    "exact_match": lambda pred, gold: 1.0 if pred == gold else 0.0,
    "char_f1": lambda pred, gold: multiset_f1(list(pred), list(gold)),
    "llmjp_char_f1": lambda pred, gold: token_sort_ratio(pred, gold) / 100,
}


class AnswerSpanMetric(Metric):
    """`compare` of the answer span (read in `mode`) with each gold; the best counts."""

    compare_name: str = ""
    mode: Mode = "strict"

    def score_batch(self, items: Sequence[ScoreInput], context: ScoringContext) -> list[SampleScore]:
        """Spans are read from the raw answers (`outputs`), not from what a task's extractor
        chain left: strict and quasi read the same answer differently."""
        raw = [
            replace(item, predictions=[o if o is not None else p for o, p in zip(item.outputs, item.predictions)])
            for item in items
        ]
        return super().score_batch(raw, context)

    def sample(self, prediction: str, references: Sequence[str]) -> float:
        """`prediction` is the model's whole answer; its span is read here."""
        require_references(self.name, references)
        span = answer_span(prediction, mode=self.mode)
        golds = [quasi_normalize(r) for r in references] if self.mode == "quasi" else list(references)
        compare = COMPARISONS[self.compare_name]
        return max(compare(span, gold) for gold in golds)


def _register(name: str, compare_name: str, mode: Mode) -> None:
    cls = type(name, (AnswerSpanMetric,), {"name": name, "compare_name": compare_name, "mode": mode})
    register_metric(name)(cls)


for _compare in COMPARISONS:
    _register(f"span_{_compare}", _compare, "strict")
    _register(f"quasi_{_compare}", _compare, "quasi")
