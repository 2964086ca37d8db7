"""MT-Bench as a member of a suite: `hyoka run MODEL --suite swallow_ja --judge JUDGE`.

A suite file names its MT-Bench members under `mtbench:` (docs/swallow.md). With a judge on
the command line they run through the same runner as `hyoka mtbench` (hyoka.mtbench.runner),
with the run's model, judge and request cache, after the suite's other tasks; each writes a
complete `hyoka mtbench` run folder named after the member inside the run folder, and the
run's aggregated_results.json is written again to include their scores (the suite's `scores`
scale MT-Bench's 1-10 to 0..1, as Swallow reports score/10). Without a judge they are
skipped and named (hyoka.tasks.suite.plan_suite).

Settings: the run's system prompt, chat template, `--limit` and `--docs` (questions) and max_tokens,
top_p, seed and stop. Temperatures stay MT-Bench's per-category table (as
swallow-evaluation-instruct's MT-Bench asks) unless the user gave a temperature themselves;
the suite's own greedy temperature is for its other tasks.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hyoka.cache import RequestCache
from hyoka.engine.runner import RunOptions
from hyoka.errors import DatasetError
from hyoka.judge.judge import Judge
from hyoka.models.base import Backend
from hyoka.mtbench.answers import DEFAULT_MAX_TOKENS, TEMPERATURE_PRESETS
from hyoka.mtbench.runner import MTBenchOptions, MTBenchOutcome, Prepared, prepare, run_mtbench
from hyoka.results.aggregated import rewrite_aggregated
from hyoka.tasks.suite import SuitePlan


@dataclass
class Member:
    name: str
    options: MTBenchOptions
    prepared: Prepared


def member_options(
    name: str, lang: str, judge_prompts: str | None, run: RunOptions, plan: SuitePlan, judge_spec: str
) -> MTBenchOptions:
    """The MT-Bench options of one member, from the run's resolved settings."""
    gen = run.gen_overrides
    temperatures = dict(TEMPERATURE_PRESETS["fastchat"])
    user_temperature = "temperature" in gen and "generation.temperature" not in plan.applied
    if user_temperature:  # the user's own temperature, for every category (as `hyoka mtbench --gen`)
        temperatures = {category: float(gen["temperature"]) for category in temperatures}
    return MTBenchOptions(
        output=run.output / name,
        lang=lang,
        judge_prompts=judge_prompts,
        limit=run.limit,
        docs=run.docs,
        temperatures=temperatures,
        temperature_preset="fastchat" if not user_temperature else "user",
        max_tokens=int(gen.get("max_tokens", DEFAULT_MAX_TOKENS)),
        top_p=float(gen.get("top_p", 1.0)),
        seed=int(gen.get("seed", 0)),
        stop=tuple(gen.get("stop") or ()),
        system_prompt=run.prompt.system_prompt,
        show_progress=run.show_progress,
        model_spec=run.model_spec,
        judge_spec=judge_spec,
        settings=run.settings,
    )


def prepare_members(plan: SuitePlan, run: RunOptions, judge_spec: str) -> list[Member]:
    """Every MT-Bench member's questions, references and judge prompts read before any model
    loads; a member whose data is not here is skipped with the reason, like any member."""
    members = []
    for name, bench in list(plan.mtbench.items()):
        options = member_options(name, bench.lang, bench.judge_prompts, run, plan, judge_spec)
        try:
            prepared = prepare(options)
        except DatasetError as exc:
            del plan.mtbench[name]
            plan.skipped[name] = str(exc)
            continue
        members.append(Member(name, options, prepared))
    return members


def run_members(
    members: list[Member], backend: Backend, judge_backend: Backend | None, judge_spec: Any, cache: RequestCache,
    *, use_chat_template: bool,
) -> list[MTBenchOutcome]:
    """Answer and judge each member into its folder (the run's backend, judge and cache), then
    write the run's aggregated_results.json again with their scores."""
    outcomes = []
    for member in members:
        assert judge_backend is not None  # members are prepared only when the run has a judge
        member.options.use_chat_template = use_chat_template  # what the run decided (suite setting, model's template)
        judge = Judge(judge_backend, cache, judge_spec.config)
        outcomes.append(run_mtbench(backend, judge, cache, member.options, prepared=member.prepared))
    if outcomes:
        rewrite_aggregated(outcomes[0].run_dir.parent)
    return outcomes


def print_outcomes(outcomes: list[MTBenchOutcome]) -> int:
    """Each member's table and request counts; returns the number of failed requests (exit 1)."""
    from hyoka.mtbench.report import results_table

    errors = 0
    for outcome in outcomes:
        a, j = outcome.answer_stats, outcome.judge_stats
        print(f"\n{outcome.run_dir.name}:\n{results_table(outcome.metrics)}")
        print(f"answers: {a.requests} requests, {a.cache_hits} from cache, {a.model_calls} model calls, {a.errors} errors")
        print(f"judge:   {j.requests} requests, {j.cache_hits} from cache, {j.model_calls} model calls, {j.errors} errors")
        errors += a.errors + j.errors
    return errors
