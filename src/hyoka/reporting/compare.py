"""`hyoka compare RUN_A RUN_B`: is B better than A, task by task, and is it real?

Per task, on the documents both runs scored without error: the mean difference B - A of
the task's headline metric, a paired bootstrap interval, and a paired test (exact McNemar
for 0/1 scores, sign-flip permutation otherwise), with p-values adjusted across tasks
(Holm by default). Tasks whose prompts or data differ are refused with the field named:
a difference there would not be the models' difference.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any, Sequence

from hyoka.errors import HyokaError
from hyoka.reporting.runs import SETTING_NAMES, RunView, differing_settings, load_run
from hyoka.results.table import format_table
from hyoka.reporting.stats import CORRECTIONS, is_binary, mcnemar_exact, paired_bootstrap, paired_permutation


@dataclass
class TaskComparison:
    task: str
    metric: str
    n: int
    mean_a: float
    mean_b: float
    diff: float
    ci_low: float
    ci_high: float
    test: str
    p_value: float
    p_adjusted: float = math.nan
    significant: bool = False
    #: documents only one run scored (or scored with an error in one run)
    unpaired: int = 0
    #: 0/1 metrics: documents only A / only B got right
    only_a: int | None = None
    only_b: int | None = None
    #: a task-level aggregate that is not the mean of per-document values (e.g. a correlation)
    note: str = ""


@dataclass
class Comparison:
    run_a: str
    run_b: str
    level: float
    correction: str
    alpha: float
    tasks: list[TaskComparison]
    skipped: dict[str, str]
    allowed: list[str]


def comparable_settings(a: RunView, b: RunView, task: str) -> list[tuple[str, Any, Any]]:
    sa, sb = a.settings(task), b.settings(task)
    if a.model_key != b.model_key:
        # a chat template belongs to its model: between two models only whether one was
        # applied is a prompt setting; between runs of one model its hash is
        for s in (sa, sb):
            s["template"] = "none" if s.get("template") == "none" else "applied"
    return differing_settings(sa, sb)


def _short(value: Any) -> str:
    text = str(value)
    return text if len(text) <= 40 else text[:37] + "..."


def check_comparable(a: RunView, b: RunView, tasks: Sequence[str], allow: Sequence[str]) -> None:
    """Refuse (one line) when a task's prompts or data differ in a field not allowed."""
    for task in tasks:
        for name, va, vb in comparable_settings(a, b, task):
            if name in allow:
                continue
            raise HyokaError(
                f"task {task}: {SETTING_NAMES[name]} differs ({_short(va)} in {a.label} vs {_short(vb)} in {b.label}); "
                f"compare runs with the same prompts and data, or pass --allow {name} to compare that setting on purpose"
            )


def compare_task(a: RunView, b: RunView, task: str, metric: str, *, level: float, resamples: int) -> TaskComparison:
    va, vb = a.per_doc_values(task, metric), b.per_doc_values(task, metric)
    docs = sorted(set(va) & set(vb), key=str)
    unpaired = len(set(va) ^ set(vb))
    xa, xb = [va[d] for d in docs], [vb[d] for d in docs]
    n = len(docs)
    if n == 0:
        raise HyokaError(f"task {task}: the two runs scored no document in common (check --limit and errors)")
    mean_a, mean_b = sum(xa) / n, sum(xb) / n
    interval = paired_bootstrap(xa, xb, level=level, resamples=resamples)
    only_a = only_b = None
    if is_binary(xa) and is_binary(xb):
        p, only_a, only_b = mcnemar_exact(xa, xb)
        test = "mcnemar-exact"
    else:
        p, test = paired_permutation(xa, xb), "permutation"
    note = ""
    reported = a.task_metrics(task).get(metric, {}).get("value")
    if reported is not None and unpaired == 0 and abs(reported - mean_a) > 1e-6:
        note = "task score is not a mean over documents; per-document means compared"
    return TaskComparison(task, metric, n, mean_a, mean_b, mean_b - mean_a, interval.low, interval.high, test, p,
                          unpaired=unpaired, only_a=only_a, only_b=only_b, note=note)  # fmt: skip


