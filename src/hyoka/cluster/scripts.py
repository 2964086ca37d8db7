"""Job scripts and job specs written into the run folder (RUN/jobs/NAME.sh, NAME.json).

A job script is the scheduler's directives, the profile's set-up lines, this job's own cache
shard (HYOKA_CACHE_DIR: SQLite is never shared between nodes) and one command: the worker,
which runs `hyoka run` for the job's tasks into RUN/jobs/NAME/results.
"""

from __future__ import annotations

import json
import os
import shlex
from pathlib import Path
from typing import Any

from hyoka.cluster.plan import JobPlan, RunPlan, jobs_dir
from hyoka.cluster.profile import ClusterProfile, NodeKind


def job_folder(run_dir: Path, name: str) -> Path:
    return jobs_dir(run_dir) / name


def script_path(run_dir: Path, name: str) -> Path:
    return jobs_dir(run_dir) / f"{name}.sh"


def spec_path(run_dir: Path, name: str) -> Path:
    return jobs_dir(run_dir) / f"{name}.json"


def log_path(run_dir: Path, name: str) -> Path:
    return jobs_dir(run_dir) / f"{name}.log"


def results_dir(run_dir: Path, name: str) -> Path:
    return job_folder(run_dir, name) / "results"


def shard_dir(run_dir: Path, name: str) -> Path:
    return job_folder(run_dir, name) / "cache"


def _prime(job: JobPlan) -> int:
    """Documents run before a range's first one (hyoka.cluster.worker explains why)."""
    return 1 if job.doc_range is not None and job.doc_range[0] > 0 else 0


def run_argv(plan: RunPlan, job: JobPlan, run_dir: Path) -> list[str]:
    """The `hyoka run` arguments of one job (a split task's job: its range, primer first, as --docs)."""
    argv = ["run", plan.model, "--tasks", ",".join(job.tasks)]
    rng = job.doc_range
    if rng is not None:
        argv += ["--docs", f"{rng[0] - _prime(job)}:{rng[1]}"]
    elif plan.limit is not None:
        argv += ["--limit", str(plan.limit)]
    if plan.model_args:
        argv += ["--model-args", plan.model_args]
    for folder in plan.include_paths:
        argv += ["--include-path", folder]
    argv += ["--output", str(results_dir(run_dir, job.name)), "--quiet", *plan.run_flags]
    return argv


def job_spec(plan: RunPlan, job: JobPlan, run_dir: Path) -> dict[str, Any]:
    """`docs`: the range a split task's job evaluates; `prime`: documents before it run
    first (their rows are left out by collect), see hyoka.cluster.worker."""
    return {
        "name": job.name, "run_dir": str(run_dir), "argv": run_argv(plan, job, run_dir),
        "docs": job.doc_range, "prime": _prime(job),
    }


def _slurm_directives(job: JobPlan, node: NodeKind, profile: ClusterProfile, log: Path, run_name: str) -> list[str]:
    lines = [
        f"--job-name=hyoka-{run_name}-{job.name}",
        f"--output={log}",
        f"--time={job.walltime}",
        "--nodes=1",
        "--ntasks=1",
        f"--cpus-per-task={node.cpus}",
    ]
    if node.gpus:
        lines.append(f"--gres=gpu:{node.gpus}")
    if node.memory:
        lines.append(f"--mem={node.memory}")
    if node.partition:
        lines.append(f"--partition={node.partition}")
    if profile.account:
        lines.append(f"--account={profile.account}")
    if profile.qos:
        lines.append(f"--qos={profile.qos}")
    return [f"#SBATCH {d}" for d in [*lines, *profile.directives, *node.directives]]


def _sge_directives(job: JobPlan, node: NodeKind, profile: ClusterProfile, log: Path, run_name: str) -> list[str]:
    """TSUBAME4 style: `-l node_q=1`, `-l h_rt=HH:MM:SS`, `-p -5`, `-cwd`. The group goes on
    the qsub command line (`qsub -g GROUP`, see submit_options), as TSUBAME's manual gives it."""
    lines = ["-cwd", f"-N hyoka-{run_name}-{job.name}", f"-o {log}", "-j y"]
    if node.resource:
        lines.append(f"-l {node.resource}")
    lines.append(f"-l h_rt={job.walltime}")
    if profile.priority is not None:
        lines.append(f"-p {profile.priority}")
    return [f"#$ {d}" for d in [*lines, *profile.directives, *node.directives]]


def render_script(plan: RunPlan, job: JobPlan, run_dir: Path, scheduler: str) -> str:
    profile = ClusterProfile.model_validate(plan.profile)
    node = profile.node_kinds[plan.node]
    log = log_path(run_dir, job.name)
    if scheduler == "slurm":
        directives = _slurm_directives(job, node, profile, log, run_dir.name)
    elif scheduler == "sge":
        directives = _sge_directives(job, node, profile, log, run_dir.name)
    else:  # ray: the task's resources are given to Ray, the script is plain shell
        directives = []
    python = profile.python or os.environ.get("HYOKA_CLUSTER_PYTHON") or _python()
    env = {"HYOKA_CACHE_DIR": str(shard_dir(run_dir, job.name))}
    if os.environ.get("HYOKA_DATA_DIR"):  # the data mirror (a shared path, never a secret)
        env["HYOKA_DATA_DIR"] = os.environ["HYOKA_DATA_DIR"]
    pieces = ", ".join(p.label for p in job.pieces)
    lines = [
        "#!/bin/bash",
        *directives,
        f"# hyoka job {job.name}: {pieces}",
        f"# estimate {job.estimated_seconds:.0f}s ({'; '.join(f'{p.task} {p.seconds_per_doc:.3g}s/doc, {p.source}' for p in job.pieces)})",
        *profile.setup,
        "set -e",
        *(f"export {k}={shlex.quote(v)}" for k, v in env.items()),
        f"exec {shlex.quote(python)} -m hyoka.cluster.worker {shlex.quote(str(spec_path(run_dir, job.name)))}",
    ]
    return "\n".join(lines) + "\n"


def submit_options(plan: RunPlan, scheduler: str) -> list[str]:
    """Options for the submit command itself (not directives in the script)."""
    profile = ClusterProfile.model_validate(plan.profile)
    if scheduler == "sge" and profile.group:
        return ["-g", profile.group]
    return []


def _python() -> str:
    import sys

    return sys.executable


def write_job_files(plan: RunPlan, run_dir: Path, scheduler: str) -> list[Path]:
    """NAME.sh and NAME.json for every job; the scripts are kept for inspection and re-submission."""
    folder = jobs_dir(run_dir)
    folder.mkdir(parents=True, exist_ok=True)
    scripts = []
    for job in plan.jobs:
        spec_path(run_dir, job.name).write_text(json.dumps(job_spec(plan, job, run_dir), indent=1), encoding="utf-8")
        script = script_path(run_dir, job.name)
        script.write_text(render_script(plan, job, run_dir, scheduler), encoding="utf-8")
        script.chmod(0o755)
        scripts.append(script)
    return scripts
