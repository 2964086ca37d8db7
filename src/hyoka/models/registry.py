"""Model specs (`BACKEND:NAME`) → backends. Each backend lives in its own module, imported lazily
so that `hyoka tasks` and friends never pay for torch or llama.cpp."""

from __future__ import annotations

import importlib
from dataclasses import dataclass

from hyoka.errors import ModelSpecError
from hyoka.models.base import Backend

BACKENDS: dict[str, str] = {
    "llamacpp": "hyoka.models.llamacpp:LlamaCppBackend",
    "hf": "hyoka.models.hf:HFBackend",
    # scripted answers, no model (tests, dry runs): `mock:` needs no NAME
    "mock": "hyoka.models.mock:MockBackend",
    # --- API backends and managed servers (hyoka.models.openai_api / servers) ---
    "openai": "hyoka.models.openai_api:OpenAIBackend",
    # Anthropic, Gemini, Bedrock, Azure, ... through litellm (same rules as openai:)
    "litellm": "hyoka.models.litellm_backend:LiteLLMBackend",
    "llamacpp-server": "hyoka.models.llamacpp_server:LlamaCppServerBackend",
    "vllm": "hyoka.models.vllm:VLLMBackend",
    # --- end API backends ---
}


@dataclass(frozen=True)
class ModelSpec:
    backend: str
    name: str
    args: dict[str, str]

    @property
    def display(self) -> str:
        return f"{self.backend}:{self.name}"


def parse_model_args(text: str | None) -> dict[str, str]:
    """`k=v,k=v` → dict. Values may contain '=' but not ','."""
    if not text:
        return {}
    out = {}
    for part in text.split(","):
        if not part.strip():
            continue
        key, sep, value = part.partition("=")
        if not sep or not key.strip():
            raise ModelSpecError(f"--model-args: '{part}' is not key=value (example: --model-args n_ctx=4096,dtype=float32)")
        out[key.strip()] = value.strip()
    return out


def parse_model_spec(spec: str, model_args: str | None = None) -> ModelSpec:
    backend, sep, name = spec.partition(":")
    if not sep or (not name and backend != "mock"):
        raise ModelSpecError(
            f"model '{spec}': write it as BACKEND:NAME, e.g. llamacpp:/path/model.gguf or hf:/path/to/model "
            f"(backends: {', '.join(BACKENDS)})"
        )
    if backend not in BACKENDS:
        raise ModelSpecError(f"model '{spec}': unknown backend '{backend}'; known: {', '.join(BACKENDS)}")
    return ModelSpec(backend, name, parse_model_args(model_args))


def load_backend(spec: ModelSpec) -> Backend:
    module_name, _, cls_name = BACKENDS[spec.backend].partition(":")
    module = importlib.import_module(module_name)
    return getattr(module, cls_name)(spec.name, spec.args)
