"""The one small interface every model backend implements.

A backend answers two kinds of request, in batches:
- loglikelihood: log P(continuation | context), and whether the continuation is the greedy one;
- generate: text written by the model for a prompt, with optional reasoning kept apart.

Prompts arrive as chat messages. A backend renders them to the exact text it sends
(its chat template, or plain concatenation for base models); that text is what the cache
keys on and what the sample records show.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Sequence

from hyoka.core.errors import ModelSpecError
# the ground-floor types, re-exported: `from hyoka.models.base import GenerateResult` keeps working
from hyoka.core.types import (
    GenerateRequest,
    GenerateResult,
    GenerationParams,
    LoglikelihoodRequest,
    LoglikelihoodResult,
    Message,
    ModelIdentity,
    RequestOrigin,
    Role,
    sha256_text,
    stable_json,
)
from hyoka.models.chat_template import render_chat_template

__all__ = [
    "Backend",
    "GenerateRequest",
    "GenerateResult",
    "GenerationParams",
    "LoglikelihoodRequest",
    "LoglikelihoodResult",
    "Message",
    "ModelIdentity",
    "RequestOrigin",
    "Role",
    "render_plain",
    "sha256_text",
    "stable_json",
]

class Backend(ABC):
    """A model that can score and generate. One module per backend in hyoka.models."""

    #: short backend name as used in model specs, e.g. "llamacpp"
    kind: str = ""

    @property
    @abstractmethod
    def identity(self) -> ModelIdentity: ...

    @property
    def chat_template(self) -> str | None:
        """The model's chat template, if it ships one (tokenizer config or GGUF metadata)."""
        return None

    def render(self, messages: Sequence[Message], *, use_chat_template: bool) -> str:
        """The exact text sent for these messages."""
        if use_chat_template:
            return self.apply_chat_template(messages)
        return render_plain(messages)

    def apply_chat_template(self, messages: Sequence[Message]) -> str:
        template = self.chat_template
        if template is None:
            raise ModelSpecError(
                f"model '{self.identity.name}' has no chat template; "
                "run without --chat, or pass --model-args chat_template=PATH"
            )
        return render_chat_template(template, messages, **self.special_tokens())

    def special_tokens(self) -> dict[str, str]:
        return {"bos_token": "", "eos_token": ""}

    @abstractmethod
    def loglikelihood(self, requests: Sequence[LoglikelihoodRequest]) -> list[LoglikelihoodResult]: ...

    @abstractmethod
    def generate(self, requests: Sequence[GenerateRequest]) -> list[GenerateResult]: ...

    def preferred_batch_size(self) -> int:
        return 16

    def close(self) -> None:
        """Release the model (processes, memory). Safe to call twice."""


def render_plain(messages: Sequence[Message]) -> str:
    """Base models: the system prompt, then the turns, separated by blank lines.

    Single-turn user messages (the common case) are sent exactly as written.
    """
    parts = [m.content for m in messages if m.content]
    return "\n\n".join(parts)
