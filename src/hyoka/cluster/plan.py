"""Planning: one model's tasks → jobs that each fit a node kind's walltime.

Each task's cost is documents × estimated seconds per document (hyoka.cluster.estimates).
Tasks are packed in order into jobs whose estimate × margin + overhead fits the node
kind's walltime; a task too long for one job is split into document ranges, one job each.
The plan is written to RUN/plan.json and is what submit, status, collect and --resume read.
"""

from __future__ import annotations

import json
import math
import re
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from hyoka.cluster.estimates import Estimate, estimate, params_b, read_table
from hyoka.cluster.profile import ClusterProfile, NodeKind, format_hms, parse_duration
from hyoka.errors import HyokaError

PLAN_FILE = "plan.json"
JOBS_DIR = "jobs"


class PlanError(HyokaError):
    """A run folder without a usable plan, or work that cannot be planned."""


@dataclass(frozen=True)
class TaskWork:
    """One task as the planner sees it: how many documents and how fast."""

    task: str
    docs: int
    estimate: Estimate

    @property
    def seconds(self) -> float:
        return self.docs * self.estimate.seconds_per_doc


@dataclass
class Piece:
    """A task, or documents [start, end) of it, inside one job."""

    task: str
    start: int
    end: int
    #: the task's document count in this run; start == 0 and end == total: the whole task
    total: int
    seconds_per_doc: float
    source: str

    @property
    def whole(self) -> bool:
        return self.start == 0 and self.end == self.total

    @property
    def seconds(self) -> float:
        return (self.end - self.start) * self.seconds_per_doc

    @property
    def label(self) -> str:
        return self.task if self.whole else f"{self.task}[{self.start}:{self.end}]"


@dataclass
class JobPlan:
    name: str
    pieces: list[Piece]
    walltime: str = ""
    estimated_seconds: float = 0.0

    @property
    def tasks(self) -> list[str]:
        return [p.task for p in self.pieces]

    @property
    def doc_range(self) -> tuple[int, int] | None:
        """Document range of a split task's job (such a job holds that one piece)."""
        piece = self.pieces[0]
        return None if piece.whole else (piece.start, piece.end)


@dataclass
class RunPlan:
    """Everything needed to (re)submit and collect: model, run flags, node kind, jobs."""

    model: str
    model_args: str | None
    tasks: list[str]
    limit: int | None
    #: `hyoka run` flags every job passes on unchanged (--num-fewshot, --chat, --gen, ...)
    run_flags: list[str]
    include_paths: list[str]
    node: str
    profile: dict[str, Any]
    jobs: list[JobPlan]
    scheduler: str = ""
    created: float = field(default_factory=time.time)

    @property
    def node_kind(self) -> NodeKind:
        return ClusterProfile.model_validate(self.profile).node_kinds[self.node]

    def to_json(self) -> dict[str, Any]:
        return {"version": 1, **asdict(self)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "RunPlan":
        data = {k: v for k, v in data.items() if k != "version"}
        jobs = [JobPlan(j["name"], [Piece(**p) for p in j["pieces"]], j["walltime"], j["estimated_seconds"]) for j in data.pop("jobs")]
        return cls(jobs=jobs, **data)


def jobs_dir(run_dir: Path) -> Path:
    return run_dir / JOBS_DIR


def write_plan(run_dir: Path, plan: RunPlan) -> None:
    from hyoka.results.run_dir import write_json

    run_dir.mkdir(parents=True, exist_ok=True)
    write_json(run_dir / PLAN_FILE, plan.to_json())


def read_plan(run_dir: Path) -> RunPlan:
    path = run_dir / PLAN_FILE
    if not path.is_file():
        raise PlanError(f"{run_dir}: no {PLAN_FILE}; give the run folder `hyoka submit --output` wrote")
    try:
        return RunPlan.from_json(json.loads(path.read_text(encoding="utf-8")))
    except (json.JSONDecodeError, TypeError, KeyError) as exc:
        raise PlanError(f"{path}: not a hyoka plan ({exc}); submit the run again into a new folder") from None


def task_work(
    registry: Any, tasks: list[str], limit: int | None, backend: str, model_name: str, profile: ClusterProfile
) -> list[TaskWork]:
    """Document counts (the datasets are read here, so a missing file fails before submission)
    and the runtime estimate of every task."""
    from hyoka.tasks.task import load_task

    size = params_b(model_name)
    table = read_table()
    out = []
    for name in tasks:
        config = registry.tasks[name].config
        docs = len(load_task(config).eval_docs)
        docs = docs if limit is None else min(limit, docs)
        guess = estimate(
            name, backend, size, task_default=getattr(config, "seconds_per_doc", None),
            profile_default=profile.default_seconds_per_doc, entries=table,
        )  # fmt: skip
        out.append(TaskWork(name, docs, guess))
    return out


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text)[:40]


def pack(work: list[TaskWork], node: NodeKind, profile: ClusterProfile) -> list[JobPlan]:
    """Tasks in order into jobs that fit `node`; a task longer than one job becomes ranges."""
    overhead = parse_duration(profile.overhead)
    budget = node.walltime_seconds / profile.margin - overhead
    if budget <= 0:
        raise PlanError(
            f"profile: node walltime {node.walltime} leaves no time after overhead {profile.overhead} "
            f"with margin {profile.margin}; raise the walltime or lower overhead"
        )
    groups: list[list[Piece]] = []
    open_seconds = math.inf  # seconds used in the last group; inf: start a new one
    for w in work:
        rate, source = w.estimate.seconds_per_doc, w.estimate.source
        if w.seconds > budget:
            parts = math.ceil(w.seconds / budget)
            per = math.ceil(w.docs / parts)
            for start in range(0, w.docs, per):
                groups.append([Piece(w.task, start, min(w.docs, start + per), w.docs, rate, source)])
            open_seconds = math.inf
            continue
        piece = Piece(w.task, 0, w.docs, w.docs, rate, source)
        if open_seconds + w.seconds <= budget:
            groups[-1].append(piece)
            open_seconds += w.seconds
        else:
            groups.append([piece])
            open_seconds = w.seconds
    jobs = []
    for i, pieces in enumerate(groups):
        first = pieces[0]
        suffix = f"-{first.start}-{first.end}" if not first.whole else ("" if len(pieces) == 1 else f"+{len(pieces) - 1}")
        seconds = sum(p.seconds for p in pieces)
        jobs.append(JobPlan(f"j{i:02d}-{_slug(first.task)}{suffix}", pieces, walltime(seconds, node, profile), seconds))
    return jobs


def walltime(seconds: float, node: NodeKind, profile: ClusterProfile) -> str:
    """overhead + margin × estimate, at least the profile's minimum, whole minutes, at most the node's limit."""
    wanted = parse_duration(profile.overhead) + profile.margin * seconds
    wanted = max(wanted, parse_duration(profile.min_walltime))
    minutes = math.ceil(wanted / 60)
    return format_hms(min(minutes * 60, node.walltime_seconds))


def describe(plan: RunPlan) -> str:
    """The plan as a few lines for the terminal."""
    lines = [f"{len(plan.jobs)} job(s) on node kind '{plan.node}' for {plan.model}:"]
    for job in plan.jobs:
        parts = [p.label for p in job.pieces]
        sources = sorted({p.source for p in job.pieces})
        lines.append(
            f"  {job.name}: {', '.join(parts)}  walltime {job.walltime} "
            f"(estimate {job.estimated_seconds:.0f}s from {', '.join(sources)})"
        )
    return "\n".join(lines)
