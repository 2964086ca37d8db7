"""detectable_format:* — lists, highlights, sections, JSON, titles, fixed answers, and
Japanese nominal endings (体言止め)."""

from __future__ import annotations

import json
import re

from hyoka.metrics.ifeval.nlp import tokens_ja
from hyoka.metrics.ifeval.registry import Check, check_count, instruction

EN_CONSTRAINED = ("My answer is yes.", "My answer is no.", "My answer is maybe.")
JA_CONSTRAINED = ("はい、そうです。", "いいえ、違います。", "どちらとも言えません。")


@instruction("detectable_format:number_bullet_lists")
def number_bullet_lists(num_bullets: int) -> Check:
    """Exactly N lines starting with ``*`` (not ``**``) or ``-``."""
    wanted = check_count(num_bullets, "num_bullets", "detectable_format:number_bullet_lists")

    def check(value: str) -> bool:
        stars = re.findall(r"^\s*\*[^\*].*$", value, flags=re.MULTILINE)
        dashes = re.findall(r"^\s*-.*$", value, flags=re.MULTILINE)
        return len(stars) + len(dashes) == wanted

    return check


@instruction("ja:detectable_format:number_bullet_lists")
def number_bullet_lists_ja(num_bullets: int) -> Check:
    """Exactly N lines starting with ``・`` (not ``・・``)."""
    wanted = check_count(num_bullets, "num_bullets", "ja:detectable_format:number_bullet_lists")
    return lambda value: len(re.findall(r"^\s*・[^\・].*$", value, flags=re.MULTILINE)) == wanted


@instruction("ja:detectable_format:number_numbered_lists")
def number_numbered_lists_ja(num_items: int) -> Check:
    """Exactly N lines like ``1. 内容`` (digits, a dot, whitespace)."""
    wanted = check_count(num_items, "num_items", "ja:detectable_format:number_numbered_lists")
    return lambda value: len(re.findall(r"^\s*\d+\.\s.*$", value, flags=re.MULTILINE)) == wanted


def _contains_option(options: tuple[str, ...]) -> Check:
    return lambda value: any(option in value.strip() for option in options)


@instruction("detectable_format:constrained_response")
def constrained_response() -> Check:
    return _contains_option(EN_CONSTRAINED)


@instruction("ja:detectable_format:constrained_response")
def constrained_response_ja() -> Check:
    return _contains_option(JA_CONSTRAINED)


@instruction("detectable_format:number_highlighted_sections")
def number_highlighted_sections(num_highlights: int) -> Check:
    """At least N non-blank ``*highlights*`` on one line; a ``**bold**`` span counts as well
    (lm-eval counts both patterns, so ``**x**`` can count twice)."""
    wanted = check_count(num_highlights, "num_highlights", "detectable_format:number_highlighted_sections")

    def check(value: str) -> bool:
        single = [h for h in re.findall(r"\*[^\n\*]*\*", value) if h.strip("*").strip()]
        double = [h for h in re.findall(r"\*\*[^\n\*]*\*\*", value) if h.removeprefix("**").removesuffix("**").strip()]
        return len(single) + len(double) >= wanted

    return check


@instruction("ja:detectable_format:number_highlighted_sections")
def number_highlighted_sections_ja(num_highlights: int) -> Check:
    """At least N non-blank ``《強調》`` spans on one line."""
    wanted = check_count(num_highlights, "num_highlights", "ja:detectable_format:number_highlighted_sections")
    return lambda value: sum(1 for h in re.findall(r"《[^\n《》]*》", value) if h.strip("《》").strip()) >= wanted


@instruction("detectable_format:multiple_sections")
def multiple_sections(section_spliter: str, num_sections: int) -> Check:
    """At least N markers ``SECTION 1`` (the splitter, optional space, a number)."""
    spliter = section_spliter.strip()
    wanted = check_count(num_sections, "num_sections", "detectable_format:multiple_sections")
    pattern = r"\s?" + spliter + r"\s?\d+\s?"
    return lambda value: len(re.split(pattern, value)) - 1 >= wanted


@instruction("ja:detectable_format:multiple_sections")
def multiple_sections_ja(section_spliter: str, num_sections: int) -> Check:
    """At least N markers ``第1章`` (第, ASCII or full-width digits, the splitter 章/節/項)."""
    spliter = section_spliter.strip()
    wanted = check_count(num_sections, "num_sections", "ja:detectable_format:multiple_sections")
    pattern = r"\s?" + r"第[\d\uFF10-\uFF19]+" + spliter + r"\s?"
    return lambda value: len(re.split(pattern, value)) - 1 >= wanted


def _is_json(value: str) -> bool:
    body = (
        value.strip()
        .removeprefix("```json")
        .removeprefix("```Json")
        .removeprefix("```JSON")
        .removeprefix("```")
        .removesuffix("```")
        .strip()
    )
    try:
        json.loads(body)
    except ValueError:
        return False
    return True


@instruction("detectable_format:json_format", "ja:detectable_format:json_format")
def json_format() -> Check:
    """The response (without one surrounding markdown fence) parses as JSON."""
    return _is_json


@instruction("detectable_format:title")
def title() -> Check:
    """A non-blank ``<<title>>`` on one line."""
    return lambda value: any(t.lstrip("<").rstrip(">").strip() for t in re.findall(r"<<[^\n]+>>", value))


@instruction("ja:detectable_format:title")
def title_ja() -> Check:
    """A non-blank ``『タイトル』`` on one line."""
    return lambda value: any(t.lstrip("『").rstrip("』").strip() for t in re.findall(r"『[^\n]+』", value))


_QUOTES = (re.compile(r"「.*?」"), re.compile(r"『.*?』"))


def remove_quotes_ja(value: str) -> str:
    """Text without 「…」 and 『…』 spans on one line (M-IFEval's sentence-end checks skip quotes)."""
    for pattern in _QUOTES:
        value = pattern.sub("", value)
    return value


@instruction("ja:detectable_format:nominal_ending")
def nominal_ending_ja(count: int) -> Check:
    """At least N sentences ending in a noun (体言止め): a noun token right before 。！？."""
    wanted = check_count(count, "count", "ja:detectable_format:nominal_ending")

    def check(value: str) -> bool:
        tokens = tokens_ja(remove_quotes_ja(value))
        found = sum(
            1
            for before, token in zip(tokens, tokens[1:])
            if token.surface in "。！？" and before.part_of_speech.startswith("名詞")
        )
        return found >= wanted

    return check
