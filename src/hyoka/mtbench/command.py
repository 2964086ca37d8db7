"""`hyoka mtbench`: MT-Bench (ja/en) answered by one model and judged by another (docs/judge.md).

Everything the command line says is checked, and every data file read, before a model loads.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, Sequence

from hyoka.errors import HyokaError

#: the generation settings MT-Bench answers use; any other `--gen` key is an error
GEN_KEYS = ("max_tokens", "temperature", "top_p", "seed", "stop")


def add_parser(sub: Any) -> None:
    from hyoka.judge.spec import add_judge_arguments

    p = sub.add_parser("mtbench", help="MT-Bench (ja/en) judged by an LLM; see docs/judge.md")
    p.add_argument("model", nargs="?", help="BACKEND:NAME that answers (omit with --answers)")
    add_judge_arguments(p, required=False)  # required, but it may come from --config FILE
    p.add_argument("--lang", choices=["ja", "en"], default="ja", help="Japanese (default) or English MT-Bench")
    p.add_argument("--judge-prompts", help="ja (Stability), en (FastChat), en-ja (Swallow) or a prompt .jsonl; default: the bench's own")
    p.add_argument("--reference", help="reference answers by name, or a FastChat answers .jsonl (default: the prompt variant's own)")
    p.add_argument("--questions", metavar="FILE.jsonl", help="your own questions (MT-Bench JSONL: question_id, category, turns)")
    p.add_argument("--limit", type=int, help="first N questions (after --categories and --per-category)")
    p.add_argument("--per-category", type=int, metavar="N", help="first N questions of each category (a quick test run)")
    p.add_argument("--categories", help="comma-separated categories, e.g. writing,math")
    p.add_argument("--turns", default="1,2", help="turns to judge: 1, 2 or 1,2 (default)")
    p.add_argument("--num-samples", type=int, default=1, help="answers per question (each its own conversation)")
    p.add_argument("--judge-repeats", type=int, default=1, help="judge each answer R times; the median counts")
    p.add_argument("--answers", help="bring-your-own answers (FastChat model_answer JSONL); no generation")
    p.add_argument("--baseline", help="baseline answers (FastChat JSONL): pairwise judging, both orders")
    p.add_argument("--output", help="run directory (default results/mtbench/MODEL-LANG)")
    p.add_argument("--model-args", help="answering model's backend settings k=v,k=v")
    p.add_argument("--settings", metavar="FILE", help="answering model's settings YAML (system message, generation, model_args)")
    p.add_argument("--system-prompt", help="system message for the answering model (both turns)")
    p.add_argument("--gen", action="append", default=[], metavar="KEY=VALUE",
                   help="answer generation: max_tokens (default 1024), top_p, seed, stop, temperature (all categories)")  # fmt: skip
    p.add_argument("--temperatures", choices=["fastchat", "stability"], default="fastchat", help="per-category temperature table")
    p.add_argument("--chat", action=argparse.BooleanOptionalAction, default=None,
                   help="apply the answering model's chat template (default: when it has one)")  # fmt: skip
    p.add_argument("--no-cache", action="store_true", help="neither read nor write the request cache")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.add_argument("--wandb", metavar="PROJECT[/RUN_NAME]", help="log the finished run to Weights & Biases")
    p.add_argument("--config", metavar="FILE", help="mtbench.yaml with any of these options; flags given here override it")
    p.set_defaults(func=run, config_parser=p)


def _csv(text: str | None) -> list[str]:
    return [part.strip() for part in (text or "").split(",") if part.strip()]


def _gen(items: Sequence[str]) -> dict[str, Any]:
    """`--gen` items → checked values; a key MT-Bench does not use is an error, never dropped."""
    from hyoka.models.args import parse_gen, parse_kv

    if "n" in parse_kv(list(items), flag="--gen"):
        raise HyokaError("--gen n: hyoka mtbench takes --num-samples N for several answers per question")
    return parse_gen(items, allowed=GEN_KEYS)


def _answer_settings(args: argparse.Namespace, model_spec: Any) -> tuple[dict[str, Any], str | None, Any, dict[str, Any] | None]:
    """Generation settings, system prompt and model spec after `--settings FILE` (the command
    line wins over the file), and the summary of where each value came from."""
    from hyoka.models.registry import ModelSpec, check_model_args
    from hyoka.models.settings import load_settings, resolve_settings

    gen = _gen(args.gen)
    if not args.settings:
        return gen, args.system_prompt, model_spec, None
    if model_spec is None:
        raise HyokaError("--settings describes the answering model; with --answers nothing is generated, leave it out")
    settings = load_settings(Path(args.settings))
    if settings.data.generation.n is not None:
        raise HyokaError(f"{args.settings}: generation.n: hyoka mtbench takes --num-samples N instead; remove it")
    resolved = resolve_settings(
        settings, backend=model_spec.backend, cli_gen=gen, cli_system_prompt=args.system_prompt, cli_model_args=model_spec.args
    )
    check_model_args(model_spec.backend, resolved.model_args, source="--model-args (with --settings)")
    return resolved.gen_overrides, resolved.system_prompt, ModelSpec(model_spec.backend, model_spec.name, resolved.model_args), resolved.summary()


def _options(args: argparse.Namespace, model_spec: Any, judge_display: str) -> Any:
    from hyoka.mtbench.answers import DEFAULT_MAX_TOKENS, TEMPERATURE_PRESETS
    from hyoka.mtbench.runner import MTBenchOptions

    gen, system_prompt, model_spec, settings = _answer_settings(args, model_spec)
    temperatures = dict(TEMPERATURE_PRESETS[args.temperatures])
    if "temperature" in gen:  # one temperature for every category
        temperatures = {c: float(gen["temperature"]) for c in temperatures}
    try:
        turns = tuple(int(t) for t in _csv(args.turns))
    except ValueError:
        raise HyokaError(f"--turns {args.turns}: write 1, 2 or 1,2") from None
    slug = Path(args.model.partition(":")[2]).name.removesuffix(".gguf") if args.model else Path(args.answers).stem
    if settings is not None:
        slug += f"-{settings['name']}"
    options = MTBenchOptions(
        output=Path(args.output) if args.output else Path("results") / "mtbench" / f"{slug}-{args.lang}",
        lang=args.lang,
        judge_prompts=args.judge_prompts,
        reference=args.reference,
        limit=args.limit,
        categories=tuple(_csv(args.categories)),
        per_category=args.per_category,
        questions_file=Path(args.questions) if args.questions else None,
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
        stop=tuple(gen.get("stop") or ()),
        system_prompt=system_prompt,
        use_chat_template=args.chat,
        show_progress=not args.quiet,
        model_spec=model_spec.display if model_spec else "",
        judge_spec=judge_display,
        settings=settings,
    )
    return options, model_spec


def run(args: argparse.Namespace) -> int:
    from hyoka.data.files import cache_dir
    from hyoka.cache import NullCache, RequestCache
    from hyoka.engine.preflight import check_output_dir
    from hyoka.judge.judge import Judge
    from hyoka.judge.spec import close_all, load_judge_backend, parse_judge_spec
    from hyoka.models.registry import load_backend, parse_model_spec
    from hyoka.mtbench.report import results_table
    from hyoka.mtbench.runner import prepare, run_mtbench

    if args.model and args.answers:
        raise HyokaError("give MODEL (answers are generated) or --answers FILE.jsonl (answers are brought), not both")
    if not args.model and not args.answers:
        raise HyokaError("give MODEL to answer the questions, or --answers FILE.jsonl with saved FastChat-format answers")
    if not args.judge:
        raise HyokaError("give the judge as --judge BACKEND:NAME (or `judge:` in --config FILE)")
    if args.questions and not Path(args.questions).is_file():
        raise HyokaError(f"--questions {args.questions}: no such file")
    judge_spec = parse_judge_spec(args.judge, args.judge_args)
    model_spec = parse_model_spec(args.model, args.model_args) if args.model else None
    options, model_spec = _options(args, model_spec, judge_spec.display)
    prepared = prepare(options)  # bad options, answers or prompt files fail before any model loads
    if args.wandb:  # a bad --wandb fails before the model loads
        from hyoka.reporting.wandb_log import check_target

        check_target(args.wandb)
    check_output_dir(options.output)
    cache = NullCache() if args.no_cache else RequestCache(cache_dir() / "requests.sqlite")
    model = judge_backend = None
    try:
        model = load_backend(model_spec, log_dir=options.output) if model_spec else None  # servers log into the run folder
        judge_backend = load_judge_backend(judge_spec, model_spec, model, log_dir=options.output)
        judge = Judge(judge_backend, cache, judge_spec.config)
        outcome = run_mtbench(model, judge, cache, options, prepared=prepared)
    finally:
        close_all(model, judge_backend)
        cache.close()
    print(results_table(outcome.metrics))
    a, j = outcome.answer_stats, outcome.judge_stats
    print(f"answers: {a.requests} requests, {a.cache_hits} from cache, {a.model_calls} model calls, {a.errors} errors")
    print(f"judge:   {j.requests} requests, {j.cache_hits} from cache, {j.model_calls} model calls, {j.errors} errors")
    print(f"results: {outcome.run_dir}")
    from hyoka.reporting.resolved_config import save_resolved_config

    save_resolved_config(outcome.run_dir, args)  # run_config.yaml: rerun with --config
    if args.wandb:
        from hyoka.reporting.wandb_log import log_run_to_wandb

        log_run_to_wandb(outcome.run_dir, args.wandb)
    # unparseable judgments are results (counted beside the scores); requests the backend
    # gave up on are not cached, so exit 1 says "rerun to fill them in"
    return 1 if a.errors or j.errors else 0
