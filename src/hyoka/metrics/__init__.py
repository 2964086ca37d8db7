"""Metrics. Importing this package registers every built-in metric."""

from hyoka.metrics.base import (
    METRICS,
    Metric,
    MetricValue,
    SampleScore,
    ScoreInput,
    ScoringContext,
    get_metric,
    mean_and_stderr,
    register_metric,
)
from hyoka.metrics import accuracy as _accuracy  # noqa: F401  (registration)
from hyoka.metrics import char_f1 as _char_f1  # noqa: F401  (registration)
from hyoka.metrics import code_exec as _code_exec  # noqa: F401  (registration)
from hyoka.metrics import correlation as _correlation  # noqa: F401  (registration)
from hyoka.metrics import exact_match as _exact_match  # noqa: F401  (registration)
from hyoka.metrics import llmjp_char_f1 as _llmjp_char_f1  # noqa: F401  (registration)
from hyoka.metrics import numeric as _numeric  # noqa: F401  (registration)
from hyoka.metrics import set_f1 as _set_f1  # noqa: F401  (registration)
from hyoka.metrics import judge as _judge  # noqa: F401  (registration)
from hyoka.metrics import ifeval as _ifeval  # noqa: F401  (registration: "ifeval")
from hyoka.metrics import quasi as _quasi  # noqa: F401  (registration)
# bleu/chrf, comet and math_verify import sacrebleu / unbabel-comet / math-verify only when a task uses them
from hyoka.metrics import bleu as _bleu  # noqa: F401  (registration)
from hyoka.metrics import comet as _comet  # noqa: F401  (registration; unbabel-comet only when used)
from hyoka.metrics import math_verify as _math_verify  # noqa: F401  (registration)
from hyoka.metrics import rouge_ja as _rouge_ja  # noqa: F401  (registration: rouge2)

__all__ = [
    "METRICS",
    "Metric",
    "MetricValue",
    "SampleScore",
    "ScoreInput",
    "ScoringContext",
    "get_metric",
    "mean_and_stderr",
    "register_metric",
]
