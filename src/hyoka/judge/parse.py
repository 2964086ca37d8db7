"""Reading a judge's reply: a 1–10 rating, or a pairwise verdict.

The rules follow FastChat's llm_judge so that scores stay comparable with published
MT-Bench numbers:

- rating: the FIRST ``[[n]]`` in the reply; when there is none, the FIRST ``[n]``
  (``n`` is ``\\d+\\.?\\d*``, so "7", "7." and "7.5" are ratings). Several ratings in one
  reply: FastChat takes the first, and so do we (the others are kept in `all_ratings`).
- verdict: ``[[A]]`` anywhere → A, else ``[[B]]`` → B, else ``[[C]]`` → tie (FastChat's
  precedence, even when a reply contains several).
- verdict, output format ``last`` (rakuda's jrank prompt): the LAST digit in the reply,
  1 → A, 2 → B, 3 → tie; any other last digit is a failure (as jrank's last-digit rule).

Before matching, the reply is NFKC-normalised so that full-width brackets and digits
(``［［８］］``, ``［［Ａ］］``) read like ASCII — Japanese judges write them. Two
additions, used only when FastChat's patterns find nothing (so they never change a score
FastChat would have given):

- a labelled rating inside double brackets: ``[[評価：8]]``, ``[[Rating: 8]]``;
- a JSON object ``{"rating": 8}`` (the judge's structured-output mode).

A reply without a usable rating is a failure with a reason (FastChat writes -1): empty
reply, the placeholder echoed back (``[[評価]]`` / ``[[rating]]``), a refusal, a number
outside the scale, or simply no rating.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Literal

from hyoka.text.normalize import nfkc

Winner = Literal["A", "B", "tie"]

#: FastChat's one_score_pattern and one_score_pattern_backup
_DOUBLE = re.compile(r"\[\[(\d+\.?\d*)\]\]")
_SINGLE = re.compile(r"\[(\d+\.?\d*)\]")
#: hyoka's fallback: a label before the number inside double brackets
_LABELLED = re.compile(r"\[\[\s*(?:評価|評点|点数|スコア|rating|score)\s*[:=]?\s*(\d+\.?\d*)\s*(?:/\s*10)?\s*\]\]", re.IGNORECASE)
_PLACEHOLDER = re.compile(r"\[\[\s*(?:評価|rating|評点)\s*\]\]", re.IGNORECASE)
_JSON_OBJECT = re.compile(r"\{[^{}]*\}", re.DOTALL)

#: phrases that mark a reply as a refusal rather than a forgotten format
_REFUSALS = (
    "i cannot",
    "i can't",
    "i can not",
    "i'm unable",
    "i am unable",
    "i'm sorry",
    "i am sorry",
    "as an ai",
    "申し訳ありませんが",
    "申し訳ございませんが",
    "お答えできません",
    "評価できません",
    "評価することはできません",
    "判断できません",
    "回答できません",
)


@dataclass(frozen=True)
class RatingParse:
    """What a reply says: the rating (None on failure) and why it failed."""

    rating: float | None
    failure: str | None = None
    #: which rule found the rating: "double_bracket", "single_bracket", "labelled", "json"
    rule: str | None = None
    #: every rating the winning rule found, in order (the first is used, as in FastChat)
    all_ratings: tuple[float, ...] = field(default=())

    @property
    def ok(self) -> bool:
        return self.rating is not None


@dataclass(frozen=True)
class VerdictParse:
    winner: Winner | None
    failure: str | None = None
    #: every distinct verdict present; more than one means the judge hedged
    all_verdicts: tuple[str, ...] = field(default=())

    @property
    def ok(self) -> bool:
        return self.winner is not None


def normalise_reply(reply: str) -> str:
    """NFKC: ［［８］］ → [[8]], ８．５ → 8.5, ： → :."""
    return nfkc(reply)


def _numbers(pattern: re.Pattern[str], text: str) -> tuple[float, ...]:
    return tuple(float(m.group(1)) for m in pattern.finditer(text))


def _json_ratings(text: str, key: str) -> tuple[float, ...]:
    """Ratings from JSON objects in the reply, e.g. ```json {"rating": 8} ```."""
    found: list[float] = []
    for m in _JSON_OBJECT.finditer(text):
        try:
            obj = json.loads(m.group(0))
        except json.JSONDecodeError:
            continue
        value = obj.get(key) if isinstance(obj, dict) else None
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            found.append(float(value))
        elif isinstance(value, str):
            try:
                found.append(float(normalise_reply(value).strip()))
            except ValueError:
                continue
    return tuple(found)


def _is_refusal(text: str) -> bool:
    lowered = text.lower()
    return any(phrase in lowered for phrase in _REFUSALS)


def parse_rating(
    reply: str | None, *, low: float = 1.0, high: float = 10.0, json_key: str = "rating", prefer_json: bool = False
) -> RatingParse:
    """The rating in a judge's reply, FastChat's way (see the module doc).

    `prefer_json`: in structured-output mode the JSON object is read first and the
    bracket rules are the fallback; otherwise JSON is the last resort.
    """
    if reply is None or not reply.strip():
        return RatingParse(None, "empty_reply")
    text = normalise_reply(reply)
    rules: list[tuple[str, tuple[float, ...]]] = []
    if prefer_json:
        rules.append(("json", _json_ratings(text, json_key)))
    rules += [
        ("double_bracket", _numbers(_DOUBLE, text)),
        ("single_bracket", _numbers(_SINGLE, text)),
        ("labelled", _numbers(_LABELLED, text)),
    ]
    if not prefer_json:
        rules.append(("json", _json_ratings(text, json_key)))
    for rule, ratings in rules:
        if ratings:
            rating = ratings[0]
            if not low <= rating <= high:
                # FastChat would keep e.g. [[0]] or [[2023]]; a score off the scale would
                # silently move the mean, so it is a failure here (the reply is kept)
                return RatingParse(None, "out_of_range", rule, ratings)
            return RatingParse(rating, None, rule, ratings)
    if _PLACEHOLDER.search(text):
        return RatingParse(None, "placeholder_echo")
    if _is_refusal(text):
        return RatingParse(None, "refusal")
    return RatingParse(None, "no_rating")


#: rakuda's "last" format: the digit the judge ends with
_LAST_DIGIT_WINNER: dict[str, Winner] = {"1": "A", "2": "B", "3": "tie"}


def parse_verdict(reply: str | None, *, output_format: str = "[[A]]") -> VerdictParse:
    """A pairwise verdict: [[A]], [[B]] or [[C]] (tie), with FastChat's precedence; with
    output_format "last", the reply's last digit (1, 2 or 3)."""
    if reply is None or not reply.strip():
        return VerdictParse(None, "empty_reply")
    text = normalise_reply(reply)
    if output_format == "last":
        return _last_digit_verdict(text)
    present = tuple(v for v in ("A", "B", "C") if f"[[{v}]]" in text)
    if present:
        first = present[0]
        return VerdictParse("tie" if first == "C" else first, None, present)  # type: ignore[arg-type]
    if _is_refusal(text):
        return VerdictParse(None, "refusal")
    return VerdictParse(None, "no_verdict")


def _last_digit_verdict(text: str) -> VerdictParse:
    digits = re.findall(r"\d", text)
    if not digits:
        return VerdictParse(None, "refusal" if _is_refusal(text) else "no_verdict")
    winner = _LAST_DIGIT_WINNER.get(digits[-1])
    if winner is None:
        return VerdictParse(None, "out_of_range", (digits[-1],))
    return VerdictParse(winner, None, (digits[-1],))
