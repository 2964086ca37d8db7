"""`mock:` — a deterministic, scriptable backend (no model), like inspect_ai's mockllm.

Two uses:
- dry-run a task file and read the exact prompts it sends:
  `hyoka run mock: --tasks my_task --limit 3` writes samples_my_task.jsonl as a real run does;
- tests: every layer above the backend (cache, executor, scorer, judge, run directory) runs
  for real against answers the test chose.

`mock:` alone answers every generate request with a fixed text (`reply=`, or `echo=true` for
the rendered prompt itself) and every choice with log-likelihood -1 per character, so the
shortest choice wins. `--model-args script=FILE.jsonl` scripts answers, one JSON object a
line. A request takes the first row that matches, in this order: its document (`task` +
`doc_id`; a row without `task` matches any task), its exact rendered prompt (`prompt`), the
first row (in file order) whose regular expression `pattern` is found in the prompt, and
the default row (the one row with none of these keys):

    {"task": "demo_ja", "doc_id": 0, "output": "東京"}
    {"doc_id": 1, "output": ["first sample", "second sample"]}    # a list: see below
    {"doc_id": 2, "output": "<think>考え中</think>42"}              # reasoning split as for a model
    {"doc_id": 3, "logprobs": [-0.5, -2.0, -3.0]}                  # per choice (or {"choice": lp})
    {"doc_id": 4, "error": "server_error: 500 after 5 tries"}      # fails, like an API that gave up
    {"prompt": "質問: 日本の首都は?\n答え:", "output": "東京"}
    {"pattern": "Assistant A's Answer\\].*東京", "output": "[[A]]"}
    {"output": "[[B]]"}                                            # the default

An `output` list gives the i-th sample of a document its i-th item (`--gen n=N`,
`--repeats N`); for requests without a document (a judge's), the i-th call with the same
prompt gets the i-th item. Lists cycle.

Other arguments: `reasoning=TEXT` (reasoning attached to every generated answer),
`error_every=K` (every K-th request fails), `error=TEXT` (the injected error),
`chat_template=FILE` (a Jinja2 chat template, for `--chat`), `batch_size=N`,
`delay=SECONDS` (per batch, so a test can interrupt a run). Characters count as tokens:
a reply is cut at `max_tokens` characters and at stop sequences, as a model's would be.

Identity: the script file's content hash and the answer-shaping arguments, so the request
cache works as for a real model (edit the script, get new answers). Error injection is not
part of it: failures are never cached, so a rerun without them reuses every good answer.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

from pydantic import Field

from hyoka.core.types import (
    GenerateRequest,
    GenerateResult,
    LoglikelihoodRequest,
    LoglikelihoodResult,
    ModelIdentity,
    Request,
    RequestOrigin,
    sha256_text,
    stable_json,
)
from hyoka.errors import ModelSpecError
from hyoka.models.args import BackendArgs, validate_args
from hyoka.models.base import Backend
from hyoka.models.chat_template import load_template_arg, template_hash

class MockArgs(BackendArgs):
    script: str | None = Field(default=None, description="JSONL file of scripted answers (see hyoka.models.mock)")
    reply: str = Field(default="mock answer", description="text of every unscripted generated answer")
    echo: bool = Field(default=False, description="true: unscripted answers repeat the rendered prompt")
    reasoning: str | None = Field(default=None, description="reasoning text attached to every generated answer")
    error_every: int | None = Field(default=None, ge=1, description="every K-th request fails")
    error: str | None = Field(default=None, description="the injected error, 'reason: detail'")
    chat_template: str | None = Field(default=None, description="Jinja2 chat template file (for --chat)")
    batch_size: int = Field(default=16, ge=1, description="requests per batch")
    delay: float = Field(default=0.0, ge=0, description="seconds to wait per batch (lets a test interrupt a run)")


#: arguments that change answers: part of the identity (error injection is not: never cached)
IDENTITY_ARGS = ("reply", "echo", "reasoning")
SCRIPT_SHAPE = 'one object a line, e.g. {"doc_id": 0, "output": "..."}, {"prompt": "...", "output": "..."}, {"pattern": "regex", "output": "..."}'


@dataclass(frozen=True)
class ScriptEntry:
    line: int
    output: str | list[str] | None = None
    reasoning: str | None = None
    logprobs: list[float] | dict[str, float] | None = None
    is_greedy: list[bool] | None = None
    error: str | None = None


class MockBackend(Backend):
    kind = "mock"
    Args = MockArgs

    def __init__(self, name: str, args: Mapping[str, Any] | MockArgs) -> None:
        a = validate_args(MockArgs, args, source="--model-args")
        self.name = name or "mock"
        self.reply = a.reply
        self.echo = a.echo
        self.reasoning = a.reasoning or None
        self.error_every = a.error_every or 0
        self.error = a.error or f"mock_error: injected failure (error_every={self.error_every})"
        self.batch_size = a.batch_size
        self.delay = a.delay
        self._template = load_template_arg(a.chat_template)
        self.script_path = Path(a.script).expanduser() if a.script else None
        self.script = load_script(self.script_path) if self.script_path else Script()
        script_hash = sha256_text(self.script_path.read_text(encoding="utf-8")) if self.script_path else "none"
        given = a.given()
        answers = tuple(sorted((k, _text(given[k])) for k in IDENTITY_ARGS if k in given))
        self._identity = ModelIdentity(
            backend=self.kind,
            name=self.name,
            # a mock's "weights" are what it answers: its script and its answering arguments,
            # so the leaderboard and blend never take two differently answering mocks for one model
            weights_hash=sha256_text(stable_json({"script": script_hash, "answers": answers})),
            template_hash=template_hash(self._template),
            settings=answers,
        )
        #: every request received, in order (tests count and inspect model calls)
        self.requests: list[Request] = []
        #: calls so far per (script line, prompt): picks the item of an output list
        self._calls: dict[tuple[int, str], int] = {}

    @property
    def identity(self) -> ModelIdentity:
        return self._identity

    @property
    def chat_template(self) -> str | None:
        return self._template

    def preferred_batch_size(self) -> int:
        return self.batch_size

    # -- answering ---------------------------------------------------------------------------

    def generate(self, requests: Sequence[GenerateRequest]) -> list[GenerateResult]:
        self._wait()
        return [self._generate(r) for r in requests]

    def loglikelihood(self, requests: Sequence[LoglikelihoodRequest]) -> list[LoglikelihoodResult]:
        self._wait()
        return [self._loglikelihood(r) for r in requests]

    def _wait(self) -> None:
        if self.delay:
            time.sleep(self.delay)

    def _injected(self, request: Request) -> str | None:
        self.requests.append(request)
        if self.error_every and len(self.requests) % self.error_every == 0:
            return self.error
        return None

    def _generate(self, request: GenerateRequest) -> GenerateResult:
        error = self._injected(request)
        entry = self.script.find(request.origin, request.prompt)
        error = error or (entry.error if entry else None)
        if error:
            return GenerateResult.failed(error)
        if entry is not None and entry.output is not None:
            raw = self._pick(entry, entry.output, request)
        else:
            raw = request.prompt if self.echo else self.reply
        raw, finish = _cut(raw, request.params.max_tokens, request.params.stop)
        result = GenerateResult.from_output(
            raw,
            reasoning=(entry.reasoning if entry else None) or self.reasoning,
            prompt_tokens=len(request.prompt),
            completion_tokens=len(raw),
            finish_reason=finish,
        )
        result.reasoning_tokens = len(result.reasoning) if result.reasoning else 0
        return result

    def _pick(self, entry: ScriptEntry, output: str | list[str], request: GenerateRequest) -> str:
        """A document's i-th sample gets item i; otherwise the i-th call with this prompt."""
        if isinstance(output, str):
            return output
        if request.origin is not None:
            return output[request.origin.index % len(output)]
        counter = (entry.line, request.prompt)
        index = self._calls.get(counter, 0)
        self._calls[counter] = index + 1
        return output[index % len(output)]

    def _loglikelihood(self, request: LoglikelihoodRequest) -> LoglikelihoodResult:
        error = self._injected(request)
        entry = self.script.find(request.origin, request.context)
        error = error or (entry.error if entry else None)
        if error:
            return LoglikelihoodResult.failed(error)
        tokens = len(request.continuation)
        if entry is None or entry.logprobs is None:
            return LoglikelihoodResult(-float(tokens), False, tokens)
        index = request.origin.index if request.origin else None
        logprob = _scripted_logprob(entry, request.continuation, index)
        greedy = entry.is_greedy[index] if entry.is_greedy and index is not None and index < len(entry.is_greedy) else False
        return LoglikelihoodResult(logprob, bool(greedy), tokens)


