"""Per-model settings files (`--settings FILE`) and the precedence of generation settings.

A settings file says how one model should be run, independently of the task::

    name: greedy-ja            # becomes part of the results path (default: the file's stem)
    system_message: あなたは誠実なアシスタントです。
    generation: {temperature: 0.0, top_p: 1.0, max_tokens: 512, seed: 1, stop: ["\\n\\n"]}
    max_n: 8                   # provider cap on samples per request (API backends)
    reasoning: {effort: high, parser: deepseek_r1}
    price: {input_per_mtok: 0.15, output_per_mtok: 0.60}
    model_args: {concurrency: 32, timeout: 300}

Precedence, highest first: the command line (--gen, --system-prompt, --model-args) >
the model settings file > the task's own defaults. `ResolvedSettings.summary()` records the
values and where each came from; it goes into summary.json.

Results path with a settings file: results/{provider}/{publisher}/{model}/{settings}.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from hyoka.errors import HyokaError
from hyoka.models.args import GenerationOverrides, error_parts

API_BACKENDS = {"openai", "litellm", "llamacpp-server", "vllm"}
_NAME = r"^[A-Za-z0-9_.\-]+$"


class SettingsError(HyokaError):
    pass


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


#: the generation block is the same model `--gen` is checked against (ranges in one place)
GenerationSettings = GenerationOverrides


class ReasoningSettings(_Strict):
    #: sent as reasoning_effort (OpenAI o-series, gpt-oss, ...)
    effort: Literal["minimal", "low", "medium", "high"] | None = None
    #: vLLM --reasoning-parser (reasoning comes back apart from the answer)
    parser: str | None = None


class PriceSettings(_Strict):
    input_per_mtok: float = Field(ge=0)
    output_per_mtok: float = Field(ge=0)


class SettingsFile(_Strict):
    name: str | None = Field(default=None, pattern=_NAME)
    system_message: str | None = None
    generation: GenerationSettings = GenerationSettings()
    max_n: int | None = Field(default=None, gt=0)
    reasoning: ReasoningSettings = ReasoningSettings()
    price: PriceSettings | None = None
    model_args: dict[str, str | int | float | bool] = Field(default_factory=dict)


@dataclass(frozen=True)
class ModelSettings:
    name: str
    path: Path
    sha256: str
    data: SettingsFile


def load_settings(path: Path) -> ModelSettings:
    """Read and validate a settings file; one-line errors naming the file and field."""
    if not path.is_file():
        raise SettingsError(f"--settings {path}: no such file")
    raw = path.read_bytes()
    try:
        loaded = yaml.safe_load(raw.decode("utf-8")) or {}
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise SettingsError(f"{path}: not valid YAML ({str(exc).splitlines()[0]})") from None
    if not isinstance(loaded, dict):
        raise SettingsError(f"{path}: expected a mapping of settings (name, generation, system_message, ...)")
    try:
        data = SettingsFile.model_validate(loaded)
    except ValidationError as exc:
        where, message = error_parts(SettingsFile, exc)
        raise SettingsError(f"{path}: field '{where}': {message} (fields: {', '.join(SettingsFile.model_fields)})") from None
    name = data.name or path.stem
    if not re.match(_NAME, name):
        raise SettingsError(f"{path}: settings name '{name}' may only use letters, digits, '_', '-', '.'; set name:")
    return ModelSettings(name, path, hashlib.sha256(raw).hexdigest(), data)


@dataclass
class ResolvedSettings:
    name: str
    gen_overrides: dict[str, Any]
    system_prompt: str | None
    model_args: dict[str, str]
    #: key → "cli" | "model_settings" (keys absent here come from the task)
    sources: dict[str, str] = field(default_factory=dict)
    file: str | None = None
    sha256: str | None = None

    def summary(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "file": self.file,
            "sha256": self.sha256,
            "precedence": "cli > model_settings > task",
            "generation": self.gen_overrides,
            "system_prompt": self.system_prompt,
            "sources": dict(sorted(self.sources.items())),
        }


def resolve_settings(
    settings: ModelSettings | None,
    *,
    backend: str,
    cli_gen: dict[str, Any],
    cli_system_prompt: str | None,
    cli_model_args: dict[str, str],
) -> ResolvedSettings:
    """Merge command line over the settings file; the task fills in whatever neither sets."""
    sources: dict[str, str] = {}
    gen: dict[str, Any] = {}
    model_args: dict[str, str] = {}
    system = None
    if settings is not None:
        data = settings.data
        for key, value in data.generation.model_dump(exclude_none=True).items():
            gen[key] = value
            sources[f"generation.{key}"] = "model_settings"
        if data.system_message is not None:
            system = data.system_message
            sources["system_prompt"] = "model_settings"
        file_args = {**{k: _arg(v) for k, v in data.model_args.items()}, **_api_args(settings, backend)}
        from hyoka.models.registry import check_model_args

        check_model_args(backend, file_args, source=f"{settings.path}: model_args")
        for key, value in file_args.items():
            model_args[key] = value
            sources[f"model_args.{key}"] = "model_settings"
    for key, value in cli_gen.items():
        gen[key] = value
        sources[f"generation.{key}"] = "cli"
    if cli_system_prompt is not None:
        system = cli_system_prompt
        sources["system_prompt"] = "cli"
    for key, value in cli_model_args.items():
        model_args[key] = value
        sources[f"model_args.{key}"] = "cli"
    return ResolvedSettings(
        name=settings.name if settings else "default",
        gen_overrides=gen,
        system_prompt=system,
        model_args=model_args,
        sources=sources,
        file=str(settings.path) if settings else None,
        sha256=settings.sha256 if settings else None,
    )


def _arg(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _api_args(settings: ModelSettings, backend: str) -> dict[str, str]:
    """max_n, reasoning and price become model-args of the API backends."""
    data = settings.data
    out: dict[str, str] = {}
    if data.max_n is not None:
        out["max_n"] = str(data.max_n)
    if data.reasoning.effort:
        out["reasoning_effort"] = data.reasoning.effort
    if data.price is not None:
        out["price_in"] = str(data.price.input_per_mtok)
        out["price_out"] = str(data.price.output_per_mtok)
    if data.reasoning.parser:
        if backend != "vllm":
            raise SettingsError(f"{settings.path}: reasoning.parser is a vLLM server option; remove it for backend '{backend}'")
        out["reasoning_parser"] = data.reasoning.parser
    if out and backend not in API_BACKENDS:
        keys = ", ".join(sorted(out))
        raise SettingsError(
            f"{settings.path}: {keys} apply to API backends ({', '.join(sorted(API_BACKENDS))}), not '{backend}'; remove them"
        )
    return out


def _component(text: str) -> str:
    """A safe path component."""
    cleaned = re.sub(r"[^A-Za-z0-9_.\-]+", "_", text).strip("._") or "_"
    return cleaned[:100]


def results_path(backend: str, name: str, model_args: dict[str, str], settings_name: str, root: Path = Path("results")) -> Path:
    """results/{provider}/{publisher}/{model}/{settings}.

    provider: the backend, or for `openai:` the preset (or the endpoint's host);
    publisher/model: an HF-style 'org/model' name, else 'local' and the file's stem."""
    provider = backend
    if backend == "openai":
        base = model_args.get("base_url")
        provider = model_args.get("preset") or (re.sub(r"^https?://", "", base).split("/")[0] if base else "openai")
    looks_like_path = name.endswith(".gguf") or name.startswith(("/", ".", "~")) or Path(name).expanduser().exists()
    if looks_like_path:
        publisher, model = "local", Path(name).name.removesuffix(".gguf")
    elif "/" in name:
        publisher, _, model = name.partition("/")
    else:
        publisher, model = provider, name
    return root / _component(provider) / _component(publisher) / _component(model) / _component(settings_name)
