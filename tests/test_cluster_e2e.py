"""End to end on real schedulers: a single-node Slurm cluster (slurmctld + slurmd + munged on
localhost) and a two-node Ray cluster on this machine run Gemma through llama.cpp as several
jobs; `hyoka collect` must give the metrics and samples of a single-process `hyoka run`."""

from __future__ import annotations

import json
import os
import sqlite3
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Iterator

import pytest

from conftest import REPO, hyoka_cmd, require
from fixtures.cluster.sge_cluster import GridEngineCluster
from fixtures.cluster.sge_cluster import missing_commands as missing_sge_commands
from fixtures.cluster.slurm_cluster import SlurmCluster, missing_commands

pytestmark = pytest.mark.slow

TASKS = "demo_ja,jcommonsenseqa"
LIMIT = "30"
SMALL = ("demo_ja", "12")  # the Ray and Grid Engine runs
# a job may take 10 min / margin 1.5 - 1 min = 340 s of estimated work: at 20 s a document
# each task of 30 documents is split in two (four jobs); at 80 s, 12 documents make three
PROFILE = """\
scheduler: {scheduler}
setup:
  - export PYTHONPATH={src}${{PYTHONPATH:+:$PYTHONPATH}}
margin: 1.5
overhead: "00:01:00"
min_walltime: "00:05:00"
default_seconds_per_doc: {seconds}
node_kinds:
  cpu_4: {{cpus: 1, walltime: "00:10:00", resource: cpu_4=1}}
"""


def _env(cache: Path) -> dict[str, str]:
    return {**os.environ, "HYOKA_CACHE_DIR": str(cache), "PYTHONPATH": str(REPO / "src")}


def _hyoka(env: dict[str, str], *args: str, timeout: float = 1800) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(hyoka_cmd(*args), env=env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"hyoka {' '.join(args[:2])} failed:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
    return done


def _reference(factory: pytest.TempPathFactory, gguf: Path, data: Path, tasks: str, limit: str) -> Path:
    """A single-process run (its own, empty cache) that cluster runs are compared with."""
    folder = factory.mktemp("reference")
    env = {**_env(folder / "cache"), "HYOKA_DATA_DIR": str(data)}
    _hyoka(env, "run", f"llamacpp:{gguf}", "--tasks", tasks, "--limit", limit, "--output", str(folder / "run"), "--quiet")
    return folder / "run"


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory, gemma_gguf: Path, shared_data: Path) -> Path:
    return _reference(tmp_path_factory, gemma_gguf, shared_data, TASKS, LIMIT)


@pytest.fixture(scope="module")
def small_reference(tmp_path_factory: pytest.TempPathFactory, gemma_gguf: Path, shared_data: Path) -> Path:
    return _reference(tmp_path_factory, gemma_gguf, shared_data, *SMALL)


@pytest.fixture
def slurm(tmp_path: Path) -> Iterator[SlurmCluster]:
    missing = missing_commands()
    require(not missing, f"Slurm/munge commands missing: {missing} (make setup-dev installs slurm-wlm and munge)")
    require(os.geteuid() == 0, "the test Slurm cluster runs its daemons as root")
    cluster = SlurmCluster(tmp_path / "slurm", cpus=2)
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()


def _profile(tmp_path: Path, scheduler: str, seconds: int) -> Path:
    path = tmp_path / "profile.yaml"
    text = PROFILE.format(src=REPO / "src", scheduler=scheduler, seconds=seconds)
    path.write_text(text + ("priority: -5\n" if scheduler == "sge" else ""))
    return path


def _wait_for_queue(cluster: SlurmCluster, timeout: float = 1800) -> None:
    deadline = time.monotonic() + timeout
    while True:
        out = subprocess.run(["squeue", "-h"], env=cluster.env, capture_output=True, text=True)
        if out.returncode == 0 and not out.stdout.strip():
            return
        assert time.monotonic() < deadline, f"jobs still queued:\n{out.stdout}\n{cluster.logs()}"
        time.sleep(1)


