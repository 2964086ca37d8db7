"""MT-Bench scores: each item's value (the median of its judge repeats; pairwise, the
outcome of both orders), then means per category, per turn and overall with stderr, a
bootstrap interval over questions and the failures beside each."""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Sequence

import numpy as np

from hyoka.mtbench.items import UNANSWERED, ItemInfo, Unjudged
from hyoka.judge.judge import OUTCOME_VALUE, Judgment, game_outcome
from hyoka.mtbench.data import CATEGORIES
from hyoka.metrics.base import mean_and_stderr


@dataclass
class ItemScore:
    """One (question, sample, turn): its value (median over repeats) or why it has none."""

    question_id: int
    category: str
    sample: int
    turn: int
    value: float | None
    failure: str | None
    repeats: list[float | None]
    outcome: str | None = None  # pairwise: win / loss / tie of the median repeat


def headline_key(mode: str) -> str:
    """The entry reported as the score: the mean rating, or the adjusted win rate."""
    return "score" if mode == "single" else "win_rate_adjusted"


def count(values: Iterable[str]) -> dict[str, int]:
    """How often each value occurs, in order of first appearance."""
    out: dict[str, int] = {}
    for v in values:
        out[v] = out.get(v, 0) + 1
    return out


def _unjudged_scores(unjudged: Sequence[Unjudged]) -> list[ItemScore]:
    return [ItemScore(u.info.question_id, u.info.category, u.info.sample, u.info.turn, None, u.reason, []) for u in unjudged]


def score_single(judgments: Sequence[Judgment], infos: Mapping[str, ItemInfo], unjudged: Sequence[Unjudged]) -> list[ItemScore]:
    by_key: dict[str, list[Judgment]] = {}
    for j in judgments:
        by_key.setdefault(j.key, []).append(j)
    scores = []
    for key, group in by_key.items():
        info = infos[key]
        ratings = [j.rating for j in sorted(group, key=lambda j: j.repeat)]
        valid = [r for r in ratings if r is not None]
        failure = None if valid else _first_failure(group)
        value = statistics.median(valid) if valid else None
        scores.append(ItemScore(info.question_id, info.category, info.sample, info.turn, value, failure, ratings))
    return scores + _unjudged_scores(unjudged)


def _first_failure(group: Sequence[Judgment]) -> str:
    reasons = [j.failure for j in group if j.failure]
    return (reasons[0] or "unknown").split(":", 1)[0] if reasons else "unknown"


def score_pairwise(judgments: Sequence[Judgment], infos: Mapping[str, ItemInfo], unjudged: Sequence[Unjudged]) -> list[ItemScore]:
    games: dict[tuple[int, int, int], dict[str, dict[int, Judgment]]] = {}
    category: dict[tuple[int, int, int], str] = {}
    for j in judgments:
        info = infos[j.key]
        key = (info.question_id, info.sample, info.turn)
        category[key] = info.category
        games.setdefault(key, {}).setdefault(info.game or "g1", {})[j.repeat] = j
    scores = []
    for key, by_game in games.items():
        repeats = sorted(set(by_game.get("g1", {})) | set(by_game.get("g2", {})))
        values: list[float | None] = []
        failure = None
        for r in repeats:
            g1, g2 = by_game.get("g1", {}).get(r), by_game.get("g2", {}).get(r)
            if g1 is None or g2 is None or not g1.ok or not g2.ok:
                values.append(None)
                failure = failure or _first_failure([g for g in (g1, g2) if g is not None and not g.ok] or [])
                continue
            values.append(OUTCOME_VALUE[game_outcome(g1.winner or "", g2.winner or "")])
        valid = [v for v in values if v is not None]
        value = statistics.median(valid) if valid else None
        outcome = None if value is None else ("win" if value > 0.5 else "loss" if value < 0.5 else "tie")
        qid, sample, turn = key
        scores.append(ItemScore(qid, category[key], sample, turn, value, None if valid else failure, values, outcome))
    return scores + _unjudged_scores(unjudged)


