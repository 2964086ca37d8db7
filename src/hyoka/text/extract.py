"""Answer extractors: pull the answer out of a model's raw output.

An extractor is a function ``str -> str``. Each is registered in `EXTRACTORS` under a name
by a factory that takes the extractor's parameters and returns the function, so a task
file can chain them::

    extract:
      - {name: strip_reasoning}
      - {name: mc_letter, letters: ABCD}

`build_extractor` turns such a list into one function that applies them in order. An
extractor that finds nothing returns "" (never the unchanged input): a missing answer is
scored as wrong rather than silently compared in full. docs/normalisation.md lists every
extractor with Japanese examples.
"""

from __future__ import annotations

import inspect
import re
from fractions import Fraction
from typing import Any, Callable, Literal, Mapping, Sequence

from hyoka.core.reasoning import split_reasoning
from hyoka.errors import TaskConfigError
from hyoka.text.normalize import canonical_yes_no, nfkc, normalize_answer

Extractor = Callable[[str], str]
ExtractorFactory = Callable[..., Extractor]
Match = Literal["first", "last"]

EXTRACTORS: dict[str, ExtractorFactory] = {}


def register_extractor(name: str) -> Callable[[ExtractorFactory], ExtractorFactory]:
    def deco(factory: ExtractorFactory) -> ExtractorFactory:
        known = EXTRACTORS.get(name)
        if known is not None and (known.__module__, known.__qualname__) != (factory.__module__, factory.__qualname__):
            # two extractors under one name: the later would silently replace the earlier
            raise ValueError(f"extractor '{name}' is already registered by {known.__module__}.{known.__qualname__}")
        EXTRACTORS[name] = factory
        return factory

    return deco


def _check_match(extractor: str, match: str) -> None:
    if match not in ("first", "last"):
        raise TaskConfigError(f"extractor '{extractor}': match must be 'first' or 'last', got {match!r}")


def _pick(candidates: Sequence[str], match: Match) -> str:
    if not candidates:
        return ""
    return candidates[0] if match == "first" else candidates[-1]


# --- reasoning (split_reasoning lives in hyoka.core: backends split once) ----------------


@register_extractor("strip_reasoning")
def strip_reasoning(tag: str = "think") -> Extractor:
    """The answer part of `split_reasoning` (reasoning removed)."""
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_-]*", tag):
        raise TaskConfigError(f"extractor 'strip_reasoning': tag must be a plain tag name like 'think', got {tag!r}")

    def extract(text: str) -> str:
        return split_reasoning(text, tag=tag)[0]

    return extract


# --- multiple choice ---------------------------------------------------------------------

#: Japanese answer cues: 答えは / 回答: / 正解は / 解答： (： is ":" after NFKC).
_JA_CUE = r"(?:答え|回答|解答|正解)\s*(?:は|:)\s*(?:選択肢\s*)?[\[(「『【*\s]*"
#: English answer cues: "the answer is", "Answer:", "correct answer is:".
_EN_CUE = r"(?i:answer)\s*(?:is\s*:?|:)\s*[\[(*\s]*"


def _mc_letter_patterns(letters: str) -> tuple[list[re.Pattern[str]], list[re.Pattern[str]]]:
    upper = re.escape(letters)
    lower = re.escape(letters.lower())
    cues = [
        re.compile(rf"{_JA_CUE}([{upper}])(?![A-Za-z])"),
        re.compile(rf"{_EN_CUE}([{upper}])(?![A-Za-z])"),
        re.compile(rf"\\boxed\{{\s*\(?([{upper}])\)?\s*\}}"),
        re.compile(rf"\*\*\s*\(?([{upper}])\)?[.):]?\s*\*\*"),
    ]
    # a bare capital that is not part of an ASCII word ("A", "(A)", "A.", "Aです"), or a
    # bracketed small letter "(b)"; bare small letters are English words ("a")
    standalone = [re.compile(rf"(?<![A-Za-z0-9_])([{upper}])(?![A-Za-z0-9_])|\(([{lower}])\)")]
    return cues, standalone