def assert_same_as_reference(run: Path, reference: Path, tasks: list[str], *, resumed: bool = False) -> None:
    """Metrics, samples and the summary's per-task provenance as the single-process run's.

    Samples are byte-identical, except after a resume: the first document computed after
    cached ones is decoded without the previous document's KV cache (llama.cpp's prefix
    reuse; other kernels for the quantised weights), so its log-probabilities move by a few
    hundredths, as in any resumed `hyoka run` (test_resume compares predictions for this
    reason). Then that one document may differ there, and nothing else."""
    got, want = (json.loads((d / "metrics.json").read_text()) for d in (run, reference))
    assert {t: got["tasks"][t] for t in tasks} == {t: want["tasks"][t] for t in tasks}
    if set(tasks) == set(want["tasks"]):
        assert got == want
    for task in tasks:
        got_text, want_text = ((d / f"samples_{task}.jsonl").read_text() for d in (run, reference))
        if not resumed:
            assert got_text == want_text
            continue
        got_rows, want_rows = ([json.loads(line) for line in t.splitlines()] for t in (got_text, want_text))
        assert len(got_rows) == len(want_rows)
        moved = [g["doc_id"] for g, w in zip(got_rows, want_rows) if g["output"] != w["output"]]
        assert len(moved) <= 1, moved
        for g, w in zip(got_rows, want_rows):
            assert g["output"]["logprobs"] == pytest.approx(w["output"]["logprobs"], abs=0.1), g["doc_id"]
            assert {k: v for k, v in g.items() if k != "output"} == {k: v for k, v in w.items() if k != "output"}
    got_s, want_s = (json.loads((d / "summary.json").read_text()) for d in (run, reference))
    assert got_s["model"] == want_s["model"]
    pieces = [p for job in got_s["cluster"]["jobs"].values() for p in job["pieces"]]
    split = {t for t in tasks if any(p.startswith(f"{t}[") for p in pieces)}
    for task in tasks:
        for key in ("config_hash", "dataset", "formulation", "num_fewshot", "fewshot_seed", "generation", "limit", "samples"):
            assert got_s["tasks"][task][key] == want_s["tasks"][task][key], (task, key)
        # a split task's token counts include the primer documents (hyoka.cluster.worker)
        tokens = got_s["tasks"][task]["tokens"]["scored_continuation_tokens"]
        want = want_s["tasks"][task]["tokens"]["scored_continuation_tokens"]
        assert tokens > want if task in split else tokens == want, task


def cached_rows(db: Path) -> int:
    if not db.is_file():
        return 0
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as conn:
            return int(conn.execute("SELECT COUNT(*) FROM responses").fetchone()[0])
    except sqlite3.OperationalError:
        return 0


