"""detectable_content:* — placeholders in square brackets and a postscript."""

from __future__ import annotations

import re

from hyoka.metrics.ifeval.registry import Check, check_count, instruction


@instruction("detectable_content:number_placeholders", "ja:detectable_content:number_placeholders")
def number_placeholders(num_placeholders: int) -> Check:
    wanted = check_count(num_placeholders, "num_placeholders", "detectable_content:number_placeholders")
    return lambda value: len(re.findall(r"\[.*?\]", value)) >= wanted


def _postscript_pattern(marker: str, *, escape: bool) -> str:
    # "P.P.S" and "P.S." also match "p. p. s" / "p. s." in any case
    if marker == "P.P.S":
        return r"\s*p\.\s?p\.\s?s.*$"
    if marker == "P.S.":
        return r"\s*p\.\s?s\..*$"
    return r"\s*" + (re.escape(marker) if escape else marker.lower()) + r".*$"


@instruction("detectable_content:postscript")
def postscript(postscript_marker: str) -> Check:
    """A line containing the marker (lower-cased, as a regular expression, as IFEval)."""
    pattern = _postscript_pattern(postscript_marker.strip(), escape=False)
    return lambda value: bool(re.findall(pattern, value.lower(), flags=re.MULTILINE))


@instruction("ja:detectable_content:postscript")
def postscript_ja(postscript_marker: str) -> Check:
    """M-IFEval: the marker escaped, matched ignoring case (追伸, P.S.)."""
    pattern = _postscript_pattern(postscript_marker.strip(), escape=True)
    return lambda value: bool(re.findall(pattern, value, flags=re.IGNORECASE | re.MULTILINE))