def _scripted_logprob(entry: ScriptEntry, continuation: str, index: int | None) -> float:
    values = entry.logprobs
    if isinstance(values, dict):
        # keys are the choice texts; the continuation may carry the target delimiter
        for key in (continuation, continuation.strip()):
            if key in values:
                return float(values[key])
        return -float(len(continuation))
    assert values is not None
    if index is None or index >= len(values):
        raise ModelSpecError(
            f"mock script line {entry.line}: logprobs has {len(values)} values, none for choice {index}; "
            "give one per choice (or an object keyed by choice text)"
        )
    return float(values[index])


def _cut(text: str, max_tokens: int, stop: Sequence[str]) -> tuple[str, str]:
    """A model stops at a stop sequence or after max_tokens tokens (here: characters)."""
    finish = "stop"
    for s in stop:
        at = text.find(s)
        if at != -1:
            text = text[:at]
    if len(text) > max_tokens:
        text, finish = text[:max_tokens], "length"
    return text, finish


# -- the script ----------------------------------------------------------------------------------


@dataclass
class Script:
    by_doc: dict[tuple[str | None, int], ScriptEntry] = field(default_factory=dict)
    by_prompt: dict[str, ScriptEntry] = field(default_factory=dict)
    patterns: list[tuple[re.Pattern[str], ScriptEntry]] = field(default_factory=list)
    default: ScriptEntry | None = None

    def find(self, origin: RequestOrigin | None, prompt: str) -> ScriptEntry | None:
        if origin is not None:
            entry = self.by_doc.get((origin.task, origin.doc_id)) or self.by_doc.get((None, origin.doc_id))
            if entry is not None:
                return entry
        if prompt in self.by_prompt:
            return self.by_prompt[prompt]
        for pattern, entry in self.patterns:
            if pattern.search(prompt):
                return entry
        return self.default


