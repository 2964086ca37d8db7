"""The one plain-text table formatter (`format_table`), and the results table printed after
a run and by `hyoka show`. Every command that prints a table uses `format_table`, so
columns line up the same way everywhere, Japanese (full-width) text included."""

from __future__ import annotations

import math
import unicodedata
from typing import Any, Iterable, Sequence


def display_width(text: str) -> int:
    """Terminal columns: full-width and wide characters (kanji, kana) take two."""
    return sum(2 if unicodedata.east_asian_width(c) in ("W", "F") else 1 for c in text)


def _pad(text: str, width: int, align: str) -> str:
    fill = " " * (width - display_width(text))
    return fill + text if align == "r" else text + fill


def format_table(header: Sequence[str], rows: Iterable[Sequence[str]], *, align: str = "", rule: bool = True) -> str:
    """Columns separated by two spaces; `align` has one letter per column, "l" (the
    default for missing letters) or "r"; `rule` draws a dashed line under the header.
    Trailing spaces are dropped."""
    table = [list(header), *(list(r) for r in rows)]
    widths = [max(display_width(r[i]) for r in table) for i in range(len(header))]
    aligns = [align[i] if i < len(align) else "l" for i in range(len(header))]
    lines = ["  ".join(_pad(c, w, a) for c, w, a in zip(r, widths, aligns)).rstrip() for r in table]
    if rule:
        lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


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
    rows = []
    for task, entry in metrics_json.get("tasks", {}).items():
        for name, m in entry["metrics"].items():
            rows.append((task, name, _fmt(m["value"]), _fmt(m["stderr"]), str(m["n"]), _errors(m, entry)))
    for group, entry in metrics_json.get("groups", {}).items():
        for name, m in entry["metrics"].items():
            rows.append((f"[{group}]", name, _fmt(m["value"]), _fmt(m["stderr"]), str(m["n"]), _errors(m, entry)))
    return format_table(("task", "metric", "value", "± stderr", "n", "errors"), rows, align="llrrrr")
