"""`hyoka report`: one self-contained HTML file (no network: CSS, JS, charts and data inline).

The page holds the leaderboard (one row per run), a radar chart per row (inline SVG made
here), per-task details with each run's settings, and a sample browser. Samples are
embedded as compact JSON and listed a page at a time by the page's script, so 20,000
samples stay responsive.
"""

from __future__ import annotations

import html
import json
import math
from importlib import resources
from pathlib import Path
from typing import Any, Sequence

from hyoka.reporting.leaderboard import Row, Suite, build_rows, tasks_suite
from hyoka.reporting.runs import RunView
from hyoka.reporting.tables import cell_score, columns

#: longest text kept per sample field (prompts with many few-shot examples can be huge)
MAX_FIELD = 20_000
PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"]


def bars_svg(axes: Sequence[tuple[str, float | None]], *, color: str, title: str, width: int = 320) -> str:
    """Horizontal bars of scores in [0, 1]: what a radar chart of one or two axes becomes."""
    height = 30 + 28 * len(axes)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="radar bars" viewBox="0 0 {width} {height}" width="{width}" '
             f'height="{height}" role="img" aria-label="{html.escape(title)}"><title>{html.escape(title)}</title>']  # fmt: skip
    for i, (label, value) in enumerate(axes):
        y = 10 + 28 * i
        v = 0.0 if value is None or math.isnan(value) else min(1.0, max(0.0, value))
        shown = "n/a" if value is None else f"{value:.2f}"
        parts.append(f'<text x="0" y="{y + 9}" font-size="10">{html.escape(_short(label, 40))} ({shown})</text>')
        parts.append(f'<rect x="0" y="{y + 12}" width="{width - 10}" height="8" fill="#eee"/>')
        parts.append(f'<rect class="radar-shape" x="0" y="{y + 12}" width="{(width - 10) * v:.1f}" height="8" fill="{color}"/>')
    parts.append("</svg>")
    return "".join(parts)


def radar_svg(axes: Sequence[tuple[str, float | None]], *, color: str, title: str, size: int = 320) -> str:
    """A radar chart of scores in [0, 1] as an inline SVG string (no library, no network);
    bars when there are fewer than three axes (a radar of two is a line)."""
    n = len(axes)
    if n < 3:
        return bars_svg(axes, color=color, title=title, width=size)
    cx = cy = size / 2
    radius = size / 2 - 60
    pad = 70  # room beside the circle for the axis labels
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="radar" viewBox="{-pad} 0 {size + 2 * pad} {size}" '
             f'width="{size + 2 * pad}" height="{size}" role="img" aria-label="{html.escape(title)}">']  # fmt: skip
    parts.append(f'<title>{html.escape(title)}</title>')

    def point(i: int, r: float) -> tuple[float, float]:
        angle = -math.pi / 2 + 2 * math.pi * i / max(n, 1)
        return cx + r * math.cos(angle), cy + r * math.sin(angle)

    for level in (0.25, 0.5, 0.75, 1.0):
        ring = " ".join(f"{x:.1f},{y:.1f}" for x, y in (point(i, radius * level) for i in range(n)))
        parts.append(f'<polygon points="{ring}" fill="none" stroke="#ccc" stroke-width="1"/>')
    for i, (label, value) in enumerate(axes):
        x, y = point(i, radius)
        parts.append(f'<line x1="{cx}" y1="{cy}" x2="{x:.1f}" y2="{y:.1f}" stroke="#ccc"/>')
        lx, ly = point(i, radius + 14)
        anchor = "middle" if abs(lx - cx) < 5 else ("start" if lx > cx else "end")
        shown = "n/a" if value is None else f"{value:.2f}"
        parts.append(f'<text x="{lx:.1f}" y="{ly:.1f}" font-size="10" text-anchor="{anchor}">'
                     f'{html.escape(_short(label))} ({shown})</text>')  # fmt: skip
    values = [0.0 if v is None or math.isnan(v) else min(1.0, max(0.0, v)) for _, v in axes]
    shape = " ".join(f"{x:.1f},{y:.1f}" for x, y in (point(i, radius * v) for i, v in enumerate(values)))
    parts.append(f'<polygon class="radar-shape" points="{shape}" fill="{color}" fill-opacity="0.25" stroke="{color}" '
                 'stroke-width="2"/>')  # fmt: skip
    parts.append("</svg>")
    return "".join(parts)


def _short(label: str, limit: int = 22) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"


def radar_axes(row: Row, suite: Suite) -> list[tuple[str, float | None]]:
    """Categories when the suite has three or more, otherwise each score."""
    if len(suite.categories) >= 3:
        return [(c, s.value if s else None) for c, s in row.categories.items()]
    return [(e.column, (row.scores.get(e.column).value if row.scores.get(e.column) else None)) for e in suite.entries()]


