"""change_case:* — all capitals, all lower case, and counts of all-capital words (en)."""

from __future__ import annotations

from hyoka.metrics.ifeval.nlp import detect_language, word_tokens_en
from hyoka.metrics.ifeval.registry import EN_RELATIONS, Check, check_count, check_relation, compare, instruction


@instruction("change_case:capital_word_frequency")
def capital_word_frequency(capital_frequency: int, capital_relation: str) -> Check:
    """Words (nltk.word_tokenize) that are all capitals, counted against the threshold."""
    threshold = check_count(capital_frequency, "capital_frequency", "change_case:capital_word_frequency")
    rel = check_relation(capital_relation, EN_RELATIONS, "change_case:capital_word_frequency")
    return lambda value: compare(sum(1 for w in word_tokens_en(value) if w.isupper()), rel, threshold, EN_RELATIONS)


def _english(value: str) -> bool:
    language = detect_language(value)
    return language is None or language == "en"


@instruction("change_case:english_capital")
def english_capital() -> Check:
    return lambda value: value.isupper() and _english(value)


@instruction("change_case:english_lowercase")
def english_lowercase() -> Check:
    return lambda value: value.islower() and _english(value)
