"""`hyoka leaderboard RUN_DIR...` (hyoka.reporting.leaderboard): one row per model."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def cmd_leaderboard(args: argparse.Namespace) -> int:
    from hyoka.reporting.leaderboard import build_rows, load_suite, tasks_suite
    from hyoka.reporting.runs import find_runs
    from hyoka.reporting.tables import terminal_table, write_all

    if args.wandb:
        from hyoka.reporting.wandb_log import check_target

        check_target(args.wandb)
    runs = find_runs(args.runs)
    suite = load_suite(args.suite) if args.suite else tasks_suite(runs)
    rows = build_rows(runs, suite, group_by=args.rows)
    print(terminal_table(rows, suite))
    written = write_all(rows, suite, Path(args.output))
    print("\nwritten: " + ", ".join(str(p) for p in written))
    if args.wandb:
        from hyoka.reporting.wandb_log import log_leaderboard_to_wandb

        log_leaderboard_to_wandb(rows, suite, runs, args.wandb)
    return 0


def add_parser(sub: Any) -> None:
    p = sub.add_parser("leaderboard", help="one row per model from finished runs (CSV, JSON, Markdown)")
    p.add_argument("runs", nargs="+", metavar="RUN_DIR", help="run folders, or folders holding run folders")
    p.add_argument("--suite", help="built-in suite (nejumi) or a suite YAML file; default: every task's headline metric")
    p.add_argument("--rows", choices=["model", "run"], default="model", help="one row per model (default) or per run")
    p.add_argument("--output", default="results/leaderboard", help="folder for leaderboard_SUITE.{csv,md,json}")
    p.add_argument("--wandb", metavar="PROJECT[/RUN_NAME]", help="also log the leaderboard to Weights & Biases")
    p.set_defaults(func=cmd_leaderboard)
