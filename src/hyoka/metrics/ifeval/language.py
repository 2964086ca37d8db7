"""language:response_language — the whole response in one language (langdetect)."""

from __future__ import annotations

from hyoka.metrics.ifeval.nlp import detect_language
from hyoka.metrics.ifeval.registry import Check, instruction


@instruction("language:response_language", "ja:language:response_language")
def response_language(language: str) -> Check:
    def check(value: str) -> bool:
        found = detect_language(value)
        # as the references: a text langdetect cannot read counts as following
        return found is None or found == language

    return check
