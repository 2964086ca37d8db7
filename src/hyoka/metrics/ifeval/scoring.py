"""IFEval scores of documents: per-sample values and details, and the pooled aggregate.

A sample (one document, n outputs) gets the four lm-eval values, each the mean over its
outputs: ``prompt_level_strict_acc`` / ``prompt_level_loose_acc`` (1 when every
instruction is followed) and ``inst_level_strict_acc`` / ``inst_level_loose_acc`` (the
fraction followed). The task's instruction-level score is *pooled* as lm-eval's
``agg_inst_level_acc`` does: followed instructions over all instructions of all documents
(not the mean of per-document fractions). Per instruction type, the same pooled fraction is
reported as ``inst_level_strict_acc/<type>`` and ``inst_level_loose_acc/<type>``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Sequence

from hyoka.metrics.ifeval.evaluate import InstructionDoc, ResponseResult

PROMPT_STRICT = "prompt_level_strict_acc"
INST_STRICT = "inst_level_strict_acc"
PROMPT_LOOSE = "prompt_level_loose_acc"
INST_LOOSE = "inst_level_loose_acc"
HEADLINE = (PROMPT_STRICT, INST_STRICT, PROMPT_LOOSE, INST_LOOSE)


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else 0.0


def _output_values(result: ResponseResult) -> dict[str, float]:
    strict = [float(i.strict) for i in result.instructions]
    loose = [float(i.loose) for i in result.instructions]
    return {
        PROMPT_STRICT: float(result.prompt_strict),
        INST_STRICT: _mean(strict),
        PROMPT_LOOSE: float(result.prompt_loose),
        INST_LOOSE: _mean(loose),
    }


@dataclass(frozen=True)
class DocumentScore:
    #: each label's mean over the outputs
    values: dict[str, float]
    #: the values of each output on its own
    per_output: list[dict[str, float]]
    #: the instructions and each output's strict and loose decisions (the samples file)
    details: dict[str, Any]


def score_document(doc: Mapping[str, Any], outputs: Sequence[str | None]) -> DocumentScore:
    """One document answered by `outputs` (None: no output, scored as "")."""
    instructions = InstructionDoc.from_doc(doc)
    results = [instructions.evaluate(output or "") for output in outputs]
    per_output = [_output_values(r) for r in results]
    values = {label: _mean([v[label] for v in per_output]) for label in HEADLINE}
    details = {
        "instruction_id_list": list(instructions.instruction_ids),
        "kwargs": list(doc.get("kwargs") or []),
        # one list per output: the decision for each instruction, in order
        "strict": [[i.strict for i in r.instructions] for r in results],
        "loose": [[i.loose for i in r.instructions] for r in results],
    }
    return DocumentScore(values, per_output, details)


@dataclass(frozen=True)
class Pooled:
    followed: int
    total: int

    @property
    def value(self) -> float:
        return self.followed / self.total if self.total else float("nan")


def pool_instructions(details: Iterable[Mapping[str, Any]]) -> dict[str, Pooled]:
    """Instruction-level accuracy pooled over documents and outputs, overall and per type."""
    counts: dict[str, list[int]] = {}

    def add(label: str, followed: bool) -> None:
        entry = counts.setdefault(label, [0, 0])
        entry[0] += int(followed)
        entry[1] += 1

    for detail in details:
        ids = detail["instruction_id_list"]
        for kind, label in (("strict", INST_STRICT), ("loose", INST_LOOSE)):
            for decisions in detail[kind]:
                for instruction_id, followed in zip(ids, decisions):
                    add(label, followed)
                    add(f"{label}/{instruction_id}", followed)
    return {label: Pooled(f, t) for label, (f, t) in sorted(counts.items())}