def compare_runs(
    a: RunView,
    b: RunView,
    *,
    tasks: Sequence[str] | None = None,
    metric: str | None = None,
    allow: Sequence[str] = (),
    level: float = 0.95,
    correction: str = "holm",
    alpha: float = 0.05,
    resamples: int = 2000,
) -> Comparison:
    unknown = [x for x in allow if x not in SETTING_NAMES]
    if unknown:
        raise HyokaError(f"--allow {','.join(unknown)}: unknown setting; choose from {', '.join(SETTING_NAMES)}")
    if correction not in CORRECTIONS:
        raise HyokaError(f"--correction {correction}: choose one of {', '.join(CORRECTIONS)}")
    if not 0 < level < 1:
        raise HyokaError(f"--level {level}: give a confidence level between 0 and 1, e.g. 0.95")
    shared = [t for t in a.tasks if t in set(b.tasks)]
    if tasks:
        missing = [t for t in tasks if t not in shared]
        if missing:
            raise HyokaError(f"--tasks: {', '.join(missing)} not in both runs; both have: {', '.join(shared) or 'nothing'}")
        shared = list(tasks)
    if not shared:
        raise HyokaError(f"{a.label} and {b.label} have no task in common ({', '.join(a.tasks)} vs {', '.join(b.tasks)})")
    skipped: dict[str, str] = {}
    selected = []
    for task in shared:
        if not (a.has_samples(task) and b.has_samples(task)):
            skipped[task] = "no per-document samples in both runs"
            continue
        selected.append(task)
    check_comparable(a, b, selected, allow)  # before any statistics: refuse early
    results = []
    for task in selected:
        name = metric or a.headline_metric(task)
        if name not in a.task_metrics(task) or name not in b.task_metrics(task):
            skipped[task] = f"metric {name} not reported by both runs"
            continue
        results.append(compare_task(a, b, task, name, level=level, resamples=resamples))
    adjusted = CORRECTIONS[correction]([r.p_value for r in results])
    for r, p in zip(results, adjusted):
        r.p_adjusted = p
        r.significant = p < alpha
    return Comparison(a.label, b.label, level, correction, alpha, results, skipped, list(allow))


# --- output -----------------------------------------------------------------------------------


def _f(x: float, digits: int = 4) -> str:
    return "-" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.{digits}f}"


def format_comparison(c: Comparison) -> str:
    pct = f"{c.level:.0%}"
    header = ["task", "metric", "n", "A", "B", "B-A", f"{pct} interval", "test", "p", f"p ({c.correction})", ""]
    rows = []
    for r in c.tasks:
        rows.append([r.task, r.metric, str(r.n), _f(r.mean_a), _f(r.mean_b), f"{r.diff:+.4f}",
                     f"[{r.ci_low:+.4f}, {r.ci_high:+.4f}]", r.test, _f(r.p_value), _f(r.p_adjusted),
                     "*" if r.significant else ""])  # fmt: skip
    lines = format_table(header, rows, align="llrrrrrlrrl").splitlines()
    lines.append("")
    lines.append(f"A = {c.run_a}\nB = {c.run_b}")
    n_sig = sum(r.significant for r in c.tasks)
    lines.append(f"* survives {c.correction} correction across {len(c.tasks)} tasks at alpha {c.alpha} ({n_sig} of {len(c.tasks)})")
    if c.allowed:
        lines.append(f"settings allowed to differ: {', '.join(c.allowed)}")
    for r in c.tasks:
        if r.unpaired:
            lines.append(f"{r.task}: {r.unpaired} documents scored by only one run (or with an error) left out")
        if r.note:
            lines.append(f"{r.task}: {r.note}")
    for task, why in c.skipped.items():
        lines.append(f"{task}: not compared ({why})")
    return "\n".join(lines)
