"""Leaderboards: one row per model from finished runs, with the columns, categories and
total a suite file declares (hyoka/reporting/suites/*.yaml; docs/leaderboard.md).

A row gathers every run of one model (same weights hash), so a 0-shot run, a 2-shot run
and an MT-Bench run of a model make one row. Scores that do not share their settings
(prompt version, few-shot count, template, data checksum...) with the other rows are
marked, never silently mixed; a category or total is only computed when every member
is present.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Literal, Sequence

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from hyoka.errors import HyokaError
from hyoka.metrics.base import MetricValue, mean_and_stderr
from hyoka.reporting.runs import SETTING_NAMES, RunView
from hyoka.results.aggregate import macro

Z95 = 1.959963984540054


# --- the suite file -------------------------------------------------------------------------


class Entry(BaseModel):
    """One score in a leaderboard: a task's metric, optionally averaged over few-shot
    counts (Nejumi's 0-shot/few-shot mean) and scaled (MT-Bench's 1-10 to 0-1)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    task: str
    metric: str | None = Field(default=None, description="default: the task's headline (first) metric")
    shots: list[int] | None = Field(default=None, description="few-shot counts whose scores are averaged")
    scale: float = 1.0
    label: str | None = None

    @property
    def column(self) -> str:
        if self.label:
            return self.label
        shots = f" ({'/'.join(map(str, self.shots))}-shot)" if self.shots else ""
        return f"{self.task}{':' + self.metric if self.metric else ''}{shots}"


class Suite(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    leaderboard: str
    description: str = ""
    categories: dict[str, list[Entry]] = Field(default_factory=dict)
    columns: list[Entry] = Field(default_factory=list)
    total: str = "AVG"

    def entries(self) -> list[Entry]:
        seen: dict[str, Entry] = {}
        for e in [*(e for members in self.categories.values() for e in members), *self.columns]:
            seen.setdefault(e.column, e)
        return list(seen.values())


def builtin_suites() -> list[str]:
    folder = resources.files("hyoka.reporting") / "suites"
    return sorted(p.name.removesuffix(".yaml") for p in folder.iterdir() if p.name.endswith(".yaml"))


def load_suite(name_or_path: str) -> Suite:
    path = Path(name_or_path)
    if path.suffix in (".yaml", ".yml") or path.is_file():
        if not path.is_file():
            raise HyokaError(f"--suite {name_or_path}: no such file")
        text = path.read_text(encoding="utf-8")
    elif name_or_path in builtin_suites():
        text = (resources.files("hyoka.reporting") / "suites" / f"{name_or_path}.yaml").read_text(encoding="utf-8")
    else:
        raise HyokaError(f"--suite {name_or_path}: not a file and not a built-in suite ({', '.join(builtin_suites())})")
    try:
        return Suite.model_validate(yaml.safe_load(text))
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(x) for x in err["loc"])
        raise HyokaError(f"suite {name_or_path}: {where}: {err['msg']}") from None
    except yaml.YAMLError as exc:
        raise HyokaError(f"suite {name_or_path}: not valid YAML ({exc})") from None


def tasks_suite(runs: Sequence[RunView]) -> Suite:
    """The default suite: each task's headline metric, the total their mean."""
    entries, seen = [], set()
    for run in runs:
        for key in run.tasks:
            task = base_task(run, key)
            if task not in seen:
                seen.add(task)
                metric = run.headline_metric(key)
                if run.kind == "mtbench" and metric == "score":  # MT-Bench's 1-10 on the 0-1 scale of the rest
                    entries.append(Entry(task=task, metric=metric, scale=0.1, label=f"{task}:score/10"))
                else:
                    entries.append(Entry(task=task, metric=metric))
    return Suite(leaderboard="tasks", description="every task's headline metric", categories={"AVG": entries}, total="AVG")


# --- rows -----------------------------------------------------------------------------------


