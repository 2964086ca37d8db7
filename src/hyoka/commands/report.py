"""`hyoka report RUN_DIR... -o report.html` (hyoka.reporting.html): one offline HTML file."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def cmd_report(args: argparse.Namespace) -> int:
    from hyoka.reporting.html import write_report
    from hyoka.reporting.leaderboard import load_suite
    from hyoka.reporting.runs import find_runs

    runs = find_runs(args.runs)
    out = write_report(runs, Path(args.output), load_suite(args.suite) if args.suite else None)
    print(f"report: {out} ({len(runs)} runs)")
    return 0


def add_parser(sub: Any) -> None:
    p = sub.add_parser("report", help="one self-contained HTML report (leaderboard, radar charts, sample browser)")
    p.add_argument("runs", nargs="+", metavar="RUN_DIR", help="run folders, or folders holding run folders")
    p.add_argument("-o", "--output", default="report.html", help="the HTML file to write (default report.html)")
    p.add_argument("--suite", help="suite for the leaderboard part (built-in name or YAML); default: every task")
    p.set_defaults(func=cmd_report)
