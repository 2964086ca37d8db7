"""What a job runs on its node: `hyoka run` for the job's tasks, into its own folder.

    python -m hyoka.cluster.worker RUN/jobs/NAME.json

The job spec holds the `hyoka run` arguments. A job that evaluates documents [start, end)
of a split task runs the task up to `end` with the documents before `start` left out, so
each document gets exactly the prompt (few-shot draw, doc_id) a single-machine run gives it.

It also runs the `prime` documents just before `start` first. A backend that reuses the
previous request's KV cache (llama.cpp's prefix reuse) computes a request slightly
differently after a shared prefix than from scratch, at float rounding level; with the
preceding document run first, the range's first document is computed from the same state
as in a single-machine run, so the samples are identical. `hyoka collect` leaves the
primer's rows out (that document belongs to the previous range's job).
The worker records its state in RUN/jobs/NAME/state.json for `hyoka status`.
"""

from __future__ import annotations

import json
import runpy
import socket
import sys
import time
from pathlib import Path
from typing import Any

from hyoka.results.run_dir import write_json


def restrict_documents(start: int, end: int) -> None:
    """Evaluate only documents [start, end) of every task this process builds samples for.

    `hyoka run` has no document-range option yet, so the samples a task builds (for the
    first `end` documents: the job passes --limit END) are sliced here; doc ids, few-shot
    draws and prompts are those of the full run.
    """
    from hyoka.tasks.task import LoadedTask

    original = LoadedTask.build_samples

    def build_range(self: LoadedTask, *, limit: int | None, options: Any) -> list[Any]:
        return [s for s in original(self, limit=limit, options=options) if start <= s.doc_id < end]

    LoadedTask.build_samples = build_range  # type: ignore[method-assign]


def _hyoka_command_line(argv: list[str]) -> int:
    """`hyoka ARGV` in this process (where the document range applies), as `python -m hyoka.cli`
    runs it: the worker depends on the command line, not on the CLI module's code."""
    saved = sys.argv
    sys.argv = ["hyoka", *argv]
    try:
        runpy.run_module("hyoka.cli", run_name="__main__")
    except SystemExit as exit_:
        return exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
    finally:
        sys.argv = saved
    return 0


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m hyoka.cluster.worker RUN/jobs/NAME.json", file=sys.stderr)
        return 2
    spec_file = Path(args[0])
    spec = json.loads(spec_file.read_text(encoding="utf-8"))
    state_file = spec_file.with_suffix("") / "state.json"
    state_file.parent.mkdir(parents=True, exist_ok=True)
    state = {"state": "running", "host": socket.gethostname(), "started": time.time()}
    write_json(state_file, state)
    if spec.get("docs"):
        start, end = spec["docs"]
        restrict_documents(max(0, start - int(spec.get("prime", 0))), end)
    rc = _hyoka_command_line(spec["argv"])
    write_json(state_file, {**state, "state": "finished" if rc == 0 else "failed", "rc": rc, "ended": time.time()})
    return rc


if __name__ == "__main__":
    sys.exit(main())
