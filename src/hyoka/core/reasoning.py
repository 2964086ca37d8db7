"""Reasoning split: the one place that separates a reasoning model's thinking from its answer.

Backends call it once (through `GenerateResult.from_output`); every consumer then reads
`GenerateResult.text` (the answer) and `.reasoning`, and never splits again. The
`strip_reasoning` extractor (hyoka.text.extract) reuses it for task files.
"""

from __future__ import annotations


def split_reasoning(text: str, *, tag: str = "think") -> tuple[str, str | None]:
    """Split a reasoning model's output into (answer, reasoning).

    - ``<think>…</think>`` blocks are reasoning; everything outside them is the answer.
    - An unterminated ``<think>`` (generation stopped while thinking): everything after it
      is reasoning, so the answer is only what came before it — usually "".
    - A ``</think>`` with no opening tag before it (the chat template put ``<think>`` in
      the prompt): everything before it is reasoning.

    reasoning is None when the output has no reasoning tags at all; both parts are
    stripped.
    """
    open_tag, close_tag = f"<{tag}>", f"</{tag}>"
    reasoning_parts: list[str] = []
    answer_parts: list[str] = []
    rest = text
    first_open, first_close = rest.find(open_tag), rest.find(close_tag)
    if first_close != -1 and (first_open == -1 or first_close < first_open):
        reasoning_parts.append(rest[:first_close])
        rest = rest[first_close + len(close_tag) :]
    while True:
        start = rest.find(open_tag)
        if start == -1:
            answer_parts.append(rest)
            break
        answer_parts.append(rest[:start])
        end = rest.find(close_tag, start + len(open_tag))
        if end == -1:
            reasoning_parts.append(rest[start + len(open_tag) :])
            break
        reasoning_parts.append(rest[start + len(open_tag) : end])
        rest = rest[end + len(close_tag) :]
    answer = "".join(answer_parts).strip()
    if not reasoning_parts:
        return answer, None
    return answer, "\n".join(part.strip() for part in reasoning_parts).strip()
