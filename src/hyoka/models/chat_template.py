"""Rendering a model's chat template (Jinja2, as in tokenizer_config.json or GGUF metadata)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Sequence

import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment

from hyoka.errors import ModelSpecError
from hyoka.core.types import Message, sha256_text


def _raise(message: str) -> None:
    raise jinja2.TemplateError(message)


@lru_cache(maxsize=8)
def _compile(template: str) -> jinja2.Template:
    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
    env.globals["raise_exception"] = _raise
    return env.from_string(template)


def render_chat_template(
    template: str, messages: Sequence[Message], *, bos_token: str = "", eos_token: str = ""
) -> str:
    try:
        return _compile(template).render(
            messages=[{"role": m.role, "content": m.content} for m in messages],
            bos_token=bos_token,
            eos_token=eos_token,
            add_generation_prompt=True,
        )
    except jinja2.TemplateError as exc:
        raise ModelSpecError(f"chat template failed for these messages: {exc}") from None


def load_template_arg(value: str | None) -> str | None:
    """`chat_template=PATH` model argument: a file with a Jinja2 template."""
    if value is None:
        return None
    path = Path(value)
    if not path.is_file():
        raise ModelSpecError(f"--model-args chat_template={value}: no such file (give a Jinja2 template file)")
    return path.read_text(encoding="utf-8")


def template_hash(template: str | None) -> str:
    return sha256_text(template)[:16] if template else "none"
