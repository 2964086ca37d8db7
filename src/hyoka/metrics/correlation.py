"""Pearson and Spearman correlation between predicted and gold scores (JSTS-style tasks).

These are corpus metrics: `sample` only parses the prediction into a float, and
`aggregate` correlates all of them with the gold scores.

Unparsable predictions are not dropped — dropping them would reward a model for
refusing to answer hard items. Like llm-jp-eval, which maps them to -2.0 (its
``parse_float`` fallback, below every score range in use), they count as
`unparsable_value` (default -2.0). `parser` chooses how a prediction is read:

- "number" (default): `parse_number` on the whole prediction ("４.５" → 4.5, "4点" is
  unparsable; put last_number in front to read "4点").
- "llmjp": llm-jp-eval's parse_float exactly: delete every character except 0-9 and
  ".", then float(); when that fails, -2.0. Note that it reads "-1" as 1 and "1から5で4"
  as 154.

A correlation that is undefined (constant predictions or golds) is 0.0, as in
llm-jp-eval. The standard error is the standard deviation of the correlation over
`bootstrap_samples` resamples of the items, drawn with a fixed `seed`.
"""

from __future__ import annotations

import math
import re
from typing import Callable, Literal, Sequence

import numpy as np

from hyoka.errors import TaskConfigError
from hyoka.metrics.base import Metric, MetricValue, SampleScore, ScoreInput, register_metric
from hyoka.metrics.exact_match import require_references
from hyoka.metrics.numeric import parse_reference_number
from hyoka.text.extract import parse_number

Parser = Literal["number", "llmjp"]
LLMJP_UNPARSABLE = -2.0


def llmjp_parse_float(text: str) -> float:
    """llm-jp-eval's parse_float: keep only 0-9 and ".", float(), else -2.0."""
    try:
        return float(re.sub(r"[^0-9.]", "", text))
    except ValueError:
        return LLMJP_UNPARSABLE


def pearson_rows(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Pearson r of each row pair of two (k, n) arrays; NaN where a row is constant."""
    dx = x - x.mean(axis=1, keepdims=True)
    dy = y - y.mean(axis=1, keepdims=True)
    denominator = np.sqrt((dx * dx).sum(axis=1) * (dy * dy).sum(axis=1))
    with np.errstate(invalid="ignore", divide="ignore"):
        r = (dx * dy).sum(axis=1) / denominator
    return np.clip(r, -1.0, 1.0)


def average_ranks(values: np.ndarray) -> np.ndarray:
    """1-based ranks with ties given their average rank (scipy's rankdata 'average')."""
    order = np.argsort(values, kind="mergesort")
    ordered = values[order]
    starts_group = np.concatenate(([True], ordered[1:] != ordered[:-1]))
    group_of = np.cumsum(starts_group) - 1
    starts = np.flatnonzero(starts_group)
    ends = np.concatenate((starts[1:], [len(values)]))
    ranks = np.empty(len(values), dtype=float)
    ranks[order] = ((starts + ends - 1) / 2 + 1)[group_of]
    return ranks


def spearman_rows(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Spearman rho of each row pair: Pearson r of the average ranks."""
    ranked_x = np.apply_along_axis(average_ranks, 1, x)
    ranked_y = np.apply_along_axis(average_ranks, 1, y)
    return pearson_rows(ranked_x, ranked_y)


def _zero_if_undefined(r: np.ndarray) -> np.ndarray:
    return np.where(np.isnan(r), 0.0, r)


class Correlation(Metric):
    """Shared parsing and aggregation; subclasses pick the correlation."""

    correlate: Callable[[np.ndarray, np.ndarray], np.ndarray]

    def __init__(
        self,
        *,
        parser: Parser = "number",
        unparsable_value: float = LLMJP_UNPARSABLE,
        bootstrap_samples: int = 1000,
        seed: int = 1234,
    ) -> None:
        if parser not in ("number", "llmjp"):
            raise TaskConfigError(f"metric '{self.name}': parser must be 'number' or 'llmjp', got {parser!r}")
        if not isinstance(bootstrap_samples, int) or bootstrap_samples < 0:
            raise TaskConfigError(f"metric '{self.name}': bootstrap_samples must be an integer >= 0")
        self.parser = parser
        self.unparsable_value = float(unparsable_value)
        self.bootstrap_samples = bootstrap_samples
        self.seed = seed

    def sample(self, prediction: str, references: Sequence[str]) -> float:
        """The prediction as a float; NaN when it is not a number (parser "number")."""
        require_references(self.name, references)
        if self.parser == "llmjp":
            return llmjp_parse_float(prediction)
        value = parse_number(prediction)
        return math.nan if value is None else value

    def aggregate(self, items: Sequence[ScoreInput], scores: Sequence[SampleScore]) -> dict[str, MetricValue]:
        """Correlation of the documents' values (unparsable → `unparsable_value`) with the
        first reference of each document; pooled, so it overrides the mean."""
        label = self.labels()[0]
        values = [s.values[label] for s in scores]
        return {label: self.correlation(values, [item.references for item in items])}

    def correlation(self, values: Sequence[float], references: Sequence[Sequence[str]]) -> MetricValue:
        n = len(values)
        if n < 2:
            return MetricValue(math.nan, None, n)
        predicted = np.array([self.unparsable_value if math.isnan(v) else v for v in values], dtype=float)
        gold = np.array([parse_reference_number(self.name, refs[0]) for refs in references], dtype=float)
        value = float(_zero_if_undefined(self.correlate(predicted[None, :], gold[None, :]))[0])
        return MetricValue(value, self._bootstrap_stderr(predicted, gold), n)

    def _bootstrap_stderr(self, predicted: np.ndarray, gold: np.ndarray) -> float | None:
        if self.bootstrap_samples < 2:
            return None
        rng = np.random.default_rng(self.seed)
        rows = rng.integers(0, len(predicted), size=(self.bootstrap_samples, len(predicted)))
        resampled = _zero_if_undefined(self.correlate(predicted[rows], gold[rows]))
        return float(np.std(resampled, ddof=1))


@register_metric("pearson")
class Pearson(Correlation):
    name = "pearson"
    correlate = staticmethod(pearson_rows)


@register_metric("spearman")
class Spearman(Correlation):
    name = "spearman"
    correlate = staticmethod(spearman_rows)