def _find_all(patterns: Sequence[re.Pattern[str]], text: str) -> list[str]:
    """Every match of any pattern, in text order, as the first group that matched."""
    found: list[tuple[int, str]] = []
    for pattern in patterns:
        for m in pattern.finditer(text):
            value = next(group for group in m.groups() if group is not None)
            found.append((m.start(), value))
    return [value for _, value in sorted(found, key=lambda item: item[0])]


@register_extractor("mc_letter")
def mc_letter(letters: str = "ABCDEFGHIJ", match: Match = "first") -> Extractor:
    """The chosen option letter, as uppercase ASCII, or "" when there is none.

    Explicit answers win over bare letters: 答えはB, 回答：Ｂ, 正解は「C」, "The answer is (B)",
    "Answer: B", **B**, \\boxed{B}. Without one, a standalone capital counts: "B", "(B)",
    "（Ｂ）", "B.", "B)", "Bです". `match` picks the first or last candidate of the
    strongest kind present.
    """
    if not letters or not re.fullmatch(r"[A-Za-z]+", letters) or len(set(letters.upper())) != len(letters):
        raise TaskConfigError(
            f"extractor 'mc_letter': letters must be distinct ASCII letters like 'ABCD', got {letters!r}"
        )
    _check_match("mc_letter", match)
    cues, standalone = _mc_letter_patterns(letters.upper())

    def extract(text: str) -> str:
        normalised = nfkc(text)
        candidates = _find_all(cues, normalised) or _find_all(standalone, normalised)
        return _pick(candidates, match).upper()

    return extract


@register_extractor("mc_index")
def mc_index(base: int = 1, num_choices: int | None = None, match: Match = "first") -> Extractor:
    """The chosen option number as ASCII digits ("3"), or "" when there is none.

    `base` is how the prompt numbers the options (1: 1..n, 0: 0..n-1); with `num_choices`
    a number outside that range is not a candidate. The number is returned as written,
    not re-based. Full-width ３ and circled ③ count (NFKC). Explicit answers (答えは3,
    回答：２, "Answer: 3", **3**) win over bare numbers.
    """
    if base not in (0, 1):
        raise TaskConfigError(f"extractor 'mc_index': base must be 0 or 1, got {base!r}")
    if num_choices is not None and (not isinstance(num_choices, int) or num_choices < 1):
        raise TaskConfigError(f"extractor 'mc_index': num_choices must be a positive integer, got {num_choices!r}")
    _check_match("mc_index", match)
    digits = r"(\d+)(?![\d.,]\d|\d)"
    cues = [
        re.compile(rf"{_JA_CUE}{digits}"),
        re.compile(rf"{_EN_CUE}{digits}"),
        re.compile(r"\\boxed\{\s*\(?(\d+)\)?\s*\}"),
        re.compile(r"\*\*\s*\(?(\d+)\)?[.):]?\s*\*\*"),
    ]
    standalone = [re.compile(rf"(?<![\d.,]){digits}")]

    def in_range(value: str) -> bool:
        number = int(value)
        return number >= base and (num_choices is None or number < base + num_choices)

    def extract(text: str) -> str:
        normalised = nfkc(text)
        for patterns in (cues, standalone):
            candidates = [str(int(v)) for v in _find_all(patterns, normalised) if in_range(v)]
            if candidates:
                return _pick(candidates, match)
        return ""

    return extract


# --- math and numbers --------------------------------------------------------------------


def boxed_contents(text: str) -> list[str]:
    """The contents of every well-formed ``\\boxed{...}`` (nested braces allowed), in order."""
    contents: list[str] = []
    marker = "\\boxed"
    position = text.find(marker)
    while position != -1:
        start = position + len(marker)
        while start < len(text) and text[start] == " ":
            start += 1
        if start < len(text) and text[start] == "{":
            depth = 0
            for index in range(start, len(text)):
                if text[index] == "{":
                    depth += 1
                elif text[index] == "}":
                    depth -= 1
                    if depth == 0:
                        contents.append(text[start + 1 : index])
                        break
        position = text.find(marker, start)
    return contents


