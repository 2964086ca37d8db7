"""IFEval / M-IFEval documents are checked when the task loads: an unknown instruction id
or bad kwargs is one clear error before the first model call, not a crash while scoring."""

from __future__ import annotations

from hyoka.metrics.ifeval import InstructionDoc


def check_docs(docs: list[dict]) -> list[dict]:
    for doc in docs:
        InstructionDoc.from_doc(doc)
    return docs
