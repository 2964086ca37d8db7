"""An LLM judge any task can use: any hyoka Backend reads a prompt and gives a rating or a
verdict.

- Every judge call goes through the one request cache (`engine.executor.execute`), so a
  rerun re-judges nothing it has already judged, and an interrupted run resumes.
- `repeats` R judges each item R times (repeat index r, seed + r: distinct cache keys);
  the caller aggregates (MT-Bench takes the median).
- An unparseable reply is asked again, up to `retries` times, with a new seed, the
  `retry_temperature` (a greedy judge would only repeat itself) and a new repeat index in
  the cache key. After that the item is a failure with its reason and every reply kept.
- Structured mode asks for ``{"rating": n}`` after the explanation and reads the JSON
  first (the bracket rules remain the fallback). The prompt text changes, so structured
  and plain judgments never share cache entries.
- A reasoning judge's thinking is split off before parsing (a rating inside <think> does
  not count) and kept in the record.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, Mapping, Sequence

from pydantic import Field

from hyoka.cache import RequestCache
from hyoka.engine.executor import ExecutionStats, PendingRequest, execute
from hyoka.errors import HyokaError, ModelSpecError
from hyoka.judge.parse import parse_rating, parse_verdict
from hyoka.judge.prompts import JudgePrompt
from hyoka.models.args import BackendArgs, validate_args
from hyoka.models.base import Backend, GenerateRequest, GenerateResult, GenerationParams, Message

Expect = Literal["rating", "verdict"]

STRUCTURED_SUFFIX = (
    "\n\nAfter your explanation, end your reply with a JSON object on its own line, exactly in "
    'this form: {"rating": <number from 1 to 10>}'
)

#: cache-key spacing between repeats, so retry attempts of repeat r never collide with r+1
_ATTEMPT_STRIDE = 1000


class JudgeArgs(BackendArgs):
    """The judge's own `--judge-args` (any other key goes to the judge's backend), checked by
    the one argument loader (hyoka.models.args.validate_args) like every backend's."""

    max_tokens: int = Field(default=2048, gt=0, description="tokens a judgment may take (FastChat's budget)")
    temperature: float = Field(default=0.0, ge=0, description="sampling temperature; FastChat judges greedily")
    top_p: float = Field(default=1.0, gt=0, le=1, description="nucleus sampling mass")
    seed: int = Field(default=1234, description="sampling seed (repeat r uses seed + r)")
    retries: int = Field(default=2, ge=0, description="times an unparseable reply is asked again")
    retry_temperature: float = Field(default=0.7, ge=0, description="temperature of those retries")
    structured: bool = Field(default=False, description="ask for {\"rating\": n} and read the JSON first")
    chat: bool | None = Field(default=None, description="the judge's chat template (default: when it has one)")


@dataclass(frozen=True)
class JudgeConfig:
    max_tokens: int = 2048  # FastChat's judge budget
    temperature: float = 0.0  # FastChat judges greedily
    top_p: float = 1.0
    seed: int = 1234
    retries: int = 2
    retry_temperature: float = 0.7
    structured: bool = False
    #: None: the judge's chat template when it has one, plain text otherwise
    chat: bool | None = None

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> "JudgeConfig":
        """Judge settings from `--judge-args` (the keys this class knows; others are the backend's)."""
        known = {k: v for k, v in args.items() if k in cls.keys()}
        return cls(**validate_args(JudgeArgs, known, source="--judge-args").model_dump())

    @staticmethod
    def keys() -> frozenset[str]:
        return frozenset(JudgeConfig.__dataclass_fields__)


@dataclass(frozen=True)
class JudgeItem:
    """One thing to judge: a prompt and the values for its template fields."""

    key: str
    prompt: JudgePrompt
    values: Mapping[str, str]

    @property
    def expect(self) -> Expect:
        return "verdict" if self.prompt.expects_verdict else "rating"


@dataclass
class Judgment:
    """One judge verdict on one item (one repeat), with everything needed to audit it."""

    key: str
    repeat: int
    prompt_name: str
    system_prompt: str
    user_prompt: str
    #: the exact text sent (chat template applied)
    sent: str
    reply: str | None = None
    reasoning: str | None = None
    rating: float | None = None
    winner: str | None = None
    failure: str | None = None
    #: parse rule that found the rating, and every rating/verdict it saw
    rule: str | None = None
    seen: tuple[Any, ...] = ()
    attempts: int = 0
    #: replies of earlier, unparseable attempts (kept so no judge output is lost)
    earlier_replies: list[str | None] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.failure is None

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "repeat": self.repeat,
            "prompt_name": self.prompt_name,
            "system_prompt": self.system_prompt,
            "user_prompt": self.user_prompt,
            "sent": self.sent,
            "reply": self.reply,
            "reasoning": self.reasoning,
            "rating": self.rating,
            "winner": self.winner,
            "failure": self.failure,
            "rule": self.rule,
            "seen": list(self.seen),
            "attempts": self.attempts,
            "earlier_replies": self.earlier_replies,
        }


