"""`hyoka compare RUN_A RUN_B` (hyoka.reporting.compare): paired differences per task."""

from __future__ import annotations

import argparse
from dataclasses import asdict
from pathlib import Path
from typing import Any

SETTINGS_HELP = "task config hash (config_hash), data, fewshot, prompt_version, template, system_prompt, generation, judge"


def cmd_compare(args: argparse.Namespace) -> int:
    from hyoka.reporting.compare import compare_runs, format_comparison
    from hyoka.reporting.runs import load_run

    a, b = load_run(args.run_a), load_run(args.run_b)
    allow = [x.strip() for x in (args.allow or "").split(",") if x.strip()]
    tasks = [t.strip() for t in (args.tasks or "").split(",") if t.strip()] or None
    result = compare_runs(a, b, tasks=tasks, metric=args.metric, allow=allow, level=args.level,
                          correction=args.correction, alpha=args.alpha, resamples=args.resamples)  # fmt: skip
    print(format_comparison(result))
    if args.json:
        from hyoka.results.run_dir import write_json

        write_json(Path(args.json), {**asdict(result), "tasks": [asdict(t) for t in result.tasks]})
        print(f"written: {args.json}")
    return 0


def add_parser(sub: Any) -> None:
    p = sub.add_parser("compare", help="paired comparison of two runs: differences, intervals, tests per task")
    p.add_argument("run_a", help="run folder A (the baseline)")
    p.add_argument("run_b", help="run folder B; differences are B - A")
    p.add_argument("--tasks", help="comma-separated tasks (default: every task both runs have)")
    p.add_argument("--metric", help="metric to compare (default: each task's headline metric)")
    p.add_argument("--allow", metavar="SETTING[,SETTING]",
                   help=f"prompt/data settings allowed to differ: {SETTINGS_HELP}")  # fmt: skip
    p.add_argument("--level", type=float, default=0.95, help="confidence level of the intervals (default 0.95)")
    p.add_argument("--correction", default="holm", choices=["holm", "bh"], help="multiple-comparison correction")
    p.add_argument("--alpha", type=float, default=0.05, help="significance level after correction (default 0.05)")
    p.add_argument("--resamples", type=int, default=2000, help="bootstrap resamples (default 2000)")
    p.add_argument("--json", metavar="FILE", help="also write the comparison as JSON")
    p.set_defaults(func=cmd_compare)
