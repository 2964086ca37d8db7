"""What a job runs on its node: `hyoka run` for the job's tasks, into its own folder.

    python -m hyoka.cluster.worker RUN/jobs/NAME.json

The job spec holds the `hyoka run` arguments. A job that evaluates documents [start, end)
of a split task runs `hyoka run --docs START:END`, so each document gets exactly the prompt
(few-shot draw, doc_id) a single-machine run gives it (the spec's `docs` and `prime` tell
`hyoka collect` which rows are the job's own).

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

from hyoka.results.run_dir import write_json


def _hyoka_command_line(argv: list[str]) -> int:
    """`hyoka ARGV` in this process, as `python -m hyoka.cli` runs it: the worker depends on
    the command line, not on the CLI module's code."""
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
    rc = _hyoka_command_line(spec["argv"])
    write_json(state_file, {**state, "state": "finished" if rc == 0 else "failed", "rc": rc, "ended": time.time()})
    return rc


if __name__ == "__main__":
    sys.exit(main())
