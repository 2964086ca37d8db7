"""`hf:PATH_OR_HUB_ID` — transformers + torch, batched.

Loglikelihood work is not wasted: the choices of one question share their context, so the
context is run once and its KV cache is reused by every continuation (run as one batch),
and the vocabulary projection (lm_head; 262k wide on Gemma) is applied only at the
positions where a continuation token is scored, not at every prompt position.

`hf:/path/model.gguf` dequantises a GGUF file once into safetensors under the hyoka cache
and loads that folder from then on.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from pathlib import Path
from typing import Annotated, Any, Literal, Mapping, Sequence

from pydantic import Field

from hyoka.errors import BackendUnavailable, ModelSpecError
from hyoka.models.base import (
    Backend,
    GenerateRequest,
    GenerateResult,
    LoglikelihoodRequest,
    LoglikelihoodResult,
    ModelIdentity,
)
from hyoka.models.args import BackendArgs, validate_args
from hyoka.models.chat_template import load_template_arg, template_hash
from hyoka.models.identity import directory_sha256, file_sha256
from hyoka.models.tokenization import encode_pair

#: scored positions projected together (bounds the rows x vocabulary logits buffer)
PROJECTION_ROWS = 256

#: batch_size=auto starts here and halves on out-of-memory (lm-eval users' habit)
AUTO_BATCH_START = 64


class HFArgs(BackendArgs):
    dtype: Literal["float32", "bfloat16", "float16", "auto"] | None = Field(
        default=None, description="weights dtype (default: float32 on CPU, bfloat16 on GPU)"
    )
    device: str | None = Field(default=None, description="torch device, e.g. cpu, cuda, cuda:1 (default: cuda when available)")
    batch_size: Annotated[int, Field(gt=0)] | Literal["auto"] = Field(
        default=8, description="distinct contexts per forward pass; 'auto': the largest that fits (from 64, halved on out-of-memory)"
    )
    revision: str | None = Field(default=None, description="hub revision (branch, tag or commit)")
    chat_template: str | None = Field(default=None, description="Jinja chat template file (default: the tokenizer's)")
    max_length: int | None = Field(default=None, gt=0, description="context length cap in tokens")
    trust_remote_code: bool = Field(default=False, description="run the model repository's own Python code")


def _import_torch() -> Any:
    try:
        import torch
        import transformers  # noqa: F401
    except ImportError:
        raise BackendUnavailable("backend 'hf' needs torch and transformers: pip install 'hyoka[hf]'") from None
    return torch


class HFBackend(Backend):
    kind = "hf"
    Args = HFArgs

    def __init__(self, name: str, args: Mapping[str, Any] | HFArgs) -> None:
        a = validate_args(HFArgs, args, source="--model-args")
        torch = _import_torch()
        from transformers import AutoModelForCausalLM, AutoTokenizer

        self.torch = torch
        self.device = a.device or ("cuda" if torch.cuda.is_available() else "cpu")
        dtype_name = a.dtype if a.dtype not in (None, "auto") else ("float32" if self.device == "cpu" else "bfloat16")
        dtype = getattr(torch, dtype_name)
        self._auto_batch = a.batch_size == "auto"
        self.batch_size: int = AUTO_BATCH_START if a.batch_size == "auto" else a.batch_size
        self.max_length = a.max_length
        source, weights_hash, revision = self._locate(name, a.revision)
        trust = a.trust_remote_code
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(source, revision=revision, trust_remote_code=trust)
            self.model = AutoModelForCausalLM.from_pretrained(
                source, revision=revision, dtype=dtype, trust_remote_code=trust
            ).to(self.device)
        except (OSError, ValueError) as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise ModelSpecError(f"hf:{name}: cannot load model ({first})") from None
        self.model.eval()
        self._template = load_template_arg(a.chat_template) or getattr(self.tokenizer, "chat_template", None)
        self._identity = ModelIdentity(
            backend=self.kind,
            name=name,
            weights_hash=weights_hash,
            template_hash=template_hash(self._template),
            settings=(("dtype", dtype_name),),
        )

    # -- loading -----------------------------------------------------------------------

    def _locate(self, name: str, revision: str | None) -> tuple[str, str, str | None]:
        """(what to load from, weights identity, revision)."""
        path = Path(name).expanduser()
        if path.suffix == ".gguf":
            if not path.is_file():
                raise ModelSpecError(f"hf:{name}: no such GGUF file")
            return str(dequantised_gguf_folder(path)), "gguf:" + file_sha256(path), None
        if path.is_dir():
            return str(path), directory_sha256(path), None
        if path.is_absolute() or name.startswith((".", "~")):
            raise ModelSpecError(f"hf:{name}: no such model folder")
        # a hub id: its identity is the resolved commit, so 'main' moving changes the key
        try:
            from huggingface_hub import HfApi

            sha = HfApi().model_info(name, revision=revision).sha
        except Exception as exc:  # noqa: BLE001 - offline or unknown id: one line either way
            raise ModelSpecError(
                f"hf:{name}: not a local folder and the hub cannot be reached to resolve it ({type(exc).__name__}); "
                "give a local path or set HF_HOME to a cache that holds it"
            ) from None
        return name, f"hub:{name}@{sha}", sha

    @property
    def identity(self) -> ModelIdentity:
        return self._identity

    @property
    def chat_template(self) -> str | None:
        return self._template

    def special_tokens(self) -> dict[str, str]:
        return {"bos_token": self.tokenizer.bos_token or "", "eos_token": self.tokenizer.eos_token or ""}

    def encode(self, text: str) -> list[int]:
        bos = self.tokenizer.bos_token
        add_special = not (bos and text.startswith(bos))
        return list(self.tokenizer(text, add_special_tokens=add_special).input_ids)

    # -- loglikelihood --------------------------------------------------------------------

    def loglikelihood(self, requests: Sequence[LoglikelihoodRequest]) -> list[LoglikelihoodResult]:
        encoded = [encode_pair(self.encode, r.context, r.continuation) for r in requests]
        by_context: OrderedDict[tuple[int, ...], list[int]] = OrderedDict()
        for i, (ctx, _) in enumerate(encoded):
            by_context.setdefault(tuple(ctx), []).append(i)
        groups = list(by_context.items())
        hidden: list[Any] = [None] * len(requests)
        with self.torch.inference_mode():
            start = 0
            while start < len(groups):
                batch = groups[start : start + self.batch_size]
                try:
                    states = self._continuation_states(
                        [list(ctx) for ctx, _ in batch], [[encoded[i][1] for i in idx] for _, idx in batch]
                    )
                except Exception as exc:  # noqa: BLE001 - only out-of-memory under batch_size=auto is handled
                    if not self._shrink_batch(exc):
                        raise
                    continue
                for (_, indices), group_states in zip(batch, states):
                    for i, state in zip(indices, group_states):
                        hidden[i] = state
                start += len(batch)
            return self._score_states(hidden, [cont for _, cont in encoded])

    def _shrink_batch(self, exc: BaseException) -> bool:
        """batch_size=auto: halve the batch after an out-of-memory error (True: try again)."""
        text = str(exc).lower()
        oom = isinstance(exc, getattr(self.torch.cuda, "OutOfMemoryError", ())) or "out of memory" in text
        oom = oom or "can't allocate memory" in text
        if not (self._auto_batch and oom and self.batch_size > 1):
            return False
        self.batch_size //= 2
        if self.torch.cuda.is_available():
            self.torch.cuda.empty_cache()
        return True

    def _continuation_states(self, contexts: list[list[int]], continuations: list[list[list[int]]]) -> list[list[Any]]:
        """Final hidden states that predict each continuation's tokens (one row per token).

        Each distinct context runs once (contexts batched, left-padded); then every
        continuation's remaining tokens run in one batch on top of its context's KV cache.
        """
        torch, device = self.torch, self.device
        body = self.model.get_decoder()
        pad = self.tokenizer.pad_token_id or 0
        width = max(len(c) for c in contexts)
        ids = torch.tensor([[pad] * (width - len(c)) + c for c in contexts], device=device)
        mask = torch.tensor([[0] * (width - len(c)) + [1] * len(c) for c in contexts], device=device)
        positions = (mask.cumsum(-1) - 1).clamp(min=0)
        out = body(input_ids=ids, attention_mask=mask, position_ids=positions, use_cache=True)
        last = out.last_hidden_state[:, -1:]  # predicts each continuation's first token
        pairs = [(g, cont) for g, conts in enumerate(continuations) for cont in conts]
        longest = max(len(cont) for _, cont in pairs)
        rest = None
        if longest > 1:
            rows = [cont[:-1] + [pad] * (longest - len(cont)) for _, cont in pairs]
            owner = torch.tensor([g for g, _ in pairs], device=device)
            cache = out.past_key_values
            cache.batch_select_indices(owner)
            lengths = torch.tensor([len(contexts[g]) for g, _ in pairs], device=device)
            rest_positions = lengths[:, None] + torch.arange(longest - 1, device=device)[None, :]
            rest_mask = torch.cat([mask[owner], torch.ones(len(pairs), longest - 1, dtype=mask.dtype, device=device)], 1)
            rest = body(
                input_ids=torch.tensor(rows, device=device),
                past_key_values=cache,
                attention_mask=rest_mask,
                position_ids=rest_positions,
                use_cache=True,
            ).last_hidden_state
        states: list[list[Any]] = [[] for _ in contexts]
        for row, (g, cont) in enumerate(pairs):
            parts = [last[g]] + ([rest[row, : len(cont) - 1]] if rest is not None and len(cont) > 1 else [])
            states[g].append(torch.cat(parts))
        return states

    def _score_states(self, states: list[Any], continuations: list[list[int]]) -> list[LoglikelihoodResult]:
        """Project every scored position of the batch at once: the (large) output matrix is
        read from memory once per chunk of rows, not once per continuation."""
        torch = self.torch
        results: list[LoglikelihoodResult] = []
        chunk: list[int] = []
        rows = 0
        for i, cont in enumerate(continuations):
            chunk.append(i)
            rows += len(cont)
            if rows >= PROJECTION_ROWS or i == len(continuations) - 1:
                hidden = torch.cat([states[j] for j in chunk])
                logprobs = torch.log_softmax(self._project(hidden).float(), dim=-1)
                targets = torch.tensor([t for j in chunk for t in continuations[j]], device=self.device)
                token_lp = logprobs.gather(1, targets[:, None])[:, 0]
                greedy = logprobs.argmax(dim=-1) == targets
                start = 0
                for j in chunk:
                    end = start + len(continuations[j])
                    results.append(
                        LoglikelihoodResult(
                            float(token_lp[start:end].sum().item()),
                            bool(greedy[start:end].all().item()),
                            len(continuations[j]),
                        )
                    )
                    start = end
                chunk, rows = [], 0
        return results

    def _project(self, hidden: Any) -> Any:
        logits = self.model.get_output_embeddings()(hidden)
        cap = getattr(self.model.config, "final_logit_softcapping", None)
        if cap:
            logits = self.torch.tanh(logits / cap) * cap
        return logits

    # -- generation ---------------------------------------------------------------------

    def generate(self, requests: Sequence[GenerateRequest]) -> list[GenerateResult]:
        return [self._generate(r) for r in requests]

    def _generate(self, request: GenerateRequest) -> GenerateResult:
        torch = self.torch
        p = request.params
        ids = self.encode(request.prompt)
        torch.manual_seed(p.seed)
        with torch.inference_mode():
            out = self.model.generate(
                input_ids=torch.tensor([ids], device=self.device),
                attention_mask=torch.ones(1, len(ids), dtype=torch.long, device=self.device),
                max_new_tokens=p.max_tokens,
                do_sample=p.temperature > 0,
                temperature=p.temperature if p.temperature > 0 else None,
                top_p=p.top_p if p.temperature > 0 else None,
                top_k=None,
                pad_token_id=self.tokenizer.pad_token_id or self.tokenizer.eos_token_id,
            )
        new = out[0, len(ids) :].tolist()
        text = self.tokenizer.decode(new, skip_special_tokens=True)
        finish = "length" if len(new) >= p.max_tokens else "stop"
        for stop in p.stop:
            cut = text.find(stop)
            if cut != -1:
                text, finish = text[:cut], "stop"
        # reasoning (<think>…</think>) is split off here, once; consumers read .text/.reasoning
        return GenerateResult.from_output(text, prompt_tokens=len(ids), completion_tokens=len(new), finish_reason=finish)

    def preferred_batch_size(self) -> int:
        # questions of up to ~5 choices each: several context batches per call
        return max(1, self.batch_size) * 20

    def close(self) -> None:
        self.model = None


def dequantised_gguf_folder(gguf: Path) -> Path:
    """A safetensors copy of a GGUF model (dequantised once, reused by hash)."""
    from hyoka.data.files import cache_dir

    folder = cache_dir() / "models" / f"gguf-{file_sha256(gguf)[:16]}"
    if (folder / "config.json").is_file():
        return folder
    torch = _import_torch()
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name, dtype=torch.float32)
    # the weights are dequantised already; drop the GGUF marker so they save as plain safetensors
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    tmp = folder.with_name(folder.name + f".tmp{os.getpid()}")
    model.save_pretrained(tmp)
    tokenizer.save_pretrained(tmp)
    tmp.rename(folder)
    return folder