def bootstrap_interval(scores: Sequence[ItemScore], *, resamples: int, seed: int = 0) -> tuple[float, float] | None:
    """95% percentile interval of the mean, resampling whole questions (a question's turns
    and samples are not independent)."""
    by_question: dict[int, list[float]] = {}
    for s in scores:
        if s.value is not None:
            by_question.setdefault(s.question_id, []).append(s.value)
    if len(by_question) < 2 or resamples < 1:
        return None
    sums = np.array([sum(v) for v in by_question.values()])
    counts = np.array([len(v) for v in by_question.values()])
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, len(sums), size=(resamples, len(sums)))
    means = sums[picks].sum(axis=1) / counts[picks].sum(axis=1)
    low, high = np.percentile(means, [2.5, 97.5])
    return float(low), float(high)


def _sample_std(scores: Sequence[ItemScore]) -> float | None:
    """Swallow's spread: the standard deviation, across samples, of each sample's mean."""
    by_sample: dict[int, list[float]] = {}
    for s in scores:
        if s.value is not None:
            by_sample.setdefault(s.sample, []).append(s.value)
    if len(by_sample) < 2:
        return None
    return float(statistics.stdev(sum(v) / len(v) for v in by_sample.values()))


def summarise(scores: Sequence[ItemScore], *, scale: float, resamples: int) -> dict[str, Any]:
    """Mean, its /10 (or rate) form, stderr, bootstrap interval and the failure count."""
    values = [s.value for s in scores if s.value is not None]
    m = mean_and_stderr(values)
    failures = count(s.failure for s in scores if s.value is None and s.failure)
    mean = None if m.n == 0 else m.value
    entry: dict[str, Any] = {
        "score": mean,
        "score_10": None if mean is None else mean / scale,
        "stderr": m.stderr,
        "ci95": bootstrap_interval(scores, resamples=resamples),
        "n": m.n,
        "failed": sum(failures.values()),
        # failed = unanswered (nothing to judge) + judge_failed (the judge gave no usable verdict)
        "unanswered": sum(v for k, v in failures.items() if k in UNANSWERED),
        "judge_failed": sum(v for k, v in failures.items() if k not in UNANSWERED),
        "failures": failures,
    }
    spread = _sample_std(scores)
    if spread is not None:
        entry["sample_std"] = spread
    return entry


def _pairwise_counts(scores: Sequence[ItemScore]) -> dict[str, Any]:
    counts = {"win": 0, "loss": 0, "tie": 0}
    for s in scores:
        if s.outcome:
            counts[s.outcome] += 1
    total = sum(counts.values())
    rates = {
        "win_rate": counts["win"] / total if total else None,
        "loss_rate": counts["loss"] / total if total else None,
        "win_rate_adjusted": (counts["win"] + 0.5 * counts["tie"]) / total if total else None,
    }
    return {**counts, **rates}


def aggregate(scores: Sequence[ItemScore], *, mode: str, resamples: int) -> dict[str, Any]:
    """Overall, per turn, per category (and category × turn)."""
    scale = 10.0 if mode == "single" else 1.0

    def block(subset: Sequence[ItemScore]) -> dict[str, Any]:
        entry = summarise(subset, scale=scale, resamples=resamples)
        if mode == "pairwise":
            entry.update(_pairwise_counts(subset))
        return entry

    turns = sorted({s.turn for s in scores})
    present = [c for c in CATEGORIES if any(s.category == c for s in scores)]
    present += sorted({s.category for s in scores} - set(CATEGORIES))
    return {
        "overall": block(scores),
        "turns": {str(t): block([s for s in scores if s.turn == t]) for t in turns},
        "categories": {
            c: {
                **block([s for s in scores if s.category == c]),
                "turns": {str(t): block([s for s in scores if s.category == c and s.turn == t]) for t in turns},
            }
            for c in present
        },
    }


def judge_calls(judgments: Sequence[Judgment]) -> dict[str, Any]:
    """The judge's calls: how many, failed and retried, and the failures by reason."""
    return {
        "judgments": len(judgments),
        "failed": sum(1 for j in judgments if not j.ok),
        "retried": sum(1 for j in judgments if j.attempts > 1),
        "failures": count(j.failure.split(":", 1)[0] for j in judgments if j.failure),
    }
