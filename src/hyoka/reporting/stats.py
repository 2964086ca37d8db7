"""Paired statistics for comparing two runs on the same documents.

Everything here is on per-document values: `a[i]` and `b[i]` are the two runs' scores of
document i. The difference reported is always mean(b) - mean(a).

- `paired_bootstrap`: percentile interval of the mean difference, resampling documents
  (so the pairing is kept: each resample draws whole documents).
- `mcnemar_exact`: for 0/1 scores, the exact two-sided binomial test on the discordant
  pairs (documents one run got right and the other wrong).
- `paired_permutation`: for other scores, a sign-flip permutation test of the mean
  difference (exact enumeration up to 2^16 non-zero pairs, Monte Carlo beyond).
- `holm` / `benjamini_hochberg`: adjusted p-values across tasks.

Seeds are fixed so a comparison printed twice prints the same numbers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np

DEFAULT_RESAMPLES = 2000
DEFAULT_SEED = 20240601


@dataclass(frozen=True)
class Interval:
    low: float
    high: float
    level: float

    def covers(self, value: float) -> bool:
        return self.low <= value <= self.high


def _diffs(a: Sequence[float], b: Sequence[float]) -> np.ndarray:
    if len(a) != len(b):
        raise ValueError(f"paired samples differ in length ({len(a)} vs {len(b)})")
    return np.asarray(b, dtype=float) - np.asarray(a, dtype=float)


def paired_bootstrap(
    a: Sequence[float],
    b: Sequence[float],
    *,
    level: float = 0.95,
    resamples: int = DEFAULT_RESAMPLES,
    seed: int = DEFAULT_SEED,
) -> Interval:
    """Percentile bootstrap interval of mean(b - a), resampling documents with replacement."""
    d = _diffs(a, b)
    n = len(d)
    if n == 0:
        return Interval(math.nan, math.nan, level)
    rng = np.random.default_rng(seed)
    # resample in chunks: 2000 x 20,000 documents would be 320 MB as one index matrix
    means = np.empty(resamples)
    chunk = max(1, 4_000_000 // n)
    for start in range(0, resamples, chunk):
        stop = min(resamples, start + chunk)
        idx = rng.integers(0, n, size=(stop - start, n))
        means[start:stop] = d[idx].mean(axis=1)
    alpha = (1 - level) / 2
    low, high = np.quantile(means, [alpha, 1 - alpha])
    return Interval(float(low), float(high), level)


def is_binary(values: Sequence[float]) -> bool:
    return all(v in (0.0, 1.0) for v in values)


def mcnemar_exact(a: Sequence[float], b: Sequence[float]) -> tuple[float, int, int]:
    """Exact McNemar test for 0/1 scores: (two-sided p, a-only right, b-only right).

    Under the null each discordant pair is equally likely to favour either run, so the
    count favouring b is Binomial(discordant, 1/2).
    """
    only_a = sum(1 for x, y in zip(a, b) if x == 1.0 and y == 0.0)
    only_b = sum(1 for x, y in zip(a, b) if x == 0.0 and y == 1.0)
    n = only_a + only_b
    if n == 0:
        return 1.0, 0, 0
    k = min(only_a, only_b)
    # two-sided: twice the smaller tail, capped at 1 (the distribution is symmetric)
    tail = sum(math.comb(n, i) for i in range(k + 1)) / 2**n
    return min(1.0, 2 * tail), only_a, only_b


def paired_permutation(
    a: Sequence[float], b: Sequence[float], *, resamples: int = 20000, seed: int = DEFAULT_SEED
) -> float:
    """Two-sided sign-flip permutation test of mean(b - a) = 0.

    Under the null the sign of each document's difference is exchangeable. Exact over all
    2^m sign patterns when the m non-zero differences are few; otherwise Monte Carlo with
    the observed pattern counted (so p is never 0).
    """
    d = _diffs(a, b)
    d = d[d != 0]
    m = len(d)
    if m == 0:
        return 1.0
    observed = abs(d.sum())
    tol = 1e-12 * max(1.0, observed)
    if m <= 16:
        signs = ((np.arange(2**m)[:, None] >> np.arange(m)) & 1) * 2 - 1
        totals = np.abs(signs @ d)
        return float(np.mean(totals >= observed - tol))
    rng = np.random.default_rng(seed)
    hits = 0
    chunk = max(1, 2_000_000 // m)
    for start in range(0, resamples, chunk):
        size = min(chunk, resamples - start)
        signs = rng.choice(np.array([-1.0, 1.0]), size=(size, m))
        hits += int(np.sum(np.abs(signs @ d) >= observed - tol))
    return (hits + 1) / (resamples + 1)


def holm(pvalues: Sequence[float]) -> list[float]:
    """Holm-Bonferroni adjusted p-values (family-wise error), in the input order."""
    m = len(pvalues)
    order = sorted(range(m), key=lambda i: pvalues[i])
    adjusted = [0.0] * m
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * pvalues[i]))
        adjusted[i] = running
    return adjusted


def benjamini_hochberg(pvalues: Sequence[float]) -> list[float]:
    """Benjamini-Hochberg adjusted p-values (false discovery rate), in the input order."""
    m = len(pvalues)
    order = sorted(range(m), key=lambda i: pvalues[i], reverse=True)
    adjusted = [0.0] * m
    running = 1.0
    for k, i in enumerate(order):
        rank = m - k
        running = min(running, pvalues[i] * m / rank)
        adjusted[i] = min(1.0, running)
    return adjusted


CORRECTIONS = {"holm": holm, "bh": benjamini_hochberg}
