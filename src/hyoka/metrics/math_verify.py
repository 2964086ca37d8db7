"""Mathematical answers compared with math-verify (MATH-100 ja in the Swallow suite).

The gold is read as LaTeX (wrapped in ``$\\boxed{…}$`` when it is not already, as Swallow
does); the prediction is the model's whole answer, from which math-verify extracts a
``\\boxed{}`` expression first, then a final-answer LaTeX or plain expression. The two are
equal when math-verify finds them equal as numbers, expressions or sets, so
``\\frac{1}{2}``, ``0.5`` and ``1/2`` agree, and ``\\boxed{3\\text{ cm}}`` matches ``3``.
`float_rounding` is the number of decimals numbers are rounded to (Swallow: 5).
"""

from __future__ import annotations

import threading
from typing import Any, Sequence

from hyoka.errors import TaskConfigError
from hyoka.metrics.base import Metric, register_metric
from hyoka.metrics.exact_match import require_references


def _math_verify() -> Any:
    try:
        import math_verify
    except ImportError:
        raise TaskConfigError("metric 'math_verify' needs math-verify: pip install 'hyoka[swallow]'") from None
    return math_verify


def boxed_gold(answer: str) -> str:
    """The gold as LaTeX the extractor finds: ``$\\boxed{answer}$`` unless already boxed."""
    stripped = answer.strip()
    return stripped if stripped.startswith("$\\boxed") else f"$\\boxed{{{stripped}}}$"


@register_metric("math_verify")
class MathVerify(Metric):
    """1.0 when math-verify finds the prediction's final answer equal to a gold answer."""

    name = "math_verify"

    def __init__(self, *, float_rounding: int = 5, timeout_seconds: int = 5) -> None:
        mv = _math_verify()
        self._mv = mv
        self.float_rounding = float_rounding
        self.timeout_seconds = timeout_seconds
        self.gold_config = [mv.LatexExtractionConfig()]
        self.pred_config = [mv.ExprExtractionConfig(), mv.LatexExtractionConfig(boxed_match_priority=0)]

    def _timeout(self) -> int | None:
        # math-verify times out with signal.alarm, which only the main thread may use
        return self.timeout_seconds if threading.current_thread() is threading.main_thread() else None

    def sample(self, prediction: str, references: Sequence[str]) -> float:
        require_references(self.name, references)
        mv, timeout = self._mv, self._timeout()
        predicted = mv.parse(prediction, self.pred_config, parsing_timeout=timeout)
        if not predicted:
            return 0.0
        for reference in references:
            gold = mv.parse(boxed_gold(reference), self.gold_config, parsing_timeout=timeout)
            if gold and mv.verify(gold, predicted, float_rounding=self.float_rounding, timeout_seconds=timeout):
                return 1.0
        return 0.0
