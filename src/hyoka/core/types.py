"""The data that crosses layers: messages, generation settings, requests, results, identity.

The ground floor of hyoka: it imports nothing from hyoka outside `hyoka.core`, and every
other layer speaks these types. A model result never travels as a dict: backends build
`GenerateResult`/`LoglikelihoodResult`, the request cache stores them through
`result_to_json` and gives them back through `result_from_json` (the one serialiser), and
the scorer, the judge and `hyoka score` read their fields.

Reasoning is split once, by the backend (`GenerateResult.from_output`): `text` is the
answer with any ``<think>…</think>`` removed (stripped), `reasoning` the thinking.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Literal, Union

from hyoka.core.errors import GenerationParamsError
from hyoka.core.reasoning import split_reasoning

Role = Literal["system", "user", "assistant"]
RequestKind = Literal["loglikelihood", "generate"]


@dataclass(frozen=True)
class Message:
    role: Role
    content: str


@dataclass(frozen=True)
class GenerationParams:
    """Sampling settings of one generate request. Out-of-range values are refused here, so a
    bad `--gen`, settings file or task `generation:` never reaches a model or a summary."""

    max_tokens: int = 256
    temperature: float = 0.0
    top_p: float = 1.0
    stop: tuple[str, ...] = ()
    seed: int = 1234
    #: outputs per document; each is its own request (repeat index i, seed + i)
    n: int = 1

    def __post_init__(self) -> None:
        if isinstance(self.stop, (list, str)):  # a YAML list or a single stop string
            object.__setattr__(self, "stop", (self.stop,) if isinstance(self.stop, str) else tuple(self.stop))
        _check_int("max_tokens", self.max_tokens, minimum=1, hint="the most tokens to generate, e.g. 256")
        _check_int("n", self.n, minimum=1, hint="outputs per document, e.g. 1")
        _check_int("seed", self.seed, minimum=None, hint="any integer")
        _check_number("temperature", self.temperature, ok=lambda v: v >= 0, hint=">= 0 (0 is greedy)")
        _check_number("top_p", self.top_p, ok=lambda v: 0 < v <= 1, hint="in (0, 1]")
        if not all(isinstance(s, str) and s for s in self.stop):
            raise GenerationParamsError(f"generation setting stop={list(self.stop)!r}: every stop sequence must be a non-empty string")

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _check_int(name: str, value: Any, *, minimum: int | None, hint: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or (minimum is not None and value < minimum):
        raise GenerationParamsError(f"generation setting {name}={value!r}: must be an integer{' >= ' + str(minimum) if minimum is not None else ''} ({hint})")


def _check_number(name: str, value: Any, *, ok: Any, hint: str) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or not ok(value):
        raise GenerationParamsError(f"generation setting {name}={value!r}: must be a number {hint}")


@dataclass(frozen=True)
class RequestOrigin:
    """Which document (and which choice or sample of it) a request was built for.

    Travels with the request for backends that answer by document (the `mock:` backend)
    and for error messages; it is NOT part of the cache key: the model sees only the text.
    """

    task: str
    doc_id: int
    #: loglikelihood: the choice's index; generate: the sample (repeat) index
    index: int = 0


@dataclass(frozen=True)
class LoglikelihoodRequest:
    """Score `continuation` after `context`. `context` is the rendered prompt text."""

    context: str
    continuation: str
    origin: RequestOrigin | None = field(default=None, compare=False)

    def key_payload(self) -> dict[str, Any]:
        """What identifies this request in the cache: the text, nothing else."""
        return {"context": self.context, "continuation": self.continuation}


@dataclass(frozen=True)
class GenerateRequest:
    """Generate after `prompt` (rendered text). `messages` is kept for chat endpoints."""

    prompt: str
    params: GenerationParams
    messages: tuple[Message, ...] = ()
    origin: RequestOrigin | None = field(default=None, compare=False)

    def key_payload(self) -> dict[str, Any]:
        data: dict[str, Any] = {"prompt": self.prompt, "params": self.params.as_dict()}
        # the rendered prompt is what is sent; messages are kept for chat endpoints only
        if self.messages:
            data["messages"] = [asdict(m) for m in self.messages]
        return data


@dataclass
class LoglikelihoodResult:
    logprob: float
    is_greedy: bool
    num_tokens: int
    #: set when the request failed for good (after retries); failed results are never cached
    error: str | None = None

    @classmethod
    def failed(cls, error: str) -> "LoglikelihoodResult":
        return cls(float("-inf"), False, 0, error=error)


@dataclass
class GenerateResult:
    """One generated output. `text` is the answer with reasoning removed; build it from a
    model's raw output with `from_output`, which splits the reasoning off (once)."""

    text: str
    reasoning: str | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    #: of completion_tokens, how many were reasoning (when the backend can tell)
    reasoning_tokens: int | None = None
    finish_reason: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    #: set when the request failed for good (after retries); failed results are never cached
    error: str | None = None

    @classmethod
    def from_output(cls, raw: str, *, reasoning: str | None = None, **counts: Any) -> "GenerateResult":
        """A result from the model's raw text: <think> blocks become `reasoning` (a
        reasoning field the server sent separately wins), the rest, stripped, `text`."""
        answer, inline = split_reasoning(raw)
        return cls(text=answer, reasoning=reasoning or inline, **counts)

    @classmethod
    def failed(cls, error: str) -> "GenerateResult":
        return cls("", error=error)


Result = Union[LoglikelihoodResult, GenerateResult]
Request = Union[LoglikelihoodRequest, GenerateRequest]


def request_kind(request: Request) -> RequestKind:
    return "loglikelihood" if isinstance(request, LoglikelihoodRequest) else "generate"


def result_to_json(result: Result) -> dict[str, Any]:
    """The stored form of a result (the cache's `response` column)."""
    return asdict(result)


def result_from_json(kind: RequestKind, data: dict[str, Any]) -> Result:
    """The inverse of `result_to_json`; unknown keys (a newer hyoka's) are ignored.

    Rows written before the reasoning split moved into the backends (no
    `reasoning_tokens` key) may still hold <think> blocks in `text`: they are split here,
    so a cache filled by an older hyoka gives the same answers as a fresh run.
    """
    if kind == "loglikelihood":
        return LoglikelihoodResult(**_known(LoglikelihoodResult, data))
    values = _known(GenerateResult, data)
    if "reasoning_tokens" not in data and data.get("error") is None:
        counts = {k: v for k, v in values.items() if k not in ("text", "reasoning")}
        return GenerateResult.from_output(str(values.get("text") or ""), reasoning=values.get("reasoning"), **counts)
    return GenerateResult(**values)


def _known(cls: type, data: dict[str, Any]) -> dict[str, Any]:
    names = {f.name for f in fields(cls)}
    return {k: v for k, v in data.items() if k in names}


@dataclass(frozen=True)
class ModelIdentity:
    """What makes two runs of 'the same model' the same: goes into every cache key."""

    backend: str
    name: str
    weights_hash: str
    template_hash: str
    settings: tuple[tuple[str, str], ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "backend": self.backend,
            "name": self.name,
            "weights_hash": self.weights_hash,
            "template_hash": self.template_hash,
            "settings": dict(self.settings),
        }


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def sha256_file(path: "os.PathLike[str] | str") -> str:
    """A file's sha256, read in 1 MiB chunks (dataset files, model weights)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def stable_json(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
