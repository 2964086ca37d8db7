"""Document hooks for the Swallow instruct suite (swallow-evaluation-instruct's prompts).

Task YAMLs next to this file refer to these as `!function swallow_hooks.NAME`. Each turns
the upstream dataset's rows into documents with the fields the prompt templates use;
written for hyoka from the datasets' schemas and the suite's published prompt formats.
"""

from __future__ import annotations

import ast
import hashlib
import random
import string
from typing import Any

from hyoka.errors import DatasetError

Doc = dict[str, Any]
LETTERS = string.ascii_uppercase


def _options_block(options: list[str]) -> str:
    """"A) …" lines, one per option, as the suite writes them."""
    return "\n".join(f"{LETTERS[i]}) {text}" for i, text in enumerate(options))


def _require(doc: Doc, fields: tuple[str, ...], dataset: str) -> None:
    missing = [f for f in fields if f not in doc]
    if missing:
        raise DatasetError(f"{dataset}: a row lacks {', '.join(missing)} (fields: {', '.join(sorted(doc))})")


# --- multiple choice ------------------------------------------------------------------------


def mmlu_prox_docs(docs: list[Doc]) -> list[Doc]:
    """MMLU-ProX rows (option_0..option_9, unused options null; answer_index) → options and gold letter."""
    out = []
    for doc in docs:
        _require(doc, ("question", "answer_index", "option_0"), "MMLU-ProX")
        options = [doc[f"option_{i}"] for i in range(10) if doc.get(f"option_{i}") is not None]
        out.append(_with_options(doc, options, int(doc["answer_index"])))
    return out


def mmlu_pro_docs(docs: list[Doc]) -> list[Doc]:
    """MMLU-Pro rows (options: list of up to 10; answer_index) → options and gold letter."""
    out = []
    for doc in docs:
        _require(doc, ("question", "options", "answer_index"), "MMLU-Pro")
        out.append(_with_options(doc, list(doc["options"]), int(doc["answer_index"])))
    return out


def _with_options(doc: Doc, options: list[str], gold: int) -> Doc:
    if not 0 <= gold < len(options):
        raise DatasetError(f"answer_index {gold} is outside the {len(options)} options of question {doc.get('question_id')}")
    letters = LETTERS[: len(options)]
    return {**doc, "letters": ", ".join(letters), "options_block": _options_block(options), "gold_letter": letters[gold]}


def shuffle_seed_of(question: str, seed: int) -> random.Random:
    """A generator seeded by the question itself: the same item gets the same order in
    every run, whatever --limit, order or machine (sha256, not Python's salted hash)."""
    digest = hashlib.sha256(f"{seed}:{question}".encode("utf-8")).hexdigest()
    return random.Random(int(digest, 16))


def gpqa_docs(docs: list[Doc], seed: int = 1234) -> list[Doc]:
    """GPQA rows (Correct Answer, Incorrect Answer 1-3) → the four answers in a seeded
    per-item order, and the letter of the correct one.

    swallow-evaluation-instruct draws the position with an unseeded `random.randint`; a
    seeded draw per question keeps the order reproducible while still placing the
    correct answer anywhere.
    """
    out = []
    for doc in docs:
        fields = ("Question", "Correct Answer", "Incorrect Answer 1", "Incorrect Answer 2", "Incorrect Answer 3")
        _require(doc, fields, "GPQA")
        gold = shuffle_seed_of(doc["Question"], seed).randint(0, 3)
        options = [doc["Incorrect Answer 1"], doc["Incorrect Answer 2"], doc["Incorrect Answer 3"]]
        options.insert(gold, doc["Correct Answer"])
        out.append({**doc, "A": options[0], "B": options[1], "C": options[2], "D": options[3], "gold_letter": LETTERS[gold]})
    return out


def hellaswag_docs(docs: list[Doc]) -> list[Doc]:
    """HellaSwag rows → the context line and four endings without WikiHow's [title]/[step] marks."""
    out = []
    for doc in docs:
        _require(doc, ("activity_label", "ctx_a", "ctx_b", "endings", "label"), "HellaSwag")
        endings = [_drop_markers(e) for e in doc["endings"]]
        if len(endings) != 4:
            raise DatasetError(f"HellaSwag: item {doc.get('ind')} has {len(endings)} endings, expected 4")
        context = f"{doc['activity_label']}: {doc['ctx_a']} {doc['ctx_b'].capitalize()}"
        out.append(
            {**doc, "context": context, "A": endings[0], "B": endings[1], "C": endings[2], "D": endings[3],
             "gold_letter": LETTERS[int(doc["label"])]}
        )  # fmt: skip
    return out


def _drop_markers(text: str) -> str:
    for marker in ("[substeps]", "[title]", "[step]"):
        text = text.replace(marker, "")
    return text


# --- translation ----------------------------------------------------------------------------


def wmt_docs(docs: list[Doc]) -> list[Doc]:
    """sacrebleu_manual rows: `translation` is a mapping {en, ja} or its Python repr
    (the hub's CSV/parquet export stores it as text); each side may be a list (first kept)."""
    out = []
    for doc in docs:
        _require(doc, ("translation",), "WMT20")
        pair = doc["translation"]
        if isinstance(pair, str):
            try:
                pair = ast.literal_eval(pair)
            except (ValueError, SyntaxError):
                raise DatasetError(f"WMT20: translation {pair[:60]!r}… is neither a mapping nor its repr") from None
        if not isinstance(pair, dict) or not {"en", "ja"} <= set(pair):
            raise DatasetError(f"WMT20: translation must have 'en' and 'ja', got {pair!r:.80}")
        first = {k: (v[0] if isinstance(v, list) else v) for k, v in pair.items()}
        out.append({**doc, "en": first["en"], "ja": first["ja"]})
    return out