def load_script(path: Path) -> Script:
    """The rows of a script file; any bad line is one error naming it."""
    from hyoka.data.readers import read_jsonl_objects

    script = Script()
    seen: dict[Any, int] = {}
    for line, row in read_jsonl_objects(path, error=ModelSpecError, expected=SCRIPT_SHAPE):
        key = _script_key(path, line, row)
        if key in seen:
            raise ModelSpecError(f"{path}:{line}: a second row for {_describe(key)} (first on line {seen[key]})")
        seen[key] = line
        entry = _entry_of(path, line, row)
        if key[0] == "prompt":
            script.by_prompt[key[1]] = entry
        elif key[0] == "pattern":
            script.patterns.append((key[1], entry))
        elif key[0] == "doc":
            script.by_doc[(key[1], key[2])] = entry
        else:
            script.default = entry
    return script


def _script_key(path: Path, line: int, row: dict[str, Any]) -> tuple[Any, ...]:
    keys = [k for k in ("doc_id", "prompt", "pattern") if k in row]
    if len(keys) > 1:
        raise ModelSpecError(f"{path}:{line}: give one of doc_id, prompt or pattern, not {' and '.join(keys)}")
    if not keys:
        if "task" in row:
            raise ModelSpecError(f"{path}:{line}: task without doc_id; add the document's doc_id")
        return ("default",)
    if keys[0] in ("prompt", "pattern") and not isinstance(row[keys[0]], str):
        raise ModelSpecError(f"{path}:{line}: {keys[0]} must be text")
    if keys[0] == "prompt":
        return ("prompt", row["prompt"])
    if keys[0] == "pattern":
        try:
            return ("pattern", re.compile(row["pattern"], re.DOTALL))
        except re.error as exc:
            raise ModelSpecError(f"{path}:{line}: pattern is not a regular expression ({exc})") from None
    doc_id, task = row["doc_id"], row.get("task")
    if isinstance(doc_id, bool) or not isinstance(doc_id, int) or doc_id < 0:
        raise ModelSpecError(f"{path}:{line}: doc_id must be a document index (0, 1, ...), got {doc_id!r}")
    if task is not None and not isinstance(task, str):
        raise ModelSpecError(f"{path}:{line}: task must be a task name, got {task!r}")
    return ("doc", task, doc_id)


def _describe(key: tuple[Any, ...]) -> str:
    if key[0] == "prompt":
        return f"prompt {json.dumps(key[1], ensure_ascii=False)[:60]}"
    if key[0] == "pattern":
        return f"pattern {key[1].pattern!r}"
    if key[0] == "default":
        return "the default (a row without doc_id, prompt or pattern)"
    return f"doc_id {key[2]}" + (f" of task {key[1]}" if key[1] else "")


def _entry_of(path: Path, line: int, row: dict[str, Any]) -> ScriptEntry:
    known = {"task", "doc_id", "prompt", "pattern", "output", "reasoning", "logprobs", "is_greedy", "error"}
    unknown = sorted(set(row) - known)
    if unknown:
        raise ModelSpecError(f"{path}:{line}: unknown fields {unknown}; known: {sorted(known)}")
    output, logprobs, error = row.get("output"), row.get("logprobs"), row.get("error")
    if output is None and logprobs is None and error is None:
        raise ModelSpecError(f"{path}:{line}: nothing to answer with; give output, logprobs or error")
    if output is not None and not (
        isinstance(output, str) or (isinstance(output, list) and output and all(isinstance(o, str) for o in output))
    ):
        raise ModelSpecError(f"{path}:{line}: output must be a string or a non-empty list of strings")
    if logprobs is not None and not _numbers(logprobs):
        raise ModelSpecError(f"{path}:{line}: logprobs must be a list of numbers (one per choice) or {{choice: number}}")
    if error is not None and (not isinstance(error, str) or not error):
        raise ModelSpecError(f"{path}:{line}: error must be a text such as 'server_error: 500'")
    reasoning, greedy = row.get("reasoning"), row.get("is_greedy")
    if reasoning is not None and not isinstance(reasoning, str):
        raise ModelSpecError(f"{path}:{line}: reasoning must be a string")
    if greedy is not None and not (isinstance(greedy, list) and all(isinstance(g, bool) for g in greedy)):
        raise ModelSpecError(f"{path}:{line}: is_greedy must be a list of true/false, one per choice")
    return ScriptEntry(line, output, reasoning, logprobs, greedy, error)


def _numbers(values: Any) -> bool:
    items = values.values() if isinstance(values, dict) else values if isinstance(values, list) else None
    return items is not None and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in items)


def _text(value: Any) -> str:
    return ("true" if value else "false") if isinstance(value, bool) else str(value)
