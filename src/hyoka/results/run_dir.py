"""The run directory: per-sample JSONL, metrics.json and summary.json, written atomically.

Every file is written to a hidden temporary file beside it and renamed over the old one,
so a reader (or a kill) sees the old file or the new one, never half of one; a failed
write removes its temporary file and says which file could not be written.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import IO, Any, Callable, Iterable

from hyoka.errors import HyokaError
from hyoka.metrics.base import MetricValue
from hyoka.results.aggregate import TaskResult

METRICS_FILE = "metrics.json"
SUMMARY_FILE = "summary.json"
SAMPLES_PREFIX = "samples_"


def samples_file(run_dir: Path, task: str) -> Path:
    return run_dir / f"{SAMPLES_PREFIX}{task}.jsonl"


def json_safe(value: Any) -> Any:
    """NaN and infinities become null: results files stay standard JSON."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    return value


class OutputError(HyokaError):
    """An output folder that cannot take the run's results."""


#: bytes written and removed to prove the output folder takes data (a full disk fails here)
PROBE_BYTES = 64 * 1024


def check_output_dir(path: Path) -> None:
    """The run folder exists (created if needed), is a folder, and takes a write: checked
    before the model loads (preflight) and again by the runner before any model call."""
    flag = f"--output {path}"
    if path.exists() and not path.is_dir():
        raise OutputError(f"{flag}: is a file, not a folder; give a folder for the run's results")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"{flag}: cannot create the folder ({exc.strerror}); choose a writable place") from None
    probe = path / f".hyoka-write-check-{os.getpid()}"
    try:
        with probe.open("wb") as f:
            f.write(b"\0" * PROBE_BYTES)
            f.flush()
            os.fsync(f.fileno())
    except OSError as exc:
        raise OutputError(f"{flag}: cannot write there ({exc.strerror}); choose a writable folder with free space") from None
    finally:
        try:
            probe.unlink(missing_ok=True)
        except OSError:
            pass


def _write_atomic(path: Path, write: Callable[[IO[str]], None]) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with tmp.open("w", encoding="utf-8") as f:
            write(f)
        os.replace(tmp, path)
    except BaseException as exc:
        tmp.unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise HyokaError(
                f"{path}: cannot write it ({exc.strerror or exc}); the model's answers are cached, "
                "so rerunning the same command after fixing this repeats no model call"
            ) from None
        raise


def write_json(path: Path, data: Any) -> None:
    text = json.dumps(json_safe(data), ensure_ascii=False, indent=2, default=str)
    _write_atomic(path, lambda f: f.write(text))


def write_jsonl(path: Path, rows: Iterable[dict[str, Any]]) -> None:
    def write(f: IO[str]) -> None:
        for row in rows:
            f.write(json.dumps(json_safe(row), ensure_ascii=False, default=str, allow_nan=False) + "\n")

    _write_atomic(path, write)


def read_json_file(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise HyokaError(f"{path}: not valid JSON ({exc.msg} at line {exc.lineno}); remove it or choose another folder") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise HyokaError(f"{path}: cannot read it ({exc})") from None


def read_metrics(run_dir: Path) -> dict[str, Any]:
    path = run_dir / METRICS_FILE
    if not path.is_file():
        raise HyokaError(f"{run_dir}: no {METRICS_FILE} here; give the folder a finished `hyoka run` wrote")
    data = read_json_file(path)
    if not isinstance(data, dict) or not isinstance(data.get("tasks", {}), dict):
        raise HyokaError(f"{path}: not a hyoka metrics.json (no 'tasks' object)")
    return data


def read_task_results(run_dir: Path) -> dict[str, TaskResult]:
    """The task results a finished run left in `run_dir` (metrics.json, values from the
    samples files), so a later run into the folder can keep them and their groups."""
    out = {}
    for task, entry in read_metrics(run_dir).get("tasks", {}).items():
        metrics = {m: _metric_value(v) for m, v in (entry.get("metrics") or {}).items()}
        values: dict[str, list[float]] = {m: [] for m in metrics}
        path = samples_file(run_dir, task)
        if path.is_file():
            for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                try:
                    row = json.loads(line) if line.strip() else {}
                except json.JSONDecodeError as exc:
                    raise HyokaError(f"{path}:{lineno}: not JSON ({exc.msg}); remove the file or choose another folder") from None
                if isinstance(row, dict) and row and row.get("error") is None:
                    for m, v in (row.get("metrics") or {}).items():
                        values.setdefault(m, []).append(math.nan if v is None else float(v))
        repeat_std = {m: v["repeat_std"] for m, v in (entry.get("metrics") or {}).items() if v.get("repeat_std") is not None}
        out[task] = TaskResult(task, metrics, values, int(entry.get("errors") or 0), int(entry.get("repeats") or 1), repeat_std)
    return out


def _metric_value(v: dict[str, Any]) -> MetricValue:
    value = v.get("value")
    failures = v.get("failures")  # a metric's unscored documents (judge failures), kept on a rewrite
    return MetricValue(
        math.nan if value is None else float(value), v.get("stderr"), int(v.get("n") or 0),
        failed=int(v.get("failed") or 0), failures=dict(failures) if isinstance(failures, dict) else None,
    )  # fmt: skip
