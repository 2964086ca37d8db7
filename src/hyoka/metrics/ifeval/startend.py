"""startend:* — the ending phrase, quotation of the whole response, and (ja) every
sentence ending the same way."""

from __future__ import annotations

import re

from hyoka.metrics.ifeval.detectable_format import remove_quotes_ja
from hyoka.metrics.ifeval.registry import Check, instruction


@instruction("startend:end_checker")
def end_checker(end_phrase: str) -> Check:
    """Ends with the phrase, ignoring case, surrounding whitespace and double quotes."""
    wanted = end_phrase.strip().lower()
    return lambda value: value.strip().strip('"').lower().endswith(wanted)


@instruction("ja:startend:end_checker")
def end_checker_ja(end_phrase: str) -> Check:
    """Ends with the phrase (case-sensitive), closing 」 and 』 ignored on both."""
    wanted = end_phrase.strip().strip("」』")
    return lambda value: value.strip().strip("」』").endswith(wanted)


@instruction("startend:quotation")
def quotation() -> Check:
    """Wrapped in double quotes: starts and ends with ``"`` (after stripping)."""

    def check(value: str) -> bool:
        value = value.strip()
        return len(value) > 1 and value[0] == '"' and value[-1] == '"'

    return check


@instruction("ja:startend:quotation")
def quotation_ja() -> Check:
    """Wrapped in 「」."""

    def check(value: str) -> bool:
        value = value.strip()
        return len(value) > 1 and value[0] == "「" and value[-1] == "」"

    return check


@instruction("ja:startend:sentence_unified_end")
def sentence_unified_end_ja(ending: str) -> Check:
    """Every non-empty piece between 。！？ (quotes removed) ends with `ending` (です/ます).

    As M-IFEval splits, the text after the last 。 is a piece too, and a newline does not
    end a sentence."""

    def check(value: str) -> bool:
        pieces = re.split(r"[。！？]", remove_quotes_ja(value))
        return all(piece.endswith(ending) for piece in pieces if piece)

    return check
