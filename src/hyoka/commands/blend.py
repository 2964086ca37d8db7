"""`hyoka blend --output DIR RUN_A:TASKS RUN_B:TASKS ...` (hyoka.reporting.blend)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def cmd_blend(args: argparse.Namespace) -> int:
    from hyoka.reporting.blend import blend
    from hyoka.reporting.runs import load_run
    from hyoka.results.table import results_table

    out = blend(args.sources, Path(args.output))
    print(results_table(load_run(out).metrics))
    print(f"\nblended run: {out}")
    return 0


def add_parser(sub: Any) -> None:
    p = sub.add_parser("blend", help="a new run folder from tasks of earlier runs of the same model")
    p.add_argument("sources", nargs="+", metavar="RUN_DIR[:TASK,TASK]", help="a run folder and the tasks to take (default: all)")
    p.add_argument("--output", required=True, help="new folder for the blended run")
    p.set_defaults(func=cmd_blend)
