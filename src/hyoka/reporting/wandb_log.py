"""Weights & Biases logging (`--wandb PROJECT[/RUN_NAME]` on run, mtbench and leaderboard).

What goes up, as the Nejumi leaderboard and jmt-bench-code log it: the config (the run's
settings and provenance), the metrics, a leaderboard table, a radar table and chart, one
sample table per task, and the run folder as an artifact. Secrets never go up: keys that
name a secret and any value of a secret-named environment variable are redacted from the
config and from the artifact's copy of summary.json. `WANDB_MODE=offline` works (the files
stay under ./wandb, or WANDB_DIR) and is how this is tested.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any, Sequence

from hyoka.errors import HyokaError
from hyoka.reporting.runs import RunView, load_run

#: names of keys (and environment variables) that hold a secret; "token" only as a whole
#: word at the end, so token counts (max_tokens, prompt_tokens) stay
SECRET_KEY = re.compile(
    r"(api[_-]?key|access[_-]?key|private[_-]?key|secret|password|passwd|authorization|credential|cookie|"
    r"(^|[_-])token$)",
    re.I,
)
REDACTED = "***"
#: the user:password@ of a URL (a base_url in --model-args may carry a key that way)
URL_CREDENTIALS = re.compile(r"(?<=://)[^/@\s]+@")
#: sample text longer than this is cut in W&B tables (whole prompts are in the artifact)
MAX_CELL = 4000


def parse_target(target: str) -> tuple[str, str | None]:
    project, _, name = target.partition("/")
    if not project or "/" in name:
        raise HyokaError(f"--wandb {target}: write PROJECT or PROJECT/RUN_NAME")
    return project, name or None


def check_target(target: str) -> None:
    """Before any model call: the target is well formed and the wandb package is there."""
    parse_target(target)
    _wandb()


def _secret_values() -> list[str]:
    """Values of environment variables whose names say they hold a secret (8+ characters,
    so that short flags like '1' are not scrubbed from everything)."""
    return [v for k, v in os.environ.items() if SECRET_KEY.search(k) and len(v) >= 8]


def redact(value: Any, secrets: Sequence[str] | None = None) -> Any:
    """A copy of a JSON-like value with secret-named keys, secret values and the credentials
    of URLs removed."""
    secrets = _secret_values() if secrets is None else secrets
    if isinstance(value, dict):
        return {k: (REDACTED if SECRET_KEY.search(str(k)) and v not in (None, "", {}, []) else redact(v, secrets))
                for k, v in value.items()}  # fmt: skip
    if isinstance(value, (list, tuple)):
        return [redact(v, secrets) for v in value]
    if isinstance(value, str):
        for s in secrets:
            value = value.replace(s, REDACTED)
        value = URL_CREDENTIALS.sub(f"{REDACTED}@", value)
    return value


def _wandb() -> Any:
    try:
        import wandb
    except ImportError:
        raise HyokaError("--wandb needs the wandb package: pip install 'hyoka[wandb]'") from None
    return wandb


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if not isinstance(value, (str, int, float, bool)):
        import json

        value = json.dumps(value, ensure_ascii=False)
    if isinstance(value, str) and len(value) > MAX_CELL:
        return value[:MAX_CELL] + "…"
    return value


def _leaderboard_tables(wandb: Any, rows: Sequence[Any], suite: Any) -> dict[str, Any]:
    from hyoka.reporting.html import radar_axes, radar_svg
    from hyoka.reporting.tables import cell_score, columns

    cols = columns(suite)
    board = wandb.Table(columns=["model", *[name for _, name in cols]])
    radar = wandb.Table(columns=["model", "category", "score"])
    charts = []
    for row in rows:
        cells = [cell_score(row, kind, name) for kind, name in cols]
        board.add_data(row.name, *[None if s is None else s.value for s in cells])
        axes = radar_axes(row, suite)
        for label, value in axes:
            radar.add_data(row.name, label, value)
        charts.append(f"<h3>{row.name}</h3>" + radar_svg(axes, color="#1f77b4", title=row.name))
    return {"leaderboard_table": board, "radar_table": radar, "radar_chart": wandb.Html("".join(charts))}


def _sample_table(wandb: Any, run: RunView, task: str) -> Any:
    table = wandb.Table(columns=["doc_id", "prompt", "output", "reasoning", "extracted", "target", "metrics", "error"])
    for r in run.samples(task):
        table.add_data(*[_cell(redact(x)) for x in (r.get("doc_id"), r.get("prompt"), r.get("output"), r.get("reasoning"),
                                                     r.get("extracted"), r.get("references"), r.get("metrics"), r.get("error"))])  # fmt: skip
    return table


def _metrics(run: RunView) -> dict[str, float]:
    out = {}
    for section in ("tasks", "groups"):
        for name, entry in (run.metrics.get(section) or {}).items():
            for metric, m in (entry.get("metrics") or {}).items():
                if isinstance(m, dict) and isinstance(m.get("value"), (int, float)):
                    out[f"{name}/{metric}"] = m["value"]
    return out


def _artifact_copy(run: RunView, folder: Path) -> Path:
    """The run folder as uploaded: summary.json and metrics.json redacted, the rest as is."""
    import json

    copy = folder / run.path.name
    shutil.copytree(run.path, copy, ignore=shutil.ignore_patterns("wandb", ".*.tmp"))
    for name in ("summary.json", "metrics.json"):
        path = copy / name
        if path.is_file():
            path.write_text(json.dumps(redact(json.loads(path.read_text(encoding="utf-8"))), ensure_ascii=False, indent=2),
                            encoding="utf-8")  # fmt: skip
    return copy


def log_run_to_wandb(run_dir: Path | str | None, target: str | None) -> str | None:
    """Log one finished run folder to W&B; returns the W&B run id (None when no target).

    Called by `hyoka run --wandb` and `hyoka mtbench --wandb` after the run folder is written.
    """
    if not target or run_dir is None:
        return None
    from hyoka.reporting.leaderboard import build_rows, tasks_suite

    project, name = parse_target(target)
    wandb = _wandb()
    run = load_run(Path(run_dir))
    config = {"hyoka": run.summary, "run_dir": str(run.path.resolve())}
    if (run.path / "run_config.yaml").is_file():  # hyoka run's resolved options: rerun with --config
        import yaml

        config["run_config"] = yaml.safe_load((run.path / "run_config.yaml").read_text(encoding="utf-8"))
    config = redact(config)
    wb = wandb.init(project=project, name=name or run.path.name, config=config, job_type="evaluation", reinit="finish_previous")
    try:
        wb.log(_metrics(run))
        suite = tasks_suite([run])
        rows = build_rows([run], suite)
        wb.log(_leaderboard_tables(wandb, rows, suite))
        if run.kind == "mtbench" and (run.path / "radar.svg").is_file():
            wb.log({"mtbench_radar_chart": wandb.Html((run.path / "radar.svg").read_text(encoding="utf-8"))})
        for task in run.tasks:
            if run.has_samples(task):
                wb.log({f"samples/{task}": _sample_table(wandb, run, task)})
        with tempfile.TemporaryDirectory() as tmp:
            artifact = wandb.Artifact(_artifact_name(run.path.name), type="hyoka-run", metadata=redact({"model": run.model}))
            artifact.add_dir(str(_artifact_copy(run, Path(tmp))))
            wb.log_artifact(artifact)
            wb.finish()
        return str(wb.id)
    except BaseException:
        wb.finish(exit_code=1)
        raise


def log_leaderboard_to_wandb(rows: Sequence[Any], suite: Any, runs: Sequence[RunView], target: str) -> str:
    project, name = parse_target(target)
    wandb = _wandb()
    config = redact({"suite": suite.model_dump(), "runs": [{"run": r.label, "model": r.model} for r in runs]})
    wb = wandb.init(project=project, name=name or f"leaderboard-{suite.leaderboard}", config=config,
                    job_type="leaderboard", reinit="finish_previous")  # fmt: skip
    try:
        wb.log(_leaderboard_tables(wandb, rows, suite))
        wb.finish()
        return str(wb.id)
    except BaseException:
        wb.finish(exit_code=1)
        raise


def _artifact_name(text: str) -> str:
    """W&B artifact names allow letters, digits, dashes, underscores and dots."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-") or "run"