def test_slurm_jobs_cancel_resume_and_collect_to_the_single_process_run(
    tmp_path: Path, slurm: SlurmCluster, reference: Path, gemma_gguf: Path
) -> None:
    """Four Slurm jobs; one is cancelled mid-run (scancel) and resubmitted with --resume,
    which makes only the model calls that were missing; the collected run equals the
    single-process run."""
    env = {**slurm.env, "HYOKA_CACHE_DIR": str(tmp_path / "user-cache"), "PYTHONPATH": str(REPO / "src")}
    run = tmp_path / "run"
    submitted = _hyoka(env, "submit", f"llamacpp:{gemma_gguf}", "--tasks", TASKS, "--limit", LIMIT,
                       "--profile", str(_profile(tmp_path, "slurm", 20)), "--output", str(run))  # fmt: skip
    plan = json.loads((run / "plan.json").read_text())
    jobs = [line.split("\t") for line in submitted.stdout.splitlines() if "\t" in line]
    assert len(plan["jobs"]) == len(jobs) >= 3 and all(job_id.isdigit() for _, job_id in jobs)
    script = (run / "jobs" / f"{jobs[0][0]}.sh").read_text()
    assert "#SBATCH --time=00:" in script and f"HYOKA_CACHE_DIR={run}/jobs/{jobs[0][0]}/cache" in script

    # the first job (demo_ja documents 0-14: 60 requests, stored 32 at a time) is cancelled
    # once its first batch is stored
    victim, victim_id = jobs[0]
    shard = run / "jobs" / victim / "cache" / "requests.sqlite"
    deadline = time.monotonic() + 600
    while cached_rows(shard) < 32:
        assert time.monotonic() < deadline, slurm.logs()
        time.sleep(0.05)
    subprocess.run(["scancel", victim_id], env=slurm.env, check=True)
    _wait_for_queue(slurm)
    finished = cached_rows(shard)
    assert 0 < finished < 60
    status = _hyoka(env, "status", str(run)).stdout
    assert "CANCELLED" in status and f"{len(jobs) - 1} of {len(jobs)} job(s) finished" in status, status
    refused = subprocess.run(hyoka_cmd("collect", str(run)), env=env, capture_output=True, text=True)
    assert refused.returncode == 2 and victim in refused.stderr and "--resume" in refused.stderr

    resumed = _hyoka(env, "submit", "--resume", str(run))
    assert [line.split("\t")[0] for line in resumed.stdout.splitlines() if "\t" in line] == [victim]
    _wait_for_queue(slurm)
    victim_summary = json.loads((run / "jobs" / victim / "results" / "summary.json").read_text())
    assert victim_summary["execution"]["cache_hits"] == finished
    assert victim_summary["execution"]["model_calls"] == 60 - finished
    status = _hyoka(env, "status", str(run)).stdout
    assert f"{len(jobs)} of {len(jobs)} job(s) finished" in status and "COMPLETED" in status, status

    collected = _hyoka(env, "collect", str(run))
    assert_same_as_reference(run, reference, TASKS.split(","), resumed=True)
    # every job wrote its own cache shard; collection merged them into the user's cache
    shards = [cached_rows(run / "jobs" / j["name"] / "cache" / "requests.sqlite") for j in plan["jobs"]]
    assert all(shards) and sum(shards) == 270 + 4 + 5  # two ranges started with a primer document
    assert cached_rows(tmp_path / "user-cache" / "requests.sqlite") == 270
    assert "270 new request(s) merged" in collected.stdout
    # the merged cache serves a later single-machine run completely
    again = _hyoka(env, "run", f"llamacpp:{gemma_gguf}", "--tasks", TASKS, "--limit", LIMIT,
                   "--output", str(tmp_path / "again"), "--quiet")  # fmt: skip
    assert "270 from cache, 0 model calls" in again.stdout


# -- Ray -----------------------------------------------------------------------------------------


@pytest.fixture
def ray_cluster(tmp_path: Path) -> Iterator[str]:
    """Head and one worker node, each `ray start --block` (ended by process group), one CPU each."""
    ray_bin = Path(sys.executable).parent / "ray"
    require(ray_bin.is_file(), "ray is not installed (pip install 'hyoka[ray]'; make setup-dev does)")
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": str(REPO / "src"), "RAY_USAGE_STATS_ENABLED": "0"}
    common = ["--block", "--num-cpus=1", "--num-gpus=0", "--disable-usage-stats"]
    temp = Path(tempfile.mkdtemp(prefix="hyray", dir="/tmp"))  # Ray's socket paths must stay under 108 bytes
    procs = []
    try:
        procs.append(subprocess.Popen(
            [str(ray_bin), "start", "--head", f"--port={port}", "--include-dashboard=false",
             f"--temp-dir={temp}", *common],
            env=env, stdout=(tmp_path / "head.log").open("wb"), stderr=subprocess.STDOUT, start_new_session=True,
        ))  # fmt: skip
        address = f"127.0.0.1:{port}"
        _wait_ray_nodes(address, 1, procs)
        procs.append(subprocess.Popen(
            [str(ray_bin), "start", f"--address={address}", *common],
            env=env, stdout=(tmp_path / "worker.log").open("wb"), stderr=subprocess.STDOUT, start_new_session=True,
        ))  # fmt: skip
        _wait_ray_nodes(address, 2, procs)
        yield address
    finally:
        for p in reversed(procs):
            if p.poll() is None:
                os.killpg(p.pid, 15)
        for p in reversed(procs):
            try:
                # `ray start --block` takes ~30 s to stop on SIGTERM; a throwaway cluster
                # need not stop gracefully: its whole process group goes
                p.wait(timeout=3)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, 9)
                p.wait(timeout=30)
        shutil.rmtree(temp, ignore_errors=True)


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_ray_nodes(address: str, count: int, procs: list[subprocess.Popen[bytes]], timeout: float = 120) -> None:
    code = f"import ray; ray.init(address={address!r}, logging_level='ERROR'); print(sum(n['Alive'] for n in ray.nodes()))"
    deadline = time.monotonic() + timeout
    while True:
        assert all(p.poll() is None for p in procs), f"ray start exited early: see {procs[-1].args}"
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
        if out.returncode == 0 and out.stdout.strip().splitlines()[-1:] == [str(count)]:
            return
        assert time.monotonic() < deadline, f"Ray cluster has no {count} nodes: {out.stderr[-1500:]}"
        time.sleep(1)


