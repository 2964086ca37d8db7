"""Code scoring below the metric interface: programs from outputs, pass@k, the code_exec metric's checks."""

from __future__ import annotations

import itertools
import math

import pytest

from conftest import require
from hyoka.errors import DatasetError, TaskConfigError
from hyoka.metrics import get_metric
from hyoka.metrics.code_exec import (
    CodeProblem,
    ProblemFields,
    chat_program,
    completion_program,
    pass_at_k,
    score_programs,
)
from hyoka.sandbox import SandboxPool, SandboxSettings, unavailable_reason
from hyoka.text.extract import build_extractor

PROBLEM = CodeProblem(
    prompt='from typing import List\n\n\ndef total(xs: List[int]) -> int:\n    """合計を返す。\n    >>> total([1, 2])\n    3\n    """\n',
    test="\n\ndef check(candidate):\n    assert candidate([1, 2]) == 3\n    assert candidate([]) == 0\n",
    entry_point="total",
)


@pytest.mark.parametrize("n", [1, 2, 5, 7])
def test_pass_at_k_is_the_unbiased_estimator(n: int) -> None:
    # brute force: the share of k-subsets of the n samples that contain a passing one
    for c in range(n + 1):
        outcomes = [True] * c + [False] * (n - c)
        for k in range(1, n + 1):
            subsets = list(itertools.combinations(outcomes, k))
            expected = sum(any(s) for s in subsets) / len(subsets)
            assert math.isclose(pass_at_k(n, c, k), expected, abs_tol=1e-12)


def test_pass_at_k_rejects_impossible_counts() -> None:
    with pytest.raises(ValueError):
        pass_at_k(3, 4, 1)
    with pytest.raises(ValueError):
        pass_at_k(3, 1, 4)


def test_completion_program_is_human_evals_layout() -> None:
    program = completion_program(PROBLEM, "    return sum(xs)\n")
    assert program == PROBLEM.prompt + "    return sum(xs)\n" + "\n" + PROBLEM.test + "\n" + "check(total)"


CHAT_ANSWERS = {
    # a whole function without the prompt's import: the header is put back
    "whole": "以下が実装です。\n```python\ndef total(xs: List[int]) -> int:\n    return sum(xs)\n```\n",
    # only the body, not indented: it goes under the signature
    "bare_body": "```python\nresult = 0\nfor x in xs:\n    result += x\nreturn result\n```",
    # only the body, indented as in the function
    "indented_body": "```\n    return sum(xs)\n```",
    # cut off by max_tokens inside the block: the open block still counts
    "unterminated": "Here you go:\n```python\ndef total(xs):\n    return sum(xs)\n",
    "wrong": "```python\ndef total(xs):\n    return len(xs)\n```",
    "no_code": "I cannot solve this.",
}


def test_chat_answers_become_programs_and_run(tmp_path) -> None:
    require(unavailable_reason() is None, f"bubblewrap cannot run here: {unavailable_reason()}")
    extract = build_extractor([{"name": "code_block"}])
    programs = {name: chat_program(PROBLEM, extract(text)) for name, text in CHAT_ANSWERS.items()}
    assert programs["whole"].startswith("from typing import List\n")
    assert "    result = 0\n    for x in xs:\n        result += x\n    return result\n" in programs["bare_body"]
    results = dict(zip(programs, SandboxPool(SandboxSettings(timeout_s=10), workers=4).run(list(programs.values()))))
    outcomes = {name: r.outcome for name, r in results.items()}
    assert outcomes == {
        "whole": "passed",
        "bare_body": "passed",
        "indented_body": "passed",
        "unterminated": "passed",
        "wrong": "failed",
        "no_code": "failed",  # an empty body is `pass`: returns None
    }
    assert results["wrong"].line == "assert candidate([1, 2]) == 3"


def test_score_programs_gives_pass_at_k_and_per_sample_outcomes() -> None:
    require(unavailable_reason() is None, f"bubblewrap cannot run here: {unavailable_reason()}")
    predictions = [
        ["    return sum(xs)\n", "    return len(xs)\n", "    return sum(xs)\n"],
        ["    return 0\n", "    return undefined_name\n", "    while True:\n        pass\n"],
    ]
    pool = SandboxPool(SandboxSettings(timeout_s=3, cpu_s=1), workers=4)
    scores = score_programs([PROBLEM, PROBLEM], predictions, style="completion", ks=[1, 2, 5], pool=pool)
    assert scores[0].values == {"pass@1": pytest.approx(2 / 3), "pass@2": 1.0}  # no pass@5 with 3 samples
    assert scores[1].values == {"pass@1": 0.0, "pass@2": 0.0}
    assert [s["outcome"] for s in scores[0].details["samples"]] == ["passed", "failed", "passed"]
    assert [s["outcome"] for s in scores[1].details["samples"]] == ["failed", "error", "timeout"]
    assert scores[1].details["samples"][1]["message"] == "NameError: name 'undefined_name' is not defined"
    assert scores[0].details["n"] == 3 and scores[0].details["passed"] == 2


@pytest.mark.parametrize(
    "params, problem",
    [
        ({"style": "diff"}, "style must be"),
        ({"k": [0]}, "k must be"),
        ({"k": "10"}, "k must be"),
        ({"timeout_s": 0}, "timeout_s must be a number > 0"),
        ({"cpu_s": 2.5}, "cpu_s must be a whole number"),
        ({"no_such_limit": 1}, "bad sandbox setting"),
    ],
)
def test_metric_parameters_are_checked(params: dict, problem: str) -> None:
    with pytest.raises(TaskConfigError, match=problem):
        get_metric("code_exec", **params)


def test_a_document_without_the_test_field_is_a_dataset_error() -> None:
    with pytest.raises(DatasetError, match="no text field 'tests'.*test_field"):
        ProblemFields(test="tests").problem({"prompt": "def f():\n", "test": "x", "entry_point": "f"}, where="my_code")
