"""Finished run folders, read back: what every reporting command (compare, leaderboard,
blend, report, W&B) starts from.

A run folder is what `hyoka run` or `hyoka mtbench` leaves (metrics.json, summary.json,
samples_TASK.jsonl or answers/judgments JSONL), or what `hyoka blend` assembles from those.
This module knows the three shapes, so the commands built on it do not.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Iterable

from hyoka.errors import HyokaError
from hyoka.results.run_dir import METRICS_FILE, SUMMARY_FILE, read_json_file, read_metrics, samples_file

#: the per-task settings that decide whether two scores of a task are comparable, with the
#: name `--allow` takes and the words an error or a leaderboard footnote uses for each
SETTING_NAMES = {
    "config_hash": "task config hash",
    "data": "data checksum",
    "fewshot": "few-shot",
    "prompt_version": "prompt version",
    "template": "chat template",
    "system_prompt": "system prompt",
    "generation": "generation settings",
    "judge": "judge",
}


class RunFolderError(HyokaError):
    pass


@dataclass
class RunView:
    """One finished run folder: its metrics, its provenance, and its samples on demand."""

    path: Path
    metrics: dict[str, Any]
    summary: dict[str, Any]
    _samples: dict[str, list[dict[str, Any]]] = field(default_factory=dict, repr=False)

    # --- what kind of run, which model ------------------------------------------------------
    @property
    def kind(self) -> str:
        if "blend" in self.summary:
            return "blend"
        return "mtbench" if "benchmark" in self.summary and "mtbench" in self.metrics else "run"

    @property
    def model(self) -> dict[str, Any]:
        return dict(self.summary.get("model") or {})

    @property
    def model_key(self) -> str:
        """What makes two runs 'the same model': the weights hash (or, for brought MT-Bench
        answers, the answers' model id). An API backend's weights hash names only the endpoint
        (`api:URL`), so there the model's name on it tells models apart."""
        m = self.model
        weights = str(m.get("weights_hash") or "")
        if weights.startswith("api:"):
            return f"{weights}#{m.get('name') or ''}"
        return weights or (f"answers:{m['model_id']}" if m.get("model_id") else "") or str(m.get("spec") or "")

    @property
    def model_name(self) -> str:
        m = self.model
        name = m.get("name") or m.get("model_id") or m.get("spec") or self.path.name
        return Path(str(name)).name.removesuffix(".gguf") or str(name)

    @property
    def label(self) -> str:
        return str(self.path)

    # --- tasks ----------------------------------------------------------------------------
    @property
    def tasks(self) -> list[str]:
        return list(self.metrics.get("tasks", {}))

    def task_metrics(self, task: str) -> dict[str, Any]:
        return self.metrics["tasks"][task]["metrics"]

    def headline_metric(self, task: str) -> str:
        """The metric a task is ranked by: its first (tasks list their main metric first)."""
        return next(iter(self.task_metrics(task)))

    def task_provenance(self, task: str) -> dict[str, Any]:
        return dict((self.summary.get("tasks") or {}).get(task) or {})

    def num_fewshot(self, task: str) -> int | None:
        value = self.task_provenance(task).get("num_fewshot")
        return int(value) if value is not None else None

    @cached_property
    def chat_template_applied(self) -> bool | None:
        if self.kind == "mtbench":
            return (self.summary.get("generation") or {}).get("chat_template")
        return self.summary.get("chat_template_applied")

    def settings(self, task: str) -> dict[str, Any]:
        """The settings of a task's score that must match for two scores to be comparable
        (keys of SETTING_NAMES; a blended run keeps each source's own)."""
        if self.kind == "mtbench" or self.task_provenance(task).get("task", "").startswith("mtbench_"):
            return self._mtbench_settings(task)
        p = self.task_provenance(task)
        run = p.get("run") or self.summary  # blended runs keep the source run's settings per task
        files = (p.get("dataset") or {}).get("files") or {}
        template_applied = run.get("chat_template_applied")
        model = run.get("model") or self.model
        return {
            "config_hash": p.get("config_hash"),
            "data": ",".join(f"{s}:{(f or {}).get('sha256')}" for s, f in sorted(files.items())) or None,
            "fewshot": None if p.get("num_fewshot") is None else f"{p.get('num_fewshot')} (seed {p.get('fewshot_seed')})",
            "prompt_version": p.get("prompt_version"),
            "template": (model.get("template_hash") or "model's own") if template_applied else "none",
            "system_prompt": run.get("system_prompt"),
            "generation": json.dumps(p.get("generation"), sort_keys=True) if p.get("generation") else None,
        }

    def _mtbench_settings(self, task: str) -> dict[str, Any]:
        source = self.task_provenance(task).get("run") or self.summary  # a blend keeps the source's summary
        judge = source.get("judge") or {}
        return {
            "data": (source.get("questions") or {}).get("sha256"),
            "prompt_version": (source.get("judge_prompts") or {}).get("variant"),
            "template": "applied" if (source.get("generation") or {}).get("chat_template") else "none",
            "judge": f"{judge.get('spec')} {judge.get('weights_hash', '')}".strip() or None,
            "generation": json.dumps(source.get("generation"), sort_keys=True) if source.get("generation") else None,
        }

    # --- samples ----------------------------------------------------------------------------
    def has_samples(self, task: str) -> bool:
        return samples_file(self.path, task).is_file() or self._judgments_file(task) is not None

    def _judgments_file(self, task: str) -> Path | None:
        """MT-Bench keeps its per-answer ratings in judgments.jsonl (a blend: under TASK/)."""
        if not str(self.task_provenance(task).get("task") or task).startswith("mtbench_"):
            return None
        for path in (self.path / task / "judgments.jsonl", self.path / "judgments.jsonl"):
            if path.is_file():
                return path
        return None

    def samples(self, task: str) -> list[dict[str, Any]]:
        """The task's per-document records (samples_TASK.jsonl), read once. MT-Bench's
        judgments come in the same shape: one record per judged answer turn, the judge's
        prompt as `prompt`, its reply as `output`, the rating as `extracted` and metric."""
        if task not in self._samples:
            from hyoka.data.readers import read_jsonl_objects

            path = samples_file(self.path, task)
            judgments = None if path.is_file() else self._judgments_file(task)
            if judgments is not None:
                rows = read_jsonl_objects(judgments, error=RunFolderError, expected="one judgment per line (judgments.jsonl)")
                self._samples[task] = [_judgment_record(task, row) for _, row in rows]
            else:
                rows = read_jsonl_objects(path, error=RunFolderError, expected="one sample record per line (samples_TASK.jsonl)")
                self._samples[task] = [row for _, row in rows]
        return self._samples[task]

    def per_doc_values(self, task: str, metric: str) -> dict[Any, float]:
        """doc_id -> the metric's value, for documents scored without error (MT-Bench:
        (question, sample, turn) -> the judge's rating, failed judgments left out)."""
        judgments = None if samples_file(self.path, task).is_file() else self._judgments_file(task)
        if judgments is not None:
            return _mtbench_ratings(judgments, metric)
        out: dict[Any, float] = {}
        for r in self.samples(task):
            if r.get("error") is None and metric in (r.get("metrics") or {}):
                value = r["metrics"][metric]
                if value is not None:
                    out[r.get("doc_id")] = float(value)
        return out


def _judgment_record(task: str, row: dict[str, Any]) -> dict[str, Any]:
    rating = row.get("rating")
    return {
        "task": task, "doc_id": f"q{row.get('question_id')}/s{row.get('sample')}/t{row.get('turn')}"
        + (f"/r{row['repeat']}" if row.get("repeat") else ""), "prompt": row.get("user_prompt") or "",
        "choices": None, "references": [], "gold_index": None, "output": row.get("reply"),
        "reasoning": row.get("reasoning"), "extracted": None if rating is None else str(rating), "prediction": rating,
        "metrics": {} if rating is None else {"rating": float(rating)}, "error": row.get("failure"),
        "details": {"category": row.get("category"), "judge": row.get("judge"), "prompt_name": row.get("prompt_name")},
    }  # fmt: skip


def _mtbench_ratings(path: Path, metric: str) -> dict[Any, float]:
    """Single-grading ratings per answered turn, for the metric's slice: `score` (all),
    `score_turnN` or `score_CATEGORY`; repeated judgments of one answer are averaged."""
    from hyoka.data.readers import read_jsonl_objects

    _, _, part = metric.partition("_")
    ratings: dict[Any, list[float]] = {}
    for _, row in read_jsonl_objects(path, error=RunFolderError, expected="one judgment per line (judgments.jsonl)"):
        if row.get("rating") is None or row.get("game") is not None:
            continue
        if part.startswith("turn") and f"turn{row.get('turn')}" != part:
            continue
        if part and not part.startswith("turn") and row.get("category") != part:
            continue
        key = f"q{row.get('question_id')}/s{row.get('sample')}/t{row.get('turn')}"
        ratings.setdefault(key, []).append(float(row["rating"]))
    return {k: sum(v) / len(v) for k, v in ratings.items()}


def load_run(path: Path | str) -> RunView:
    path = Path(path)
    if not path.is_dir():
        raise RunFolderError(f"{path}: not a folder; give a run folder (it holds {METRICS_FILE} and {SUMMARY_FILE})")
    metrics = read_metrics(path)
    summary_path = path / SUMMARY_FILE
    if not summary_path.is_file():
        raise RunFolderError(f"{path}: no {SUMMARY_FILE}; give a folder a finished `hyoka run` or `hyoka mtbench` wrote")
    summary = read_json_file(summary_path)
    if not isinstance(summary, dict):
        raise RunFolderError(f"{summary_path}: not a hyoka summary.json (expected an object)")
    return RunView(path, metrics, summary)


def find_runs(paths: Iterable[Path | str]) -> list[RunView]:
    """Run folders given directly, or every run folder below a given folder (sorted)."""
    runs: list[RunView] = []
    for p in map(Path, paths):
        if (p / METRICS_FILE).is_file():
            runs.append(load_run(p))
            continue
        if not p.is_dir():
            raise RunFolderError(f"{p}: no such folder; give run folders or a folder that holds run folders")
        found = sorted(m.parent for m in p.rglob(METRICS_FILE))
        if not found:
            raise RunFolderError(f"{p}: no run folders below it (none holds {METRICS_FILE})")
        runs.extend(load_run(f) for f in found)
    if not runs:
        raise RunFolderError("give at least one run folder")
    return runs


def differing_settings(a: dict[str, Any], b: dict[str, Any]) -> list[tuple[str, Any, Any]]:
    """(field, a's value, b's value) for every setting two scores disagree on."""
    return [(k, a.get(k), b.get(k)) for k in SETTING_NAMES if a.get(k) != b.get(k)]
