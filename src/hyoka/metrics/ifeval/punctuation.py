"""punctuation:* — no commas (en ``,``; ja 読点 ``、``) and no 句点 ``。`` (ja)."""

from __future__ import annotations

from hyoka.metrics.ifeval.registry import Check, instruction


@instruction("punctuation:no_comma")
def no_comma() -> Check:
    return lambda value: "," not in value


@instruction("ja:punctuation:no_comma")
def no_comma_ja() -> Check:
    """Only the ideographic comma 、 counts (a full-width ， or ASCII , does not)."""
    return lambda value: "、" not in value


@instruction("ja:punctuation:no_period")
def no_period_ja() -> Check:
    """Only the ideographic full stop 。 counts."""
    return lambda value: "。" not in value
