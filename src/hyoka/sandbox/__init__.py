"""Running model-written programs: one fresh bubblewrap sandbox per program, in parallel.

docs/sandbox.md says what is isolated and what is not.
"""

from hyoka.sandbox.bwrap import unavailable_reason
from hyoka.sandbox.pool import SandboxPool, SandboxUnavailable, require_sandbox
from hyoka.sandbox.process import run_program
from hyoka.sandbox.settings import OUTCOMES, ExecResult, Outcome, SandboxSettings

__all__ = [
    "OUTCOMES",
    "ExecResult",
    "Outcome",
    "SandboxPool",
    "SandboxSettings",
    "SandboxUnavailable",
    "require_sandbox",
    "run_program",
    "unavailable_reason",
]
