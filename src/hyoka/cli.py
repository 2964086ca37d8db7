"""The `hyoka` command line. Bad input ends in one line on stderr and exit status 2."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any, NoReturn, Sequence


from hyoka.commands import backends
from hyoka.commands import blend, compare, leaderboard, report, run_config  # finished runs → decisions (hyoka.reporting)
from hyoka.cluster import commands as cluster_commands
from hyoka.errors import HyokaError
from hyoka.judge.spec import add_judge_arguments
from hyoka.mtbench import command as mtbench_command

#: generation settings `hyoka run --gen` uses (n: samples per prompt)
RUN_GEN_KEYS = ("max_tokens", "temperature", "top_p", "seed", "stop", "n")


class OneLineParser(argparse.ArgumentParser):
    """argparse, with a bad option as one line: the usage block it prints first (ten lines for
    `hyoka run`) buried the problem. Subcommand parsers are made of the same class."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message}\n")


def _default_output(spec: str) -> Path:
    backend, _, name = spec.partition(":")
    slug = Path(name).name.removesuffix(".gguf") or "model"
    return Path("results") / backend / slug


def cmd_run(args: argparse.Namespace) -> int:
    from hyoka.data.files import cache_dir
    from hyoka.cache import NullCache, RequestCache
    from hyoka.engine.preflight import preflight_run
    from hyoka.engine.runner import RunOptions, run_evaluation
    from hyoka.judge import spec as judging
    from hyoka.models.args import parse_gen
    from hyoka.models.registry import ModelSpec, load_backend, parse_model_spec
    from hyoka.models.settings import load_settings, resolve_settings, results_path
    from hyoka.results.table import results_table
    from hyoka.tasks.registry import load_registry
    from hyoka.tasks.task import PromptOptions

    args = run_config.apply_run_config(args)  # --config FILE: flags given override it
    _check_wandb(args.wandb)  # a bad --wandb fails before the model loads
    spec = parse_model_spec(args.model, args.model_args)
    # --- model settings (--settings FILE): CLI > settings file > task defaults ---
    model_settings = load_settings(Path(args.settings)) if args.settings else None
    resolved = resolve_settings(
        model_settings, backend=spec.backend, cli_gen=parse_gen(args.gen, allowed=RUN_GEN_KEYS),
        cli_system_prompt=args.system_prompt, cli_model_args=spec.args,
    )
    spec = ModelSpec(spec.backend, spec.name, resolved.model_args)
    default_output = (
        results_path(spec.backend, spec.name, spec.args, resolved.name) if model_settings else _default_output(args.model)
    )
    # --- end model settings ---
    registry = load_registry([Path(p) for p in args.include_path])
    task_names = [t.strip() for t in args.tasks.split(",") if t.strip()]
    if not task_names:
        raise HyokaError("--tasks: give at least one task or group (see `hyoka tasks`)")
    judge = judging.optional_judge(args.judge, args.judge_args)  # judged tasks (docs/judge.md)
    # --- suites (hyoka.tasks.suite): suite settings under the user's, members without data skipped
    from hyoka.mtbench import suite_members
    from hyoka.tasks import suite as suites

    suite_config = suites.find_suite(registry, task_names)
    plan = (
        suites.plan_suite(registry, suite_config, unsafe_exec=args.unsafe_exec, judge=judge is not None)
        if suite_config is not None else None
    )  # fmt: skip
    use_chat = bool(args.chat)
    if plan is not None:
        resolved.gen_overrides, resolved.system_prompt, use_chat = suites.apply_settings(
            plan, gen=resolved.gen_overrides, system_prompt=resolved.system_prompt, chat=use_chat
        )
        task_names = plan.tasks
    # --- end suites ---
    options = RunOptions(
        tasks=task_names,
        output=Path(args.output) if args.output else default_output,
        limit=args.limit,
        docs=args.docs,
        prompt=PromptOptions(num_fewshot=args.num_fewshot, system_prompt=resolved.system_prompt, fewshot_style=args.fewshot_style),
        use_chat_template=use_chat,
        gen_overrides=resolved.gen_overrides,
        repeats=args.repeats,
        show_progress=not args.quiet,
        model_spec=spec.display,
        settings=resolved.summary(),
        unsafe_exec=args.unsafe_exec,
    )
    # a suite's MT-Bench members (with --judge) read their questions now; then the skipped members are named
    members = suite_members.prepare_members(plan, options, judge.display) if plan is not None and judge is not None else []
    if plan is not None:
        suites.report_plan(plan)  # the members skipped, and why, before anything runs
    # every task, its prompts and the output folder are checked before the model loads
    preflight_run(
        registry, task_names, limit=options.limit, prompt=options.prompt, docs=options.docs,
        gen_overrides=options.gen_overrides, output=options.output,
    )
    configs = [registry.tasks[t].config for t in registry.resolve(task_names)]
    judging.check_judge_use(judge, configs, other_uses=[m.name for m in members])
    judged_tasks = judging.judged_tasks(configs)
    cache = NullCache() if args.no_cache else RequestCache(cache_dir() / "requests.sqlite")
    backend = judge_backend = None
    try:
        backend = load_backend(spec, log_dir=options.output)  # managed servers log into the run folder
        if plan is not None:  # a suite's chat setting degrades, with a note, for a model without a template
            if options.use_chat_template and not args.chat:
                options.use_chat_template = suites.chat_usable(plan, backend)
            options.settings = {**(options.settings or {}), "suite": plan.summary()}
        context = None  # the runner's own, unless a judge joins it
        if judge is not None:
            judge_backend = judging.load_judge_backend(judge, spec, backend, log_dir=options.output)
        if judge is not None and judged_tasks:  # judged tasks score through the run's ScoringContext
            context = judging.scoring_context(
                judge, judge_backend, cache, show_progress=not args.quiet, unsafe_exec=options.unsafe_exec
            )
        outcome = run_evaluation(registry, backend, cache, options, context)
        benches = suite_members.run_members(  # a suite's MT-Bench members, into their folders
            members, backend, judge_backend, judge, cache, use_chat_template=options.use_chat_template
        )
    finally:
        judging.close_all(backend, judge_backend)
        cache.close()
    print(results_table(outcome.metrics))
    s = outcome.stats
    print(
        f"\n{s.requests} requests: {s.cache_hits} from cache, {s.model_calls} model calls, {s.errors} errors "
        f"in {s.seconds:.1f}s"
    )
    judged = context.judge.judge.stats if context is not None and context.judge is not None else None
    if judged is not None:
        print(f"judge: {judged.requests} requests, {judged.cache_hits} from cache, {judged.model_calls} model calls, {judged.errors} errors")
    bench_errors = suite_members.print_outcomes(benches)
    print(f"results: {outcome.run_dir}")
    run_config.save_run_config(outcome.run_dir, args)  # run_config.yaml: rerun with --config
    _log_to_wandb(outcome.run_dir, args.wandb)  # --wandb PROJECT[/RUN_NAME] (hyoka.reporting.wandb_log)
    # a judge request the backend gave up on is not cached: exit 1 says "rerun to fill it in"
    return 1 if s.errors or bench_errors or (judged is not None and judged.errors) else 0


