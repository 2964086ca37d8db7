"""combination:* — two different responses, and repeating the request first."""

from __future__ import annotations

from hyoka.metrics.ifeval.registry import Check, instruction


def _two_responses(value: str) -> bool:
    """Exactly two non-blank, different parts separated by ``******``; an empty part is
    only allowed first or last."""
    valid = []
    parts = value.split("******")
    for index, part in enumerate(parts):
        if not part.strip():
            if index not in (0, len(parts) - 1):
                return False
        else:
            valid.append(part)
    return len(valid) == 2 and valid[0].strip() != valid[1].strip()


@instruction("combination:two_responses", "ja:combination:two_responses")
def two_responses() -> Check:
    return _two_responses


@instruction("combination:repeat_prompt")
def repeat_prompt(prompt_to_repeat: str) -> Check:
    """The response starts with the request, ignoring case and surrounding whitespace."""
    wanted = prompt_to_repeat.strip().lower()
    return lambda value: value.strip().lower().startswith(wanted)


@instruction("ja:combination:repeat_prompt")
def repeat_prompt_ja(prompt_to_repeat: str) -> Check:
    """M-IFEval compares case-sensitively."""
    wanted = prompt_to_repeat.strip()
    return lambda value: value.strip().startswith(wanted)
