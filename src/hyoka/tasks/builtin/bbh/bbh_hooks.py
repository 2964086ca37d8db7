"""BIG-Bench Hard readers: the evaluated examples and the three chain-of-thought shots.

``cot-prompts/<task>.txt`` is the canary line, a ``-----`` line, the task description,
then three blocks "Q: {input}\\nA: Let's think step by step.\\n{reasoning} So the answer
is {answer}." The shots are read from it, each with its chain of thought (`target`) and
its short answer (`answer`, for the direct-answer variant).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from hyoka.errors import DatasetError

#: a shot's reasoning follows this on the next line (in sports_understanding after a space
#: on the same line); `delimiter` keeps which, so prompts are byte-identical to upstream's
COT_CUE = "\nA: Let's think step by step."
_ANSWER = re.compile(r"So the answer is (.*)\.\s*$", re.DOTALL)


def _examples(path: Path) -> list[dict]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return [{"input": e["input"], "target": e["target"]} for e in data["examples"]]
    except (KeyError, TypeError, json.JSONDecodeError) as exc:
        raise DatasetError(f"{path}: not a BBH task file with examples [{{input, target}}] ({exc})") from None


def cot_prompt_parts(text: str, path: Path | str = "cot prompt") -> tuple[str, list[dict]]:
    """(description, shots) of a cot-prompts file."""
    _, sep, body = text.partition("-----\n")
    if not sep:
        raise DatasetError(f"{path}: no '-----' line after the canary")
    description, *blocks = body.strip("\n").split("\n\nQ: ")
    shots = []
    for block in blocks:
        question, cue, reasoning = block.partition(COT_CUE)
        found = _ANSWER.search(reasoning)
        if not cue or not found:
            raise DatasetError(f"{path}: a shot lacks {COT_CUE!r} or 'So the answer is ….'")
        delimiter = reasoning[0] if reasoning[:1] in ("\n", " ") else ""
        shots.append({"input": question, "delimiter": delimiter, "target": reasoning.strip(), "answer": found.group(1)})
    return description.strip(), shots


def read_bbh(path: Path, split: str) -> list[dict]:
    if split == "cot_prompt":
        return cot_prompt_parts(path.read_text(encoding="utf-8"), path)[1]
    return _examples(path)
