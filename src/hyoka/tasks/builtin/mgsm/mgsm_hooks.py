"""MGSM readers: the test TSVs and the native chain-of-thought exemplars, laid out as
lm-evaluation-harness's ``mgsm_native_cot_<lang>`` asks them.

lm-eval writes a test question as "問題： {question}\\nステップごとの答え:" and an exemplar as
its upstream question (which already starts with "問題：") followed by the same cue; the
exemplar's answer is its worked solution without the "ステップごとの答え：" prefix.
"""

from __future__ import annotations

import csv
import json
import string
from pathlib import Path

from hyoka.errors import DatasetError

#: (question prefix of a test doc, the answer cue after it, the exemplar answers' prefix)
LAYOUT = {
    "ja": ("問題： ", "\nステップごとの答え:", "ステップごとの答え："),
    "en": ("Question: ", "\nStep-by-Step Answer:", "Step-by-Step Answer:"),
}


#: lm-eval's exact_match with ignore_punctuation removes ASCII punctuation from both sides
_PUNCTUATION = str.maketrans("", "", string.punctuation)


def lm_eval_gold(answer: str) -> str:
    """The gold as lm-eval compares it: "1,000" → "1000" (and "-5" → "5", as lm-eval does)."""
    return answer.translate(_PUNCTUATION)


def _test_docs(path: Path, lang: str) -> list[dict]:
    prefix, cue, _ = LAYOUT[lang]
    docs = []
    with path.open(encoding="utf-8", newline="") as f:
        for number, row in enumerate(csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE), start=1):
            if len(row) != 2:
                raise DatasetError(f"{path}:{number}: {len(row)} columns, expected 2 (question, answer)")
            answer = row[1].strip()
            docs.append({"question": row[0], "answer": answer, "gold": lm_eval_gold(answer), "prompt": f"{prefix}{row[0]}{cue}"})
    return docs


def _exemplars(path: Path, lang: str) -> list[dict]:
    _, cue, answer_prefix = LAYOUT[lang]
    try:
        shots = json.loads(path.read_text(encoding="utf-8"))["MGSM_EXEMPLARS"][lang]
        numbers = json.loads(path.read_text(encoding="utf-8"))["EXEMPLAR_NUMBER_ANSWERS"]
    except (KeyError, json.JSONDecodeError) as exc:
        raise DatasetError(f"{path}: no MGSM_EXEMPLARS[{lang!r}] ({exc})") from None
    docs = []
    for index in sorted(shots, key=int):
        shot = shots[index]
        solution = shot["a"].removeprefix(answer_prefix).strip()
        docs.append({"question": shot["q"], "answer": str(numbers[int(index) - 1]), "prompt": shot["q"] + cue, "solution": solution})
    return docs


def read_mgsm_ja(path: Path, split: str) -> list[dict]:
    return _exemplars(path, "ja") if split == "exemplars" else _test_docs(path, "ja")


def read_mgsm_en(path: Path, split: str) -> list[dict]:
    return _exemplars(path, "en") if split == "exemplars" else _test_docs(path, "en")
