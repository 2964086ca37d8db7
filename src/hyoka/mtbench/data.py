"""MT-Bench's data: the benches (Japanese and English question files with their pinned
reference answers, declared in data_files.yaml beside this module), reading questions and
references, and the Japanese-character ratio used to check that answers are in Japanese at
all."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from hyoka.data.files import DataFile, resolve_file, sha256_file
from hyoka.data.readers import read_jsonl_objects
from hyoka.errors import HyokaError
from hyoka.judge.answer_files import AnswerSet, load_answer_file

#: categories judged against a reference answer (FastChat's NEED_REF_CATS)
NEED_REF_CATS = ("math", "reasoning", "coding")
#: the order FastChat's and Swallow's radar charts use
CATEGORIES = ("writing", "roleplay", "reasoning", "math", "coding", "extraction", "stem", "humanities")

#: every pinned file MT-Bench reads, declared beside this module (one form for pinned files)
DATA_FILES = Path(__file__).with_name("data_files.yaml")


@dataclass(frozen=True)
class Bench:
    name: str
    lang: str
    questions: DataFile
    references: Mapping[str, DataFile]
    #: the reference each prompt variant was published with
    default_reference: Mapping[str, str]
    default_prompts: str


class _BenchFiles(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str
    questions: DataFile
    references: dict[str, DataFile]
    default_reference: dict[str, str]
    default_prompts: str


class DataManifest(BaseModel):
    """data_files.yaml: the benches' files, the judge prompt files and the prompt variants."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    prompt_variants: dict[str, list[str]]
    prompt_files: dict[str, DataFile]
    benches: dict[str, _BenchFiles]

    @model_validator(mode="after")
    def _names_exist(self) -> "DataManifest":
        for variant, files in self.prompt_variants.items():
            missing = set(files) - set(self.prompt_files)
            if missing:
                raise ValueError(f"prompt_variants.{variant} names {sorted(missing)}, not in prompt_files")
        for lang, bench in self.benches.items():
            missing = set(bench.default_reference.values()) - set(bench.references)
            if missing:
                raise ValueError(f"benches.{lang}.default_reference names {sorted(missing)}, not in its references")
        return self


def load_manifest(path: Path = DATA_FILES) -> DataManifest:
    try:
        return DataManifest.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
    except (OSError, yaml.YAMLError) as exc:
        raise HyokaError(f"{path}: cannot read it ({exc})") from None
    except ValidationError as exc:
        err = exc.errors()[0]
        where = "".join(f"{p}: " for p in [".".join(str(p) for p in err["loc"])] if p)
        raise HyokaError(f"{path}: {where}{str(err['msg']).removeprefix('Value error, ')}") from None


MANIFEST = load_manifest()
BENCHES: dict[str, Bench] = {
    lang: Bench(b.name, lang, b.questions, b.references, b.default_reference, b.default_prompts)
    for lang, b in MANIFEST.benches.items()
}


# --- questions and references ------------------------------------------------------------------


@dataclass(frozen=True)
class Question:
    question_id: int
    category: str
    turns: tuple[str, ...]


@dataclass(frozen=True)
class QuestionSource:
    """Where the questions came from: the bench's pinned file or the user's (`--questions`)."""

    file: str
    sha256: str


def read_question_file(path: Path) -> list[Question]:
    """MT-Bench question JSONL (question_id, category, turns), in file order; a bad line is
    one error naming it."""
    expected = '{"question_id": 1, "category": "writing", "turns": ["first", "second"]}'
    questions = []
    for lineno, obj in read_jsonl_objects(path, error=HyokaError, expected=expected):
        turns = obj.get("turns")
        if not isinstance(turns, list) or not turns or not all(isinstance(t, str) for t in turns):
            raise HyokaError(f"{path} line {lineno}: field 'turns' must be a list of strings")
        try:
            qid = int(obj["question_id"])
        except (KeyError, TypeError, ValueError):
            raise HyokaError(f"{path} line {lineno}: field 'question_id' is missing or not a number") from None
        questions.append(Question(qid, str(obj.get("category", "")), tuple(turns)))
    if not questions:
        raise HyokaError(f"{path}: no questions in it (expected one JSON object per line: {expected})")
    return questions


