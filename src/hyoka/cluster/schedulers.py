"""Talking to batch schedulers through their own commands: sbatch/squeue/scontrol/scancel
(Slurm) and qsub/qstat/qdel (Grid Engine). Job ids are kept in RUN/jobs/submitted.json."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import time
from pathlib import Path

from hyoka.cluster.plan import jobs_dir
from hyoka.errors import HyokaError

SUBMITTED_FILE = "submitted.json"


class SchedulerError(HyokaError):
    """A scheduler command that is missing or refused a job."""


def _require(command: str) -> None:
    if shutil.which(command) is None:
        raise SchedulerError(
            f"{command} not found on PATH: run this on a login node of the cluster, or write the scripts only with --dry-run"
        )


def _run(argv: list[str], *, what: str) -> str:
    _require(argv[0])
    done = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        detail = (done.stderr or done.stdout).strip().splitlines()
        raise SchedulerError(f"{what}: {' '.join(argv[:2])} failed: {detail[-1] if detail else f'exit {done.returncode}'}")
    return done.stdout


class Slurm:
    name = "slurm"

    def submit(self, script: Path, options: list[str]) -> str:
        out = _run(["sbatch", "--parsable", *options, str(script)], what=f"submitting {script.name}")
        return out.strip().split(";")[0]

    def states(self, ids: list[str]) -> dict[str, str]:
        """Queue state of each id; jobs no longer queued are asked of scontrol (recent ones)
        and then of sacct (where accounting is on); else 'GONE'."""
        if not ids:
            return {}
        _require("squeue")
        states: dict[str, str] = {}
        out = subprocess.run(["squeue", "-h", "-o", "%i %T", "-j", ",".join(ids)], capture_output=True, text=True)
        for line in out.stdout.splitlines():
            job_id, _, state = line.strip().partition(" ")
            states[job_id] = state
        for job_id in ids:
            if job_id in states:
                continue
            shown = subprocess.run(["scontrol", "-o", "show", "job", job_id], capture_output=True, text=True)
            m = re.search(r"\bJobState=(\S+)", shown.stdout)
            if m is None and shutil.which("sacct"):
                acct = subprocess.run(["sacct", "-n", "-X", "-P", "-o", "State", "-j", job_id], capture_output=True, text=True)
                lines = [s for s in acct.stdout.split() if s]
                states[job_id] = lines[0] if acct.returncode == 0 and lines else "GONE"
            else:
                states[job_id] = m.group(1) if m else "GONE"
        return states

    def cancel(self, job_id: str) -> None:
        _run(["scancel", job_id], what=f"cancelling {job_id}")


class GridEngine:
    name = "sge"

    def submit(self, script: Path, options: list[str]) -> str:
        out = _run(["qsub", *options, str(script)], what=f"submitting {script.name}")
        m = re.search(r"Your job(?:-array)? (\d+)", out)
        if m is None:
            raise SchedulerError(f"submitting {script.name}: qsub said '{out.strip()}', no job id")
        return m.group(1)

    def states(self, ids: list[str]) -> dict[str, str]:
        """qstat's state letters (qw, r, Eqw, ...); a job no longer listed has ended: 'GONE'."""
        _require("qstat")
        out = subprocess.run(["qstat"], capture_output=True, text=True)
        listed = {}
        for line in out.stdout.splitlines()[2:]:
            cols = line.split()
            if len(cols) >= 5:
                listed[cols[0]] = cols[4]
        return {job_id: listed.get(job_id, "GONE") for job_id in ids}

    def cancel(self, job_id: str) -> None:
        _run(["qdel", job_id], what=f"cancelling {job_id}")


SCHEDULERS = {"slurm": Slurm, "sge": GridEngine}

#: states in which a job may still write results (not to be submitted a second time)
ACTIVE = {"PENDING", "RUNNING", "CONFIGURING", "COMPLETING", "SUSPENDED", "REQUEUED", "RESIZING",
          "qw", "hqw", "r", "t", "Rr", "Rq", "s", "S", "hr"}  # fmt: skip


def scheduler(name: str) -> Slurm | GridEngine:
    if name not in SCHEDULERS:
        raise SchedulerError(f"--scheduler {name}: one of slurm, sge, ray")
    return SCHEDULERS[name]()


def read_submitted(run_dir: Path) -> dict[str, list[dict[str, object]]]:
    """job name → its submissions (id, scheduler, time), latest last."""
    path = jobs_dir(run_dir) / SUBMITTED_FILE
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return {}


def record_submission(run_dir: Path, name: str, job_id: str, scheduler_name: str) -> None:
    from hyoka.results.run_dir import write_json

    submitted = read_submitted(run_dir)
    submitted.setdefault(name, []).append({"id": job_id, "scheduler": scheduler_name, "time": time.time()})
    write_json(jobs_dir(run_dir) / SUBMITTED_FILE, submitted)
