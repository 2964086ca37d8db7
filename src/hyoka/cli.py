"""The `hyoka` command line. Bad input ends in one line on stderr and exit status 2."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any, Sequence


from hyoka.commands import backends
from hyoka.commands import blend, compare, leaderboard, report, run_config  # finished runs → decisions (hyoka.reporting)
from hyoka.errors import HyokaError

#: generation settings `hyoka run --gen` uses (n: samples per prompt)
RUN_GEN_KEYS = ("max_tokens", "temperature", "top_p", "seed", "stop", "n")


def _default_output(spec: str) -> Path:
    backend, _, name = spec.partition(":")
    slug = Path(name).name.removesuffix(".gguf") or "model"
    return Path("results") / backend / slug


def cmd_run(args: argparse.Namespace) -> int:
    from hyoka.data.files import cache_dir
    from hyoka.engine.cache import NullCache, RequestCache
    from hyoka.engine.preflight import preflight_run
    from hyoka.engine.runner import RunOptions, run_evaluation
    from hyoka.models.args import parse_gen
    from hyoka.models.registry import ModelSpec, check_model_args, load_backend, parse_model_spec
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
    check_model_args(spec.backend, resolved.model_args, source="--model-args (with --settings)")
    spec = ModelSpec(spec.backend, spec.name, resolved.model_args)
    default_output = (
        results_path(spec.backend, spec.name, spec.args, resolved.name) if model_settings else _default_output(args.model)
    )
    # --- end model settings ---
    registry = load_registry([Path(p) for p in args.include_path])
    task_names = [t.strip() for t in args.tasks.split(",") if t.strip()]
    if not task_names:
        raise HyokaError("--tasks: give at least one task or group (see `hyoka tasks`)")
    options = RunOptions(
        tasks=task_names,
        output=Path(args.output) if args.output else default_output,
        limit=args.limit,
        prompt=PromptOptions(num_fewshot=args.num_fewshot, system_prompt=resolved.system_prompt, fewshot_style=args.fewshot_style),
        use_chat_template=args.chat,
        gen_overrides=resolved.gen_overrides,
        repeats=args.repeats,
        show_progress=not args.quiet,
        model_spec=spec.display,
        settings=resolved.summary(),
    )
    # every task, its prompts and the output folder are checked before the model loads
    preflight_run(
        registry, task_names, limit=options.limit, prompt=options.prompt,
        gen_overrides=options.gen_overrides, output=options.output,
    )
    cache = NullCache() if args.no_cache else RequestCache(cache_dir() / "requests.sqlite")
    try:
        backend = load_backend(spec, log_dir=options.output)  # managed servers log into the run folder
    except BaseException:
        cache.close()
        raise
    try:
        outcome = run_evaluation(registry, backend, cache, options)
    finally:
        backend.close()
        cache.close()
    print(results_table(outcome.metrics))
    s = outcome.stats
    print(
        f"\n{s.requests} requests: {s.cache_hits} from cache, {s.model_calls} model calls, {s.errors} errors "
        f"in {s.seconds:.1f}s"
    )
    print(f"results: {outcome.run_dir}")
    run_config.save_run_config(outcome.run_dir, args)  # run_config.yaml: rerun with --config
    _log_to_wandb(outcome.run_dir, args.wandb)  # --wandb PROJECT[/RUN_NAME] (hyoka.reporting.wandb_log)
    return 1 if s.errors else 0


def cmd_tasks(args: argparse.Namespace) -> int:
    from hyoka.results.table import format_rows
    from hyoka.tasks.registry import load_registry

    registry = load_registry([Path(p) for p in args.include_path])
    rows = [("name", "lang", "formulation", "docs", "groups")]
    for name, spec in sorted(registry.tasks.items()):
        c = spec.config
        groups = ",".join(c.groups) + (" (opt-in)" if c.opt_in else "")
        rows.append((name, c.language, c.formulation, str(c.num_docs or "?"), groups))
    print(format_rows(rows))
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


# --- hyoka mtbench (LLM-as-a-judge; docs/judge.md) ------------------------------------ begin
def _merge_args(items: Sequence[str]) -> dict[str, str]:
    from hyoka.models.args import parse_kv

    return parse_kv(items, flag="--judge-args")


def _csv(text: str | None) -> list[str]:
    return [part.strip() for part in (text or "").split(",") if part.strip()]


def cmd_mtbench(args: argparse.Namespace) -> int:
    from hyoka.data.files import cache_dir
    from hyoka.engine.cache import NullCache, RequestCache
    from hyoka.judge.judge import Judge, JudgeConfig
    from hyoka.judge.mtbench import DEFAULT_MAX_TOKENS, TEMPERATURE_PRESETS, MTBenchOptions, prepare, results_table, run_mtbench
    from hyoka.models.args import parse_gen
    from hyoka.models.registry import load_backend, parse_model_spec

    _check_wandb(args.wandb)  # a bad --wandb fails before the model loads
    if args.model and args.answers:
        raise HyokaError("give MODEL (answers are generated) or --answers FILE.jsonl (answers are brought), not both")
    if not args.model and not args.answers:
        raise HyokaError("give MODEL to answer the questions, or --answers FILE.jsonl with saved FastChat-format answers")
    judge_args = _merge_args(args.judge_args)
    judge_config = JudgeConfig.from_args(judge_args)
    backend_args = ",".join(f"{k}={v}" for k, v in judge_args.items() if k not in JudgeConfig.keys())
    judge_spec = parse_model_spec(args.judge, backend_args, source="--judge-args")
    model_spec = parse_model_spec(args.model, args.model_args) if args.model else None
    gen = parse_gen(args.gen, allowed=("max_tokens", "top_p", "seed", "temperature"))
    temperatures = dict(TEMPERATURE_PRESETS[args.temperatures])
    if "temperature" in gen:  # one temperature for every category
        temperatures = {c: float(gen["temperature"]) for c in temperatures}
    try:
        turns = tuple(int(t) for t in _csv(args.turns))
    except ValueError:
        raise HyokaError(f"--turns {args.turns}: write 1, 2 or 1,2") from None
    slug = Path(args.model.partition(":")[2]).name.removesuffix(".gguf") if args.model else Path(args.answers).stem
    options = MTBenchOptions(
        output=Path(args.output) if args.output else Path("results") / "mtbench" / f"{slug}-{args.lang}",
        lang=args.lang,
        judge_prompts=args.judge_prompts,
        reference=args.reference,
        limit=args.limit,
        categories=tuple(_csv(args.categories)),
        turns=turns,
        num_samples=args.num_samples,
        judge_repeats=args.judge_repeats,
        answers_file=Path(args.answers) if args.answers else None,
        baseline_file=Path(args.baseline) if args.baseline else None,
        temperatures=temperatures,
        temperature_preset=args.temperatures,
        max_tokens=int(gen.get("max_tokens", DEFAULT_MAX_TOKENS)),
        top_p=float(gen.get("top_p", 1.0)),
        seed=int(gen.get("seed", 0)),
        use_chat_template=args.chat,
        show_progress=not args.quiet,
        model_spec=model_spec.display if model_spec else "",
        judge_spec=judge_spec.display,
    )
    prepared = prepare(options)  # bad options, answers or prompt files fail before any model loads
    from hyoka.engine.preflight import check_output_dir

    check_output_dir(options.output)
    cache = NullCache() if args.no_cache else RequestCache(cache_dir() / "requests.sqlite")
    model = load_backend(model_spec, log_dir=options.output) if model_spec else None
    same = model_spec is not None and (model_spec.backend, model_spec.name, model_spec.args) == (
        judge_spec.backend, judge_spec.name, judge_spec.args
    )
    judge_backend = model if same and model is not None else None
    try:
        judge_backend = judge_backend or load_backend(judge_spec, log_dir=options.output)
        outcome = run_mtbench(model, Judge(judge_backend, cache, judge_config), cache, options, prepared=prepared)
    finally:
        for backend in {id(b): b for b in (model, judge_backend) if b is not None}.values():
            backend.close()
        cache.close()
    print(results_table(outcome.metrics))
    a, j = outcome.answer_stats, outcome.judge_stats
    print(f"answers: {a.requests} requests, {a.cache_hits} from cache, {a.model_calls} model calls, {a.errors} errors")
    print(f"judge:   {j.requests} requests, {j.cache_hits} from cache, {j.model_calls} model calls, {j.errors} errors")
    print(f"results: {outcome.run_dir}")
    _log_to_wandb(outcome.run_dir, args.wandb)  # --wandb PROJECT[/RUN_NAME] (hyoka.reporting.wandb_log)
    # unparseable judgments are results (counted beside the scores); requests the backend
    # gave up on are not cached, so exit 1 says "rerun to fill them in"
    return 1 if a.errors or j.errors else 0


def _add_mtbench_parser(sub: Any) -> None:
    p = sub.add_parser("mtbench", help="MT-Bench (ja/en) judged by an LLM; see docs/judge.md")
    p.add_argument("model", nargs="?", help="BACKEND:NAME that answers (omit with --answers)")
    p.add_argument("--judge", required=True, help="judge model, BACKEND:NAME")
    p.add_argument("--lang", choices=["ja", "en"], default="ja", help="Japanese (default) or English MT-Bench")
    p.add_argument("--judge-prompts", help="ja (Stability), en (FastChat), en-ja (Swallow) or a prompt .jsonl; default: the bench's own")
    p.add_argument("--reference", help="reference answers by name (default: the prompt variant's own)")
    p.add_argument("--limit", type=int, help="first N questions (after --categories)")
    p.add_argument("--categories", help="comma-separated categories, e.g. writing,math")
    p.add_argument("--turns", default="1,2", help="turns to judge: 1, 2 or 1,2 (default)")
    p.add_argument("--num-samples", type=int, default=1, help="answers per question (each its own conversation)")
    p.add_argument("--judge-repeats", type=int, default=1, help="judge each answer R times; the median counts")
    p.add_argument("--answers", help="bring-your-own answers (FastChat model_answer JSONL); no generation")
    p.add_argument("--baseline", help="baseline answers (FastChat JSONL): pairwise judging, both orders")
    p.add_argument("--output", help="run directory (default results/mtbench/MODEL-LANG)")
    p.add_argument("--judge-args", action="append", default=[], metavar="K=V[,K=V]",
                   help="judge settings (max_tokens, temperature, seed, retries, retry_temperature, structured, chat) "
                        "and judge backend settings, repeatable")  # fmt: skip
    p.add_argument("--model-args", help="answering model's backend settings k=v,k=v")
    p.add_argument("--gen", action="append", default=[], metavar="KEY=VALUE",
                   help="answer generation: max_tokens (default 1024), top_p, seed, temperature (all categories)")  # fmt: skip
    p.add_argument("--temperatures", choices=["fastchat", "stability"], default="fastchat", help="per-category temperature table")
    p.add_argument("--chat", action=argparse.BooleanOptionalAction, default=None,
                   help="apply the answering model's chat template (default: when it has one)")  # fmt: skip
    p.add_argument("--no-cache", action="store_true", help="neither read nor write the request cache")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.add_argument("--wandb", metavar="PROJECT[/RUN_NAME]", help="log the finished run to Weights & Biases")
    p.set_defaults(func=cmd_mtbench)


# --- hyoka mtbench ----------------------------------------------------------------------- end


# --- hyoka score (re-score saved outputs; hyoka.engine.rescore) ------------------------- begin
def cmd_score(args: argparse.Namespace) -> int:
    from hyoka.engine.rescore import RescoreOptions, rescore
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
    outcome = rescore(registry, options)
    print(results_table(outcome.metrics))
    print(f"\n{len(outcome.records)} outputs matched by {outcome.matched_by}, read from '{outcome.response_field}'")
    if options.output is not None:
        print(f"results: {options.output}")
    return 0


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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hyoka", description="Evaluate LLMs on Japanese and English benchmarks.")
    parser.add_argument("--version", action="version", version=f"hyoka {_version()}")
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="evaluate a model on tasks")
    run.add_argument("model", nargs="?", help="BACKEND:NAME, e.g. llamacpp:/path/model.gguf or hf:/path/or/hub-id")
    targets = run.add_mutually_exclusive_group()  # --tasks/--suite, or tasks: in --config
    targets.add_argument("--tasks", help="comma-separated tasks or groups")
    # a suite is a group (jaster: category scores and AVG); --suite is the name people look for
    targets.add_argument("--suite", dest="tasks", help="a suite such as jaster (same as --tasks SUITE)")
    run.add_argument("--limit", type=int, help="first N documents of each task")
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
    _add_mtbench_parser(sub)  # hyoka mtbench
    _add_score_parser(sub)  # hyoka score
    compare.add_parser(sub)  # hyoka compare RUN_A RUN_B
    leaderboard.add_parser(sub)  # hyoka leaderboard RUN_DIR...
    blend.add_parser(sub)  # hyoka blend --output DIR RUN:TASKS...
    report.add_parser(sub)  # hyoka report RUN_DIR... -o report.html
    return parser


def _version() -> str:
    from hyoka import __version__

    return __version__


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
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
