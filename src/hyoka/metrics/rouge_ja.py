"""ROUGE-2 for Japanese as llm-jp-eval scores XL-Sum (its `rouge2` metric).

llm-jp-eval computes ROUGE with Google's `rouge-score` package and splits Japanese into
words with the tokenizer sacrebleu uses for Japanese (MeCab + IPAdic, `ja-mecab`); each
summary's F-measure is put on a 0-100 scale. The same libraries are used here
(`pip install 'hyoka[jaster]'`). The task's value is the mean over documents; llm-jp-eval
reports the median of rouge-score's bootstrap resampling of that mean (unseeded, so it moves a
little from run to run), which estimates the same number.

`scale` multiplies every value: llm-jp-eval's category average uses ROUGE-2 / 100 (its
`rouge2_scaling`), written `{name: rouge2, scale: 0.01, label: rouge2_scaling}`.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Sequence

from hyoka.errors import TaskConfigError
from hyoka.metrics.base import Metric, register_metric
from hyoka.metrics.exact_match import require_references


class _JapaneseWords:
    """rouge-score's tokenizer interface (`tokenize(text) -> list[str]`) over sacrebleu's ja-mecab."""

    def __init__(self, tokenizer: Any) -> None:
        self._tokenizer = tokenizer

    def tokenize(self, text: str) -> list[str]:
        return self._tokenizer(text).strip().split()


@lru_cache(maxsize=1)
def _scorer() -> Any:
    try:
        from rouge_score.rouge_scorer import RougeScorer
        from sacrebleu.tokenizers.tokenizer_ja_mecab import TokenizerJaMecab
    except ImportError:
        raise TaskConfigError("metric 'rouge2' needs rouge-score and sacrebleu: pip install 'hyoka[jaster]'") from None
    try:
        words = _JapaneseWords(TokenizerJaMecab())
    except (RuntimeError, ImportError) as exc:
        raise TaskConfigError(f"metric 'rouge2': MeCab is not usable ({exc}); pip install mecab-python3 ipadic") from None
    return RougeScorer(["rouge2"], tokenizer=words)


def rouge2_f(prediction: str, reference: str) -> float:
    """ROUGE-2 F-measure (0-100) of one summary against one reference, Japanese words."""
    return 100.0 * float(_scorer().score(reference, prediction)["rouge2"].fmeasure)


@register_metric("rouge2")
class Rouge2(Metric):
    """ROUGE-2 F (0-100, × `scale`) with MeCab words, the best over the references."""

    name = "rouge2"

    def __init__(self, *, scale: float = 1.0) -> None:
        if scale <= 0:
            raise TaskConfigError(f"metric 'rouge2': scale must be positive, not {scale}")
        self.scale = scale
        _scorer()  # a missing library is a task error before any model call

    def sample(self, prediction: str, references: Sequence[str]) -> float:
        require_references(self.name, references)
        return self.scale * max(rouge2_f(prediction, ref) for ref in references)
