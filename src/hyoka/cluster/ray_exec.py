"""Running the planned jobs as Ray tasks on an existing Ray cluster.

Each job's script (the same one Slurm or Grid Engine would run, without directives) runs
as one Ray task holding the node kind's CPUs and GPUs, so Ray places jobs on nodes with room.
The run folder must be on a file system every Ray node sees, as on a batch cluster.
`hyoka submit --scheduler ray` waits for the tasks; each one records the node it ran on
in RUN/jobs/NAME/ray.json.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hyoka.errors import HyokaError


@dataclass(frozen=True)
class RayJob:
    name: str
    script: Path
    log: Path
    cpus: int
    gpus: int


def _run_script(script: str, log: str) -> dict[str, Any]:
    """Body of the Ray task: run the job script, say where it ran."""
    import socket
    import subprocess

    import ray

    with open(log, "ab") as out:
        rc = subprocess.run(["bash", script], stdout=out, stderr=subprocess.STDOUT).returncode
    return {"rc": rc, "node_id": ray.get_runtime_context().get_node_id(), "host": socket.gethostname()}


def run_jobs(address: str, jobs: list[RayJob]) -> dict[str, dict[str, Any]]:
    """Run every job as a Ray task and wait for all; job name → {rc, node_id, host}."""
    try:
        import ray
    except ImportError:
        raise HyokaError("--scheduler ray needs Ray: pip install 'hyoka[ray]'") from None
    try:
        ray.init(address=address, log_to_driver=False, logging_level="ERROR")
    except (ConnectionError, RuntimeError, ValueError) as exc:
        raise HyokaError(f"--address {address}: cannot join the Ray cluster ({str(exc).splitlines()[0]}); start it with `ray start`") from None
    try:
        remote = ray.remote(_run_script)
        refs = {
            job.name: remote.options(num_cpus=job.cpus, num_gpus=job.gpus, name=f"hyoka-{job.name}", max_retries=0).remote(
                str(job.script), str(job.log)
            )
            for job in jobs
        }
        return {name: ray.get(ref) for name, ref in refs.items()}
    finally:
        ray.shutdown()