@register_extractor("boxed")
def boxed() -> Extractor:
    """The last ``\\boxed{...}`` content, stripped: "よって \\boxed{\\frac{1}{2}}" → "\\frac{1}{2}"."""

    def extract(text: str) -> str:
        found = boxed_contents(text)
        return found[-1].strip() if found else ""

    return extract


#: Minus signs that NFKC leaves alone (U+2212 MINUS SIGN, U+2010-2013 dashes used as minus).
_MINUS_SIGNS = str.maketrans({"\u2212": "-", "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-"})
#: A sign only counts when it does not join two words or numbers: in "33-33-1" and "2-3"
#: the hyphen is an operator or a range (33, 33, 1), in "-5" and "= -5" it is a sign.
_SIGN = r"(?:(?<![0-9A-Za-z])[-+])?"
#: digits with optional thousands separators and a decimal or fraction part, or a decimal
#: written with a leading dot (".5", "$.20") when the dot does not end a word or number
_MAGNITUDE = r"(?:(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+|/\d+)?|(?<![\w.])\.\d+)"
_NUMBER = _SIGN + _MAGNITUDE
# finditer consumes "1,234" and "3.14" whole, so the look-behind only has to stop a
# match starting inside "1.2.3" or "1/2/3"; "1,2,3" still yields 1, 2 and 3
_NUMBER_IN_TEXT = re.compile(rf"(?<![\d/])(?<!\d\.){_NUMBER}(?!\d)")
_NUMBER_ALONE = re.compile(r"[-+]?(?:(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+|/\d+)?|\.\d+)")


def _numeric_form(text: str) -> str:
    return nfkc(text).translate(_MINUS_SIGNS)


def _canonical_number(written: str) -> str:
    """Drop thousands separators and a leading "+", give a leading-dot decimal its zero:
    "+1,234.5" → "1234.5", ".5" → "0.5", "-.25" → "-0.25"."""
    number = written.replace(",", "").lstrip("+")
    if number.startswith("."):
        return "0" + number
    if number.startswith("-."):
        return "-0" + number[1:]
    return number


def numbers_in(text: str) -> list[str]:
    """Every number in the text, canonical: "1,234" → "1234", "－５" → "-5", "3/4" kept,
    "$.20" → "0.20", "33-33-1" → 33, 33, 1 (a hyphen between numbers is not a sign).

    Kanji numerals (三, 1万) are not read: none of the references (lm-eval's GSM8K and
    MGSM filters, llm-jp-eval) reads them either."""
    return [_canonical_number(m.group(0)) for m in _NUMBER_IN_TEXT.finditer(_numeric_form(text))]


def parse_number(text: str) -> float | None:
    """The value of a text that is exactly one number, else None.

    Accepts full-width digits, thousands separators, a sign (also U+2212), decimals and
    fractions: "１，２３４" → 1234.0, "−0.5" → -0.5, "3/4" → 0.75. "3個" or "約3" → None
    (use the last_number extractor first).
    """
    candidate = _numeric_form(text).strip()
    if not _NUMBER_ALONE.fullmatch(candidate):
        return None
    canonical = _canonical_number(candidate)
    if "/" in canonical:
        numerator, denominator = canonical.split("/")
        if int(denominator) == 0:
            return None
        return float(Fraction(int(numerator), int(denominator)))
    return float(canonical)


@register_extractor("last_number")
def last_number() -> Extractor:
    """The last number in the text, canonical: "合計は１，２５０円です" → "1250".

    Fractions stay fractions ("3/4"); `numeric_equal` compares them by value. Kanji
    numerals (三, 1万) are not numbers here.
    """

    def extract(text: str) -> str:
        return _pick(numbers_in(text), "last")

    return extract


# --- segments of the output ----------------------------------------------------------------


@register_extractor("first_paragraph")
def first_paragraph(skip_empty: bool = False) -> Extractor:
    """Text before the first blank line, stripped — llm-jp-eval's ``split("\\n\\n")[0]``.

    As in llm-jp-eval, an output that starts with a blank line gives "". With
    `skip_empty`, the first paragraph that has any text is taken instead.
    """

    def extract(text: str) -> str:
        paragraphs = text.split("\n\n")
        if skip_empty:
            return next((p.strip() for p in paragraphs if p.strip()), "")
        return paragraphs[0].strip()

    return extract


