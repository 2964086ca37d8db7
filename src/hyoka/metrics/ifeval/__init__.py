"""IFEval (English) and M-IFEval (Japanese) instruction checks, written for hyoka.

Each family of instructions has its own module; importing this package registers every
instruction type in `INSTRUCTIONS`. The rules follow lm-evaluation-harness's
``tasks/ifeval`` for English and lightblue-tech/M-IFEval's ``ja_instructions`` for
Japanese; docs/instruction_following.md lists where hyoka deliberately differs.
"""

from hyoka.metrics.ifeval import (  # noqa: F401  (registration)
    change_case,
    combination,
    content,
    detectable_format,
    keywords,
    language,
    length,
    letters,
    punctuation,
    startend,
)
from hyoka.metrics.ifeval.evaluate import InstructionDoc, InstructionResult, ResponseResult, loose_variants
from hyoka.metrics.ifeval.registry import INSTRUCTIONS, InstructionArgsError, build_check

__all__ = [
    "INSTRUCTIONS",
    "InstructionArgsError",
    "InstructionDoc",
    "InstructionResult",
    "ResponseResult",
    "build_check",
    "loose_variants",
]

from hyoka.metrics.ifeval import metric as _metric  # noqa: E402,F401  (registers "ifeval")
