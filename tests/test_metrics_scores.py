"""Per-sample and corpus metrics: values on Japanese answers, aggregation, and properties."""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np
import pytest

from conftest import import_or_require
from hypothesis import given, settings
from hypothesis import strategies as st

from hyoka.errors import DatasetError, TaskConfigError
from hyoka.metrics import METRICS, Metric, get_metric
from hyoka.metrics.base import ScoreInput, ScoringContext
from hyoka.metrics.char_f1 import char_f1_score, f1_characters
from hyoka.metrics.correlation import average_ranks, llmjp_parse_float
from hyoka.metrics.set_f1 import set_f1_score


def score(metric: Metric, predictions: Sequence[str], references: Sequence[Sequence[str]]):
    """The task-level value, through the scorer's path: score_batch, then aggregate."""
    items = [ScoreInput("t", i, {}, "", list(r), [p], [p]) for i, (p, r) in enumerate(zip(predictions, references))]
    scores = metric.score_batch(items, ScoringContext())
    return metric.aggregate(items, scores)[metric.labels()[0]]


def test_all_metrics_registered() -> None:
    expected = {"exact_match", "exact_match_normalized", "char_f1", "llmjp_char_f1", "set_f1", "numeric_equal"}
    assert expected | {"pearson", "spearman", "accuracy"} <= set(METRICS)


@pytest.mark.parametrize("name", ["exact_match", "exact_match_normalized", "char_f1", "llmjp_char_f1", "set_f1"])
def test_sample_without_reference_is_an_error(name: str) -> None:
    with pytest.raises(ValueError, match="no reference"):
        get_metric(name).sample("東京", [])


# --- exact match -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("prediction", "references", "expected"),
    [
        ("東京", ["東京"], 1.0),
        ("東京", ["大阪", "東京"], 1.0),
        ("東京 ", ["東京"], 0.0),
        ("「東京」", ["東京"], 0.0),
        ("ＡＢＣ", ["ABC"], 0.0),
    ],
)
def test_exact_match_is_raw(prediction: str, references: list[str], expected: float) -> None:
    assert get_metric("exact_match").sample(prediction, references) == expected


@pytest.mark.parametrize(
    ("prediction", "references", "expected"),
    [
        ("「東京」", ["東京"], 1.0),
        ("ＡＢＣ", ["ABC"], 1.0),
        ("  **東京都** ", ["東京都"], 1.0),
        ("東京\u3000都", ["東京 都"], 1.0),
        ("東京。", ["東京"], 0.0),
        ("東京都", ["東京"], 0.0),
        ("abc", ["ABC"], 0.0),
    ],
)
def test_exact_match_normalized(prediction: str, references: list[str], expected: float) -> None:
    assert get_metric("exact_match_normalized").sample(prediction, references) == expected


def test_exact_match_normalized_options() -> None:
    metric = get_metric("exact_match_normalized", strip_trailing_punct=True, lowercase=True)
    assert metric.sample("Tokyo。", ["tokyo"]) == 1.0
    assert get_metric("exact_match_normalized", strip_wrappers=False).sample("「東京」", ["東京"]) == 0.0


def test_exact_match_aggregate_mean_and_stderr() -> None:
    result = score(get_metric("exact_match"), ["東京", "大阪", "京都", "奈良"], [["東京"], ["大阪"], ["東京"], ["東京"]])
    assert result.value == 0.5
    assert result.n == 4
    assert result.stderr == pytest.approx(math.sqrt((4 * 0.25 / 3) / 4))


# --- char F1 ---------------------------------------------------------------------------------


def test_f1_characters_drop_space_punctuation_and_wrappers() -> None:
    assert f1_characters("「東京 都」。") == ["東", "京", "都"]
    assert f1_characters("Ｔｏｋｙｏ！") == list("tokyo")