def cmd_tasks(args: argparse.Namespace) -> int:
    from hyoka.results.table import format_table
    from hyoka.tasks.registry import load_registry

    registry = load_registry([Path(p) for p in args.include_path])
    rows = []
    for name, spec in sorted(registry.tasks.items()):
        c = spec.config
        groups = ",".join(c.groups) + (" (opt-in)" if c.opt_in else "")
        rows.append((name, c.language, c.formulation, str(c.num_docs or "?"), groups))
    print(format_table(("name", "lang", "formulation", "docs", "groups"), rows, rule=False))
    if registry.groups:
        print("\ngroups: " + ", ".join(sorted(registry.groups)))
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    from hyoka.engine.validate import validate_paths

    os.environ.setdefault("HYOKA_OFFLINE", "1")  # validating never downloads data
    problems, checked = validate_paths([Path(p) for p in args.files], [Path(p) for p in args.include_path])
    for problem in problems:
        print(problem, file=sys.stderr)
    for path, count in checked:
        print(f"{path}: ok ({count} {'entry' if count == 1 else 'entries'})")
    return 1 if problems else 0


def cmd_show(args: argparse.Namespace) -> int:
    from hyoka.results.run_dir import read_metrics
    from hyoka.results.table import results_table

    print(results_table(read_metrics(Path(args.run_dir))))
    return 0


