"""Sandbox limits and the typed result of one execution."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Outcome = Literal["passed", "failed", "timeout", "error", "sandbox_error"]
OUTCOMES: tuple[Outcome, ...] = ("passed", "failed", "timeout", "error", "sandbox_error")


@dataclass(frozen=True)
class SandboxSettings:
    """Limits for one program. Every field is part of the result cache key."""

    #: wall-clock seconds before the whole process tree is killed
    timeout_s: float = 10.0
    #: CPU seconds (RLIMIT_CPU); a busy loop ends here even when the machine is idle
    cpu_s: int = 10
    #: address space (RLIMIT_AS), MiB
    memory_mb: int = 1024
    #: processes and threads of the program (RLIMIT_NPROC, counted per sandbox)
    max_procs: int = 32
    #: largest file the program may write (RLIMIT_FSIZE), MiB
    max_file_mb: int = 16
    #: open files (RLIMIT_NOFILE)
    max_open_files: int = 64
    #: size of the private writable /tmp (tmpfs), MiB
    tmp_mb: int = 64
    #: stdout + stderr bytes before the program is stopped
    max_output_bytes: int = 1 << 20
    #: bytes of stderr (and stdout) kept in the result
    tail_bytes: int = 2000

    def __post_init__(self) -> None:
        for name, value in asdict(self).items():
            # every limit but the wall clock is a whole number (rlimits, bytes)
            kinds = (int, float) if name == "timeout_s" else (int,)
            if isinstance(value, bool) or not isinstance(value, kinds) or value <= 0:
                whole = "a number" if name == "timeout_s" else "a whole number"
                raise ValueError(f"sandbox setting {name} must be {whole} > 0, got {value!r}")

    def identity(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class ExecResult:
    """What happened to one program."""

    outcome: Outcome
    #: one line: the failing assertion / exception ("AssertionError", "NameError: name 'x' …"),
    #: or why the run stopped (timeout, signal, output limit, sandbox failure)
    message: str = ""
    #: the program line that raised (source text), when known
    line: str = ""
    line_number: int | None = None
    stderr_tail: str = ""
    stdout_tail: str = ""
    exit_code: int | None = None
    duration_s: float = 0.0
    #: 2 when the first run said nothing about the program (pool.py, `_worth_a_second_run`)
    attempts: int = 1
    #: what the first of two runs gave ("sandbox_error: ...")
    first_attempt: str = ""
    cached: bool = field(default=False, compare=False)

    @property
    def passed(self) -> bool:
        return self.outcome == "passed"

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out.pop("cached")
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "ExecResult":
        known = {k: data[k] for k in cls.__dataclass_fields__ if k in data and k != "cached"}
        return cls(**known)
