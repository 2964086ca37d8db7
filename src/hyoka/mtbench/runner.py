"""MT-Bench, Japanese (Stability AI / Swallow) and English (LMSYS), judged by an LLM.

The flow follows FastChat's llm_judge:

1. Answers. Questions have two turns. N samples per question; sample s's second turn is
   asked after THAT sample's own first answer, so generation runs in two rounds (all first
   turns, then all second turns). Temperatures are per category (FastChat's table by
   default). Reasoning (<think>…</think>) is removed from the answer the judge sees and
   from the history of turn 2, and kept in the answers file. Or answers come from a file
   (bring-your-own, FastChat model_answer JSONL).
2. Judging. Single grading: turn 1 with the single-answer prompt, turn 2 with the
   multi-turn prompt; math, reasoning and coding are judged against reference answers.
   Pairwise (with a baseline answers file): every comparison is judged in both orders, and
   a verdict that flips with the order is a tie (FastChat's rule).
3. Scores per category, per turn and overall, on 1–10 and /10 (Swallow reports score/10),
   with the number of failed judgments beside each; with `--judge-repeats R` each item's
   score is the median of its R ratings; intervals are a bootstrap over questions.

This module runs the three steps and writes the run directory; the steps live beside it:
data (benches, questions, references), prompt_sets (judge prompt variants), answers
(generation), items (what the judge is asked), scoring (scores and their summaries) and
report (tables and charts). The judge itself is hyoka.judge.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from hyoka.cache import RequestCache
from hyoka.engine.executor import ExecutionStats
from hyoka.errors import DatasetError, HyokaError
from hyoka.judge.answer_files import AnswerSet, answer_record, load_answer_file, write_answer_file
from hyoka.judge.judge import Judge, Judgment
from hyoka.models.base import Backend
from hyoka.mtbench.answers import DEFAULT_MAX_TOKENS, TEMPERATURE_PRESETS, answer_temperature, generate_answers
from hyoka.mtbench.data import (
    BENCHES, CATEGORIES, NEED_REF_CATS, Bench, Question, QuestionSource, japanese_ratio, language_summary, load_questions,
    load_references,
)  # fmt: skip
from hyoka.mtbench.items import ItemInfo, Unjudged, pairwise_items, single_items
from hyoka.mtbench.prompt_sets import PromptSet, load_prompt_set
from hyoka.mtbench.report import radar, task_metrics
from hyoka.mtbench.scoring import aggregate, judge_calls, score_pairwise, score_single
from hyoka.results.provenance import run_header
from hyoka.results.run_dir import METRICS_FILE, SUMMARY_FILE, write_json, write_jsonl

ANSWERS_FILE = "answers.jsonl"
JUDGMENTS_FILE = "judgments.jsonl"


# --- options --------------------------------------------------------------------------------


@dataclass
class MTBenchOptions:
    output: Path
    lang: str = "ja"
    #: ja | en | en-ja | a prompt file; None: the bench's own (ja for ja, en for en)
    judge_prompts: str | None = None
    #: reference answers by name; None: the one published with the prompt variant
    reference: str | None = None
    limit: int | None = None
    categories: tuple[str, ...] = ()
    #: the first N questions of each category ("testmode" of jmt-bench-code and Nejumi)
    per_category: int | None = None
    #: a suite run's --docs START:END: questions START..END-1 of the selection, as its other tasks
    docs: tuple[int, int] | None = None
    #: the user's question file (MT-Bench JSONL); None: the bench's pinned one
    questions_file: Path | None = None
    turns: tuple[int, ...] = (1, 2)
    num_samples: int = 1
    judge_repeats: int = 1
    answers_file: Path | None = None
    baseline_file: Path | None = None
    temperatures: dict[str, float] = field(default_factory=lambda: dict(TEMPERATURE_PRESETS["fastchat"]))
    temperature_preset: str = "fastchat"
    max_tokens: int = DEFAULT_MAX_TOKENS
    top_p: float = 1.0
    seed: int = 0
    stop: tuple[str, ...] = ()
    #: system message before every conversation the answering model sees
    system_prompt: str | None = None
    #: None: the model's chat template when it has one, plain text otherwise
    use_chat_template: bool | None = None
    bootstrap: int = 1000
    show_progress: bool = True
    model_spec: str = ""
    judge_spec: str = ""
    #: the answering model's resolved settings (`--settings`) and where each came from
    settings: dict[str, Any] | None = None

    def validate(self) -> None:
        if self.lang not in BENCHES:
            raise HyokaError(f"--lang {self.lang}: choose one of {', '.join(BENCHES)}")
        if self.limit is not None and self.limit < 1:
            raise HyokaError("--limit must be a positive number of questions")
        if self.per_category is not None and self.per_category < 1:
            raise HyokaError("--per-category must be a positive number of questions")
        if self.num_samples < 1:
            raise HyokaError("--num-samples must be at least 1")
        if self.judge_repeats < 1:
            raise HyokaError("--judge-repeats must be at least 1")
        if not set(self.turns) <= {1, 2} or not self.turns:
            raise HyokaError("--turns must be 1, 2 or 1,2")
        unknown = set(self.categories) - set(CATEGORIES)
        if unknown and self.questions_file is None:  # a user's question file has its own categories
            raise HyokaError(f"--categories: unknown {sorted(unknown)}; known: {', '.join(CATEGORIES)}")

    @property
    def bench(self) -> Bench:
        return BENCHES[self.lang]

    @property
    def prompt_variant(self) -> str:
        return self.judge_prompts or self.bench.default_prompts

    @property
    def mode(self) -> str:
        return "pairwise" if self.baseline_file is not None else "single"


@dataclass
class Prepared:
    """Everything read from files before any model is loaded, so bad input fails first."""

    questions: list[Question]
    question_source: QuestionSource
    prompts: PromptSet
    reference_name: str
    references: dict[int, tuple[str, ...]]
    reference_sha: str | None
    answers: AnswerSet | None
    baseline: AnswerSet | None


def prepare(options: MTBenchOptions) -> Prepared:
    options.validate()
    bench = options.bench
    questions, question_source = load_questions(
        bench, limit=options.limit, categories=options.categories, per_category=options.per_category,
        path=options.questions_file,
    )  # fmt: skip
    if options.docs is not None:
        selected, questions = len(questions), questions[options.docs[0] : options.docs[1]]
        if not questions:  # a DatasetError: a suite names the member as skipped, as for missing data
            raise DatasetError(f"--docs {options.docs[0]}:{options.docs[1]}: {bench.name} has {selected} questions, none in this range")
    if not questions:
        raise HyokaError("no questions selected: check --categories, --per-category and --limit")
    prompts = load_prompt_set(options.prompt_variant)
    for q in questions:  # every prompt the run will need exists, before anything is generated
        for turn in options.turns:
            if turn <= len(q.turns):
                prompts.get(options.mode, q.category in NEED_REF_CATS, turn)  # type: ignore[arg-type]
    reference_name = options.reference or bench.default_reference.get(options.prompt_variant, "gpt-4")
    references: dict[int, tuple[str, ...]] = {}
    reference_sha = None
    if any(q.category in NEED_REF_CATS for q in questions):
        references, reference_sha = load_references(bench, reference_name)
        _check_references(questions, references, reference_name)
    answers = baseline = None
    if options.answers_file is not None:
        answers = load_answer_file(options.answers_file)
        _check_coverage(answers, questions, options.answers_file)
    if options.baseline_file is not None:
        baseline = load_answer_file(options.baseline_file)
        _check_coverage(baseline, questions, options.baseline_file)
    return Prepared(questions, question_source, prompts, reference_name, references, reference_sha, answers, baseline)


def _check_references(questions: Sequence[Question], references: Mapping[int, tuple[str, ...]], name: str) -> None:
    """Math, reasoning and coding are judged against a reference: every such question needs one
    (checked here, before any answer is generated)."""
    for q in questions:
        if q.category in NEED_REF_CATS and q.question_id not in references:
            raise HyokaError(
                f"reference answers {name}: no answer for question {q.question_id} ({q.category}); "
                "give --reference FILE.jsonl (FastChat answers) that has one"
            )


def _check_coverage(answers: AnswerSet, questions: Sequence[Question], path: Path) -> None:
    """Bring-your-own answers must cover at least one selected question (ids must match)."""
    if not any(q.question_id in answers.answers for q in questions):
        wanted = ", ".join(str(q.question_id) for q in questions[:5])
        raise HyokaError(
            f"{path}: none of its question_ids match the selected questions ({wanted}…); "
            "check --lang (ja ids are 1–80, en ids 81–160)"
        )


# --- the run -----------------------------------------------------------------------------------


@dataclass
class MTBenchOutcome:
    run_dir: Path
    metrics: dict[str, Any]
    answer_stats: ExecutionStats
    judge_stats: ExecutionStats
    charts: list[Path]


def run_mtbench(
    model: Backend | None,
    judge: Judge,
    cache: RequestCache,
    options: MTBenchOptions,
    *,
    model_id: str | None = None,
    prepared: Prepared | None = None,
) -> MTBenchOutcome:
    started = time.time()
    p = prepared or prepare(options)
    bench = options.bench
    options.output.mkdir(parents=True, exist_ok=True)
    questions, prompts, references = p.questions, p.prompts, p.references
    reference_name = p.reference_name

    # 1. answers: generated (cache first) or brought; saved before any judging starts
    answer_stats = ExecutionStats()
    chat_used: bool | None = None
    if p.answers is not None:
        answers = p.answers
    else:
        if model is None:
            raise HyokaError("give a MODEL to answer the questions, or --answers FILE.jsonl with saved answers")
        answers, answer_stats, chat_used = generate_answers(
            model, cache, questions, options, model_id or model.identity.name
        )
    write_answer_file(options.output / ANSWERS_FILE, _answer_records(questions, answers, options, chat_used, started))

    # 2. judging
    baseline = p.baseline
    if baseline is not None:
        items, infos, unjudged = pairwise_items(
            questions, answers, baseline, prompts, references, turns=options.turns, reference_source=reference_name
        )
    else:
        items, infos, unjudged = single_items(
            questions, answers, prompts, references, turns=options.turns, reference_source=reference_name
        )
    judgments = judge.judge(items, repeats=options.judge_repeats, description="judge", show_progress=options.show_progress)
    write_jsonl(options.output / JUDGMENTS_FILE, _judgment_rows(judgments, infos, unjudged, options.judge_spec))

    # 3. scores
    if options.mode == "pairwise":
        scores = score_pairwise(judgments, infos, unjudged)
    else:
        scores = score_single(judgments, infos, unjudged)
    detail = aggregate(scores, mode=options.mode, resamples=options.bootstrap)
    detail["judge_calls"] = judge_calls(judgments)
    detail["language"] = language_summary(questions, answers)
    detail.update(benchmark=bench.name, mode=options.mode, scale="1-10" if options.mode == "single" else "0-1")
    task_name = f"mtbench_{bench.lang}" + ("_pairwise" if options.mode == "pairwise" else "")
    metrics = {**task_metrics(task_name, detail, options.mode), "mtbench": detail}
    write_json(options.output / METRICS_FILE, metrics)

    charts = radar(detail, options.mode, options.output / "radar", answers.model_id)
    summary = _summary(
        options, model, judge, answers, baseline, prompts, p.question_source, reference_name, p.reference_sha,
        answer_stats, chat_used, len(questions), started,
    )  # fmt: skip
    write_json(options.output / SUMMARY_FILE, summary)
    return MTBenchOutcome(options.output, metrics, answer_stats, judge.stats, charts)


def _answer_records(questions: Sequence[Question], answers: AnswerSet, options: MTBenchOptions, chat_used: bool | None, tstamp: float) -> Iterable[dict[str, Any]]:
    for q in questions:
        answer = answers.answers.get(q.question_id)
        if answer is None:
            continue
        params = None
        if answers.source == "generated":
            params = {
                "temperature": answer_temperature(options.temperatures, q.category),
                "max_new_token": options.max_tokens,
                "top_p": options.top_p,
                "seed": options.seed,
                "stop": list(options.stop),
                "system_prompt": options.system_prompt,
                "chat_template": chat_used,
            }
        answer.extra = {
            "japanese_ratio": [[round(japanese_ratio(t)["japanese"], 4) for t in s.turns] for s in answer.samples]
        }
        yield answer_record(answer, tstamp=tstamp, generate_params=params)


def _judgment_rows(judgments: Sequence[Judgment], infos: Mapping[str, ItemInfo], unjudged: Sequence[Unjudged], judge_spec: str) -> Iterable[dict[str, Any]]:
    for j in judgments:
        info = infos[j.key]
        yield {"question_id": info.question_id, "category": info.category, "sample": info.sample, "turn": info.turn,
               "game": info.game, "judge": judge_spec, **j.as_dict()}  # fmt: skip
    for u in unjudged:
        yield {"question_id": u.info.question_id, "category": u.info.category, "sample": u.info.sample,
               "turn": u.info.turn, "game": None, "judge": judge_spec, "failure": u.reason, "reply": None}  # fmt: skip


def _summary(
    options: MTBenchOptions,
    model: Backend | None,
    judge: Judge,
    answers: AnswerSet,
    baseline: AnswerSet | None,
    prompts: PromptSet,
    question_source: QuestionSource,
    reference_name: str,
    reference_sha: str | None,
    answer_stats: ExecutionStats,
    chat_used: bool | None,
    num_questions: int,
    started: float,
) -> dict[str, Any]:
    return {
        **run_header(started),
        "benchmark": options.bench.name,
        "mode": options.mode,
        "questions": {"file": question_source.file, "sha256": question_source.sha256, "selected": num_questions,
                      "limit": options.limit, "per_category": options.per_category, "categories": list(options.categories),
                      **({"docs": list(options.docs)} if options.docs else {})},
        "reference": {"name": reference_name, "sha256": reference_sha},
        "judge_prompts": {"variant": prompts.variant, "files": list(prompts.files)},
        "settings": options.settings,
        "model": ({"spec": options.model_spec, **model.identity.as_dict()} if model is not None and options.answers_file is None
                  else {"spec": options.model_spec or None, "answers_file": answers.source, "answers_sha256": answers.sha256,
                        "model_id": answers.model_id}),
        "baseline": None if baseline is None else {"file": baseline.source, "sha256": baseline.sha256, "model_id": baseline.model_id},
        "generation": None if options.answers_file is not None else {
            "num_samples": options.num_samples, "temperature_preset": options.temperature_preset,
            "temperatures": options.temperatures, "max_tokens": options.max_tokens, "top_p": options.top_p,
            "seed": options.seed, "stop": list(options.stop), "system_prompt": options.system_prompt,
            "chat_template": chat_used,
        },
        "judge": {"spec": options.judge_spec, **judge.backend.identity.as_dict(), "config": asdict(judge.config),
                  "repeats": options.judge_repeats, "chat_template": not judge.plain_fallback},
        "execution": {"answers": asdict(answer_stats), "judge": asdict(judge.stats)},
    }  # fmt: skip