def select_questions(
    questions: Sequence[Question], *, categories: Sequence[str] = (), per_category: int | None = None, limit: int | None = None
) -> list[Question]:
    """Some categories, then the first `per_category` of each (jmt-bench-code's and Nejumi's
    "testmode"), then the first `limit`; file order is kept."""
    chosen = [q for q in questions if not categories or q.category in categories]
    if per_category is not None:
        seen: dict[str, int] = {}
        kept = []
        for q in chosen:
            seen[q.category] = seen.get(q.category, 0) + 1
            if seen[q.category] <= per_category:
                kept.append(q)
        chosen = kept
    return chosen if limit is None else chosen[:limit]


def load_questions(
    bench: Bench,
    *,
    limit: int | None = None,
    categories: Sequence[str] = (),
    per_category: int | None = None,
    path: Path | None = None,
) -> tuple[list[Question], QuestionSource]:
    """The bench's questions (or those of the file at `path`), selected by `select_questions`."""
    if path is not None:
        source = QuestionSource(str(path), sha256_file(path))
        every = read_question_file(path)
    else:
        resolved = resolve_file(bench.questions, task=bench.name)
        source = QuestionSource(bench.questions.mirror_path, resolved.sha256)
        every = read_question_file(resolved.path)
    return select_questions(every, categories=categories, per_category=per_category, limit=limit), source


def load_references(bench: Bench, name: str) -> tuple[dict[int, tuple[str, ...]], str]:
    """question_id → the reference answer's turns (choice 0, as FastChat uses). `name` is one
    of the bench's references, or a FastChat answer file of the user's."""
    if name not in bench.references:
        path = Path(name).expanduser()
        if not (name.endswith(".jsonl") and path.is_file()):
            raise HyokaError(f"--reference {name}: {bench.name} has {', '.join(bench.references)}, or give a FastChat answers .jsonl")
        answers = load_answer_file(path)
        return {int(qid): tuple(a.samples[0].turns) for qid, a in answers.answers.items()}, answers.sha256 or ""
    resolved = resolve_file(bench.references[name], task=bench.name)
    answers = load_answer_file(resolved.path)
    return {int(qid): tuple(a.samples[0].turns) for qid, a in answers.answers.items()}, resolved.sha256


# --- Japanese character ratio --------------------------------------------------------------------


def _is_kana(ch: str) -> bool:
    code = ord(ch)
    return 0x3040 <= code <= 0x30FF or 0x31F0 <= code <= 0x31FF or 0xFF66 <= code <= 0xFF9F


def _is_kanji(ch: str) -> bool:
    code = ord(ch)
    return 0x4E00 <= code <= 0x9FFF or 0x3400 <= code <= 0x4DBF or 0xF900 <= code <= 0xFAFF or ch in "々〆〇"


def _is_ja_punct(ch: str) -> bool:
    code = ord(ch)
    # CJK symbols (、。「」『』〜) and full-width punctuation (！？（）：); full-width letters
    # and digits are not punctuation
    return (0x3000 < code <= 0x303F and ch not in "々〆〇") or (
        0xFF01 <= code <= 0xFF65 and not ch.isalnum()
    )


def japanese_ratio(text: str) -> dict[str, float]:
    """Shares of kana, kanji and Japanese punctuation among the non-space characters,
    and their sum `japanese` — a cheap check that an answer is in Japanese at all."""
    chars = [c for c in text if not c.isspace()]
    if not chars:
        return {"kana": 0.0, "kanji": 0.0, "punct": 0.0, "japanese": 0.0}
    n = len(chars)
    kana = sum(map(_is_kana, chars)) / n
    kanji = sum(map(_is_kanji, chars)) / n
    punct = sum(map(_is_ja_punct, chars)) / n
    return {"kana": kana, "kanji": kanji, "punct": punct, "japanese": kana + kanji + punct}


def language_summary(questions: Sequence[Question], answers: AnswerSet) -> dict[str, Any]:
    """Mean Japanese-character ratio of the answers, overall and per category."""
    per_category: dict[str, list[float]] = {}
    for q in questions:
        answer = answers.answers.get(q.question_id)
        for sample in answer.samples if answer else []:
            for text in sample.turns:
                per_category.setdefault(q.category, []).append(japanese_ratio(text)["japanese"])
    every = [v for vs in per_category.values() for v in vs]
    return {
        "japanese_ratio": sum(every) / len(every) if every else None,
        "categories": {c: sum(v) / len(v) for c, v in per_category.items()},
        "answers": len(every),
    }

