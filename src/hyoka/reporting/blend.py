"""`hyoka blend`: a new run folder from tasks of earlier runs of one model (Nejumi's
"blend": keep last month's jaster results, add this month's MT-Bench run).

The blended folder is an ordinary run folder (metrics.json, summary.json, samples), so
every other command reads it as a run. Its summary names each source (folder, the
source's own summary checksum and start time) and keeps, per task, the source's
provenance and run settings, so comparability checks still see each task's real settings.
"""

from __future__ import annotations

import hashlib
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from hyoka.errors import HyokaError
from hyoka.reporting.runs import RunView, load_run
from hyoka.results.provenance import run_header
from hyoka.results.run_dir import METRICS_FILE, SUMMARY_FILE, samples_file, write_json

#: run-level settings copied beside each task's provenance (they decide comparability)
RUN_SETTINGS = ("model", "chat_template_applied", "system_prompt", "limit", "generation_overrides", "settings",
                "hyoka_version", "hyoka_git_commit", "started_at")  # fmt: skip
#: files an MT-Bench run keeps beside metrics.json
MTBENCH_FILES = ("answers.jsonl", "judgments.jsonl", "radar.png", "radar.svg")


@dataclass(frozen=True)
class BlendSource:
    run: RunView
    tasks: list[str]


def parse_source(text: str) -> tuple[Path, list[str]]:
    """RUN_DIR:TASK,TASK (or RUN_DIR alone: every task of the run)."""
    path, sep, tasks = text.rpartition(":")
    if not sep or not path or "/" in tasks or Path(text).is_dir():
        return Path(text), []
    return Path(path), [t.strip() for t in tasks.split(",") if t.strip()]


def resolve_sources(specs: Sequence[str]) -> list[BlendSource]:
    if not specs:
        raise HyokaError("give at least one RUN_DIR:TASKS to blend")
    sources = []
    for spec in specs:
        path, tasks = parse_source(spec)
        run = load_run(path)
        unknown = [t for t in tasks if t not in run.tasks]
        if unknown:
            raise HyokaError(f"{spec}: {', '.join(unknown)} not in {path} (it has {', '.join(run.tasks)})")
        sources.append(BlendSource(run, tasks or run.tasks))
    first = sources[0].run
    for s in sources[1:]:
        if s.run.model_key != first.model_key:
            raise HyokaError(
                f"{s.run.label} is a different model ({s.run.model_name}, weights {s.run.model_key[:12]}) than "
                f"{first.label} ({first.model_name}, weights {first.model_key[:12]}); blend runs of one model only"
            )
    return sources


def _task_keys(sources: Sequence[BlendSource]) -> list[tuple[BlendSource, str, str]]:
    """(source, task key in the source, key in the blend). The same task may come twice
    with different few-shot counts (Nejumi: 0-shot and few-shot); the few-shot one is
    then kept as TASK@Kshot."""
    out: list[tuple[BlendSource, str, str]] = []
    taken: dict[str, tuple[RunView, str]] = {}
    for s in sources:
        for key in s.tasks:
            base = str(s.run.task_provenance(key).get("task") or key)
            new = base
            if new in taken:
                other_run, other_key = taken[new]
                shots, other_shots = s.run.num_fewshot(key), other_run.num_fewshot(other_key)
                if shots == other_shots:
                    raise HyokaError(f"task {base} comes from both {other_run.label} and {s.run.label} with the same "
                                     "few-shot count; name it in one source only")  # fmt: skip
                new = f"{base}@{shots}shot"
                if new in taken:
                    raise HyokaError(f"task {base} ({shots}-shot) is given twice; name it in one source only")
            taken[new] = (s.run, key)
            out.append((s, key, new))
    return out


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def blend(specs: Sequence[str], output: Path) -> Path:
    sources = resolve_sources(specs)
    if output.exists() and any(output.iterdir()):
        raise HyokaError(f"--output {output}: the folder is not empty; give a new folder for the blended run")
    started = time.time()
    keys = _task_keys(sources)  # every conflict is found before anything is written
    output.mkdir(parents=True, exist_ok=True)
    tasks_metrics: dict[str, Any] = {}
    provenance: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    for s, key, new in keys:
        run = s.run
        tasks_metrics[new] = run.metrics["tasks"][key]
        run_settings = {k: run.summary.get(k) for k in RUN_SETTINGS if k in run.summary}
        if run.kind == "mtbench":
            run_settings = {k: v for k, v in run.summary.items() if k != "execution"}
            extra.setdefault("mtbench", run.metrics.get("mtbench"))
            folder = output / new
            folder.mkdir(exist_ok=True)
            for name in MTBENCH_FILES:
                if (run.path / name).is_file():
                    shutil.copy2(run.path / name, folder / name)
        elif samples_file(run.path, key).is_file():
            shutil.copy2(samples_file(run.path, key), samples_file(output, new))
        provenance[new] = {**run.task_provenance(key), "task": str(run.task_provenance(key).get("task") or key),
                           "source": str(run.path.resolve()), "source_task": key, "run": run_settings}  # fmt: skip
    write_json(output / METRICS_FILE, {"tasks": tasks_metrics, "groups": {}, **extra})
    first = sources[0].run
    summary = {
        **run_header(started),
        "model": first.model,
        "blend": {
            "sources": [
                {"run": str(s.run.path.resolve()), "tasks": s.tasks, "started_at": s.run.summary.get("started_at"),
                 "summary_sha256": _sha256(s.run.path / SUMMARY_FILE), "kind": s.run.kind}
                for s in sources
            ],
        },
        "tasks": provenance,
    }  # fmt: skip
    write_json(output / SUMMARY_FILE, summary)
    return output
