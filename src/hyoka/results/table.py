"""The plain-text tables: results after a run and by `hyoka show`, and the one row formatter."""

from __future__ import annotations

import math
from typing import Any, Sequence


def _fmt(value: float | None, digits: int = 4) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"{value:.{digits}f}"


def _errors(metric: dict[str, Any], entry: dict[str, Any]) -> str:
    failed = metric.get("failed")
    return str(failed if failed is not None else entry.get("errors", 0))


def results_table(metrics_json: dict[str, Any]) -> str:
    """Rows: task or group, metric, value ± stderr, n, errors (the metric's own `failed`
    count where it has one, e.g. MT-Bench's per category; the task's errors otherwise)."""
    rows = [("task", "metric", "value", "± stderr", "n", "errors")]
    for task, entry in metrics_json.get("tasks", {}).items():
        for name, m in entry["metrics"].items():
            rows.append((task, name, _fmt(m["value"]), _fmt(m["stderr"]), str(m["n"]), _errors(m, entry)))
    for group, entry in metrics_json.get("groups", {}).items():
        for name, m in entry["metrics"].items():
            rows.append((f"[{group}]", name, _fmt(m["value"]), _fmt(m["stderr"]), str(m["n"]), _errors(m, entry)))
    return format_rows(rows, left=2, rule=True)


def format_rows(rows: Sequence[Sequence[str]], *, left: int | None = None, rule: bool = False) -> str:
    """The one plain-text table: columns padded to their widest cell; the first `left` columns
    left-aligned (all when None), the rest right-aligned; `rule`: a dashed line under the header."""
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = []
    for i, row in enumerate(rows):
        cells = [cell.ljust(w) if left is None or j < left else cell.rjust(w) for j, (cell, w) in enumerate(zip(row, widths))]
        lines.append("  ".join(cells).rstrip())
        if i == 0 and rule:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)
