"""Corpus BLEU and chrF through sacrebleu (WMT20 en-ja / ja-en in the Swallow suite).

Scores are sacrebleu's, on its 0–100 scale. `tokenize` is sacrebleu's tokenizer name:
``ja-mecab`` (MeCab with IPAdic; `pip install 'hyoka[swallow]'`) for Japanese targets,
``13a`` (sacrebleu's default) for English. The per-sample value is the sentence score
(written into the samples file for reading); the task's value is the corpus score over
every scored sample, which is what `sacrebleu REF -i HYP -tok TOK` prints for the same
lines (tests/test_swallow_metrics.py checks this against sacrebleu's command line).
With `average: sentence` the task's value is instead the mean of the sentence scores, which is
how llm-jp-eval scores its MT tasks (`bleu_ja` / `bleu_en`).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Sequence

from hyoka.errors import TaskConfigError
from hyoka.metrics.base import Metric, MetricValue, SampleScore, ScoreInput, register_metric
from hyoka.metrics.exact_match import require_references


def _sacrebleu() -> Any:
    try:
        import sacrebleu
    except ImportError:
        raise TaskConfigError("BLEU/chrF need sacrebleu: pip install 'hyoka[swallow]'") from None
    return sacrebleu


@lru_cache(maxsize=8)
def _scorer(kind: str, tokenize: str) -> Any:
    sacrebleu = _sacrebleu()
    try:
        if kind == "bleu":
            # the corpus scorer is sacrebleu's command-line default; sentence scores use
            # effective order (sacrebleu's advice: short sentences lack 4-grams)
            corpus = sacrebleu.metrics.BLEU(tokenize=tokenize)
            return corpus, sacrebleu.metrics.BLEU(tokenize=tokenize, effective_order=True)
        chrf = sacrebleu.metrics.CHRF()
        return chrf, chrf
    except (RuntimeError, ImportError, AssertionError) as exc:
        raise TaskConfigError(
            f"metric '{kind}': tokenizer '{tokenize}' is not usable ({str(exc).strip().splitlines()[-1]}); "
            "for ja-mecab: pip install mecab-python3 ipadic"
        ) from None
    except (ValueError, KeyError):  # unknown tokenizer name
        names = ", ".join(sorted(sacrebleu.metrics.bleu._TOKENIZERS))
        raise TaskConfigError(f"metric '{kind}': unknown tokenize '{tokenize}' (sacrebleu has: {names})") from None


def _reference_streams(references: Sequence[Sequence[str]], metric: str) -> list[list[str]]:
    """sacrebleu wants one list per reference position; every item must have as many."""
    counts = {len(r) for r in references}
    if len(counts) != 1:
        raise ValueError(f"metric '{metric}': items have different numbers of references ({sorted(counts)})")
    return [list(stream) for stream in zip(*references)]


class _SacreMetric(Metric):
    kind = ""

    def __init__(self, *, tokenize: str = "13a", average: str = "corpus") -> None:
        if average not in ("corpus", "sentence"):
            raise TaskConfigError(f"metric '{self.kind}': average must be 'corpus' or 'sentence', not '{average}'")
        self.tokenize = tokenize
        self.average = average
        self.scorer, self.sentence_scorer = _scorer(self.kind, tokenize)

    def sample(self, prediction: str, references: Sequence[str]) -> float:
        require_references(self.name, references)
        return float(self.sentence_scorer.sentence_score(prediction, list(references)).score)

    def aggregate(self, items: Sequence[ScoreInput], scores: Sequence[SampleScore]) -> dict[str, MetricValue]:
        """The corpus score over every output of every scored document (pooled, like sacrebleu);
        with `average: sentence`, the mean of the documents' sentence scores."""
        if self.average == "sentence":
            return super().aggregate(items, scores)
        label = self.labels()[0]
        hypotheses = [p for item in items for p in item.predictions]
        references = [item.references for item in items for _ in item.predictions]
        if not hypotheses:
            return {label: MetricValue(float("nan"), None, 0)}
        corpus = self.scorer.corpus_score(hypotheses, _reference_streams(references, self.name))
        return {label: MetricValue(float(corpus.score), None, len(items))}


@register_metric("bleu")
class Bleu(_SacreMetric):
    """sacrebleu's corpus BLEU (0–100); `tokenize: ja-mecab` for Japanese targets."""

    name = "bleu"
    kind = "bleu"


@register_metric("chrf")
class Chrf(_SacreMetric):
    """sacrebleu's corpus chrF (0–100, character n-grams: no tokenizer involved)."""

    name = "chrf"
    kind = "chrf"

    def __init__(self, *, average: str = "corpus") -> None:
        super().__init__(tokenize="none", average=average)
