"""Planning without a scheduler: profiles, runtime estimates from recorded runs, job
scripts for Slurm and Grid Engine (TSUBAME4's directives), and input errors."""

from __future__ import annotations

import contextlib
import io
import json
import re
import shlex
import subprocess
from pathlib import Path

import pytest

from hyoka.cli import main

RECORDED = Path(__file__).parent / "fixtures" / "cluster" / "recorded_run"
GEMMA = "llamacpp:/models/gemma-3-270m-q4_k_m.gguf"  # planning never opens the model

TSUBAME = """\
scheduler: sge
group: tga-hyoka
priority: -5
setup:
  - . /etc/profile.d/modules.sh
  - module load cuda/12.1
margin: 1.5
overhead: "00:05:00"
min_walltime: "00:10:00"
default_seconds_per_doc: 2
node_kinds:
  node_q: {gpus: 1, cpus: 48, memory: 188G, walltime: "24:00:00", resource: node_q=1}
  node_f: {gpus: 4, cpus: 192, memory: 752G, walltime: "24:00:00", resource: node_f=1}
  cpu_16: {cpus: 16, memory: 96G, walltime: "24:00:00", resource: cpu_16=1}
node_rules:
  - {backends: [openai], node: cpu_16}
  - {max_params_b: 13, node: node_q}
  - {node: node_f}
"""

SLURM = """\
scheduler: slurm
account: lab
qos: normal
margin: 2
overhead: "00:01:00"
min_walltime: "00:02:00"
default_seconds_per_doc: 1
node_kinds:
  gpu: {gpus: 1, cpus: 8, memory: 64G, walltime: "00:30:00", partition: gpu}
"""


