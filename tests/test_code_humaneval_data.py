"""HumanEval and JHumanEval on the real data: every canonical solution passes in the sandbox,
and a broken variant of each (its return value changed) fails."""

from __future__ import annotations

import pytest

from conftest import require
from hyoka.metrics.code_exec import ProblemFields, completion_program
from hyoka.sandbox import SandboxPool, SandboxSettings, unavailable_reason
from hyoka.tasks.registry import load_registry
from hyoka.tasks.task import load_task

from code_variants import broken as broken_variant


def _docs(task: str) -> list[dict]:
    return load_task(load_registry().tasks[task].config).eval_docs


@pytest.fixture(scope="module")
def pool() -> SandboxPool:
    require(unavailable_reason() is None, f"bubblewrap cannot run here: {unavailable_reason()}")
    return SandboxPool(SandboxSettings(timeout_s=20, cpu_s=10))  # default: 4 sandboxes per core


@pytest.mark.parametrize("task", ["humaneval", "jhumaneval"])
def test_canonical_solutions_pass_and_broken_ones_fail(shared_data, pool: SandboxPool, task: str) -> None:
    docs = _docs(task)
    assert len(docs) == 164
    problems = [ProblemFields().problem(d) for d in docs]
    canonical = [completion_program(p, d["canonical_solution"]) for p, d in zip(problems, docs)]
    broken = [
        completion_program(p, broken_variant(d["canonical_solution"], p.entry_point)) for p, d in zip(problems, docs)
    ]
    results = pool.run(canonical + broken)
    good, bad = results[:164], results[164:]
    not_passed = {
        d["task_id"]: (r.outcome, r.message, r.exit_code, r.first_attempt, r.stderr_tail[-300:])
        for d, r in zip(docs, good)
        if not r.passed
    }
    assert not_passed == {}
    passed_anyway = [d["task_id"] for d, r in zip(docs, bad) if r.passed]
    assert passed_anyway == []
    # a changed return value trips an assertion (or a comparison with the wrong type)
    assert sum(r.outcome == "failed" for r in bad) >= 150
    assert {r.outcome for r in bad} <= {"failed", "error"}
    failing = next(r for r in bad if r.outcome == "failed")
    assert failing.line.startswith("assert"), failing
