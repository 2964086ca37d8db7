"""Strict and loose following of a document's instructions, as IFEval scores them.

Strict: the response as given; an empty (blank) response follows nothing. Loose: an
instruction is followed when any of eight variants of the response follows it — the
response, without its first line, without its last line, without both, and each of those
four with every ``*`` removed (lm-eval's and M-IFEval's ``test_instruction_following_loose``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Sequence

from hyoka.metrics.ifeval.registry import Check, InstructionArgsError, build_check


@dataclass(frozen=True)
class InstructionResult:
    instruction_id: str
    strict: bool
    loose: bool


@dataclass(frozen=True)
class ResponseResult:
    instructions: tuple[InstructionResult, ...]

    @property
    def prompt_strict(self) -> bool:
        return all(r.strict for r in self.instructions)

    @property
    def prompt_loose(self) -> bool:
        return all(r.loose for r in self.instructions)


@dataclass(frozen=True)
class InstructionDoc:
    """The instructions of one IFEval/M-IFEval document, checks built once."""

    key: Any
    instruction_ids: tuple[str, ...]
    checks: tuple[Check, ...]

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any]) -> "InstructionDoc":
        ids = doc.get("instruction_id_list")
        kwargs = doc.get("kwargs")
        key = doc.get("key")
        if not isinstance(ids, list) or not isinstance(kwargs, list) or len(ids) != len(kwargs):
            raise InstructionArgsError(
                f"document {key!r}: needs 'instruction_id_list' and 'kwargs', two lists of the same length"
            )
        checks = tuple(build_check(i, k or {}) for i, k in zip(ids, kwargs))
        return cls(key, tuple(ids), checks)

    def evaluate(self, response: str) -> ResponseResult:
        variants = loose_variants(response)
        results = tuple(
            InstructionResult(
                instruction_id,
                strict=bool(response.strip()) and bool(check(response)),
                loose=any(bool(v.strip()) and bool(check(v)) for v in variants),
            )
            for instruction_id, check in zip(self.instruction_ids, self.checks)
        )
        return ResponseResult(results)


def loose_variants(response: str) -> Sequence[str]:
    lines = response.split("\n")
    without_first = "\n".join(lines[1:]).strip()
    without_last = "\n".join(lines[:-1]).strip()
    without_both = "\n".join(lines[1:-1]).strip()
    return (
        response,
        response.replace("*", ""),
        without_first,
        without_last,
        without_both,
        without_first.replace("*", ""),
        without_last.replace("*", ""),
        without_both.replace("*", ""),
    )