@register_extractor("first_line")
def first_line() -> Extractor:
    """The first line that is not blank, stripped: "\\n東京\\n説明…" → "東京"."""

    def extract(text: str) -> str:
        return next((line.strip() for line in text.splitlines() if line.strip()), "")

    return extract


@register_extractor("answer_tag")
def answer_tag(tag: str = "answer") -> Extractor:
    """The content of the last ``<answer>…</answer>``, stripped; "" when there is none."""
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_-]*", tag):
        raise TaskConfigError(f"extractor 'answer_tag': tag must be a plain tag name like 'answer', got {tag!r}")
    pattern = re.compile(rf"<{tag}>(.*?)</{tag}>", re.DOTALL)

    def extract(text: str) -> str:
        return _pick(pattern.findall(text), "last").strip()

    return extract


@register_extractor("regex")
def regex(pattern: str, group: int | str | None = None, match: Match = "first", ignore_case: bool = False) -> Extractor:
    """A regular-expression group: the first/last match's `group` (default: group 1 when
    the pattern has groups, else the whole match); "" when nothing matches."""
    try:
        compiled = re.compile(pattern, re.IGNORECASE if ignore_case else 0)
    except re.error as err:
        raise TaskConfigError(f"extractor 'regex': invalid pattern {pattern!r}: {err}") from None
    _check_match("regex", match)
    chosen: int | str = (1 if compiled.groups else 0) if group is None else group
    if isinstance(chosen, bool) or not isinstance(chosen, (int, str)):
        raise TaskConfigError(f"extractor 'regex': group must be a number or a group name, got {group!r}")
    if isinstance(chosen, int) and not 0 <= chosen <= compiled.groups:
        raise TaskConfigError(f"extractor 'regex': pattern {pattern!r} has no group {chosen}")
    if isinstance(chosen, str) and chosen not in compiled.groupindex:
        raise TaskConfigError(f"extractor 'regex': pattern {pattern!r} has no group named {chosen!r}")

    def extract(text: str) -> str:
        values = [m.group(chosen) or "" for m in compiled.finditer(text)]
        return _pick(values, match)

    return extract


# --- normalisation steps as extractors -----------------------------------------------------


@register_extractor("delete")
def delete(patterns: list[str]) -> Extractor:
    """Remove every match of each regular expression, in order (lm-eval's
    ``regexes_to_ignore`` and ``ignore_punctuation``): patterns [",", "\\$"] turn
    "$1,234" into "1234"."""
    if not isinstance(patterns, list) or not all(isinstance(p, str) for p in patterns):
        raise TaskConfigError(f"extractor 'delete': patterns must be a list of regular expressions, got {patterns!r}")
    compiled = []
    for pattern in patterns:
        try:
            compiled.append(re.compile(pattern))
        except re.error as err:
            raise TaskConfigError(f"extractor 'delete': invalid pattern {pattern!r}: {err}") from None

    def extract(text: str) -> str:
        for pattern in compiled:
            text = pattern.sub("", text)
        return text

    return extract


@register_extractor("normalize")
def normalize(
    nfkc: bool = True, strip_wrappers: bool = True, strip_trailing_punct: bool = False, lowercase: bool = False
) -> Extractor:
    """`normalize_answer` with these options: "「東京」" → "東京"."""

    def extract(text: str) -> str:
        return normalize_answer(
            text, nfkc=nfkc, strip_wrappers=strip_wrappers, strip_trailing_punct=strip_trailing_punct, lowercase=lowercase
        )

    return extract


@register_extractor("strip")
def strip() -> Extractor:
    """Surrounding whitespace removed (str.strip; includes U+3000)."""
    return str.strip


@register_extractor("nfkc")
def nfkc_only() -> Extractor:
    """NFKC, then surrounding whitespace removed, nothing else (llm-jp-eval's `normalize`):
    "Ａ　->　Ｂ\nＣ" → "A -> B\nC". For answers whose lines and indentation matter
    (line-by-line set_f1, chABSA, translations, code): `normalize` would collapse them.
    """
    return lambda text: nfkc(text).strip()