def test_ray_two_nodes_collect_to_the_single_process_run(
    tmp_path: Path, ray_cluster: str, small_reference: Path, gemma_gguf: Path
) -> None:
    env = {**_env(tmp_path / "user-cache"), "RAY_USAGE_STATS_ENABLED": "0"}
    run = tmp_path / "run"
    _hyoka(env, "submit", f"llamacpp:{gemma_gguf}", "--tasks", SMALL[0], "--limit", SMALL[1], "--scheduler", "ray",
           "--address", ray_cluster, "--profile", str(_profile(tmp_path, "ray", 80)), "--output", str(run))  # fmt: skip
    plan = json.loads((run / "plan.json").read_text())
    nodes = {json.loads((run / "jobs" / j["name"] / "ray.json").read_text())["node_id"] for j in plan["jobs"]}
    assert len(plan["jobs"]) == 3 and len(nodes) == 2  # both Ray nodes ran jobs
    _hyoka(env, "collect", str(run))
    assert_same_as_reference(run, small_reference, [SMALL[0]])


# -- Grid Engine ---------------------------------------------------------------------------------

@pytest.fixture
def grid_engine(tmp_path: Path) -> Iterator[GridEngineCluster]:
    missing = missing_sge_commands()
    require(not missing, f"Grid Engine commands missing: {missing} (apt-get install gridengine-master gridengine-exec gridengine-client)")
    require(os.geteuid() == 0, "the test Grid Engine runs its daemons as root")
    cluster = GridEngineCluster(tmp_path / "sge", slots=2)
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()


def test_grid_engine_tsubame_scripts_collect_to_the_single_process_run(
    tmp_path: Path, grid_engine: GridEngineCluster, small_reference: Path, gemma_gguf: Path
) -> None:
    """TSUBAME-style scripts (-l cpu_4=1, -l h_rt, -p -5) accepted and run by a real qmaster/execd."""
    env = {**grid_engine.env, "HYOKA_CACHE_DIR": str(tmp_path / "user-cache"), "PYTHONPATH": str(REPO / "src")}
    run = tmp_path / "run"
    submitted = _hyoka(env, "submit", f"llamacpp:{gemma_gguf}", "--tasks", SMALL[0], "--limit", SMALL[1],
                       "--profile", str(_profile(tmp_path, "sge", 80)), "--output", str(run))  # fmt: skip
    jobs = [line.split("\t") for line in submitted.stdout.splitlines() if "\t" in line]
    assert len(jobs) == 3
    script = (run / "jobs" / f"{jobs[0][0]}.sh").read_text()
    assert "#$ -l cpu_4=1" in script and "#$ -p -5" in script and "#$ -l h_rt=00:" in script
    deadline = time.monotonic() + 1800
    while (queued := subprocess.run(["qstat"], env=env, capture_output=True, text=True).stdout.strip()):
        assert time.monotonic() < deadline, f"{queued}\n{grid_engine.logs()}"
        time.sleep(1)
    status = _hyoka(env, "status", str(run)).stdout
    assert "3 of 3 job(s) finished" in status, status
    _hyoka(env, "collect", str(run))
    assert_same_as_reference(run, small_reference, [SMALL[0]])
