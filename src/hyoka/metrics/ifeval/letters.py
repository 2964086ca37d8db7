"""ja:letters:* — M-IFEval's Japanese script instructions.

Character ranges are M-IFEval's: kanji U+4E00–U+9FAF; hiragana ぁ–ん (U+3041–U+3093, so
ゔ ゕ ゖ are not hiragana for "hiragana only" but are for "no hiragana", which uses ぁ–ゖ);
katakana ァ–ン (U+30A1–U+30F3) plus ー ・ and half-width ｦ–ﾟ for "katakana only", ァ–ヺ and
half-width ｦ–ﾟ for "no katakana". In the "only" checks, characters that are not letters
(Unicode category L*: digits, punctuation, spaces, symbols) are ignored.
"""

from __future__ import annotations

import re
import unicodedata

from hyoka.metrics.ifeval.registry import JA_RELATIONS, Check, check_count, check_relation, compare, instruction

_KANJI_RUN = re.compile(r"[\u4e00-\u9faf]+")
_KANJI_WITH_FURIGANA = re.compile(r"[\u4e00-\u9faf]+（[ぁ-ん]+）")
_KANJI = re.compile(r"[\u4e00-\u9faf]")


@instruction("ja:letters:furigana")
def furigana() -> Check:
    """Every run of kanji is followed by its reading in hiragana in full-width brackets: 漢字（かんじ）."""
    return lambda value: len(_KANJI_RUN.findall(value)) == len(_KANJI_WITH_FURIGANA.findall(value))


@instruction("ja:letters:kansuuji")
def kansuuji() -> Check:
    """No digit at all (Python's ``\\d``: ASCII, full-width and other decimal digits)."""
    return lambda value: not re.search(r"\d", value)


@instruction("ja:letters:kanji")
def kanji(kanji_limit: int, relation: str) -> Check:
    threshold = check_count(kanji_limit, "kanji_limit", "ja:letters:kanji")
    rel = check_relation(relation, JA_RELATIONS, "ja:letters:kanji")
    return lambda value: compare(len(_KANJI.findall(value)), rel, threshold, JA_RELATIONS)


def _not_a_letter(char: str) -> bool:
    return not unicodedata.category(char).startswith("L")


@instruction("ja:letters:no_hiragana")
def no_hiragana() -> Check:
    return lambda value: not any("ぁ" <= char <= "ゖ" for char in value)


@instruction("ja:letters:hiragana_only")
def hiragana_only() -> Check:
    return lambda value: all("ぁ" <= char <= "ん" or char == "ー" or _not_a_letter(char) for char in value)


@instruction("ja:letters:no_katakana")
def no_katakana() -> Check:
    return lambda value: not any("ァ" <= char <= "ヺ" or "ｦ" <= char <= "ﾟ" for char in value)


def _katakana(char: str) -> bool:
    return "ァ" <= char <= "ン" or char in "ー・" or "ｦ" <= char <= "ﾟ"


@instruction("ja:letters:katakana_only")
def katakana_only() -> Check:
    return lambda value: all(_katakana(char) or _not_a_letter(char) for char in value)