@register_extractor("yes_no")
def yes_no() -> Extractor:
    """"yes" / "no" via `canonical_yes_no` (はい → yes, × → no), "" when neither."""

    def extract(text: str) -> str:
        return canonical_yes_no(text) or ""

    return extract


# --- pipelines -----------------------------------------------------------------------------


def _build_step(position: int, spec: Mapping[str, Any]) -> Extractor:
    if not isinstance(spec, Mapping):
        raise TaskConfigError(f"extractor #{position + 1} must be a mapping like {{name: mc_letter}}, got {spec!r}")
    name = spec.get("name")
    if not isinstance(name, str):
        raise TaskConfigError(f"extractor #{position + 1} has no 'name' (a string): {dict(spec)!r}")
    if name not in EXTRACTORS:
        raise TaskConfigError(f"unknown extractor '{name}'; known: {', '.join(sorted(EXTRACTORS))}")
    factory = EXTRACTORS[name]
    params = {key: value for key, value in spec.items() if key != "name"}
    signature = inspect.signature(factory)
    try:
        signature.bind(**params)
    except TypeError as err:
        accepted = ", ".join(signature.parameters) or "none"
        raise TaskConfigError(f"extractor '{name}': {err}; accepted parameters: {accepted}") from None
    return factory(**params)


# --- code --------------------------------------------------------------------------------

_FENCE = re.compile(r"^[ \t]*(`{3,}|~{3,})[ \t]*([\w+#.-]*)[^\n]*\n", re.MULTILINE)


def fenced_blocks(text: str) -> list[tuple[str, str]]:
    """(language, code) of each fenced block, in order. A block left open at the end (the
    output hit max_tokens) runs to the end of the text."""
    blocks: list[tuple[str, str]] = []
    pos = 0
    while True:
        opening = _FENCE.search(text, pos)
        if opening is None:
            return blocks
        fence, lang = opening.group(1), opening.group(2).lower()
        closing = re.compile(rf"^[ \t]*{re.escape(fence[0])}{{{len(fence)},}}[ \t]*$", re.MULTILINE)
        end = closing.search(text, opening.end())
        body = text[opening.end() : end.start() if end else len(text)]
        blocks.append((lang, body.rstrip("\n") + "\n" if body.strip() else ""))
        if end is None:
            return blocks
        pos = end.end()


@register_extractor("code_block")
def code_block(language: str = "python", match: Match = "first", fallback: Literal["empty", "text"] = "empty") -> Extractor:
    """The code of a fenced block (```python … ```), as written, ending in a newline.

    Blocks tagged `language` (``python``/``py`` for python) win over untagged ones, which
    win over others. `match` picks the first or last of the best kind. An unterminated
    block counts (generation stopped inside it). With no block at all the result is ""
    (``fallback: empty``) or the whole text (``fallback: text``, for models that answer
    with bare code).
    """
    _check_match("code_block", match)
    if fallback not in ("empty", "text"):
        raise TaskConfigError(f"extractor 'code_block': fallback must be 'empty' or 'text', got {fallback!r}")
    wanted = {language.lower()} | ({"py", "python3"} if language.lower() == "python" else set())

    def extract(text: str) -> str:
        blocks = [b for b in fenced_blocks(text) if b[1]]
        for kind in (lambda lang: lang in wanted, lambda lang: lang == "", lambda lang: True):
            picked = [code for lang, code in blocks if kind(lang)]
            if picked:
                return _pick(picked, match)
        return text if fallback == "text" and text.strip() else ""

    return extract


def build_extractor(specs: Sequence[Mapping[str, Any]]) -> Extractor:
    """One extractor applying `specs` (``{"name": ..., **params}``) in order; [] is identity.

    Raises TaskConfigError naming the unknown extractor or the bad parameter.
    """
    steps = [_build_step(position, spec) for position, spec in enumerate(specs)]

    def pipeline(text: str) -> str:
        for step in steps:
            text = step(text)
        return text

    return pipeline
