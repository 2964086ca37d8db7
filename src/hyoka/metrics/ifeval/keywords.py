"""keywords:* — words that must or must not appear, how often, and letter counts.

English (IFEval, lm-eval): keywords are regular expressions searched case-insensitively
(as the reference does: a keyword is not escaped). Japanese (M-IFEval): a keyword must
equal one of Janome's tokens of the response.
"""

from __future__ import annotations

import collections
import re

from hyoka.metrics.ifeval.nlp import tokens_ja
from hyoka.metrics.ifeval.registry import (
    EN_RELATIONS,
    JA_RELATIONS,
    Check,
    InstructionArgsError,
    check_count,
    check_relation,
    compare,
    instruction,
)


@instruction("keywords:existence")
def existence(keywords: list[str]) -> Check:
    words = sorted(keywords)
    return lambda value: all(re.search(word, value, flags=re.IGNORECASE) for word in words)


@instruction("keywords:frequency")
def frequency(keyword: str, frequency: int, relation: str) -> Check:
    word = keyword.strip()
    threshold = check_count(frequency, "frequency", "keywords:frequency")
    rel = check_relation(relation, EN_RELATIONS, "keywords:frequency")
    return lambda value: compare(len(re.findall(word, value, flags=re.IGNORECASE)), rel, threshold, EN_RELATIONS)


@instruction("keywords:forbidden_words")
def forbidden_words(forbidden_words: list[str]) -> Check:
    words = sorted(set(forbidden_words))
    return lambda value: not any(re.search(r"\b" + word + r"\b", value, flags=re.IGNORECASE) for word in words)


@instruction("keywords:letter_frequency")
def letter_frequency(letter: str, let_frequency: int, let_relation: str) -> Check:
    """Occurrences of one character, ignoring case.

    Deliberate difference: lm-eval (and Google's IFEval) replace a `letter` that is not an
    ASCII letter by a *random* one; IFEval key 1122 asks for "#" (hashtags), so its score
    there is a coin toss. hyoka counts the character that was asked for.
    """
    if not isinstance(letter, str) or len(letter) != 1:
        raise InstructionArgsError(f"instruction 'keywords:letter_frequency': letter must be one character, got {letter!r}")
    wanted = letter.lower()
    threshold = check_count(let_frequency, "let_frequency", "keywords:letter_frequency")
    rel = check_relation(let_relation, EN_RELATIONS, "keywords:letter_frequency")
    return lambda value: compare(collections.Counter(value.lower())[wanted], rel, threshold, EN_RELATIONS)


# --- Japanese -----------------------------------------------------------------------------


def _surfaces(value: str) -> list[str]:
    return [token.surface for token in tokens_ja(value)]


@instruction("ja:keywords:existence")
def existence_ja(keywords: list[str]) -> Check:
    words = sorted(keywords)

    def check(value: str) -> bool:
        surfaces = _surfaces(value)
        return all(word in surfaces for word in words)

    return check


@instruction("ja:keywords:frequency")
def frequency_ja(keyword: str, frequency: int, relation: str) -> Check:
    word = keyword.strip()
    threshold = check_count(frequency, "frequency", "ja:keywords:frequency")
    rel = check_relation(relation, JA_RELATIONS, "ja:keywords:frequency")
    return lambda value: compare(collections.Counter(_surfaces(value))[word], rel, threshold, JA_RELATIONS)


@instruction("ja:keywords:forbidden_words")
def forbidden_words_ja(forbidden_words: list[str]) -> Check:
    words = sorted(set(forbidden_words))

    def check(value: str) -> bool:
        surfaces = _surfaces(value)
        return not any(word in surfaces for word in words)

    return check


@instruction("ja:keywords:letter_frequency")
def letter_frequency_ja(letter: str, let_frequency: int, let_relation: str) -> Check:
    """A hiragana letter, counted together with its katakana (あ and ア)."""
    if not isinstance(letter, str) or len(letter) != 1 or not "ぁ" <= letter <= "ん":
        raise InstructionArgsError(f"instruction 'ja:keywords:letter_frequency': letter must be one hiragana, got {letter!r}")
    katakana = chr(ord(letter) + 0x60)
    threshold = check_count(let_frequency, "let_frequency", "ja:keywords:letter_frequency")
    rel = check_relation(let_relation, JA_RELATIONS, "ja:keywords:letter_frequency")

    def check(value: str) -> bool:
        counts = collections.Counter(value)
        return compare(counts[letter] + counts[katakana], rel, threshold, JA_RELATIONS)

    return check
