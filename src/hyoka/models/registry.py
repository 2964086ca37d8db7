"""Model specs (`BACKEND:NAME`) → backends. Each backend lives in its own module, imported lazily
so that `hyoka tasks` and friends never pay for torch or llama.cpp (the modules import those
only when a backend is built, so reading a backend's `Args` model is cheap)."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from hyoka.errors import ModelSpecError
from hyoka.models.args import BackendArgs, parse_kv, validate_args
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
    #: the arguments as given (text from the command line, values from a settings file);
    #: checked against the backend's Args model when the spec is made
    args: dict[str, Any]

    @property
    def display(self) -> str:
        return f"{self.backend}:{self.name}"


def backend_class(backend: str) -> type[Backend]:
    module_name, _, cls_name = BACKENDS[backend].partition(":")
    return getattr(importlib.import_module(module_name), cls_name)  # type: ignore[no-any-return]


def args_model(backend: str) -> type[BackendArgs] | None:
    """The backend's argument model (None for a backend that declares none)."""
    model = getattr(backend_class(backend), "Args", None)
    return model if isinstance(model, type) and issubclass(model, BackendArgs) else None


def check_model_args(backend: str, args: Mapping[str, Any], *, source: str = "--model-args") -> None:
    """One-line error for an argument the backend does not take or a value out of range."""
    model = args_model(backend)
    if model is not None:
        validate_args(model, args, source=source)


def parse_model_args(text: str | None) -> dict[str, str]:
    """`k=v,k=v` → dict (values as text). Values may contain '='."""
    return parse_kv(text, flag="--model-args")


def parse_model_spec(
    spec: str, model_args: str | Mapping[str, Any] | None = None, *, source: str = "--model-args"
) -> ModelSpec:
    backend, sep, name = spec.partition(":")
    if not sep or (not name and backend != "mock"):
        raise ModelSpecError(
            f"model '{spec}': write it as BACKEND:NAME, e.g. llamacpp:/path/model.gguf or hf:/path/to/model "
            f"(backends: {', '.join(BACKENDS)})"
        )
    if backend not in BACKENDS:
        raise ModelSpecError(f"model '{spec}': unknown backend '{backend}'; known: {', '.join(BACKENDS)}")
    args = dict(model_args) if isinstance(model_args, Mapping) else parse_kv(model_args, flag=source)
    check_model_args(backend, args, source=source)  # before anything loads
    return ModelSpec(backend, name, args)


def load_backend(spec: ModelSpec, *, log_dir: Path | None = None) -> Backend:
    """Build the backend. `log_dir`: where a managed server writes its log (the run folder)."""
    cls = backend_class(spec.backend)
    if getattr(cls, "uses_log_dir", False):
        return cls(spec.name, spec.args, log_dir=log_dir)  # type: ignore[call-arg]
    return cls(spec.name, spec.args)  # type: ignore[call-arg]