@pytest.mark.parametrize(
    ("prediction", "reference", "expected"),
    [
        ("東京", "東京", 1.0),
        ("東京都", "東京", 0.8),  # P = 2/3, R = 1
        ("東京", "京都", 0.5),  # one shared character of two each
        ("とうきょう", "とうきょう", 1.0),
        ("東京都庁", "東京", 2 * 0.5 * 1 / 1.5),
        ("大阪", "東京", 0.0),
        ("「東京」。", "東京", 1.0),
        ("ＡＢ", "ab", 1.0),
        ("", "", 1.0),
        ("。", "", 1.0),
        ("東京", "", 0.0),
        ("", "東京", 0.0),
    ],
)
def test_char_f1_score(prediction: str, reference: str, expected: float) -> None:
    assert char_f1_score(prediction, reference) == pytest.approx(expected)


def test_char_f1_counts_repeated_characters_once_each() -> None:
    # multiset overlap: "ああ" shares one "あ" with "あい"
    assert char_f1_score("ああ", "あい") == pytest.approx(0.5)


def test_char_f1_takes_best_reference() -> None:
    assert get_metric("char_f1").sample("東京都", ["大阪", "東京都", "東京"]) == 1.0
    assert get_metric("char_f1").sample("東京都", ["大阪", "東京"]) == pytest.approx(0.8)


japanese = st.text(alphabet="東京都大阪府あいうアイウＡａ1１ 　。、「」", max_size=12)


@settings(max_examples=300, deadline=None)
@given(japanese, japanese)
def test_char_f1_symmetric_and_bounded(a: str, b: str) -> None:
    forward = char_f1_score(a, b)
    assert 0.0 <= forward <= 1.0
    assert forward == pytest.approx(char_f1_score(b, a))


@settings(max_examples=200, deadline=None)
@given(japanese)
def test_char_f1_identity(a: str) -> None:
    assert char_f1_score(a, a) == 1.0


# --- llm-jp-eval char_f1 (exactness against fuzzywuzzy is in test_metrics_llmjp_charf1.py) ----


@pytest.mark.parametrize(
    ("prediction", "reference", "expected"),
    [
        ("東京都", "東京", 0.8),
        ("東京", "東京", 1.0),
        ("徳川 家康", "家康 徳川", 1.0),  # tokens are sorted
        ("東京。", "東京", 1.0),  # punctuation becomes a space, then stripped
        ("", "", 1.0),
        ("東京", "", 0.0),
        ("ＡＢＣ", "abc", 0.0),  # no NFKC inside the metric
        ("ABC", "abc", 1.0),  # fuzzywuzzy lower-cases
    ],
)
def test_llmjp_char_f1_values(prediction: str, reference: str, expected: float) -> None:
    assert get_metric("llmjp_char_f1").sample(prediction, [reference]) == expected


def test_llmjp_char_f1_takes_best_reference() -> None:
    assert get_metric("llmjp_char_f1").sample("東京都", ["大阪", "東京"]) == 0.8


@settings(max_examples=200, deadline=None)
@given(japanese, japanese)
def test_llmjp_char_f1_symmetric_and_bounded(a: str, b: str) -> None:
    metric = get_metric("llmjp_char_f1")
    value = metric.sample(a, [b])
    assert 0.0 <= value <= 1.0
    assert value == metric.sample(b, [a])


# --- set F1 ----------------------------------------------------------------------------------


def llm_jp_eval_set_f1(prediction: str, reference: str) -> float:
    """llm-jp-eval's definition, written out independently of hyoka's implementation."""
    gold = [x.strip() for x in reference.split("\n")]
    predicted = list({x.strip() for x in prediction.split("\n")})
    hits = sum(1 if y in gold else 0 for y in predicted)
    precision, recall = hits / len(predicted), hits / len(gold)
    return 2 * precision * recall / (precision + recall) if precision + recall != 0 else 0


@pytest.mark.parametrize(
    ("prediction", "reference", "expected"),
    [
        ("東京\n大阪", "東京\n大阪", 1.0),
        ("大阪\n東京", "東京\n大阪", 1.0),  # order does not matter
        ("東京\n京都", "東京\n大阪", 0.5),
        (" 東京 \n大阪", "東京\n 大阪", 1.0),  # lines are stripped
        ("東京\n東京", "東京", 1.0),  # prediction lines are de-duplicated
        ("東京", "東京\n東京", 2 / 3),  # gold lines are not: recall 1/2
        ("東京", "東京\n大阪\n京都", 0.5),
        ("名古屋", "東京", 0.0),
        ("", "東京", 0.0),
        ("", "", 1.0),
        ("東京\n", "東京", 2 / 3),  # the empty line is a wrong prediction
    ],
)
def test_set_f1_score(prediction: str, reference: str, expected: float) -> None:
    assert set_f1_score(prediction, reference) == pytest.approx(expected)
    assert get_metric("set_f1").sample(prediction, [reference]) == pytest.approx(expected)


