"""Answer spans of free-form Japanese answers, as the Swallow suite reads them.

Two modes (swallow-evaluation-instruct's open-QA metrics; docs/swallow.md):

- strict: the first ``\\boxed{…}`` (``\\boxed{\\text{…}}`` unwrapped); else the last
  answer cue (回答は東京です / 答え: 東京 / 【解答】東京。); else the whole output.
- quasi: the same, plus a direct answer at the start of a line (東京です。) before
  falling back to the whole output; the span is then put through hyoka's one normaliser
  (`normalize_answer`: NFKC, whitespace, one wrapping bracket/quote pair) and yes/no
  words become YES / NO (はい → YES, ×→ NO), JEMHopQA's way of writing them.

Registered as the extractor ``answer_span`` (``mode: strict | quasi``).
"""

from __future__ import annotations

import re
from typing import Literal

from hyoka.errors import TaskConfigError
from hyoka.text.extract import Extractor, boxed_contents, register_extractor
from hyoka.text.normalize import canonical_yes_no, normalize_answer

Mode = Literal["strict", "quasi"]

_ANSWER_WORD = r"(?:回答|正解|答え|解答)"
#: what may end an answer: a copula, then 。/．/whitespace/end of text
_END = r"(?=(?:です|だ|である|でしょう|だろう)?(?:。|．|\s|$))"
#: 答えは東京 / 回答は: 東京 — or a placeholder with a required separator: 【解答】: 東京, 答え→東京
_CUED = re.compile(
    rf"(?:{_ANSWER_WORD}は(?:[:：]|→|->|=|＝|[．.、，])?\s*"
    rf"|(?:[【「\[(]\s*)?(?:{_ANSWER_WORD}|解|答)(?:[】」\])])?\s*(?:[:：]|→|->|=|＝|[．.])\s*)"
    rf"(?P<answer>.+?){_END}",
    re.S,
)
#: a line that starts with the answer itself: 東京です。
_DIRECT = re.compile(rf"(?:\A|\n+)(?P<answer>.+?){_END}", re.S)
_TEXT_WRAPPER = re.compile(r"^\\text\{(?P<inner>.*)\}$", re.S)


def _boxed(text: str) -> str | None:
    found = boxed_contents(text)
    if not found:
        return None
    inner = found[0]
    unwrapped = _TEXT_WRAPPER.match(inner)
    return unwrapped.group("inner") if unwrapped else inner


def _last(pattern: re.Pattern[str], text: str) -> str | None:
    matches = [m.group("answer") for m in pattern.finditer(text)]
    return matches[-1] if matches else None


def _first(pattern: re.Pattern[str], text: str) -> str | None:
    match = pattern.search(text)
    return match.group("answer") if match else None


def answer_span(text: str, *, mode: Mode = "strict") -> str:
    """The answer span of `text` (see the module docstring); never "" unless `text` is."""
    span = _boxed(text)
    if span is None:
        span = _last(_CUED, text)
    if span is None and mode == "quasi":
        span = _first(_DIRECT, text)
    if span is None:
        span = text
    return quasi_normalize(span) if mode == "quasi" else span


def quasi_normalize(text: str) -> str:
    """hyoka's normaliser (NFKC, whitespace, wrapping pair), then yes/no as YES / NO."""
    normalised = normalize_answer(text)
    yes_no = canonical_yes_no(normalised)
    return yes_no.upper() if yes_no else normalised


@register_extractor("answer_span")
def answer_span_extractor(mode: Mode = "strict") -> Extractor:
    """`answer_span` as an extractor: "回答: $\\boxed{東京}$" → "東京"."""
    if mode not in ("strict", "quasi"):
        raise TaskConfigError(f"extractor 'answer_span': mode must be 'strict' or 'quasi', got {mode!r}")

    def extract(text: str) -> str:
        return answer_span(text, mode=mode)

    return extract
