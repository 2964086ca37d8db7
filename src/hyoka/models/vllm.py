"""`vllm:MODEL` — `vllm serve` started once per run (one backend object per run), shared by all tasks.

MODEL is a local folder or a Hugging Face id. Settings via --model-args:
  max_model_len, tensor_parallel_size, dtype, gpu_memory_utilization, reasoning_parser,
  pipeline_parallel_size and distributed_executor_backend (multi-node, docs/cluster.md),
  chat_template (file), startup_timeout, plus the openai backend's (api, concurrency, timeout, ...).
The context length defaults to what the model's config.json says (max_position_embeddings and
friends), capped by max_model_len when given. Same launcher and client as `llamacpp-server:`,
which is what the CPU test suite exercises.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import sys
from pathlib import Path
from typing import Any, Mapping

from pydantic import Field

from hyoka.errors import BackendUnavailable, ModelSpecError
from hyoka.models.args import validate_args
from hyoka.models.base import ModelIdentity
from hyoka.models.openai_api import ClientArgs, OpenAIBackend
from hyoka.models.servers import ManagedServer, ServedBackend, ServerSpec


class VLLMArgs(ClientArgs):
    """`vllm serve` settings (its flag names with _) and the client's (see `openai:`)."""

    max_model_len: int | None = Field(default=None, gt=0, description="context length cap (default: the model's config.json)")
    tensor_parallel_size: int | None = Field(default=None, ge=1, description="GPUs the model is split over")
    # multi-node: vLLM's own Ray backend spreads the model over a Ray cluster (docs/cluster.md)
    pipeline_parallel_size: int | None = Field(default=None, ge=1, description="pipeline stages (nodes) the model is split over")
    distributed_executor_backend: str | None = Field(default=None, description="ray (multi-node) or mp")
    dtype: str | None = Field(default=None, description="weights dtype, e.g. bfloat16 (default: vLLM's auto)")
    gpu_memory_utilization: float | None = Field(default=None, gt=0, le=1, description="share of GPU memory vLLM may take")
    reasoning_parser: str | None = Field(default=None, description="vLLM reasoning parser, e.g. deepseek_r1")
    chat_template: str | None = Field(default=None, description="Jinja chat template file")
    startup_timeout: float = Field(default=1200.0, gt=0, description="seconds to wait for the server to answer")
    trust_remote_code: bool = Field(default=False, description="run the model repository's own Python code")


SERVER_ARGS = tuple(k for k in VLLMArgs.model_fields if k not in ClientArgs.model_fields)
#: config.json keys that give a model's context length, most specific first
CONTEXT_KEYS = ("max_position_embeddings", "n_positions", "max_seq_len", "seq_length", "max_sequence_length", "n_ctx")
SERVED_NAME = "hyoka-model"


def detect_max_model_len(config: dict[str, Any]) -> int | None:
    """The context length a config.json declares (multimodal configs nest it in text_config)."""
    for source in (config, config.get("text_config") or {}, config.get("llm_config") or {}):
        for key in CONTEXT_KEYS:
            value = source.get(key)
            if isinstance(value, int) and value > 0:
                return value
    return None


def read_model_config(name: str) -> dict[str, Any] | None:
    """config.json of a local folder, or of an id already in the Hugging Face cache (no download)."""
    folder = Path(name).expanduser()
    path: Path | None = folder / "config.json" if folder.is_dir() else None
    if path is None:
        try:
            from huggingface_hub import try_to_load_from_cache

            cached = try_to_load_from_cache(name, "config.json")
            path = Path(cached) if isinstance(cached, str) else None
        except ImportError:
            path = None
    if path is None or not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ModelSpecError(f"vllm:{name}: {path} is not readable JSON ({exc})") from None
    return data if isinstance(data, dict) else None


def build_argv(name: str, args: Mapping[str, Any] | VLLMArgs, max_model_len: int | None) -> list[str]:
    """`vllm serve` command line; {host}/{port} are filled in by the launcher."""
    args = validate_args(VLLMArgs, args, source="--model-args")
    exe = shutil.which("vllm") or str(Path(sys.executable).with_name("vllm"))
    argv = [exe, "serve", name, "--host", "{host}", "--port", "{port}", "--served-model-name", SERVED_NAME, "--seed", "0"]
    if max_model_len:
        argv += ["--max-model-len", str(max_model_len)]
    for key in ("tensor_parallel_size", "pipeline_parallel_size", "distributed_executor_backend", "dtype",
                "gpu_memory_utilization", "reasoning_parser"):  # fmt: skip
        if getattr(args, key) is not None:
            argv += ["--" + key.replace("_", "-"), str(getattr(args, key))]
    if args.chat_template is not None:
        if not Path(args.chat_template).is_file():
            raise ModelSpecError(f"--model-args chat_template={args.chat_template}: no such file")
        argv += ["--chat-template", args.chat_template]
    if args.trust_remote_code:
        argv.append("--trust-remote-code")
    return argv


class VLLMBackend(ServedBackend):
    kind = "vllm"
    Args = VLLMArgs

    def __init__(self, name: str, args: Mapping[str, Any] | VLLMArgs, *, log_dir: Path | None = None) -> None:
        a = validate_args(VLLMArgs, args, source="--model-args")
        if importlib.util.find_spec("vllm") is None:
            raise BackendUnavailable("backend 'vllm' needs vLLM on a CUDA machine: pip install vllm")
        config = read_model_config(name) or {}
        detected = detect_max_model_len(config)
        wanted = a.max_model_len
        self.max_model_len = min(x for x in (detected, wanted) if x) if (detected or wanted) else None
        self.server = ManagedServer(
            ServerSpec(
                name="vllm",
                argv=tuple(build_argv(name, a, self.max_model_len)),
                health_path="/health",
                startup_timeout=a.startup_timeout,
            ),
            log_dir=log_dir,
        )
        base = self.server.start()
        try:
            self.client = OpenAIBackend(SERVED_NAME, {**a.client_args(), "base_url": base + "/v1"}, default_preset="vllm")
            # the identity keeps the server settings as the user wrote them (cache keys stay stable)
            settings = {k: _text(getattr(a, k)) for k in a.model_fields_set if k in SERVER_ARGS}
            settings = {k: v for k, v in settings.items() if k not in ("startup_timeout", "chat_template")}
            settings["max_model_len"] = str(self.max_model_len)
            self._identity = ModelIdentity(
                backend=self.kind,
                name=name,
                weights_hash=_revision(name),
                template_hash=f"file:{Path(a.chat_template).name}" if a.chat_template else "model",
                settings=tuple(sorted({**settings, **dict(self.client.identity.settings)}.items())),
            )
        except BaseException:
            self.server.stop()
            raise


def _text(value: Any) -> str:
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


def _revision(name: str) -> str:
    """Weights identity: the local folder's weight hashes, else the hub id (revision unknown here)."""
    folder = Path(name).expanduser()
    if folder.is_dir():
        from hyoka.models.identity import directory_sha256

        return directory_sha256(folder)
    return f"hub:{name}"
