"""Reading judge replies: FastChat's rules, Japanese forms, and failures with reasons."""

from __future__ import annotations

import pytest

from hyoka.judge.parse import parse_rating, parse_verdict

GPT4_EN = (
    "The assistant's answer is accurate and well organised. It lists the causes, explains each with an "
    "example and ends with a short summary. It could mention more recent research.\n\nRating: [[8]]"
)
GPT4_JA = (
    "アシスタントの回答は質問に的確に答えており、具体例も適切です。ただし、二つ目の段落に事実の誤りが"
    "あります（東京タワーの高さは333mです）。\n\n評価：[[6]]"
)


@pytest.mark.parametrize(
    ("reply", "rating", "rule"),
    [
        (GPT4_EN, 8.0, "double_bracket"),
        (GPT4_JA, 6.0, "double_bracket"),
        # full-width brackets and digits (NFKC)
        ("説明は丁寧ですが、計算に誤りがあります。\n評価：［［３］］", 3.0, "double_bracket"),
        ("評価: [[９]]", 9.0, "double_bracket"),
        # decimals, as FastChat's \d+\.?\d*
        ("Mostly correct. Rating: [[7.5]]", 7.5, "double_bracket"),
        ("Rating: [[8.]]", 8.0, "double_bracket"),
        ("評価：［［８．５］］", 8.5, "double_bracket"),
        # FastChat's backup: single brackets when there are no double ones
        ("The answer is fine.\nRating: [6]", 6.0, "single_bracket"),
        # double brackets win even when a single-bracket number comes first
        ("As noted in [1], the answer is wrong.\nRating: [[2]]", 2.0, "double_bracket"),
        # hyoka's fallbacks, only when FastChat finds nothing
        ("説明…\n[[評価：7]]", 7.0, "labelled"),
        ("Explanation...\n[[Rating: 9/10]]", 9.0, "labelled"),
        ('Explanation...\n{"rating": 4}', 4.0, "json"),
        ("10点満点で評価します。\n評価：[[10]]", 10.0, "double_bracket"),
    ],
)
def test_ratings(reply: str, rating: float, rule: str) -> None:
    parsed = parse_rating(reply)
    assert parsed.ok and parsed.failure is None
    assert parsed.rating == rating
    assert parsed.rule == rule


def test_several_ratings_take_the_first_as_fastchat() -> None:
    reply = "Turn 1 deserves [[4]]. After reconsidering the second part, overall: [[7]]"
    parsed = parse_rating(reply)
    assert parsed.rating == 4.0
    assert parsed.all_ratings == (4.0, 7.0)


def test_fastchat_quirk_citation_in_single_brackets_is_a_rating() -> None:
    # FastChat's backup pattern reads "[1]" as a rating; kept for comparable scores
    parsed = parse_rating("The answer cites [1] but gives no final score.")
    assert parsed.rating == 1.0 and parsed.rule == "single_bracket"


@pytest.mark.parametrize(
    ("reply", "reason"),
    [
        ("", "empty_reply"),
        ("   \n", "empty_reply"),
        (None, "empty_reply"),
        ("The answer is good. Rating: 7/10", "no_rating"),
        ("評価：七", "no_rating"),
        ('Rating: "[[rating]]"', "placeholder_echo"),
        ('このフォーマットに従います："[[評価]]"', "placeholder_echo"),
        ("I'm sorry, but I cannot evaluate this response.", "refusal"),
        ("申し訳ありませんが、この回答を評価することはできません。", "refusal"),
        ("Rating: [[0]]", "out_of_range"),
        ("評価：[[11]]", "out_of_range"),
        ("As of [[2023]] the facts changed.", "out_of_range"),
    ],
)
def test_failures_have_a_reason(reply: str | None, reason: str) -> None:
    parsed = parse_rating(reply)
    assert not parsed.ok and parsed.rating is None
    assert parsed.failure == reason


def test_structured_mode_reads_json_first() -> None:
    reply = 'The first answer scored [[3]] in my draft.\n```json\n{"rating": 8}\n```'
    assert parse_rating(reply).rating == 3.0  # FastChat's rules first
    assert parse_rating(reply, prefer_json=True).rating == 8.0
    assert parse_rating('{"rating": "７"}', prefer_json=True).rating == 7.0
    assert parse_rating('{"rating": true}', prefer_json=True).failure == "no_rating"


@pytest.mark.parametrize(
    ("reply", "winner"),
    [
        ("Assistant A follows the instructions better.\n\n[[A]]", "A"),
        ("アシスタントBの回答の方が正確です。\n最終判定：[[B]]", "B"),
        ("Both answers are equally good. [[C]]", "tie"),
        ("最終判定：［［Ｂ］］", "B"),
    ],
)
def test_verdicts(reply: str, winner: str) -> None:
    parsed = parse_verdict(reply)
    assert parsed.ok and parsed.winner == winner


def test_verdict_precedence_is_fastchats() -> None:
    # FastChat checks [[A]] first, whatever the order in the reply
    parsed = parse_verdict("At first [[B]] seemed better, but on reflection [[A]].")
    assert parsed.winner == "A"
    assert parsed.all_verdicts == ("A", "B")


@pytest.mark.parametrize(
    ("reply", "reason"),
    [("", "empty_reply"), ("Assistant A is better.", "no_verdict"), ("申し訳ありませんが、判断できません。", "refusal")],
)
def test_verdict_failures(reply: str, reason: str) -> None:
    parsed = parse_verdict(reply)
    assert parsed.winner is None and parsed.failure == reason


@pytest.mark.parametrize(
    ("reply", "winner", "failure"),
    [
        # rakuda's jrank prompt: the verdict is the last digit (1: A, 2: B, 3: tie)
        ("アシスタント1の回答は正確で、2の回答は誤りを含みます。\n1", "A", None),
        ("どちらも良いが、アシスタント2の方が詳しい。\n\n２", "B", None),  # full-width (NFKC)
        ("甲乙つけがたい。\n3", "tie", None),
        ("1番目の回答は2019年の統計に基づく。", None, "out_of_range"),  # last digit 9
        ("どちらとも言えません。", None, "no_verdict"),
        ("", None, "empty_reply"),
    ],
)
def test_last_digit_verdicts(reply: str, winner: str | None, failure: str | None) -> None:
    parsed = parse_verdict(reply, output_format="last")
    assert (parsed.winner, parsed.failure) == (winner, failure)