def base_task(run: RunView, key: str) -> str:
    """The task a score belongs to (a blended run may hold one task twice, under suffixed keys)."""
    return str(run.task_provenance(key).get("task") or key)


@dataclass
class Score:
    value: float
    stderr: float | None
    n: int
    #: where each averaged score came from: (run folder, task key, few-shot count)
    sources: list[tuple[str, str, int | None]]
    settings: list[dict[str, Any]]

    @property
    def interval(self) -> tuple[float, float] | None:
        if self.stderr is None or math.isnan(self.value):
            return None
        return self.value - Z95 * self.stderr, self.value + Z95 * self.stderr


@dataclass
class Row:
    name: str
    model_key: str
    runs: list[str]
    scores: dict[str, Score | None]
    categories: dict[str, Score | None]
    total: Score | None
    #: column -> why the score is marked (settings that differ from the other rows)
    marks: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def _available(runs: Sequence[RunView]) -> dict[tuple[str, int | None], list[tuple[RunView, str]]]:
    found: dict[tuple[str, int | None], list[tuple[RunView, str]]] = {}
    for run in runs:
        for key in run.tasks:
            found.setdefault((base_task(run, key), run.num_fewshot(key)), []).append((run, key))
    return found


def _pick(entry: Entry, shots: int | None, found: dict[tuple[str, int | None], list[tuple[RunView, str]]],
          notes: list[str]) -> tuple[RunView, str] | None:  # fmt: skip
    if shots is not None:
        options = found.get((entry.task, shots), [])
    else:
        keys = sorted((k for k in found if k[0] == entry.task), key=lambda k: (k[1] is not None, k[1] or 0))
        if len(keys) > 1:
            notes.append(f"{entry.task}: scored with several few-shot counts {[k[1] for k in keys]}; the lowest is shown")
        options = found[keys[0]] if keys else []
    if not options:
        return None
    if len(options) > 1:  # the newest run wins, and the row says so
        options = sorted(options, key=lambda rk: str(rk[0].summary.get("started_at", "")))
        notes.append(f"{entry.task}{'' if shots is None else f' ({shots}-shot)'}: in {len(options)} runs; the newest "
                     f"({options[-1][0].label}) is used")  # fmt: skip
    return options[-1]


def entry_score(entry: Entry, found: dict[tuple[str, int | None], list[tuple[RunView, str]]], notes: list[str]) -> Score | None:
    picked = [_pick(entry, s, found, notes) for s in (entry.shots or [None])]
    if any(p is None for p in picked):
        return None
    values, sources, settings, cells = [], [], [], []
    for run, key in picked:  # type: ignore[misc]
        metric = entry.metric or run.headline_metric(key)
        m = run.task_metrics(key).get(metric)
        if m is None or m.get("value") is None:
            return None
        values.append(MetricValue(m["value"] * entry.scale, None if m.get("stderr") is None else m["stderr"] * entry.scale,
                                  int(m.get("n") or 0)))  # fmt: skip
        sources.append((run.label, key, run.num_fewshot(key)))
        settings.append(run.settings(key))
        cells.append((run, key, metric, float(m["value"])))
    combined = macro(values)  # Nejumi: the plain mean of the 0-shot and few-shot scores
    stderr = combined.stderr
    if len(cells) > 1:  # the same documents asked several ways: their errors are not independent
        paired = paired_stderr(cells, entry.scale)
        if paired is not None:
            stderr = paired
        elif combined.stderr is not None:
            notes.append(f"{entry.column}: interval as if the {'/'.join(map(str, entry.shots or []))}-shot scores were "
                         "independent (per-document values missing or the runs scored different documents)")  # fmt: skip
    return Score(combined.value, stderr, combined.n, sources, settings)


