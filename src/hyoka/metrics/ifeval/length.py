"""length_constraints:* — sentences, paragraphs, words (en) or characters (ja).

English sentences are Punkt's (NLTK English model), words are ``\\w+`` runs. Japanese
sentences are ja_sentence_segmenter's with M-IFEval's pipeline; Japanese length is
``len(response)`` in characters, whitespace and newlines included.
"""

from __future__ import annotations

import re

from hyoka.metrics.ifeval.nlp import count_sentences_ja, count_words, sentences_en
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


@instruction("length_constraints:number_sentences")
def number_sentences(num_sentences: int, relation: str) -> Check:
    threshold = check_count(num_sentences, "num_sentences", "length_constraints:number_sentences")
    rel = check_relation(relation, EN_RELATIONS, "length_constraints:number_sentences")
    return lambda value: compare(len(sentences_en(value)), rel, threshold, EN_RELATIONS)


@instruction("ja:length_constraints:number_sentences")
def number_sentences_ja(num_sentences: int, relation: str) -> Check:
    threshold = check_count(num_sentences, "num_sentences", "ja:length_constraints:number_sentences")
    rel = check_relation(relation, JA_RELATIONS, "ja:length_constraints:number_sentences")
    return lambda value: compare(count_sentences_ja(value), rel, threshold, JA_RELATIONS)


@instruction("length_constraints:number_words")
def number_words(num_words: int, relation: str) -> Check:
    threshold = check_count(num_words, "num_words", "length_constraints:number_words")
    rel = check_relation(relation, EN_RELATIONS, "length_constraints:number_words")
    return lambda value: compare(count_words(value), rel, threshold, EN_RELATIONS)


@instruction("ja:length_constraints:number_letters")
def number_letters_ja(num_letters: int, relation: str) -> Check:
    threshold = check_count(num_letters, "num_letters", "ja:length_constraints:number_letters")
    rel = check_relation(relation, JA_RELATIONS, "ja:length_constraints:number_letters")
    return lambda value: compare(len(value), rel, threshold, JA_RELATIONS)


def _paragraphs_by_divider(value: str, wanted: int) -> bool:
    """Paragraphs separated by a markdown divider ``***``: an empty first or last part is
    not a paragraph, an empty one in the middle fails the instruction."""
    paragraphs = re.split(r"\s?\*\*\*\s?", value)
    count = len(paragraphs)
    for index, paragraph in enumerate(paragraphs):
        if not paragraph.strip():
            if index in (0, len(paragraphs) - 1):
                count -= 1
            else:
                return False
    return count == wanted


@instruction("length_constraints:number_paragraphs", "ja:length_constraints:number_paragraphs")
def number_paragraphs(num_paragraphs: int) -> Check:
    wanted = check_count(num_paragraphs, "num_paragraphs", "length_constraints:number_paragraphs")
    return lambda value: _paragraphs_by_divider(value, wanted)


def _nth_paragraph(value: str, num_paragraphs: int, nth_paragraph: int) -> str | None:
    """The nth blank-line-separated paragraph, stripped, when there are exactly
    `num_paragraphs` non-blank ones and it exists; else None."""
    paragraphs = re.split(r"\n\n", value)
    count = sum(1 for paragraph in paragraphs if paragraph.strip())
    if nth_paragraph > count:
        return None
    paragraph = paragraphs[nth_paragraph - 1].strip()
    if not paragraph or count != num_paragraphs:
        return None
    return paragraph


def _paragraph_args(instruction_id: str, num_paragraphs: int, nth_paragraph: int) -> tuple[int, int]:
    num = check_count(num_paragraphs, "num_paragraphs", instruction_id)
    nth = check_count(nth_paragraph, "nth_paragraph", instruction_id)
    if not 1 <= nth <= num:
        raise InstructionArgsError(f"instruction '{instruction_id}': nth_paragraph must be 1..{num}, got {nth}")
    return num, nth


_FIRST_WORD_STOP = {".", ",", "?", "!", "'", '"'}


@instruction("length_constraints:nth_paragraph_first_word")
def nth_paragraph_first_word(num_paragraphs: int, nth_paragraph: int, first_word: str) -> Check:
    """The nth paragraph's first word, lower-cased and cut at the first . , ? ! ' or \"
    (leading quotes dropped), equals `first_word`."""
    num, nth = _paragraph_args("length_constraints:nth_paragraph_first_word", num_paragraphs, nth_paragraph)
    wanted = first_word.lower()

    def check(value: str) -> bool:
        paragraph = _nth_paragraph(value, num, nth)
        if paragraph is None:
            return False
        word = paragraph.split()[0].strip().lstrip("'").lstrip('"')
        found = ""
        for letter in word:
            if letter in _FIRST_WORD_STOP:
                break
            found += letter.lower()
        return found == wanted

    return check


@instruction("ja:length_constraints:nth_paragraph_first_word")
def nth_paragraph_first_word_ja(num_paragraphs: int, nth_paragraph: int, first_word: str) -> Check:
    """The nth paragraph (opening 「 and 『 dropped) starts with `first_word`."""
    num, nth = _paragraph_args("ja:length_constraints:nth_paragraph_first_word", num_paragraphs, nth_paragraph)
    wanted = first_word.lower()

    def check(value: str) -> bool:
        paragraph = _nth_paragraph(value, num, nth)
        if paragraph is None:
            return False
        paragraph = paragraph.lstrip("「").lstrip("『")
        return paragraph[: len(wanted)] == wanted

    return check
