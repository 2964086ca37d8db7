"""Answers in FastChat's model_answer JSONL format: reading (bring-your-own answers, a
pairwise baseline) and writing (the answers a run generated).

One line per question::

    {"question_id": 81, "answer_id": "...", "model_id": "my-model",
     "choices": [{"index": 0, "turns": ["first answer", "second answer"]}], "tstamp": ...}

`question_id` may be a number or a numeric string (Stability's files use both); with
`numeric_ids=False` any non-empty string is an id too (rakuda's ids are short UUIDs). Later
lines for the same question replace earlier ones, as FastChat's loader does. Each choice
is one sample; a choice with one turn is judged on turn 1 only. Reasoning (<think>…</think>)
in an answer is split off before judging and kept in the record.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Union

from hyoka.data.files import sha256_file
from hyoka.data.readers import read_jsonl_objects
from hyoka.core.types import GenerateResult
from hyoka.errors import HyokaError
from hyoka.results.run_dir import write_jsonl


class AnswerFileError(HyokaError):
    """An answers file that cannot be read as FastChat model_answer JSONL."""


@dataclass
class Sample:
    """One sampled conversation: the answer to each turn (reasoning removed)."""

    turns: list[str]
    reasoning: list[str | None] = field(default_factory=list)
    #: set when generating this sample failed (the backend's error); it is not judged
    error: str | None = None
    finish_reasons: list[str | None] = field(default_factory=list)


QuestionId = Union[int, str]


@dataclass
class Answer:
    question_id: QuestionId
    model_id: str
    samples: list[Sample]
    answer_id: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class AnswerSet:
    model_id: str
    #: the file it came from, or "generated"
    source: str
    answers: dict[QuestionId, Answer]
    sha256: str | None = None


def _fail(path: Path, lineno: int, message: str) -> AnswerFileError:
    return AnswerFileError(f"{path} line {lineno}: {message} (expected FastChat model_answer JSONL: "
                           '{"question_id": 81, "choices": [{"index": 0, "turns": ["...", "..."]}]})')


def _question_id(value: Any, path: Path, lineno: int, numeric: bool) -> QuestionId:
    if isinstance(value, bool):
        raise _fail(path, lineno, f"question_id must be a number, got {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    if not numeric and isinstance(value, str) and value.strip():
        return value.strip()
    raise _fail(path, lineno, f"question_id must be a number{'' if numeric else ' or a string'}, got {value!r}")


def _sample(choice: Any, path: Path, lineno: int, index: int) -> Sample:
    if not isinstance(choice, dict) or not isinstance(choice.get("turns"), list):
        raise _fail(path, lineno, f"choices[{index}] must be an object with a 'turns' list")
    turns = choice["turns"]
    error = choice.get("error") if isinstance(choice.get("error"), str) else None
    # hyoka writes a sample whose generation failed with its error and fewer turns
    if (not turns and error is None) or not all(isinstance(t, str) for t in turns):
        raise _fail(path, lineno, f"choices[{index}].turns must be a non-empty list of strings")
    kept = choice.get("reasoning")
    if not (isinstance(kept, list) and len(kept) == len(turns)):
        kept = [None] * len(turns)
    # answers entering hyoka from a file are split as a backend splits its output (once, here);
    # a file hyoka wrote has clean turns and the reasoning beside them
    split = [GenerateResult.from_output(t, reasoning=k if isinstance(k, str) else None) for t, k in zip(turns, kept)]
    return Sample([r.text for r in split], [r.reasoning for r in split], error)


def parse_answer_object(obj: dict[str, Any], path: Path, lineno: int, default_model: str, *, numeric_ids: bool = True) -> Answer:
    if "question_id" not in obj:
        raise _fail(path, lineno, "field 'question_id' is missing")
    qid = _question_id(obj["question_id"], path, lineno, numeric_ids)
    choices = obj.get("choices")
    if not isinstance(choices, list) or not choices:
        raise _fail(path, lineno, "field 'choices' is missing or empty")
    samples = [_sample(c, path, lineno, i) for i, c in enumerate(choices)]
    model_id = obj.get("model_id") if isinstance(obj.get("model_id"), str) else default_model
    return Answer(qid, model_id, samples, str(obj.get("answer_id") or ""))


def load_answer_file(path: Path, *, numeric_ids: bool = True, label: str | None = None) -> AnswerSet:
    """Read a FastChat model_answer JSONL file; any bad line is one error naming it.
    `label`: what the set's `source` says (default: the path)."""
    path = Path(path)
    answers: dict[QuestionId, Answer] = {}
    model_ids: set[str] = set()
    expected = 'FastChat model_answer JSONL: {"question_id": 81, "choices": [{"index": 0, "turns": ["..."]}]}'
    for lineno, obj in read_jsonl_objects(path, error=AnswerFileError, expected=expected):
        answer = parse_answer_object(obj, path, lineno, default_model=path.stem, numeric_ids=numeric_ids)
        answers[answer.question_id] = answer
        model_ids.add(answer.model_id)
    if not answers:
        raise AnswerFileError(f"{path}: no answers in it (expected one JSON object per line)")
    model_id = sorted(model_ids)[0] if len(model_ids) == 1 else path.stem
    return AnswerSet(model_id, label or str(path), answers, sha256_file(path))


def answer_id(model_id: str, question_id: QuestionId, samples: Iterable[Sample]) -> str:
    """Deterministic, so a rerun writes a byte-identical answers file."""
    body = json.dumps([model_id, question_id, [s.turns for s in samples]], ensure_ascii=False)
    return hashlib.sha256(body.encode("utf-8")).hexdigest()[:22]


def answer_record(answer: Answer, *, tstamp: float, generate_params: dict[str, Any] | None = None) -> dict[str, Any]:
    """One FastChat model_answer line. Extra keys (reasoning, errors) are ignored by FastChat."""
    choices = []
    for index, sample in enumerate(answer.samples):
        choice: dict[str, Any] = {"index": index, "turns": sample.turns}
        if any(r is not None for r in sample.reasoning):
            choice["reasoning"] = sample.reasoning
        if sample.error is not None:
            choice["error"] = sample.error
        if sample.finish_reasons:
            choice["finish_reasons"] = sample.finish_reasons
        choices.append(choice)
    record: dict[str, Any] = {
        "question_id": answer.question_id,
        "answer_id": answer.answer_id or answer_id(answer.model_id, answer.question_id, answer.samples),
        "model_id": answer.model_id,
        "choices": choices,
        "tstamp": tstamp,
    }
    if generate_params is not None:
        record["generate_params"] = generate_params
    record.update(answer.extra)
    return record


def write_answer_file(path: Path, records: Iterable[dict[str, Any]]) -> None:
    write_jsonl(path, records)
