"""`hyoka backends`: every backend with its --model-args (type, default, description).

Printed from the backends' own argument models, so this list cannot drift from the code."""

from __future__ import annotations

import argparse
from typing import Any


def add_parser(sub: Any) -> None:
    p = sub.add_parser("backends", help="list the backends and the --model-args each takes")
    p.add_argument("backend", nargs="?", help="only this backend")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from hyoka.errors import ModelSpecError
    from hyoka.models.args import GenerationOverrides, describe_fields
    from hyoka.models.registry import BACKENDS, args_model, backend_class
    from hyoka.results.table import format_table

    names = [args.backend] if args.backend else list(BACKENDS)
    for name in names:
        if name not in BACKENDS:
            raise ModelSpecError(f"unknown backend '{name}'; known: {', '.join(BACKENDS)}")
    for name in names:
        doc = (backend_class(name).__module__ and _first_line(name)) or ""
        print(f"{name}:  {doc}")
        model = args_model(name)
        rows = [(f"  {n}", t, d, m) for n, t, d, m in describe_fields(model)] if model else [("  (none)", "", "", "")]
        print(format_table(("  argument", "type", "default", "meaning"), rows, rule=False))
        print()
    print("--gen (generation settings, every backend):")
    rows = [(f"  {n}", t, "task's", m) for n, t, _, m in describe_fields(GenerationOverrides)]
    print(format_table(("  key", "type", "default", "meaning"), rows, rule=False))
    return 0


def _first_line(name: str) -> str:
    import importlib

    from hyoka.models.registry import BACKENDS

    module = importlib.import_module(BACKENDS[name].partition(":")[0])
    doc = (module.__doc__ or "").strip().splitlines()
    return doc[0].split("—", 1)[-1].strip() if doc else ""
