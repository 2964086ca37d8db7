"""`llamacpp-server:PATH.gguf` — llama-cpp-python's OpenAI-compatible server, started for the run.

The managed-server lifecycle of hyoka.models.servers plus the openai backend against it
(preset `llamacpp`: completions API, prompt logprobs through echo, sampler defaults pinned to
the in-process backend's). It is the CPU-testable twin of `vllm:`: same launcher, same client.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any, Mapping

from pydantic import Field

from hyoka.errors import BackendUnavailable, ModelSpecError
from hyoka.models.args import validate_args
from hyoka.models.base import ModelIdentity
from hyoka.models.identity import file_sha256
from hyoka.models.openai_api import ClientArgs, OpenAIBackend
from hyoka.models.servers import ManagedServer, ServedBackend, ServerSpec, python_module_argv

GENERATE_ALIAS = "generate"
SCORE_ALIAS = "score"
SERVER_DEPS = ("uvicorn", "fastapi", "sse_starlette", "starlette_context", "pydantic_settings")


class LlamaCppServerArgs(ClientArgs):
    """The server's own settings (llama_cpp.server's names) and the client's (see `openai:`)."""

    n_ctx: int = Field(default=4096, gt=0, description="context length in tokens (as the in-process backend)")
    n_threads: int | None = Field(default=None, gt=0, description="CPU threads of the server")
    n_gpu_layers: int | None = Field(default=None, ge=-1, description="layers offloaded to the GPU; -1 all")
    n_batch: int | None = Field(default=None, gt=0, description="tokens decoded per batch")
    chat_format: str | None = Field(default=None, description="llama_cpp.server chat format (default: from the GGUF)")
    startup_timeout: float = Field(default=300.0, gt=0, description="seconds to wait for the server to answer")


class LlamaCppServerBackend(ServedBackend):
    kind = "llamacpp-server"
    Args = LlamaCppServerArgs

    def __init__(self, name: str, args: Mapping[str, Any] | LlamaCppServerArgs, *, log_dir: Path | None = None) -> None:
        a = validate_args(LlamaCppServerArgs, args, source="--model-args")
        missing = [m for m in ("llama_cpp", *SERVER_DEPS) if importlib.util.find_spec(m) is None]
        if missing:
            raise BackendUnavailable(
                f"backend 'llamacpp-server' needs {', '.join(missing)}: pip install 'hyoka[api,llamacpp]'"
            )
        self.path = Path(name).expanduser()
        if not self.path.is_file():
            raise ModelSpecError(f"llamacpp-server:{name}: no such GGUF file")
        self.n_ctx = a.n_ctx
        self.server = ManagedServer(
            ServerSpec(
                name="llamacpp-server",
                argv=python_module_argv("llama_cpp.server", ["--config_file", "{log_dir}/llamacpp-server-{port}.json"]),
                health_path="/v1/models",
                startup_timeout=a.startup_timeout,
                config_files=(("llamacpp-server-{port}.json", self._config_json(a)),),
            ),
            log_dir=log_dir,
        )
        base = self.server.start()
        try:
            self.client = OpenAIBackend(
                GENERATE_ALIAS, {**a.client_args(), "base_url": base + "/v1", "score_model": SCORE_ALIAS}, default_preset="llamacpp"
            )
            self._identity = ModelIdentity(
                backend=self.kind,
                name=self.path.name,
                weights_hash=file_sha256(self.path),
                template_hash=f"chat_format:{a.chat_format or 'auto'}",
                settings=tuple(sorted({"n_ctx": str(self.n_ctx), **dict(self.client.identity.settings)}.items())),
            )
        except BaseException:
            self.server.stop()
            raise

    def _config_json(self, a: LlamaCppServerArgs) -> str:
        """Two aliases of the same GGUF. Prompt logprobs need logits for every position
        (logits_all), which makes generation ~4x slower and changes its numerics (batched
        matmul), so generation uses a model loaded without it — greedy outputs then match
        the in-process llamacpp backend. The server swaps models when the alias changes; the
        executor sends a task's requests of one kind together, so that happens rarely."""
        common: dict[str, Any] = {"model": str(self.path), "n_ctx": self.n_ctx, "verbose": False}
        for key in ("n_threads", "n_gpu_layers", "n_batch", "chat_format"):
            if getattr(a, key) is not None:
                common[key] = getattr(a, key)
        models = [
            {**common, "model_alias": GENERATE_ALIAS, "logits_all": False},
            {**common, "model_alias": SCORE_ALIAS, "logits_all": True},
        ]
        # {port}/{host} are filled in by the launcher; json.dumps keeps them as strings, so the
        # port placeholder is unquoted by hand
        text = json.dumps({"host": "{host}", "port": "{port}", "models": models}, ensure_ascii=False)
        return text.replace('"{port}"', "{port}")