def _clip(value: Any) -> Any:
    if isinstance(value, str) and len(value) > MAX_FIELD:
        return value[:MAX_FIELD] + f"… [{len(value) - MAX_FIELD} more characters]"
    return value


def sample_rows(run_index: int, run: RunView, task: str) -> list[list[Any]]:
    """Compact rows (see FIELDS in the page script): one per document."""
    metric = run.headline_metric(task)
    out = []
    for r in run.samples(task):
        value = (r.get("metrics") or {}).get(metric)
        if r.get("error"):
            status = "error"
        elif "rating" in (r.get("metrics") or {}):  # an MT-Bench judgment: neither right nor wrong
            status = "judged"
        else:
            status = "correct" if value is not None and value >= 1 - 1e-9 else "wrong"
        output = r.get("output")
        if not isinstance(output, str) and output is not None:
            output = json.dumps(output, ensure_ascii=False)
        target = r.get("references")
        if r.get("gold_index") is not None and r.get("choices"):
            target = [f"{r['gold_index']}: {r['choices'][r['gold_index']]}"]
        out.append([
            run_index, task, r.get("doc_id"), status, _clip(r.get("prompt") or ""), _clip(output or ""),
            _clip(r.get("reasoning") or ""), _clip("" if r.get("extracted") is None else str(r.get("extracted"))),
            "" if r.get("prediction") is None else str(r.get("prediction")), target or [], r.get("metrics") or {},
            r.get("error") or "", r.get("choices") or [], r.get("details") or {},
            [_clip(x.get("output") or "") for x in (r.get("repeats") or [])[1:]],
        ])  # fmt: skip
    return out


def report_data(runs: Sequence[RunView], suite: Suite | None = None) -> dict[str, Any]:
    suite = suite or tasks_suite(runs)
    rows = build_rows(runs, suite, group_by="run")
    by_label = {r.label: i for i, r in enumerate(runs)}
    cols = columns(suite)
    board = []
    for row in rows:
        i = by_label[row.runs[0]]
        cells = []
        for kind, name in cols:
            s = cell_score(row, kind, name)
            iv = s.interval if s else None
            cells.append({"kind": kind, "name": name, "value": None if s is None else s.value,
                          "ci": list(iv) if iv else None, "mark": row.marks.get(name) if kind == "score" else None})  # fmt: skip
        board.append({"run": i, "name": row.name, "cells": cells, "notes": row.notes,
                      "radar": radar_svg(radar_axes(row, suite), color=PALETTE[i % len(PALETTE)], title=row.name)})  # fmt: skip
    tasks: dict[str, Any] = {}
    samples: list[list[Any]] = []
    for i, run in enumerate(runs):
        for task in run.tasks:
            entry = run.metrics["tasks"][task]
            tasks.setdefault(task, []).append({"run": i, "metrics": entry.get("metrics", {}), "errors": entry.get("errors", 0),
                                               "settings": run.settings(task), "num_fewshot": run.num_fewshot(task)})  # fmt: skip
            if run.has_samples(task):
                samples.extend(sample_rows(i, run, task))
    return {
        "title": f"hyoka report: {', '.join(r.model_name for r in runs[:4])}{' …' if len(runs) > 4 else ''}",
        "suite": {"name": suite.leaderboard, "description": suite.description},
        "runs": [{"label": r.label, "name": r.model_name, "folder": r.path.name, "kind": r.kind,
                  "started_at": r.summary.get("started_at"), "color": PALETTE[i % len(PALETTE)]} for i, r in enumerate(runs)],
        "columns": [{"kind": k, "name": n} for k, n in cols],
        "leaderboard": board,
        "tasks": tasks,
        "samples": samples,
    }  # fmt: skip


def _embed(data: dict[str, Any]) -> str:
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False, default=str)
    # inside <script>, "</" could close the element early; \u2028/9 break old parsers
    return text.replace("</", "<\\/").replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def render_report(runs: Sequence[RunView], suite: Suite | None = None) -> str:
    from hyoka.results.run_dir import json_safe

    data = json_safe(report_data(runs, suite))
    template = (resources.files("hyoka.reporting") / "assets" / "report.html").read_text(encoding="utf-8")
    return template.replace("__TITLE__", html.escape(data["title"])).replace("__DATA__", _embed(data))


def write_report(runs: Sequence[RunView], output: Path, suite: Suite | None = None) -> Path:
    text = render_report(runs, suite)
    output.parent.mkdir(parents=True, exist_ok=True)
    tmp = output.with_name(f".{output.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(output)
    return output
