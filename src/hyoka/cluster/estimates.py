"""Runtime estimates: seconds per document by task, backend and model size.

Learned from finished runs' summary.json (each task's execution seconds, model calls and
documents), kept in HYOKA_CACHE_DIR/runtimes.json, and used by the planner to size job
walltimes. Lookup order: this exact (task, backend, size); the same task and backend at the
nearest recorded size, scaled by the size ratio; the task YAML's `seconds_per_doc`; the
profile's default.
"""

from __future__ import annotations

import json
import math
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hyoka.data.files import cache_dir

TABLE_FILE = "runtimes.json"
# "270m", "8B", "0.5b", "8x7B" (mixture: total parameters), not "v3" or "q4"
_SIZE = re.compile(r"(?<![a-z0-9.])(?:(\d+)x)?(\d+(?:\.\d+)?)([bm])(?![a-z])", re.IGNORECASE)


def params_b(model_name: str) -> float | None:
    """Model size in billions of parameters, read from its name (last match wins)."""
    found = None
    for experts, number, unit in _SIZE.findall(Path(model_name).name.replace("_", "-")):
        value = float(number) * (1e-3 if unit.lower() == "m" else 1.0) * (int(experts) if experts else 1)
        found = value
    return found


def size_label(size: float | None) -> str:
    return "unknown" if size is None else f"{size:g}b"


@dataclass(frozen=True)
class Estimate:
    seconds_per_doc: float
    #: recorded | scaled from SIZE | task default | profile default
    source: str


@dataclass(frozen=True)
class Measurement:
    task: str
    backend: str
    size: float | None
    seconds: float
    docs: float


def table_path() -> Path:
    return cache_dir() / TABLE_FILE


def read_table(path: Path | None = None) -> dict[str, dict[str, Any]]:
    path = path or table_path()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return {}
    return data.get("entries", {}) if isinstance(data, dict) else {}


def _key(task: str, backend: str, size: float | None) -> str:
    return f"{task}|{backend}|{size_label(size)}"


def measurements(summary: dict[str, Any]) -> list[Measurement]:
    """What a run's summary.json says about speed. Documents answered from the cache cost
    nothing, so only the share that reached the model counts (none: nothing learned)."""
    model = summary.get("model") or {}
    spec = str(model.get("spec") or f"{model.get('backend', '')}:{model.get('name', '')}")
    backend, _, name = spec.partition(":")
    out = []
    for task, entry in (summary.get("tasks") or {}).items():
        execution = entry.get("execution") or {}
        requests, calls = execution.get("requests") or 0, execution.get("model_calls") or 0
        samples, seconds = entry.get("samples") or 0, float(execution.get("seconds") or 0.0)
        if not calls or not requests or not samples or seconds <= 0:
            continue
        out.append(Measurement(task, backend, params_b(name), seconds, samples * calls / requests))
    return out


def record_run(run_dir: Path, path: Path | None = None) -> list[Measurement]:
    """Add a finished run's timings to the table (running totals, so rates average over runs)."""
    summary_path = run_dir / "summary.json"
    try:
        summary = json.loads(summary_path.read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return []
    found = measurements(summary)
    if not found:
        return []
    path = path or table_path()
    entries = read_table(path)
    for m in found:
        entry = entries.setdefault(_key(m.task, m.backend, m.size), {"seconds": 0.0, "docs": 0.0, "runs": 0})
        entry.update(seconds=entry["seconds"] + m.seconds, docs=entry["docs"] + m.docs, runs=entry["runs"] + 1)
        entry["size_b"] = m.size
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps({"version": 1, "entries": entries}, indent=1, sort_keys=True), encoding="utf-8")
    os.replace(tmp, path)
    return found


def estimate(
    task: str,
    backend: str,
    size: float | None,
    *,
    task_default: float | None,
    profile_default: float,
    entries: dict[str, dict[str, Any]] | None = None,
) -> Estimate:
    entries = read_table() if entries is None else entries
    exact = entries.get(_key(task, backend, size))
    if exact and exact.get("docs"):
        return Estimate(exact["seconds"] / exact["docs"], "recorded")
    if size is not None:
        prefix = f"{task}|{backend}|"
        sized = [e for k, e in entries.items() if k.startswith(prefix) and e.get("size_b") and e.get("docs")]
        if sized:
            # nearest size on a log scale; time per document grows about linearly with parameters
            near = min(sized, key=lambda e: abs(math.log(e["size_b"] / size)))
            rate = near["seconds"] / near["docs"] * size / near["size_b"]
            return Estimate(rate, f"scaled from {size_label(near['size_b'])}")
    if task_default is not None:
        return Estimate(task_default, "task default")
    return Estimate(profile_default, "profile default")
