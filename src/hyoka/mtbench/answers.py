"""MT-Bench answer generation: N samples per question, each sample's second turn asked
after that sample's own first answer (two rounds through the request cache), with the
temperature set per category. Reasoning (<think>…</think>) is kept beside the answer and
removed from what the next turn sees."""

from __future__ import annotations

from typing import Mapping, Protocol, Sequence

from hyoka.cache import RequestCache
from hyoka.engine.executor import ExecutionStats, PendingRequest, execute
from hyoka.errors import ModelSpecError
from hyoka.judge.answer_files import Answer, AnswerSet, Sample
from hyoka.models.base import Backend, GenerateRequest, GenerateResult, GenerationParams, Message
from hyoka.mtbench.data import Question

#: answer temperatures per category. "fastchat": lm-sys (also Swallow's); "stability": the
#: table Stability AI's jp-stable branch used
TEMPERATURE_PRESETS: dict[str, dict[str, float]] = {
    "fastchat": {
        "writing": 0.7, "roleplay": 0.7, "extraction": 0.0, "math": 0.0,
        "coding": 0.0, "reasoning": 0.0, "stem": 0.1, "humanities": 0.1,
    },
    "stability": {
        "writing": 0.5, "roleplay": 0.5, "extraction": 0.2, "math": 0.1,
        "coding": 0.1, "reasoning": 0.1, "stem": 0.2, "humanities": 0.2,
    },
}  # fmt: skip
#: FastChat's temperature for a category missing from the table
OTHER_CATEGORY_TEMPERATURE = 0.7
#: FastChat's gen_model_answer default
DEFAULT_MAX_TOKENS = 1024


class AnswerOptions(Protocol):
    """The generation settings `generate_answers` reads (MTBenchOptions has them)."""

    num_samples: int
    temperatures: dict[str, float]
    max_tokens: int
    top_p: float
    seed: int
    stop: tuple[str, ...]
    system_prompt: str | None
    use_chat_template: bool | None
    show_progress: bool


def answer_temperature(temperatures: Mapping[str, float], category: str) -> float:
    """The category's temperature, FastChat's default for a category not in the table."""
    return temperatures.get(category, OTHER_CATEGORY_TEMPERATURE)


def _render(backend: Backend, messages: Sequence[Message], chat: bool | None) -> tuple[str, bool]:
    """The text sent, and whether the chat template was used (auto: when the model has one)."""
    if chat is False:
        return backend.render(messages, use_chat_template=False), False
    try:
        return backend.render(messages, use_chat_template=True), True
    except ModelSpecError:
        if chat:
            raise
        return backend.render(messages, use_chat_template=False), False


def _answer_params(options: AnswerOptions, question: Question, sample: int) -> GenerationParams:
    temperature = answer_temperature(options.temperatures, question.category)
    return GenerationParams(
        max_tokens=options.max_tokens, temperature=temperature, top_p=options.top_p, stop=tuple(options.stop),
        seed=options.seed + sample,
    )  # fmt: skip


def generate_answers(
    backend: Backend, cache: RequestCache, questions: Sequence[Question], options: AnswerOptions, model_id: str
) -> tuple[AnswerSet, ExecutionStats, bool]:
    """Two rounds: every sample's first turn, then every second turn after its own first."""
    stats = ExecutionStats()
    samples = {(q.question_id, s): Sample([], []) for q in questions for s in range(options.num_samples)}
    system = [Message("system", options.system_prompt)] if options.system_prompt else []
    history: dict[tuple[int, int], list[Message]] = {key: list(system) for key in samples}
    chat_used = False
    rounds = max(len(q.turns) for q in questions) if questions else 0
    for turn in range(rounds):
        keys, pending = [], []
        for q in questions:
            if turn >= len(q.turns):
                continue
            for s in range(options.num_samples):
                key = (q.question_id, s)
                if samples[key].error is not None:
                    continue  # the first turn failed: there is no conversation to continue
                history[key].append(Message("user", q.turns[turn]))
                prompt, chat_used = _render(backend, history[key], options.use_chat_template)
                request = GenerateRequest(prompt, _answer_params(options, q, s), tuple(history[key]))
                keys.append(key)
                # the sample index is in the cache key: N samples are N calls even when greedy
                pending.append(PendingRequest("generate", request, repeat=s))
        responses, round_stats = execute(
            backend, cache, pending, description=f"answers turn {turn + 1}", show_progress=options.show_progress
        )
        stats.add(round_stats)
        for key, response in zip(keys, responses):
            assert isinstance(response, GenerateResult)
            sample = samples[key]
            if response.error:
                sample.error = f"turn {turn + 1}: {response.error}"
                continue
            # the backend split the reasoning off: text is the answer
            answer = response.text
            sample.turns.append(answer)
            sample.reasoning.append(response.reasoning)
            sample.finish_reasons.append(response.finish_reason)
            # the next turn sees the answer without its reasoning, as chat templates do
            history[key].append(Message("assistant", answer))
    answers = {
        q.question_id: Answer(q.question_id, model_id, [samples[(q.question_id, s)] for s in range(options.num_samples)])
        for q in questions
    }
    return AnswerSet(model_id, "generated", answers), stats, chat_used
