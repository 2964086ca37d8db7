"""Character F1 (SQuAD's token F1 with characters as tokens, as used for JSQuAD)."""

from __future__ import annotations

import unicodedata
from collections import Counter
from typing import Sequence

from hyoka.metrics.base import Metric, register_metric
from hyoka.metrics.exact_match import require_references
from hyoka.text.normalize import normalize_answer


def f1_characters(text: str) -> list[str]:
    """The characters char_f1 compares: normalised (NFKC, lower-cased, unwrapped, trailing
    punctuation dropped), then without whitespace and punctuation (Unicode category P*),
    so "「東京都」。" and "東京 都" both give ['東', '京', '都']."""
    normalised = normalize_answer(text, strip_trailing_punct=True, lowercase=True)
    return [c for c in normalised if not c.isspace() and not unicodedata.category(c).startswith("P")]


def char_f1_score(prediction: str, reference: str) -> float:
    """Multiset-overlap F1 of `f1_characters`; two empty answers agree (1.0), one empty
    answer scores 0.0."""
    return multiset_f1(f1_characters(prediction), f1_characters(reference))


def multiset_f1(predicted: Sequence[str], gold: Sequence[str]) -> float:
    """SQuAD's F1 of two token lists (here characters): multiset overlap; two empty lists
    agree (1.0), one empty list scores 0.0."""
    if not predicted or not gold:
        return 1.0 if predicted == gold else 0.0
    overlap = sum((Counter(predicted) & Counter(gold)).values())
    if overlap == 0:
        return 0.0
    precision = overlap / len(predicted)
    recall = overlap / len(gold)
    return 2 * precision * recall / (precision + recall)


@register_metric("char_f1")
class CharF1(Metric):
    """SQuAD/JGLUE-style character F1, the best over the references."""

    name = "char_f1"

    def sample(self, prediction: str, references: Sequence[str]) -> float:
        require_references(self.name, references)
        return max(char_f1_score(prediction, ref) for ref in references)