# --- hyoka score (re-score saved outputs; hyoka.engine.rescore) ------------------------- begin
def cmd_score(args: argparse.Namespace) -> int:
    from hyoka.data.files import cache_dir
    from hyoka.cache import NullCache, RequestCache
    from hyoka.engine.rescore import RescoreOptions, rescore
    from hyoka.judge import spec as judging
    from hyoka.results.table import results_table
    from hyoka.tasks.registry import load_registry
    from hyoka.tasks.task import PromptOptions

    registry = load_registry([Path(p) for p in args.include_path])
    options = RescoreOptions(
        samples=Path(args.samples),
        task=args.task,
        output=Path(args.output) if args.output else None,
        response_field=args.response_field,
        id_field=args.id_field,
        prompt_field=args.prompt_field,
        prompt=PromptOptions(num_fewshot=args.num_fewshot, fewshot_style=args.fewshot_style),
    )
    judge = judging.optional_judge(args.judge, args.judge_args)  # re-judge (docs/judge.md)
    judging.check_judge_use(judge, [registry.tasks[args.task].config] if args.task in registry.tasks else [])
    cache = NullCache() if judge is None else RequestCache(cache_dir() / "requests.sqlite")
    judge_backend = context = None
    try:
        if judge is not None:
            judge_backend = judging.load_judge_backend(judge, None, None, log_dir=options.output)
            context = judging.scoring_context(judge, judge_backend, cache, show_progress=True)
        outcome = rescore(registry, options, context)
    finally:
        judging.close_all(judge_backend)
        cache.close()
    print(results_table(outcome.metrics))
    print(f"\n{len(outcome.records)} outputs matched by {outcome.matched_by}, read from '{outcome.response_field}'")
    judged = context.judge.judge.stats if context is not None and context.judge is not None else None
    if judged is not None:
        print(f"judge: {judged.requests} requests, {judged.cache_hits} from cache, {judged.model_calls} model calls, {judged.errors} errors")
    if options.output is not None:
        print(f"results: {options.output}")
    return 1 if judged is not None and judged.errors else 0


def _add_score_parser(sub: Any) -> None:
    score = sub.add_parser("score", help="score saved outputs (a samples JSONL) again, without a model")
    score.add_argument("samples", help="samples_TASK.jsonl from a run, or any JSONL with outputs")
    score.add_argument("--task", required=True, help="the task the outputs answer")
    score.add_argument("--response-field", help="field holding the model output (default: output, response, …)")
    score.add_argument("--id-field", help="field naming the document: doc_id (index) or a document field such as qid")
    score.add_argument("--prompt-field", default="prompt", help="field with the prompt, when rows have no id")
    score.add_argument("--num-fewshot", type=int, help="few-shot count the prompts were built with (prompt matching)")
    score.add_argument("--fewshot-style", choices=["inline", "turns"], help="few-shot style of the prompts")
    score.add_argument("--output", help="folder for the re-scored samples and metrics.json")
    score.add_argument("--include-path", action="append", default=[], help="folder of extra task YAML files")
    add_judge_arguments(score, required=False)  # judged tasks are judged again (docs/judge.md)
    score.set_defaults(func=cmd_score)


# --- hyoka score --------------------------------------------------------------------------- end


def _check_wandb(target: str | None) -> None:
    if target:
        from hyoka.reporting.wandb_log import check_target

        check_target(target)


def _log_to_wandb(run_dir: Path, target: str | None) -> None:
    if target:
        from hyoka.reporting.wandb_log import log_run_to_wandb

        log_run_to_wandb(run_dir, target)