lines = st.lists(st.sampled_from(["東京", "大阪", " 京都", "", "奈良 ", "ＡＢＣ"]), max_size=5).map("\n".join)


@settings(max_examples=300, deadline=None)
@given(lines, lines)
def test_set_f1_matches_llm_jp_eval_and_is_bounded(prediction: str, reference: str) -> None:
    value = set_f1_score(prediction, reference)
    assert value == pytest.approx(llm_jp_eval_set_f1(prediction, reference))
    assert 0.0 <= value <= 1.0


# --- numeric_equal ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("prediction", "references", "expected"),
    [
        ("42", ["42"], 1.0),
        ("４２", ["42"], 1.0),
        ("1,000", ["1000"], 1.0),
        ("１，０００", ["1000"], 1.0),
        ("−5", ["-5"], 1.0),
        ("3/4", ["0.75"], 1.0),
        ("0.3333333", ["1/3"], 1.0),
        ("0.33", ["1/3"], 0.0),
        ("42.0", ["42"], 1.0),
        ("43", ["42"], 0.0),
        ("42個", ["42"], 0.0),
        ("", ["42"], 0.0),
        ("7", ["5", "7"], 1.0),
    ],
)
def test_numeric_equal(prediction: str, references: list[str], expected: float) -> None:
    assert get_metric("numeric_equal").sample(prediction, references) == expected


def test_numeric_equal_tolerance() -> None:
    assert get_metric("numeric_equal", abs_tol=0.01).sample("0.33", ["1/3"]) == 1.0
    with pytest.raises(TaskConfigError, match="numeric_equal"):
        get_metric("numeric_equal", rel_tol=-1)


def test_numeric_equal_bad_reference_is_a_dataset_error() -> None:
    with pytest.raises(DatasetError, match="not a number"):
        get_metric("numeric_equal").sample("42", ["四十二"])


# --- correlations ----------------------------------------------------------------------------


def test_llmjp_parse_float() -> None:
    assert llmjp_parse_float("3.5") == 3.5
    assert llmjp_parse_float("4点") == 4.0
    assert llmjp_parse_float("-1") == 1.0  # llm-jp-eval drops the sign
    assert llmjp_parse_float("1から5で4") == 154.0
    assert llmjp_parse_float("わからない") == -2.0
    assert llmjp_parse_float("1.2.3") == -2.0


def test_average_ranks_ties() -> None:
    assert average_ranks(np.array([10.0, 20.0, 10.0, 30.0])).tolist() == [1.5, 3.0, 1.5, 4.0]


GOLD = ["0.0", "1.2", "2.5", "3.1", "4.0", "5.0", "2.0", "3.3"]
PRED = ["0.4", "1.0", "2.0", "3.5", "3.9", "4.6", "2.9", "3.0"]


@pytest.mark.parametrize("name", ["pearson", "spearman"])
def test_correlation_matches_scipy(name: str) -> None:
    stats = import_or_require("scipy.stats")
    reference = {"pearson": stats.pearsonr, "spearman": stats.spearmanr}[name]
    result = score(get_metric(name), PRED, [[g] for g in GOLD])
    expected = reference([float(g) for g in GOLD], [float(p) for p in PRED])[0]
    assert result.value == pytest.approx(expected, abs=1e-12)
    assert result.n == len(GOLD)


def test_correlations_match_numpy_without_scipy() -> None:
    gold = [1.0, 2.0, 3.0, 4.0, 5.0]
    predicted = ["1", "1", "2", "5", "3"]
    pearson = score(get_metric("pearson"), predicted, [[str(g)] for g in gold]).value
    assert pearson == pytest.approx(np.corrcoef(gold, [1, 1, 2, 5, 3])[0, 1])
    # ranks written out by hand: the tied 1s share rank 1.5
    spearman = score(get_metric("spearman"), predicted, [[str(g)] for g in gold]).value
    assert spearman == pytest.approx(np.corrcoef([1, 2, 3, 4, 5], [1.5, 1.5, 3, 5, 4])[0, 1])


