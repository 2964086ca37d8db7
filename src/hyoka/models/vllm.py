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
from typing import Any

from hyoka.errors import BackendUnavailable, ModelSpecError
from hyoka.models.base import ModelIdentity
from hyoka.models.openai_api import KNOWN_ARGS as API_ARGS
from hyoka.models.openai_api import OpenAIBackend
from hyoka.models.servers import ManagedServer, ServedBackend, ServerSpec

SERVER_ARGS = {
    "max_model_len",
    "tensor_parallel_size",
    # multi-node: vLLM's own Ray backend spreads the model over a Ray cluster (docs/cluster.md)
    "pipeline_parallel_size",
    "distributed_executor_backend",
    "dtype",
    "gpu_memory_utilization",
    "reasoning_parser",
    "chat_template",
    "startup_timeout",
    "trust_remote_code",
}
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


def build_argv(name: str, args: dict[str, str], max_model_len: int | None) -> list[str]:
    """`vllm serve` command line; {host}/{port} are filled in by the launcher."""
    exe = shutil.which("vllm") or str(Path(sys.executable).with_name("vllm"))
    argv = [exe, "serve", name, "--host", "{host}", "--port", "{port}", "--served-model-name", SERVED_NAME, "--seed", "0"]
    if max_model_len:
        argv += ["--max-model-len", str(max_model_len)]
    for key in ("tensor_parallel_size", "pipeline_parallel_size", "distributed_executor_backend", "dtype",
                "gpu_memory_utilization", "reasoning_parser"):  # fmt: skip
        if key in args:
            argv += ["--" + key.replace("_", "-"), args[key]]
    if "chat_template" in args:
        if not Path(args["chat_template"]).is_file():
            raise ModelSpecError(f"--model-args chat_template={args['chat_template']}: no such file")
        argv += ["--chat-template", args["chat_template"]]
    if args.get("trust_remote_code", "false").lower() in ("1", "true", "yes"):
        argv.append("--trust-remote-code")
    return argv


class VLLMBackend(ServedBackend):
    kind = "vllm"

    def __init__(self, name: str, args: dict[str, str]) -> None:
        unknown = set(args) - SERVER_ARGS - set(API_ARGS) | ({"base_url", "preset", "score_model"} & set(args))
        if unknown:
            raise ModelSpecError(f"vllm: unsupported --model-args {sorted(unknown)}; known: {sorted(SERVER_ARGS | set(API_ARGS))}")
        if importlib.util.find_spec("vllm") is None:
            raise BackendUnavailable("backend 'vllm' needs vLLM on a CUDA machine: pip install vllm")
        server_args = {k: v for k, v in args.items() if k in SERVER_ARGS}
        api_args = {k: v for k, v in args.items() if k not in SERVER_ARGS}
        config = read_model_config(name) or {}
        detected = detect_max_model_len(config)
        wanted = int(server_args["max_model_len"]) if "max_model_len" in server_args else None
        self.max_model_len = min(x for x in (detected, wanted) if x) if (detected or wanted) else None
        self.server = ManagedServer(
            ServerSpec(
                name="vllm",
                argv=tuple(build_argv(name, server_args, self.max_model_len)),
                health_path="/health",
                startup_timeout=float(server_args.get("startup_timeout", 1200)),
            )
        )
        base = self.server.start()
        try:
            self.client = OpenAIBackend(SERVED_NAME, {**api_args, "base_url": base + "/v1"}, default_preset="vllm")
            settings = {k: v for k, v in server_args.items() if k not in ("startup_timeout", "chat_template")}
            settings["max_model_len"] = str(self.max_model_len)
            self._identity = ModelIdentity(
                backend=self.kind,
                name=name,
                weights_hash=_revision(name),
                template_hash=f"file:{Path(server_args['chat_template']).name}" if "chat_template" in server_args else "model",
                settings=tuple(sorted({**settings, **dict(self.client.identity.settings)}.items())),
            )
        except BaseException:
            self.server.stop()
            raise


def _revision(name: str) -> str:
    """Weights identity: the local folder's weight hashes, else the hub id (revision unknown here)."""
    folder = Path(name).expanduser()
    if folder.is_dir():
        from hyoka.models.identity import directory_sha256

        return directory_sha256(folder)
    return f"hub:{name}"
