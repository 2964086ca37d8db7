"""Many programs at once: a bounded set of concurrent sandboxes, and the result cache.

Results are stored in hyoka's one request cache (hyoka/cache.py) under the kind
"code_exec", keyed by the program (tests included), the sandbox settings and the
harness, so scoring the same outputs again runs nothing. A `sandbox_error` is never
cached: the next run tries again.
"""

from __future__ import annotations

import os
import platform
import queue
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Sequence

from hyoka.core.types import sha256_text, stable_json
from hyoka.cache import RequestCache
from hyoka.errors import HyokaError
from hyoka.sandbox import bwrap
from hyoka.sandbox.process import harness_source, run_program
from hyoka.sandbox.settings import ExecResult, SandboxSettings

CACHE_KIND = "code_exec"


def default_workers() -> int:
    """Concurrent sandboxes: a few per core. A sandboxed program mostly waits (namespace
    set-up, interpreter start), so one per core leaves the cores idle; HumanEval programs
    run at about three times the one-per-core rate this way (docs/sandbox.md)."""
    return min(32, 4 * (os.cpu_count() or 1))


class SandboxUnavailable(HyokaError):
    """Model-written code would run without isolation; the user has not allowed that."""


def require_sandbox(*, unsafe_exec: bool) -> None:
    """One-line refusal when bubblewrap cannot run and --unsafe-exec was not given."""
    reason = bwrap.unavailable_reason()
    if reason is not None and not unsafe_exec:
        raise SandboxUnavailable(
            f"refusing to execute model-written code: {reason}; install bubblewrap "
            "(`make setup-dev` does) or pass --unsafe-exec to run it on this machine without isolation"
        )


@dataclass
class SandboxPool:
    settings: SandboxSettings
    workers: int = field(default_factory=default_workers)
    cache: RequestCache | None = None
    #: run without bubblewrap (rlimits and a timeout only); set from --unsafe-exec
    unsafe: bool = False

    def __post_init__(self) -> None:
        self.workers = max(1, int(self.workers))
        # one uid slot per worker: a program's processes never count against another's
        self._slots: queue.Queue[int] = queue.Queue()
        for slot in range(self.workers):
            self._slots.put(slot)

    def identity(self) -> dict:
        mode = "unsafe" if self.unsafe else "bwrap"
        return {
            "sandbox": mode,
            "settings": self.settings.identity(),
            "harness": sha256_text(harness_source())[:16],
            # the programs run on this interpreter: another Python may give other verdicts
            "python": [bwrap.host_interpreter().executable, platform.python_version()],
        }

    def _key(self, program: str) -> str:
        return sha256_text(stable_json({"kind": CACHE_KIND, "sandbox": self.identity(), "program": sha256_text(program)}))

    def run(self, programs: Sequence[str]) -> list[ExecResult]:
        """Results in the order of `programs`; cached ones are not run again."""
        if not self.unsafe:
            require_sandbox(unsafe_exec=False)
        keys = [self._key(p) for p in programs]
        found = self.cache.get_records(CACHE_KIND, set(keys)) if self.cache else {}
        results: list[ExecResult | None] = [None] * len(programs)
        todo: dict[str, list[int]] = {}
        for i, key in enumerate(keys):
            if key in found:
                results[i] = ExecResult.from_dict(found[key])
                results[i].cached = True
            else:
                todo.setdefault(key, []).append(i)  # identical programs run once
        with ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="sandbox") as ex:
            futures = {key: ex.submit(self._one, programs[idx[0]]) for key, idx in todo.items()}
            for key, fut in futures.items():
                result = fut.result()
                for i in todo[key]:
                    results[i] = result
                if self.cache is not None and result.outcome != "sandbox_error":
                    request = {"program": sha256_text(programs[todo[key][0]])}
                    self.cache.put_records(CACHE_KIND, [(key, self.identity(), request, result.as_dict())])
        return [r for r in results if r is not None]

    def _one(self, program: str) -> ExecResult:
        slot = self._slots.get()
        try:
            result = run_program(program, self.settings, slot=slot, unsafe=self.unsafe)
            if _worth_a_second_run(result):
                first = result
                result = run_program(program, self.settings, slot=slot, unsafe=self.unsafe)
                result.attempts, result.first_attempt = 2, f"{first.outcome}: {first.message}"
            return result
        finally:
            self._slots.put(slot)


def _worth_a_second_run(result: ExecResult) -> bool:
    """A result that may say nothing about the program: the sandbox failed, or the program
    exited with status 0 but its end report never arrived. A program that really exits early
    does so again (same verdict, recorded as two attempts); a lost report on a busy machine
    does not turn a passing program into a failure."""
    return result.outcome == "sandbox_error" or (result.outcome == "error" and result.exit_code == 0)
