"""`llamacpp:PATH.gguf` — llama-cpp-python in process.

Loglikelihood decodes only what changed since the previous request (choices of one question
share their context in the KV cache) and asks llama.cpp for logits only at the positions
that score a continuation token, so the 262k-wide vocabulary projection is not paid per
prompt token.

Why the decode schedule copies llama-cpp-python's server (`Llama.generate`): llama.cpp's CPU
numerics depend on how tokens are split into decode batches — on Gemma 3 270M Q4_K_M a
choice's log-likelihood moves by up to ~0.4 nats between "whole prompt in one batch" and "BOS
first, then the rest". Following the server's rule (keep the longest common prefix with the
previous prompt, one token less when the whole prompt is cached, decode the rest in one
pass; a model switch starts from an empty cache, as the server reloads on an alias switch)
makes `llamacpp:` and `llamacpp-server:`/`openai:` give the same scores for the same request
order, which the scoring client keeps (preset llamacpp scores one request at a time).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal, Mapping, Sequence

import numpy as np
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
from hyoka.models.identity import file_sha256
from hyoka.models.tokenization import encode_pair, score_continuation


Mode = Literal["score", "generate"]
#: logits rows (1 MB each for a 262k vocabulary) kept for reuse by the next requests
MAX_KEPT_ROWS = 256


class LlamaCppArgs(BackendArgs):
    n_ctx: int = Field(default=4096, gt=0, description="context length in tokens (prompt + answer)")
    n_batch: int = Field(default=512, gt=0, description="tokens decoded per batch")
    n_threads: int | None = Field(default=None, gt=0, description="CPU threads (default: all cores)")
    n_gpu_layers: int = Field(default=0, ge=-1, description="layers offloaded to the GPU; -1 all")
    chat_template: str | None = Field(default=None, description="Jinja chat template file (default: the GGUF's own)")


class LlamaCppBackend(Backend):
    kind = "llamacpp"
    Args = LlamaCppArgs

    def __init__(self, name: str, args: Mapping[str, Any] | LlamaCppArgs) -> None:
        a = validate_args(LlamaCppArgs, args, source="--model-args")
        try:
            import llama_cpp  # noqa: F401
        except ImportError:
            raise BackendUnavailable("backend 'llamacpp' needs llama-cpp-python: pip install 'hyoka[llamacpp]'") from None
        from llama_cpp import Llama

        self.path = Path(name).expanduser()
        if not self.path.is_file():
            raise ModelSpecError(f"llamacpp:{name}: no such GGUF file")
        self.n_ctx = a.n_ctx
        try:
            self.llm = Llama(
                model_path=str(self.path),
                n_ctx=self.n_ctx,
                n_batch=a.n_batch,
                n_threads=a.n_threads or os.cpu_count() or 1,
                n_gpu_layers=a.n_gpu_layers,
                logits_all=False,
                verbose=False,
            )
        except (ValueError, RuntimeError) as exc:
            raise ModelSpecError(f"llamacpp:{name}: not a loadable GGUF model ({exc})") from None
        self._template = load_template_arg(a.chat_template) or self.llm.metadata.get("tokenizer.chat_template")
        # only a context length the user chose is part of the identity (as before typed args)
        self._settings = (("n_ctx", str(a.n_ctx)),) if "n_ctx" in a.model_fields_set else ()
        self._identity = ModelIdentity(
            backend=self.kind,
            name=self.path.name,
            weights_hash=file_sha256(self.path),
            template_hash=template_hash(self._template),
            settings=self._settings,
        )
        self._rows: dict[int, np.ndarray] = {}  # logits rows kept per position (for prefix reuse)
        self._mode: Mode | None = None
        self._bos = self.llm.detokenize([self.llm.token_bos()], special=True).decode("utf-8", errors="replace")

    @property
    def identity(self) -> ModelIdentity:
        return self._identity

    @property
    def chat_template(self) -> str | None:
        return self._template

    def special_tokens(self) -> dict[str, str]:
        eos = self.llm.detokenize([self.llm.token_eos()], special=True).decode("utf-8", errors="replace")
        return {"bos_token": self._bos, "eos_token": eos}

    def encode(self, text: str) -> list[int]:
        # a rendered chat template may already start with BOS: do not add a second
        add_bos = not (self._bos and text.startswith(self._bos))
        return self.llm.tokenize(text.encode("utf-8"), add_bos=add_bos, special=True)

    # -- loglikelihood --------------------------------------------------------------------

    def loglikelihood(self, requests: Sequence[LoglikelihoodRequest]) -> list[LoglikelihoodResult]:
        self._enter_mode("score")
        return [self._score(r) for r in requests]

    def _score(self, request: LoglikelihoodRequest) -> LoglikelihoodResult:
        ctx, cont = encode_pair(self.encode, request.context, request.continuation)
        tokens = ctx + cont
        if len(tokens) > self.n_ctx:
            return LoglikelihoodResult(float("-inf"), False, len(cont), error=f"too_long: {len(tokens)} tokens > n_ctx {self.n_ctx}")
        # the logits at position p predict token p+1: the last context token's row scores the first continuation token
        scored = range(len(ctx) - 1, len(tokens) - 1)
        start = self._reuse_point(tokens, scored)
        self._truncate(start)
        self._decode(tokens[start:], want={p for p in scored if p >= start})
        logprob, greedy = score_continuation(np.stack([self._rows[p] for p in scored]), cont)
        self._evict_rows()
        return LoglikelihoodResult(logprob, greedy, len(cont))

    def _reuse_point(self, tokens: list[int], scored: range) -> int:
        """First position to decode: the server's prefix rule, moved back to the first scored
        position whose logits were not kept."""
        common = self._common_prefix(tokens)
        # a prompt that is a strict prefix of the cache re-decodes its last token (as the server does)
        start = common - 1 if common == len(tokens) < self.llm.n_tokens else common
        missing = [p for p in scored if p < start and p not in self._rows]
        return min([start, *missing])

    def _common_prefix(self, tokens: list[int]) -> int:
        n = 0
        cached = self.llm.input_ids[: self.llm.n_tokens]
        for a, b in zip(cached, tokens):
            if a != b:
                break
            n += 1
        return n

    def _truncate(self, keep: int) -> None:
        if not self.llm._ctx.kv_cache_seq_rm(-1, keep, -1):
            # some cache kinds cannot drop a suffix: start from scratch instead
            self.llm._ctx.kv_cache_seq_rm(-1, 0, -1)
            keep = 0
        self.llm.n_tokens = keep
        self._rows = {p: row for p, row in self._rows.items() if p < keep}

    def _decode(self, tokens: list[int], *, want: set[int]) -> None:
        """Decode `tokens` after the current position (in n_batch chunks, as llama.cpp's
        server does); keep the logits rows of the positions in `want`."""
        llm = self.llm
        n_vocab = llm.n_vocab()
        for i in range(0, len(tokens), llm.n_batch):
            chunk = tokens[i : i + llm.n_batch]
            n_past = llm.n_tokens
            llm._batch.set_batch(batch=chunk, n_past=n_past, logits_all=False)
            flags = [n_past + j in want for j in range(len(chunk))]
            for j, flag in enumerate(flags):
                llm._batch.batch.logits[j] = flag
            llm._ctx.decode(llm._batch)
            llm.input_ids[n_past : n_past + len(chunk)] = chunk
            llm.n_tokens += len(chunk)
            n_out = sum(flags)
            if n_out:
                flat = np.ctypeslib.as_array(llm._ctx.get_logits(), shape=(n_out * n_vocab,))
                rows = iter(flat.reshape(n_out, n_vocab).copy())
                self._rows.update({n_past + j: next(rows) for j, flag in enumerate(flags) if flag})

    def _evict_rows(self) -> None:
        """Keep at most MAX_KEPT_ROWS rows, the lowest positions going first; an evicted row that
        a later request needs is decoded again (off the server's schedule, so rarely equal bits)."""
        for p in sorted(self._rows)[: max(0, len(self._rows) - MAX_KEPT_ROWS)]:
            del self._rows[p]

    def _enter_mode(self, mode: Mode) -> None:
        """Start from an empty cache when switching between scoring and generation (the server
        loads a separate model per kind and reloads on a switch)."""
        if self._mode != mode:
            self._truncate(0)
            self._mode = mode

    # -- generation ---------------------------------------------------------------------

    def generate(self, requests: Sequence[GenerateRequest]) -> list[GenerateResult]:
        self._enter_mode("generate")
        return [self._generate(r) for r in requests]

    def _generate(self, request: GenerateRequest) -> GenerateResult:
        p = request.params
        prompt_tokens = self.encode(request.prompt)
        if len(prompt_tokens) + p.max_tokens > self.n_ctx:
            budget = self.n_ctx - len(prompt_tokens)
            if budget <= 0:
                return GenerateResult("", error=f"too_long: prompt has {len(prompt_tokens)} tokens > n_ctx {self.n_ctx}")
        else:
            budget = p.max_tokens
        out: dict[str, Any] = self.llm.create_completion(
            prompt=prompt_tokens,
            max_tokens=budget,
            temperature=p.temperature,
            top_p=p.top_p,
            top_k=0 if p.temperature > 0 else 1,
            stop=list(p.stop) or None,
            seed=p.seed,
            repeat_penalty=1.0,
        )  # type: ignore[assignment]
        choice = out["choices"][0]
        usage = out.get("usage", {})
        # reasoning (<think>…</think>) is split off here, once; consumers read .text/.reasoning
        return GenerateResult.from_output(
            choice["text"],
            prompt_tokens=usage.get("prompt_tokens"),
            completion_tokens=usage.get("completion_tokens"),
            finish_reason=choice.get("finish_reason"),
        )

    def preferred_batch_size(self) -> int:
        return 32

    def close(self) -> None:
        llm = getattr(self, "llm", None)
        if llm is not None:
            llm.close()
            self.llm = None  # type: ignore[assignment]
