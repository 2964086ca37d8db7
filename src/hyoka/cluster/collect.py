"""`hyoka collect RUN_DIR`: the jobs' results → one run folder, as a single machine writes it.

Samples: each task's rows from its jobs, in document order (the rows themselves are the
runner's, copied unchanged). Metrics: a task run whole by one job keeps that job's entry; a
task split over jobs is scored again from its merged samples by the code a run uses
(`hyoka score`'s rescore); group aggregates are recomputed by the runner's own function.
Summary: the jobs' provenance, with execution counts summed and the jobs listed under
"cluster". Cache: every job's shard is merged into the user's request cache, and the run's
timings go into the runtime table.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hyoka.cluster.plan import JobPlan, RunPlan, read_plan
from hyoka.cluster.scripts import results_dir, shard_dir
from hyoka.errors import HyokaError
from hyoka.results.run_dir import METRICS_FILE, SUMMARY_FILE, read_task_results, samples_file, write_json

REQUESTS_DB = "requests.sqlite"


class CollectError(HyokaError):
    """Jobs whose results are missing or do not fit together."""


@dataclass
class CollectOutcome:
    metrics: dict[str, Any]
    merged_requests: int
    jobs: int


def job_done(run_dir: Path, job: JobPlan) -> bool:
    """Finished without failed requests: its summary exists and counts no errors."""
    summary = _read_json(results_dir(run_dir, job.name) / SUMMARY_FILE)
    return summary is not None and not (summary.get("execution") or {}).get("errors")


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return None


def _task_rows(run_dir: Path, plan: RunPlan, task: str) -> tuple[list[str], list[tuple[JobPlan, int, int]]]:
    """The task's sample lines from every job holding a piece of it, in document order."""
    lines: dict[int, str] = {}
    pieces = [(job, p.start, p.end) for job in plan.jobs for p in job.pieces if p.task == task]
    for job, start, end in pieces:
        path = samples_file(results_dir(run_dir, job.name), task)
        if not path.is_file():
            raise CollectError(f"{path}: missing; job {job.name} did not finish (see `hyoka status {run_dir}`)")
        for line in path.read_text(encoding="utf-8").splitlines():
            doc_id = json.loads(line)["doc_id"]
            if doc_id < start:  # a primer (see hyoka.cluster.worker): the previous range's document
                continue
            if doc_id >= end or doc_id in lines:
                raise CollectError(f"{path}: document {doc_id} outside the job's range {start}:{end} or given twice")
            lines[doc_id] = line
    total = max(end for _, _, end in pieces)
    missing = sorted(set(range(total)) - set(lines))
    if missing:
        raise CollectError(f"task {task}: documents {missing[:5]} have no samples; resubmit with `hyoka submit --resume`")
    return [lines[i] for i in sorted(lines)], pieces


def _rescored_entry(registry: Any, task: str, samples: Path) -> dict[str, Any]:
    from hyoka.engine.rescore import RescoreOptions, rescore

    return rescore(registry, RescoreOptions(samples=samples, task=task)).metrics["tasks"][task]


def _sum_execution(items: list[dict[str, Any]]) -> dict[str, Any]:
    total: dict[str, Any] = {}
    for item in items:
        for key, value in item.items():
            if isinstance(value, dict):
                merged = total.setdefault(key, {})
                for k, v in value.items():
                    merged[k] = merged.get(k, 0) + v
            elif isinstance(value, (int, float)):
                total[key] = total.get(key, 0) + value
    return total


