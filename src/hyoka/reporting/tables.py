"""A leaderboard as a terminal table, CSV, JSON and Markdown (same cells everywhere)."""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path
from typing import Any, Sequence

from hyoka.reporting.leaderboard import Row, Score, Suite
from hyoka.results.run_dir import write_json
from hyoka.results.table import display_width, format_table

MARK = "†"


def columns(suite: Suite) -> list[tuple[str, str]]:
    """(kind, name) in display order: total, categories, then every score."""
    out: list[tuple[str, str]] = []
    if suite.categories:
        out.append(("total", suite.total))
        if list(suite.categories) != [suite.total]:
            out += [("category", c) for c in suite.categories]
    out += [("score", e.column) for e in suite.entries()]
    return out


def cell_score(row: Row, kind: str, name: str) -> Score | None:
    if kind == "total":
        return row.total
    if kind == "category":
        return row.categories.get(name)
    return row.scores.get(name)


def cell_text(row: Row, kind: str, name: str, *, interval: bool = True) -> str:
    s = cell_score(row, kind, name)
    if s is None or math.isnan(s.value):
        return "-"
    text = f"{s.value:.4f}"
    if interval and s.stderr is not None:
        text += f" ± {1.96 * s.stderr:.4f}"
    return text + (MARK if kind == "score" and name in row.marks else "")


def _notes(rows: Sequence[Row]) -> list[str]:
    lines = []
    for r in rows:
        for column, why in r.marks.items():
            lines.append(f"{MARK} {r.name}, {column}: {why}")
        lines += [f"{r.name}: {n}" for n in r.notes]
    return lines


def terminal_table(rows: Sequence[Row], suite: Suite) -> str:
    cols = columns(suite)
    header = ["model", *[name for _, name in cols]]
    body = [[r.name, *[cell_text(r, k, n) for k, n in cols]] for r in rows]
    # one model per line would be far too wide: print one block per row instead when needed
    if sum(max(display_width(x[i]) for x in [header, *body]) + 2 for i in range(len(header))) <= 160:
        lines = format_table(header, body, align="l" + "r" * (len(header) - 1)).splitlines()
    else:
        lines = []
        for line in body:
            present = [[h, c] for h, c in zip(header[1:], line[1:]) if c != "-"]
            lines.append(f"== {line[0]}")
            lines += ["  " + x for x in format_table(["", ""], present, align="lr", rule=False).splitlines()[1:]] if present else []
            missing = [h for h, c in zip(header[1:], line[1:]) if c == "-"]
            if missing:  # the full list is in the CSV/JSON; a Nejumi row of one run misses dozens
                more = f" … (+{len(missing) - 8} more)" if len(missing) > 8 else ""
                lines.append(f"  missing: {', '.join(missing[:8])}{more}")
    notes = _notes(rows)
    title = f"{suite.leaderboard}: {suite.description}" if suite.description else suite.leaderboard
    return "\n".join([title, "", *lines, *([""] + notes if notes else []), "", "± is the half-width of a 95% interval"])


def markdown(rows: Sequence[Row], suite: Suite) -> str:
    cols = columns(suite)
    header = ["model", *[name for _, name in cols]]
    out = [f"# {suite.leaderboard}", "", suite.description, "",
           "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]  # fmt: skip
    for r in rows:
        out.append("| " + " | ".join([r.name, *[cell_text(r, k, n) for k, n in cols]]) + " |")
    notes = _notes(rows)
    if notes:
        out += ["", *[f"- {n}" for n in notes]]
    out += ["", "± is the half-width of a 95% interval."]
    return "\n".join(out) + "\n"


def csv_text(rows: Sequence[Row], suite: Suite) -> str:
    cols = columns(suite)
    buf = io.StringIO()
    w = csv.writer(buf)
    head = ["model", "model_key"]
    for _, name in cols:
        head += [name, f"{name} ci_low", f"{name} ci_high", f"{name} marked"]
    w.writerow(head)
    for r in rows:
        line: list[Any] = [r.name, r.model_key]
        for kind, name in cols:
            s = cell_score(r, kind, name)
            iv = s.interval if s else None
            line += [_num(s.value if s else None), _num(iv[0] if iv else None), _num(iv[1] if iv else None),
                     r.marks.get(name, "") if kind == "score" else ""]  # fmt: skip
        w.writerow(line)
    return buf.getvalue()


def _num(x: float | None) -> str:
    return "" if x is None or math.isnan(x) else f"{x:.6f}"


def as_json(rows: Sequence[Row], suite: Suite) -> dict[str, Any]:
    def score(s: Score | None) -> dict[str, Any] | None:
        if s is None:
            return None
        iv = s.interval
        return {"value": s.value, "stderr": s.stderr, "ci95": list(iv) if iv else None, "n": s.n,
                "sources": [{"run": r, "task": t, "num_fewshot": k} for r, t, k in s.sources]}  # fmt: skip

    return {
        "leaderboard": suite.leaderboard,
        "description": suite.description,
        "total": suite.total,
        "categories": {c: [e.column for e in es] for c, es in suite.categories.items()},
        "rows": [
            {"model": r.name, "model_key": r.model_key, "runs": r.runs, "total": score(r.total),
             "categories": {c: score(s) for c, s in r.categories.items()},
             "scores": {c: score(s) for c, s in r.scores.items()}, "marked": r.marks, "notes": r.notes}
            for r in rows
        ],
    }  # fmt: skip


def write_all(rows: Sequence[Row], suite: Suite, folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    stem = folder / f"leaderboard_{suite.leaderboard}"
    paths = [stem.with_suffix(".csv"), stem.with_suffix(".md"), stem.with_suffix(".json")]
    paths[0].write_text(csv_text(rows, suite), encoding="utf-8")
    paths[1].write_text(markdown(rows, suite), encoding="utf-8")
    write_json(paths[2], as_json(rows, suite))
    return paths
