"""The run directory: per-sample JSONL, metrics.json and summary.json, written atomically."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any, Iterable

from hyoka.errors import HyokaError

METRICS_FILE = "metrics.json"
SUMMARY_FILE = "summary.json"


def samples_file(run_dir: Path, task: str) -> Path:
    return run_dir / f"samples_{task}.jsonl"


def json_safe(value: Any) -> Any:
    """NaN and infinities become null: results files stay standard JSON."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    return value


def write_json(path: Path, data: Any) -> None:
    text = json.dumps(json_safe(data), ensure_ascii=False, indent=2, default=str)
    _write_atomic(path, lambda f: f.write(text))


def write_jsonl(path: Path, rows: Iterable[dict[str, Any]]) -> None:
    def write(f: Any) -> None:
        for row in rows:
            f.write(json.dumps(json_safe(row), ensure_ascii=False, default=str, allow_nan=False) + "\n")

    _write_atomic(path, write)


def _write_atomic(path: Path, write: Any) -> None:
    """Write beside `path` and rename over it; on failure (full disk, read-only) no temporary
    file stays behind and the error is one line naming the file."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with tmp.open("w", encoding="utf-8") as f:
            write(f)
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise HyokaError(f"cannot write {path} ({exc.strerror}); free space or choose another --output") from None


def read_metrics(run_dir: Path) -> dict[str, Any]:
    path = run_dir / METRICS_FILE
    if not path.is_file():
        raise HyokaError(f"{run_dir}: no {METRICS_FILE} here; give the folder a finished `hyoka run` wrote")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise HyokaError(f"{path}: not valid JSON ({exc.msg} at line {exc.lineno})") from None