def merge_summaries(plan: RunPlan, summaries: dict[str, dict[str, Any]], samples: dict[str, int]) -> dict[str, Any]:
    """One summary.json: the first job's header and model (every job must have run the same
    model), per-task provenance joined over pieces, execution counts summed; `samples`: each
    task's merged document count."""
    first = next(iter(summaries.values()))
    for name, s in summaries.items():
        if s.get("model") != first.get("model"):
            raise CollectError(f"job {name} ran a different model identity than the others; resubmit it with --resume")
    tasks: dict[str, Any] = {}
    for task in plan.tasks:
        entries = [s["tasks"][task] for s in summaries.values() if task in s.get("tasks", {})]
        merged = dict(entries[0])
        if len(entries) > 1:  # a split task; execution and tokens include the primers' work
            merged["samples"] = samples[task]
            merged["limit"] = plan.limit  # each range ran with --docs
            merged["execution"] = _sum_execution([e["execution"] for e in entries])
            merged["tokens"] = _sum_execution([e.get("tokens") or {} for e in entries])
        tasks[task] = merged
    starts = sorted(s.get("started_at") or "" for s in summaries.values())
    return {
        **first,
        "started_at": starts[0],
        "wall_seconds": max(s.get("wall_seconds") or 0 for s in summaries.values()),
        "limit": plan.limit,
        "execution": _sum_execution([s.get("execution") or {} for s in summaries.values()]),
        "tasks": tasks,
        "cluster": {"scheduler": plan.scheduler, "node": plan.node, "jobs": {j.name: _job_entry(j, summaries[j.name]) for j in plan.jobs}},
    }


def _job_entry(job: JobPlan, summary: dict[str, Any]) -> dict[str, Any]:
    return {
        "pieces": [p.label for p in job.pieces],
        "walltime": job.walltime,
        "wall_seconds": summary.get("wall_seconds"),
        "execution": summary.get("execution"),
    }


def merge_shard(target: Path, shard: Path) -> int:
    """Copy a job's cache rows into `target` (rows already there are kept); returns rows added."""
    from hyoka.cache import RequestCache

    RequestCache(target).close()  # creates the file and table as every run does
    with sqlite3.connect(str(target), timeout=60) as db:
        db.execute("ATTACH DATABASE ? AS shard", (str(shard),))
        before = db.total_changes
        db.execute("INSERT OR IGNORE INTO main.responses SELECT * FROM shard.responses")
        added = db.total_changes - before
    return added


def collect(run_dir: Path, *, user_cache: Path | None) -> CollectOutcome:
    from hyoka.engine.scoring import run_metrics_json  # group aggregates exactly as a run computes them
    from hyoka.tasks.registry import load_registry

    plan = read_plan(run_dir)
    unfinished = [job.name for job in plan.jobs if not job_done(run_dir, job)]
    if unfinished:
        raise CollectError(
            f"{run_dir}: {len(unfinished)} job(s) not finished: {', '.join(unfinished)}; "
            f"see `hyoka status {run_dir}`, resubmit with `hyoka submit --resume {run_dir}`"
        )
    registry = load_registry([Path(p) for p in plan.include_paths])
    summaries = {job.name: _read_json(results_dir(run_dir, job.name) / SUMMARY_FILE) or {} for job in plan.jobs}
    entries: dict[str, Any] = {}
    counts: dict[str, int] = {}
    for task in plan.tasks:
        lines, pieces = _task_rows(run_dir, plan, task)
        counts[task] = len(lines)
        out = samples_file(run_dir, task)
        out.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
        if len(pieces) == 1:
            entries[task] = (_read_json(results_dir(run_dir, pieces[0][0].name) / METRICS_FILE) or {})["tasks"][task]
        else:
            entries[task] = _rescored_entry(registry, task, out)
    # the task entries and samples in place, the task results are read back as a later run
    # into this folder would read them, and every group is aggregated over them
    write_json(run_dir / METRICS_FILE, {"tasks": entries, "groups": {}})
    metrics = run_metrics_json(registry, read_task_results(run_dir))
    write_json(run_dir / METRICS_FILE, metrics)
    write_json(run_dir / SUMMARY_FILE, merge_summaries(plan, summaries, counts))
    merged = 0
    if user_cache is not None:
        for job in plan.jobs:
            shard = shard_dir(run_dir, job.name) / REQUESTS_DB
            if shard.is_file():
                merged += merge_shard(user_cache, shard)
    from hyoka.cluster.estimates import record_run

    record_run(run_dir)
    return CollectOutcome(metrics, merged, len(plan.jobs))