def test_pearson_known_value() -> None:
    # perfectly linear, then perfectly anti-linear
    assert score(get_metric("pearson"), ["2", "4", "6"], [["1"], ["2"], ["3"]]).value == pytest.approx(1.0)
    assert score(get_metric("pearson"), ["6", "4", "2"], [["1"], ["2"], ["3"]]).value == pytest.approx(-1.0)


def test_spearman_is_rank_based() -> None:
    assert score(get_metric("spearman"), ["1", "10", "100"], [["1"], ["2"], ["3"]]).value == pytest.approx(1.0)
    assert score(get_metric("pearson"), ["1", "10", "100"], [["1"], ["2"], ["3"]]).value < 0.99


@pytest.mark.parametrize("name", ["pearson", "spearman"])
def test_unparsable_predictions_count_as_minus_two(name: str) -> None:
    metric = get_metric(name)
    predictions = ["４.５", "わからない", "1", "3/2", "2点"]
    gold = [["4.4"], ["3.0"], ["1.1"], ["1.4"], ["2.2"]]
    values = [metric.sample(p, r) for p, r in zip(predictions, gold)]
    assert values[0] == 4.5 and math.isnan(values[1]) and values[3] == 1.5 and math.isnan(values[4])
    substituted = ["4.5", "-2", "1", "1.5", "-2"]
    expected = score(metric, substituted, gold).value
    assert score(metric, predictions, gold).value == pytest.approx(expected)


def test_unparsable_value_is_configurable() -> None:
    gold = [["1"], ["2"], ["3"], ["4"]]
    low = score(get_metric("pearson"), ["1", "2", "?", "4"], gold).value
    middle = score(get_metric("pearson", unparsable_value=3.0), ["1", "2", "?", "4"], gold).value
    assert middle == pytest.approx(1.0)
    assert low < 0.5


def test_llmjp_parser_reproduces_llm_jp_eval() -> None:
    stats = import_or_require("scipy.stats")
    predictions = ["4点", "-1", "わからない", "2.5", "3"]
    gold = ["4.0", "1.0", "3.0", "2.0", "3.5"]
    metric = get_metric("pearson", parser="llmjp")
    result = score(metric, predictions, [[g] for g in gold])
    expected = stats.pearsonr([float(g) for g in gold], [4.0, 1.0, -2.0, 2.5, 3.0])[0]
    assert result.value == pytest.approx(expected)


@pytest.mark.parametrize("name", ["pearson", "spearman"])
def test_constant_predictions_score_zero_like_llm_jp_eval(name: str) -> None:
    result = score(get_metric(name), ["3", "3", "3"], [["1"], ["2"], ["5"]])
    assert result.value == 0.0


@pytest.mark.parametrize("name", ["pearson", "spearman"])
def test_too_few_items(name: str) -> None:
    assert math.isnan(score(get_metric(name), ["3"], [["1"]]).value)
    assert score(get_metric(name), [], []).n == 0


@pytest.mark.parametrize("name", ["pearson", "spearman"])
def test_bootstrap_stderr_is_seeded(name: str) -> None:
    references = [[g] for g in GOLD]
    first = score(get_metric(name), PRED, references).stderr
    again = score(get_metric(name), PRED, references).stderr
    other_seed = score(get_metric(name, seed=7), PRED, references).stderr
    assert first is not None and 0.0 < first < 1.0
    assert first == again
    assert other_seed != first
    assert score(get_metric(name, bootstrap_samples=0), PRED, references).stderr is None


def test_correlation_bad_params() -> None:
    with pytest.raises(TaskConfigError, match="parser"):
        get_metric("pearson", parser="float")
    with pytest.raises(TaskConfigError, match="bootstrap_samples"):
        get_metric("spearman", bootstrap_samples=-1)


def test_correlation_bad_gold_is_a_dataset_error() -> None:
    metric = get_metric("pearson")
    with pytest.raises(DatasetError):
        score(metric, ["1", "2"], [["1"], ["高い"]])