def paired_stderr(cells: Sequence[tuple[RunView, str, str, float]], scale: float = 1.0) -> float | None:
    """Standard error of a mean of scores that share their documents (Nejumi's 0-shot and
    few-shot mean): per document, the mean of its values across the scores, then the standard
    error of those per-document means (docs/leaderboard.md). None, so the caller falls back to
    the independent formula, when a run has no per-document values for the metric (corpus-level
    metrics such as Pearson), the runs scored different documents, or a score is not the mean
    of its per-document values."""
    per_run: list[dict[Any, float]] = []
    for run, key, metric, value in cells:
        if not run.has_samples(key):
            return None
        docs = run.per_doc_values(key, metric)
        if len(docs) < 2 or not math.isclose(sum(docs.values()) / len(docs), value, rel_tol=1e-9, abs_tol=1e-12):
            return None
        per_run.append(docs)
    ids = set(per_run[0])
    if any(set(docs) != ids for docs in per_run[1:]):
        return None
    means = [scale * sum(docs[i] for docs in per_run) / len(per_run) for i in ids]
    return mean_and_stderr(means).stderr


def _combine(scores: Sequence[Score | None]) -> Score | None:
    if not scores or any(s is None for s in scores):
        return None
    m = macro([MetricValue(s.value, s.stderr, s.n) for s in scores])  # type: ignore[union-attr]
    return Score(m.value, m.stderr, m.n, [src for s in scores for src in s.sources], [])  # type: ignore[union-attr]


def build_rows(runs: Sequence[RunView], suite: Suite, *, group_by: Literal["model", "run"] = "model") -> list[Row]:
    groups: dict[str, list[RunView]] = {}
    for run in runs:
        groups.setdefault(run.model_key if group_by == "model" else run.label, []).append(run)
    names = Counter(g[0].model_name for g in groups.values())
    rows = []
    for key, members in groups.items():
        name = members[0].model_name
        if group_by == "run" or names[name] > 1:
            name = f"{name} ({members[0].path.name})"
        notes: list[str] = []
        found = _available(members)
        scores = {e.column: entry_score(e, found, notes) for e in suite.entries()}
        categories = {c: _combine([scores[e.column] for e in members_]) for c, members_ in suite.categories.items()}
        total = _combine(list(categories.values())) if suite.categories else None
        templates = {s.get("template") for sc in scores.values() if sc for s in sc.settings if s.get("template")}
        if len(templates) > 1:
            notes.append(f"the runs in this row used different chat templates: {sorted(map(str, templates))}")
        notes = list(dict.fromkeys(notes))  # a task behind several columns is noted once
        rows.append(Row(name, members[0].model_key, [r.label for r in members], scores, categories, total, notes=notes))
    mark_differences(rows)
    rows.sort(key=lambda r: -(r.total.value if r.total and not math.isnan(r.total.value) else -1))
    return rows


def _signature(score: Score) -> tuple[tuple[str, str], ...]:
    """What must agree across rows for one column: per source, the prompt and data settings
    (a chat template's hash belongs to its model; only whether one was applied counts)."""
    parts = []
    for s in score.settings:
        for k in SETTING_NAMES:
            if k == "template":
                parts.append((k, "none" if s.get(k) == "none" else ("applied" if s.get(k) else "")))
            elif k in ("generation", "judge"):
                parts.append((k, str(s.get(k)) if k == "judge" else ""))  # max_tokens etc. may differ per model
            else:
                parts.append((k, str(s.get(k))))
    return tuple(parts)


def mark_differences(rows: list[Row]) -> None:
    """Mark every score whose settings differ from the most common settings of its column."""
    columns = {c for r in rows for c in r.scores}
    for column in sorted(columns):
        sigs = {id(r): _signature(r.scores[column]) for r in rows if r.scores.get(column)}  # type: ignore[arg-type]
        if len(set(sigs.values())) <= 1:
            continue
        common, _ = Counter(sigs.values()).most_common(1)[0]
        for r in rows:
            sig = sigs.get(id(r))
            if sig is None or sig == common:
                continue
            fields = sorted({SETTING_NAMES[k] for (k, v), (_, w) in zip(sig, common) if v != w}) or ["settings"]
            r.marks[column] = "settings differ from the other rows: " + ", ".join(fields)
