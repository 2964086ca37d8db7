"""A judge given on the command line: `--judge BACKEND:NAME` and `--judge-args k=v,...`,
shared by `hyoka mtbench` and `hyoka run` (judged tasks).

`--judge-args` holds the judge's own settings (JudgeConfig: max_tokens, temperature, seed,
retries, ...) and, for every other key, the judge backend's arguments (like
`--model-args`). When the judge is the answering model itself (same backend, name and
arguments), the one loaded backend serves both.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from hyoka.cache import RequestCache
from hyoka.errors import HyokaError
from hyoka.judge.judge import Judge, JudgeConfig
from hyoka.judge.task_scoring import TaskJudge, load_resources
from hyoka.metrics.base import ScoringContext
from hyoka.metrics.judge import parse_spec
from hyoka.models.base import Backend
from hyoka.models.args import parse_kv
from hyoka.models.registry import ModelSpec, load_backend, parse_model_spec


@dataclass(frozen=True)
class JudgeSpec:
    model: ModelSpec
    config: JudgeConfig

    @property
    def display(self) -> str:
        return self.model.display


def add_judge_arguments(parser: argparse.ArgumentParser, *, required: bool) -> None:
    """--judge and --judge-args, the same for every command that judges."""
    parser.add_argument("--judge", required=required, metavar="BACKEND:NAME", help="judge model")
    parser.add_argument(
        "--judge-args", action="append", default=[], metavar="K=V[,K=V]",
        help="judge settings (max_tokens, temperature, top_p, seed, retries, retry_temperature, structured, chat) "
             "and judge backend settings, repeatable",
    )  # fmt: skip


def parse_judge_spec(spec: str, judge_args: Sequence[str]) -> JudgeSpec:
    """The judge's model spec and settings; bad values are one-line errors before any model loads."""
    merged = parse_kv(list(judge_args), flag="--judge-args")
    config = JudgeConfig.from_args(merged)
    backend_args = {k: v for k, v in merged.items() if k not in JudgeConfig.keys()}
    return JudgeSpec(parse_model_spec(spec, backend_args, source="--judge-args"), config)


def optional_judge(spec: str | None, judge_args: Sequence[str]) -> JudgeSpec | None:
    """`hyoka run` / `hyoka score`: the judge when --judge is given; --judge-args alone would
    be dropped without a word (a forgotten --judge), so it is refused."""
    if spec:
        return parse_judge_spec(spec, judge_args)
    if judge_args:
        # the values are not echoed: one may be a key
        raise HyokaError("--judge-args is given but --judge is not: add --judge BACKEND:NAME or leave --judge-args out")
    return None


def same_model(a: ModelSpec | None, b: ModelSpec) -> bool:
    return a is not None and (a.backend, a.name, a.args) == (b.backend, b.name, b.args)


def load_judge_backend(
    judge: JudgeSpec, model_spec: ModelSpec | None, model: Backend | None, *, log_dir: Path | None = None
) -> Backend:
    """The judge's backend: the answering model's own when they are the same model."""
    if model is not None and same_model(model_spec, judge.model):
        return model
    return load_backend(judge.model, log_dir=log_dir)


def close_all(*backends: Any) -> None:
    """Close each distinct backend once (the model may also be the judge)."""
    for backend in {id(b): b for b in backends if b is not None}.values():
        backend.close()


def judged_tasks(configs: Sequence[Any]) -> list[str]:
    """The tasks (TaskConfigs) whose metrics call the judge."""
    return [c.name for c in configs if any(m.name == "judge" for m in c.metrics)]


def check_judge_use(judge: JudgeSpec | None, configs: Sequence[Any], *, other_uses: Sequence[str] = ()) -> None:
    """Before any model loads: judged tasks need `--judge`, and `--judge` needs a judged task
    or another use (`other_uses`: a suite's MT-Bench members); a judge server would start for nothing."""
    judged = judged_tasks(configs)
    if judge is None and judged:
        raise HyokaError(f"task {judged[0]} uses metric 'judge', which needs a judge model: add --judge BACKEND:NAME (judge settings: --judge-args k=v,...)")
    if judge is not None and not judged and not other_uses:
        raise HyokaError(f"--judge {judge.display}: no task of this run is judged (judged tasks use metric 'judge', e.g. ja_vicuna_qa, rakuda); leave --judge out")
    for config in configs:  # the judge prompt, baseline and reference files: there, intact, usable
        for metric in config.metrics:
            if metric.name == "judge":
                params = {k: v for k, v in metric.params().items() if k not in ("label", "choice_score")}  # the scorer's keys
                load_resources(parse_spec(params), task=config.name)


def scoring_context(
    judge: JudgeSpec, backend: Backend, cache: RequestCache, *, show_progress: bool, unsafe_exec: bool = False
) -> ScoringContext:
    """The run's ScoringContext with the judge in it, for the `judge` metric (the rest as the
    runner's own: the cache folder, whether model-written code may run)."""
    task_judge = TaskJudge(Judge(backend, cache, judge.config), spec=judge.display, show_progress=show_progress)
    cache_dir = None if cache.path == Path("/dev/null") else cache.path.parent
    return ScoringContext(cache_dir=cache_dir, judge=task_judge, unsafe_exec=unsafe_exec)
