"""MT-Bench judging items: what the judge is asked about each (question, sample, turn),
single grading or pairwise against a baseline (both orders), and the items that could not
be asked (no answer, generation failed)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator, Mapping, Sequence

from hyoka.errors import HyokaError
from hyoka.judge.answer_files import AnswerSet, Sample
from hyoka.judge.judge import JudgeItem
from hyoka.mtbench.data import NEED_REF_CATS, Question
from hyoka.mtbench.prompt_sets import PromptSet


@dataclass(frozen=True)
class ItemInfo:
    """What one judged item is about: question, sample, turn (and game for pairwise)."""

    question_id: int
    category: str
    sample: int
    turn: int
    game: str | None = None  # "g1": model is A; "g2": model is B


@dataclass
class Unjudged:
    """An item that could not be sent to the judge (no answer, generation failed)."""

    info: ItemInfo
    reason: str


#: the reasons an item is never sent to the judge: the model (or the baseline) gave no
#: answer to judge. Every other failure is the judge's (hyoka.judge.parse's reasons,
#: backend_error); tables show the two apart.
UNANSWERED = frozenset({"missing_answer", "answer_error", "missing_baseline_answer"})

#: what the item builders return: the items, what each key is about, and the unjudged
Items = tuple[list[JudgeItem], dict[str, ItemInfo], list[Unjudged]]


def _item_key(info: ItemInfo) -> str:
    base = f"q{info.question_id}/s{info.sample}/t{info.turn}"
    return f"{base}/{info.game}" if info.game else base


def _reference_values(question: Question, references: Mapping[int, tuple[str, ...]], source: str) -> dict[str, str]:
    ref = references.get(question.question_id)
    if ref is None:
        raise HyokaError(
            f"reference answers {source}: no answer for question {question.question_id} ({question.category}); "
            "pick another --reference"
        )
    values = {"ref_answer_1": ref[0]}
    if len(ref) > 1:
        values["ref_answer_2"] = ref[1]
    return values


def _samples(
    questions: Sequence[Question], answers: AnswerSet, turns: Sequence[int]
) -> Iterator[tuple[Question, ItemInfo, Sample | None]]:
    """Every (question, turn it has, sample) to judge; a question without an answer gives
    one sample, None."""
    for q in questions:
        answer = answers.answers.get(q.question_id)
        for turn in turns:
            if turn > len(q.turns):
                continue
            for s, sample in enumerate(answer.samples if answer else [None]):
                yield q, ItemInfo(q.question_id, q.category, s, turn), sample


def _values(
    question: Question,
    turn: int,
    answers: Mapping[str, Sample],
    references: Mapping[int, tuple[str, ...]],
    reference_source: str,
) -> dict[str, str]:
    """The prompt's template fields; `answers` maps a field name ("answer", "answer_a",
    "answer_b") to the sample whose turns fill it."""
    values = {"question": question.turns[0], "question_1": question.turns[0]}
    for name, sample in answers.items():
        values.update({name: sample.turns[0], f"{name}_1": sample.turns[0]})
        if turn == 2:
            values[f"{name}_2"] = sample.turns[1]
    if turn == 2:
        values["question_2"] = question.turns[1]
    if question.category in NEED_REF_CATS:
        values.update(_reference_values(question, references, reference_source))
    return values


def _answer_problem(sample: Sample | None, turn: int) -> str | None:
    """Why a sample cannot be judged on `turn` (None: it can): no answer with that many turns,
    and whether its generation failed."""
    if sample is not None and len(sample.turns) >= turn:
        return None
    return "answer_error" if sample is not None and sample.error is not None else "missing_answer"


def single_items(
    questions: Sequence[Question],
    answers: AnswerSet,
    prompts: PromptSet,
    references: Mapping[int, tuple[str, ...]],
    *,
    turns: Sequence[int],
    reference_source: str,
) -> Items:
    items, infos, unjudged = [], {}, []
    for q, info, sample in _samples(questions, answers, turns):
        turn = info.turn
        problem = _answer_problem(sample, turn)
        if problem:
            unjudged.append(Unjudged(info, problem))
            continue
        values = _values(q, turn, {"answer": sample}, references, reference_source)
        key = _item_key(info)
        items.append(JudgeItem(key, prompts.get("single", q.category in NEED_REF_CATS, turn), values))
        infos[key] = info
    return items, infos, unjudged


def pairwise_items(
    questions: Sequence[Question],
    answers: AnswerSet,
    baseline: AnswerSet,
    prompts: PromptSet,
    references: Mapping[int, tuple[str, ...]],
    *,
    turns: Sequence[int],
    reference_source: str,
) -> Items:
    """Each of the model's samples against the baseline's first choice, judged in both orders."""
    items, infos, unjudged = [], {}, []
    for q, info, sample in _samples(questions, answers, turns):
        turn = info.turn
        base = baseline.answers.get(q.question_id)
        problem = _answer_problem(sample, turn)
        if problem:
            unjudged.append(Unjudged(info, problem))
            continue
        if base is None or len(base.samples[0].turns) < turn:
            unjudged.append(Unjudged(info, "missing_baseline_answer"))
            continue
        other = base.samples[0]
        for game, (a, b) in (("g1", (sample, other)), ("g2", (other, sample))):
            values = _values(q, turn, {"answer_a": a, "answer_b": b}, references, reference_source)
            game_info = ItemInfo(q.question_id, q.category, info.sample, turn, game)
            key = _item_key(game_info)
            items.append(JudgeItem(key, prompts.get("pairwise", q.category in NEED_REF_CATS, turn), values))
            infos[key] = game_info
    return items, infos, unjudged