def hyoka(*args: str) -> subprocess.CompletedProcess[str]:
    """The real CLI entry point, in this process (planning starts no model and no scheduler)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(args))
    return subprocess.CompletedProcess(list(args), code, out.getvalue(), err.getvalue())


def submit(tmp_path: Path, profile_text: str, *args: str, model: str = GEMMA, out: str = "run") -> subprocess.CompletedProcess[str]:
    profile = tmp_path / "profile.yaml"
    profile.write_text(profile_text)
    return hyoka("submit", model, "--profile", str(profile), "--output", str(tmp_path / out), "--dry-run", *args)


def plan_of(run: Path) -> dict:
    return json.loads((run / "plan.json").read_text())


def test_recorded_timings_change_the_next_plan(tmp_path: Path, shared_data: Path) -> None:
    before = submit(tmp_path, SLURM, "--tasks", "demo_ja,jcommonsenseqa", "--limit", "30", out="before")
    assert before.returncode == 0, before.stderr
    first = plan_of(tmp_path / "before")
    # 1 s a document (the profile's default): 60 s, one job of 1 min + 2 × 60 s = 3 min
    assert [j["walltime"] for j in first["jobs"]] == ["00:03:00"]
    assert {p["source"] for j in first["jobs"] for p in j["pieces"]} == {"profile default"}

    # a run recorded ~5 s a document for each task on this model: the same submission now
    # needs two jobs, and their walltimes follow the recorded rates
    after = submit(tmp_path, SLURM, "--tasks", "demo_ja,jcommonsenseqa", "--limit", "30", "--timings", str(RECORDED), out="after")
    assert after.returncode == 0, after.stderr
    second = plan_of(tmp_path / "after")
    summary = json.loads((RECORDED / "summary.json").read_text())
    rates = {t: e["execution"]["seconds"] / e["samples"] for t, e in summary["tasks"].items()}
    pieces = [p for j in second["jobs"] for p in j["pieces"]]
    assert {p["task"]: p["seconds_per_doc"] for p in pieces} == pytest.approx(rates)
    assert {p["source"] for p in pieces} == {"recorded"}
    for job in second["jobs"]:
        seconds = sum((p["end"] - p["start"]) * p["seconds_per_doc"] for p in job["pieces"])
        minutes = -(-(60 + 2 * seconds) // 60)
        assert job["walltime"] == f"00:{int(minutes):02d}:00"
    assert [j["walltime"] for j in second["jobs"]] != [j["walltime"] for j in first["jobs"]]
    script = (tmp_path / "after" / "jobs" / f"{second['jobs'][0]['name']}.sh").read_text()
    assert f"#SBATCH --time={second['jobs'][0]['walltime']}" in script
    assert "recorded" in script

    # the table is scaled to a model of another size (8B: ~30 times slower than 270M)
    bigger = submit(tmp_path, SLURM, "--tasks", "demo_ja", "--limit", "30", model="llamacpp:/m/Qwen3-8B-Q4.gguf", out="big")
    assert bigger.returncode == 0, bigger.stderr
    big = [p for j in plan_of(tmp_path / "big")["jobs"] for p in j["pieces"]]
    assert sum(p["end"] - p["start"] for p in big) == 30
    assert big[0]["seconds_per_doc"] == pytest.approx(rates["demo_ja"] * 8 / 0.27)
    assert big[0]["source"] == "scaled from 0.27b"


def test_long_task_is_split_into_document_ranges(tmp_path: Path, shared_data: Path) -> None:
    profile = SLURM.replace("default_seconds_per_doc: 1", "default_seconds_per_doc: 40")
    done = submit(tmp_path, profile, "--tasks", "demo_ja,jcommonsenseqa", "--limit", "30")
    assert done.returncode == 0, done.stderr
    plan = plan_of(tmp_path / "run")
    # budget per job: 30 min / margin 2 - 1 min = 840 s = 21 documents at 40 s: each task
    # (30 documents) is split in two
    ranges = [(p["task"], p["start"], p["end"]) for j in plan["jobs"] for p in j["pieces"]]
    assert ranges == [("demo_ja", 0, 15), ("demo_ja", 15, 30), ("jcommonsenseqa", 0, 15), ("jcommonsenseqa", 15, 30)]
    spec = json.loads((tmp_path / "run" / "jobs" / f"{plan['jobs'][1]['name']}.json").read_text())
    assert spec["docs"] == [15, 30] and spec["prime"] == 1  # document 14 first: the KV state a single run has
    first = json.loads((tmp_path / "run" / "jobs" / f"{plan['jobs'][0]['name']}.json").read_text())
    assert first["docs"] == [0, 15] and first["prime"] == 0
    argv = spec["argv"]
    # the job's own range with document 14 before it, as `hyoka run --docs` (no --limit needed)
    assert argv[argv.index("--docs") + 1] == "14:30" and "--limit" not in argv
    assert argv[argv.index("--tasks") + 1] == "demo_ja"
    assert argv[argv.index("--output") + 1] == str(tmp_path / "run" / "jobs" / plan["jobs"][1]["name"] / "results")


# Grid Engine directives the TSUBAME4 manual documents for job scripts, and what each takes
TSUBAME_DIRECTIVES = {
    "-cwd": None,
    "-N": r"[A-Za-z][\w.-]*",
    "-o": r"/\S+",
    "-j": r"y",
    "-l": r"(node_f|node_h|node_q|node_o|gpu_1|gpu_h|cpu_160|cpu_80|cpu_40|cpu_16|cpu_8|cpu_4)=\d+|h_rt=\d+:\d{2}:\d{2}",
    "-p": r"-[345]",
}


def parse_sge_directives(script: str) -> list[tuple[str, str | None]]:
    """`#$` lines as qsub reads them: an option and (for most) one argument."""
    out = []
    for line in script.splitlines():
        if not line.startswith("#$"):
            continue
        words = shlex.split(line[2:])
        assert words and words[0] in TSUBAME_DIRECTIVES, f"not a TSUBAME job script option: {line}"
        want = TSUBAME_DIRECTIVES[words[0]]
        if want is None:
            assert len(words) == 1, line
            out.append((words[0], None))
        else:
            assert len(words) == 2 and re.fullmatch(want, words[1]), f"bad argument in: {line}"
            out.append((words[0], words[1]))
    return out


def test_tsubame_scripts_use_the_manuals_directives(tmp_path: Path, shared_data: Path) -> None:
    done = submit(tmp_path, TSUBAME, "--tasks", "jcommonsenseqa", "--limit", "100")
    assert done.returncode == 0, done.stderr
    plan = plan_of(tmp_path / "run")
    assert plan["node"] == "node_q" and plan["scheduler"] == "sge"  # 270M ≤ 13B
    script = (tmp_path / "run" / "jobs" / f"{plan['jobs'][0]['name']}.sh").read_text()
    directives = parse_sge_directives(script)
    values = [v for k, v in directives if k == "-l"]
    assert "node_q=1" in values and f"h_rt={plan['jobs'][0]['walltime']}" in values
    assert ("-p", "-5") in directives
    # directives first, then the module set-up, then the job's own cache shard
    lines = script.splitlines()
    assert lines[0] == "#!/bin/bash"
    assert lines.index(". /etc/profile.d/modules.sh") > max(i for i, l in enumerate(lines) if l.startswith("#$"))
    assert re.search(r"^export HYOKA_CACHE_DIR=\S+/jobs/j00-jcommonsenseqa/cache$", script, re.M)
    # bash reads the script (directives are comments to it)
    assert subprocess.run(["bash", "-n", str(tmp_path / "run" / "jobs" / f"{plan['jobs'][0]['name']}.sh")]).returncode == 0

    big = submit(tmp_path, TSUBAME, "--tasks", "demo_ja", model="vllm:meta-llama/Llama-3.1-70B-Instruct", out="big")
    assert big.returncode == 0, big.stderr
    assert plan_of(tmp_path / "big")["node"] == "node_f"
    api = submit(tmp_path, TSUBAME, "--tasks", "demo_ja", model="openai:gpt-4o-mini", out="api")
    assert api.returncode == 0, api.stderr
    api_plan = plan_of(tmp_path / "api")
    assert api_plan["node"] == "cpu_16"
    assert "-l cpu_16=1" in (tmp_path / "api" / "jobs" / f"{api_plan['jobs'][0]['name']}.sh").read_text()


@pytest.mark.parametrize(
    ("profile", "args", "message"),
    [
        (SLURM.replace('walltime: "00:30:00"', 'walltime: "30 minutes"'), [], "field 'node_kinds.gpu.walltime'"),
        (SLURM + "node_rules: [{node: huge}]\n", [], "node 'huge' is not one of node_kinds"),
        (SLURM.replace('walltime: "00:30:00"', 'walltime: "00:01:30"'), [], "leaves no time after overhead"),
        (SLURM, ["--node", "tiny"], "--node tiny: not a node kind"),
        (SLURM, ["--tasks", "no_such_task"], "unknown task or group 'no_such_task'"),
        (SLURM + "unknown_key: 1\n", [], "field 'unknown_key'"),
    ],
)
def test_bad_profile_or_arguments_is_one_line(tmp_path: Path, profile: str, args: list[str], message: str) -> None:
    tasks = [] if "--tasks" in args else ["--tasks", "demo_ja"]
    done = submit(tmp_path, profile, *tasks, *args)
    assert done.returncode == 2
    assert message in done.stderr and len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert not (tmp_path / "run" / "plan.json").exists()


def test_status_and_collect_need_a_submitted_run(tmp_path: Path) -> None:
    for command in ("status", "collect"):
        done = hyoka(command, str(tmp_path))
        assert done.returncode == 2 and "no plan.json" in done.stderr, done.stderr


def test_vllm_multi_node_settings_pass_through() -> None:
    from hyoka.models.vllm import build_argv

    argv = " ".join(build_argv("m", {"tensor_parallel_size": "8", "pipeline_parallel_size": "2",
                                     "distributed_executor_backend": "ray"}, None))  # fmt: skip
    assert "--tensor-parallel-size 8 --pipeline-parallel-size 2 --distributed-executor-backend ray" in argv


def test_a_key_inside_a_url_is_refused_before_any_job_file(tmp_path: Path) -> None:
    # a job runs from its job file: a key in base_url would be stored there
    done = submit(tmp_path, SLURM, "--tasks", "demo_ja", "--limit", "2", "--model-args",
                  "base_url=https://me:sk-not-a-real-key@api.example.com/v1", model="openai:gpt-4o-mini")  # fmt: skip
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert "--model-args base_url: the URL carries a password or key" in done.stderr
    assert "sk-not-a-real-key" not in done.stderr
    run = tmp_path / "run"
    assert not run.exists() or not any(b"sk-not-a-real-key" in f.read_bytes() for f in run.rglob("*") if f.is_file())
