"""Swallow-suite metrics: BLEU/chrF against sacrebleu's command line, math-verify, answer spans."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from hyoka.errors import DatasetError, TaskConfigError
from hyoka.metrics import get_metric
from hyoka.metrics.base import ScoreInput, ScoringContext
from hyoka.text.answer_span import answer_span
from hyoka.text.extract import build_extractor

from conftest import import_or_require

# written for this test: hypotheses of varied quality against one reference each
JA_REFS = [
    "今日は天気が良いので、公園を散歩した。",
    "彼はその会議で新しい計画を発表した。",
    "東京は日本の首都であり、人口が最も多い都市だ。",
    "この本は子供から大人まで楽しめる。",
    "駅までの道を教えていただけますか。",
]
JA_HYPS = [
    "今日は天気がいいので、公園を散歩しました。",
    "彼は会議で新しい計画を発表した。",
    "東京は日本の首都で、最も人口の多い都市である。",
    "この本は大人も楽しめる。",
    "",
]
EN_REFS = [
    "The weather was nice today, so I took a walk in the park.",
    "He announced a new plan at the meeting.",
    "Tokyo is the capital of Japan and its most populous city.",
    "This book can be enjoyed by children and adults alike.",
    "Could you tell me the way to the station?",
]
EN_HYPS = [
    "The weather is good today, so I walked in the park.",
    "He announced the new plan at that meeting.",
    "Tokyo is Japan's capital and the city with the largest population.",
    "Children and adults can enjoy this book.",
    "Can you tell me how to get to the station?",
]


def sacrebleu_cli(tmp_path: Path, hyps: list[str], refs: list[str], *args: str) -> float:
    (tmp_path / "hyp.txt").write_text("\n".join(hyps) + "\n", encoding="utf-8")
    (tmp_path / "ref.txt").write_text("\n".join(refs) + "\n", encoding="utf-8")
    out = subprocess.run(
        [sys.executable, "-m", "sacrebleu", str(tmp_path / "ref.txt"), "-i", str(tmp_path / "hyp.txt"), "-b", "-w", "6", *args],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return float(out.stdout.strip())


def corpus(metric_name: str, hyps: list[str], refs: list[str], **params: object) -> float:
    """The task value over documents whose one output is hyps[i] (the scorer's path)."""
    metric = get_metric(metric_name, **params)
    items = [ScoreInput("t", i, {}, "", [r], [h], [h]) for i, (h, r) in enumerate(zip(hyps, refs))]
    scores = metric.score_batch(items, ScoringContext())
    return metric.aggregate(items, scores)[metric_name].value


@pytest.mark.parametrize(
    "metric,hyps,refs,params,cli",
    [
        ("bleu", JA_HYPS, JA_REFS, {"tokenize": "ja-mecab"}, ["-m", "bleu", "-tok", "ja-mecab"]),
        ("bleu", EN_HYPS, EN_REFS, {}, ["-m", "bleu"]),
        ("chrf", JA_HYPS, JA_REFS, {}, ["-m", "chrf"]),
        ("chrf", EN_HYPS, EN_REFS, {}, ["-m", "chrf"]),
    ],
)
def test_corpus_score_equals_sacrebleu_command_line(
    tmp_path: Path, metric: str, hyps: list[str], refs: list[str], params: dict, cli: list[str]
) -> None:
    import_or_require("sacrebleu", "pip install 'hyoka[swallow]'")
    import_or_require("MeCab", "pip install mecab-python3 ipadic")
    ours = corpus(metric, hyps, refs, **params)
    assert 0 < ours < 100
    assert ours == pytest.approx(sacrebleu_cli(tmp_path, hyps, refs, *cli), abs=1e-6)


def test_ja_mecab_differs_from_default_tokenizer_on_japanese() -> None:
    # without MeCab a Japanese sentence is one "word": the tokenizer must really be in use
    assert corpus("bleu", JA_HYPS, JA_REFS, tokenize="ja-mecab") != pytest.approx(corpus("bleu", JA_HYPS, JA_REFS))


def test_unknown_tokenizer_is_a_config_error() -> None:
    with pytest.raises(TaskConfigError, match="unknown tokenize 'mecab'"):
        get_metric("bleu", tokenize="mecab")


@pytest.mark.parametrize(
    "output,gold,expected",
    [
        ("よって答えは $\\boxed{\\frac{1}{2}}$ です。", "0.5", 1.0),  # fraction vs decimal
        ("回答: $\\boxed{0.5}$", "\\frac{1}{2}", 1.0),
        ("回答: $\\boxed{\\dfrac{3}{4}}$", "\\frac34", 1.0),  # \dfrac and brace-less \frac
        ("回答: $\\boxed{\\frac{2}{3}}$", "\\frac{3}{2}", 0.0),
        ("回答: $\\boxed{3\\text{ cm}}$", "3", 1.0),  # units
        ("回答: $\\boxed{12\\,\\mathrm{m}^2}$", "12", 1.0),
        ("回答: $\\boxed{50\\%}$", "50", 1.0),
        ("回答: $\\boxed{\\sqrt{2}/2}$", "\\frac{\\sqrt{2}}{2}", 1.0),  # LaTeX expressions
        ("回答: $\\boxed{x^2+2x+1}$", "(x+1)^2", 1.0),
        ("回答: $\\boxed{(1, 2)}$", "(1,2)", 1.0),
        ("途中で 5 が出るが、最終的に $\\boxed{7}$", "7", 1.0),  # boxed wins over other numbers
        ("最後の行: $\\boxed{7}$", "8", 0.0),
        ("答えは 42 です。", "42", 1.0),  # no box: the plain expression
        ("わかりません", "42", 0.0),
        ("回答: $\\boxed{42}$", "$\\boxed{42}$", 1.0),  # gold already boxed (Swallow's form)
    ],
)
def test_math_verify(output: str, gold: str, expected: float) -> None:
    import_or_require("math_verify", "pip install 'hyoka[swallow]'")
    assert get_metric("math_verify").sample(output, [gold]) == expected


@pytest.mark.parametrize(
    "output,strict,quasi",
    [
        ("考えます。\n回答: $\\boxed{東京都}$", "東京都", "東京都"),
        ("回答: $\\boxed{\\text{YES}}$", "YES", "YES"),
        ("まず…。答えは大阪府です。", "大阪府", "大阪府"),
        ("【解答】: 「ＮＯ」", "「ＮＯ」", "NO"),
        ("はい。理由は…", "はい。理由は…", "YES"),
        ("東京です。", "東京です。", "東京"),
        ("", "", ""),
    ],
)
def test_answer_span_strict_and_quasi(output: str, strict: str, quasi: str) -> None:
    assert answer_span(output) == strict
    assert answer_span(output, mode="quasi") == quasi
    assert build_extractor([{"name": "answer_span", "mode": "quasi"}])(output) == quasi


def test_open_qa_metrics_strict_and_quasi() -> None:
    output, gold = "はい。理由は…", ["YES"]
    scores = {
        name: get_metric(name).sample(output, gold)
        for name in ("span_exact_match", "quasi_exact_match", "span_char_f1", "quasi_char_f1")
    }
    assert scores == {"span_exact_match": 0.0, "quasi_exact_match": 1.0, "span_char_f1": 0.0, "quasi_char_f1": 1.0}
    # character F1 on the raw span (no normalisation in strict mode): 東京都 vs 東京 → 0.8
    assert get_metric("span_char_f1").sample("回答: $\\boxed{東京都}$", ["東京"]) == pytest.approx(0.8)
    assert get_metric("span_llmjp_char_f1").sample("回答: $\\boxed{東京都}$", ["東京都"]) == 1.0
    assert get_metric("quasi_llmjp_char_f1").sample("「東京都」です。", ["東京都"]) == 1.0
    with pytest.raises(TaskConfigError, match="mode must be"):
        build_extractor([{"name": "answer_span", "mode": "loose"}])


def test_comet_settings_are_one_line_errors(tmp_path: Path) -> None:
    with pytest.raises(TaskConfigError, match=r"point it to a COMET checkpoint with `\{name: comet, model: PATH, source: FIELD\}`"):
        get_metric("comet")
    with pytest.raises(TaskConfigError, match=r"add `source: FIELD`, the document field with the source sentence \(wmt20_en_ja: en"):
        get_metric("comet", model="/models/wmt22-comet-da/checkpoints/model.ckpt")
    with pytest.raises(TaskConfigError, match="model /nonexistent/model.ckpt is not a file"):
        get_metric("comet", model="/nonexistent/model.ckpt", source="en").check(ScoringContext())
    metric = get_metric("comet", model=str(tmp_path / "model.ckpt"), source="ja")
    with pytest.raises(DatasetError, match=r"^metric 'comet': document 3 of task 't' has no field 'ja' \(fields: en\); fix the metric's source:$"):
        metric.triples([ScoreInput("t", 3, {"en": "Hello."}, "", ["こんにちは。"], ["こんにちは。"], ["こんにちは。"])])


COMET_TASK = """\
name: my_mt
language: multi
dataset:
  format: jsonl
  splits: {test: {path: pairs.jsonl}}
  eval_split: test
formulation: generate
prompt: {doc_to_text: "Translate: {{ en }}\\n", doc_to_target: "{{ ja }}"}
generation: {max_tokens: 8}
metrics:
  - {name: comet, model: CHECKPOINT, source: english}
"""


def test_a_wrong_comet_source_stops_the_run_before_any_model_call(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from hyoka.cli import main

    (tmp_path / "model.ckpt").write_bytes(b"")  # a file: the path check passes; the source is what is wrong
    (tmp_path / "pairs.jsonl").write_text('{"en": "Hello.", "ja": "こんにちは。"}\n', encoding="utf-8")
    (tmp_path / "my_mt.yaml").write_text(COMET_TASK.replace("CHECKPOINT", str(tmp_path / "model.ckpt")), encoding="utf-8")
    code = main(["run", "mock:", "--tasks", "my_mt", "--include-path", str(tmp_path), "--output", str(tmp_path / "run"), "--quiet"])
    err = capsys.readouterr().err.strip().splitlines()
    # was found only when scoring, after every translation (and, without unbabel-comet, not even then)
    assert code == 2 and err == ["hyoka: error: metric 'comet': document 0 of task 'my_mt' has no field 'english' (fields: en, ja); fix the metric's source:"]
    assert not (tmp_path / "run" / "samples_my_mt.jsonl").exists()


def test_span_metrics_read_the_raw_answer_not_the_extracted_one() -> None:
    # an extractor chain in front (here one that kept only "X") must not change the span
    item = ScoreInput("t", 0, {}, "", ["東京"], ["X"], ["考えた。\n回答: $\\boxed{東京}$"])
    for name in ("span_exact_match", "quasi_exact_match"):
        assert get_metric(name).score_batch([item], ScoringContext())[0].values == {name: 1.0}