class Judge:
    """A backend used as a judge. `judge(items, repeats)` → one Judgment per item and repeat."""

    def __init__(self, backend: Backend, cache: RequestCache, config: JudgeConfig | None = None) -> None:
        self.backend = backend
        self.cache = cache
        self.config = config or JudgeConfig()
        self.stats = ExecutionStats()
        self.plain_fallback = False

    def messages_for(self, item: JudgeItem) -> tuple[Message, ...]:
        user = item.prompt.render(item.values)
        if self.config.structured and item.expect == "rating":
            user += STRUCTURED_SUFFIX
        system = item.prompt.system_prompt
        return ((Message("system", system),) if system else ()) + (Message("user", user),)

    def render(self, messages: Sequence[Message]) -> str:
        if self.config.chat is False:
            return self.backend.render(messages, use_chat_template=False)
        try:
            return self.backend.render(messages, use_chat_template=True)
        except ModelSpecError:
            if messages and messages[0].role == "system" and self.backend.chat_template is not None:
                # a template without a system role (it raised): the instructions go first in
                # the user turn, as FastChat does for judges without system prompts
                merged = Message("user", f"{messages[0].content.rstrip()}\n\n{messages[-1].content}")
                try:
                    return self.backend.render((merged,), use_chat_template=True)
                except ModelSpecError:
                    pass
            if self.config.chat:
                raise
            # auto mode and the judge has no (usable) chat template: plain text, in the summary
            self.plain_fallback = True
            return self.backend.render(messages, use_chat_template=False)

    def _params(self, repeat: int, attempt: int) -> GenerationParams:
        c = self.config
        temperature = c.temperature if attempt == 0 else max(c.temperature, c.retry_temperature)
        return GenerationParams(
            max_tokens=c.max_tokens, temperature=temperature, top_p=c.top_p, seed=c.seed + repeat + attempt * 7919
        )

    def judge(
        self, items: Sequence[JudgeItem], *, repeats: int = 1, description: str = "judge", show_progress: bool = True
    ) -> list[Judgment]:
        if repeats < 1:
            raise HyokaError("--judge-repeats must be at least 1")
        judgments: list[Judgment] = []
        owners: list[JudgeItem] = []
        sent_messages: list[tuple[Message, ...]] = []
        for item in items:
            messages = self.messages_for(item)
            sent = self.render(messages)
            for r in range(repeats):
                judgments.append(
                    Judgment(
                        key=item.key,
                        repeat=r,
                        prompt_name=item.prompt.name,
                        system_prompt=item.prompt.system_prompt,
                        user_prompt=messages[-1].content,
                        sent=sent,
                    )
                )
                owners.append(item)
                sent_messages.append(messages)
        todo = list(range(len(judgments)))
        for attempt in range(self.config.retries + 1):
            if not todo:
                break
            pending = [
                PendingRequest(
                    "generate",
                    GenerateRequest(judgments[i].sent, self._params(judgments[i].repeat, attempt), sent_messages[i]),
                    repeat=judgments[i].repeat * _ATTEMPT_STRIDE + attempt,
                )
                for i in todo
            ]
            label = description if attempt == 0 else f"{description} (retry {attempt})"
            responses, stats = execute(self.backend, self.cache, pending, description=label, show_progress=show_progress)
            self.stats.add(stats)
            again = []
            for i, response in zip(todo, responses):
                assert isinstance(response, GenerateResult)
                if self._record(judgments[i], owners[i], response, attempt):
                    again.append(i)
            todo = again
        return judgments

    def _record(self, judgment: Judgment, item: JudgeItem, response: GenerateResult, attempt: int) -> bool:
        """Store one reply in `judgment`; True when it should be asked again."""
        if judgment.attempts:
            judgment.earlier_replies.append(judgment.reply)
        judgment.attempts = attempt + 1
        if response.error:
            # the backend gave up (after its own transport retries): not a parse problem,
            # and not cached, so a rerun asks again
            judgment.reply, judgment.reasoning = None, None
            judgment.failure = f"backend_error: {response.error}"
            return False
        # the backend split the thinking off: text is the reply
        answer = response.text
        judgment.reply = answer
        judgment.reasoning = response.reasoning
        if item.expect == "verdict":
            verdict = parse_verdict(answer, output_format=item.prompt.output_format)
            judgment.winner, judgment.failure, judgment.seen = verdict.winner, verdict.failure, verdict.all_verdicts
        else:
            rating = parse_rating(answer, prefer_json=self.config.structured)
            judgment.rating, judgment.failure = rating.rating, rating.failure
            judgment.rule, judgment.seen = rating.rule, rating.all_ratings
        return judgment.failure is not None


# --- pairwise: one comparison judged in both orders ---------------------------------------

#: FastChat's pairwise outcome → the model's result
OUTCOME_VALUE = {"win": 1.0, "tie": 0.5, "loss": 0.0}


def game_outcome(g1_winner: str, g2_winner: str) -> str:
    """The model's result from both orders (g1: model is A; g2: model is B).

    As FastChat's show_result: a tie in the first order, or orders that disagree, is a tie.
    """
    first = {"A": "model", "B": "baseline", "tie": "tie"}[g1_winner]
    second = {"A": "baseline", "B": "model", "tie": "tie"}[g2_winner]
    if first == "tie" or first != second:
        return "tie"
    return "win" if first == "model" else "loss"