def doc_range(text: str) -> tuple[int, int]:
    """--docs START:END, parsed where the task layer defines it (imported only when used)."""
    from hyoka.tasks.task import parse_doc_range

    try:
        return parse_doc_range(str(text))  # str: from --config, YAML reads 100:200 as a number
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="hyoka", description="Evaluate LLMs on Japanese and English benchmarks.")
    parser.add_argument("--version", action="version", version=f"hyoka {_version()}")
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="evaluate a model on tasks")
    run.add_argument("model", nargs="?", help="BACKEND:NAME, e.g. llamacpp:/path/model.gguf or hf:/path/or/hub-id")
    targets = run.add_mutually_exclusive_group()  # --tasks/--suite, or tasks: in --config
    targets.add_argument("--tasks", help="comma-separated tasks or groups")
    # a suite is a group (jaster: category scores and AVG); --suite is the name people look for
    targets.add_argument("--suite", dest="tasks", help="a suite such as jaster (same as --tasks SUITE)")
    run.add_argument("--limit", type=int, help="first N documents of each task")
    run.add_argument(
        "--docs", type=doc_range, metavar="START:END",
        help="only documents START..END-1 of each task (0-based; prompts as in the full run)",
    )
    run.add_argument("--output", help="run directory (default results/BACKEND/MODEL)")
    run.add_argument("--num-fewshot", type=int, help="few-shot examples, 0 or more (default: each task's own)")
    run.add_argument("--fewshot-style", choices=["inline", "turns"], help="examples in one prompt, or as chat turns")
    run.add_argument("--system-prompt", help="system message for every prompt")
    run.add_argument("--chat", action="store_true", help="apply the model's chat template")
    run.add_argument("--gen", action="append", default=[], metavar="KEY=VALUE", help="generation setting, repeatable")
    run.add_argument("--model-args", help="backend settings k=v,k=v")
    run.add_argument("--repeats", type=int, default=1, metavar="N", help="N outputs per document, all scored (same as --gen n=N)")
    run.add_argument("--include-path", action="append", default=[], help="folder of extra task YAML files")
    run.add_argument("--no-cache", action="store_true", help="neither read nor write the request cache")
    run.add_argument("--settings", metavar="FILE", help="model settings YAML (system message, generation, max_n, reasoning)")
    run.add_argument("--quiet", action="store_true", help="no progress bar")
    add_judge_arguments(run, required=False)  # --judge, --judge-args: judged tasks (docs/judge.md)
    run.add_argument("--unsafe-exec", action="store_true", help="run model-written code without bubblewrap where it cannot run (docs/sandbox.md); recorded in the summary")
    run.add_argument("--wandb", metavar="PROJECT[/RUN_NAME]", help="log the finished run to Weights & Biases")
    run.add_argument("--config", metavar="FILE", help="run.yaml with any of these options; flags given here override it")
    run.set_defaults(func=cmd_run, config_parser=run)

    tasks = sub.add_parser("tasks", help="list tasks and groups")
    tasks.add_argument("--include-path", action="append", default=[])
    tasks.set_defaults(func=cmd_tasks)

    validate = sub.add_parser("validate", help="check task YAML files or folders of them (everything a run checks before the model)")
    validate.add_argument("files", nargs="+", metavar="PATH", help="task/group YAML files or folders")
    validate.add_argument("--include-path", action="append", default=[], help="folder of tasks the files refer to")
    validate.set_defaults(func=cmd_validate)

    show = sub.add_parser("show", help="print the results table of a finished run")
    show.add_argument("run_dir")
    show.set_defaults(func=cmd_show)

    backends.add_parser(sub)  # hyoka backends
    mtbench_command.add_parser(sub)  # hyoka mtbench
    _add_score_parser(sub)  # hyoka score
    compare.add_parser(sub)  # hyoka compare RUN_A RUN_B
    leaderboard.add_parser(sub)  # hyoka leaderboard RUN_DIR...
    blend.add_parser(sub)  # hyoka blend --output DIR RUN:TASKS...
    report.add_parser(sub)  # hyoka report RUN_DIR... -o report.html
    cluster_commands.add_parser(sub)  # hyoka submit / status / collect (docs/cluster.md)
    return parser


def _version() -> str:
    from hyoka import __version__

    return __version__


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if getattr(args, "config_parser", None) is not None:
            args = run_config.apply_config(args)  # --config FILE (run, mtbench, submit): flags given override it
        return int(args.func(args))
    except HyokaError as exc:
        print(f"hyoka: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except BrokenPipeError:  # `hyoka tasks | head`
        sys.stderr.close()
        return 0
    except KeyboardInterrupt:
        print("hyoka: interrupted; finished requests are cached, rerun the same command to resume", file=sys.stderr)
        return 130


if __name__ == "__main__":
    if os.environ.get("HYOKA_PROFILE"):
        import cProfile

        cProfile.run("main()", sort="cumtime")
    sys.exit(main())
