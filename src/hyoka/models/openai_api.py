"""`openai:MODEL` — any OpenAI-compatible HTTP endpoint (OpenAI, Together, Groq, DeepSeek, vLLM, llama.cpp).

Generation goes to /chat/completions (`api=chat`, the default for hosted presets; sends
GenerateRequest.messages) or /completions (`api=completions`; sends the rendered prompt).
Loglikelihood needs /completions with `echo` + `logprobs` (prompt log-probabilities), which
vLLM and llama.cpp's servers have and most hosted chat APIs do not: those fail with one line.

Requests run concurrently on asyncio + httpx under `hyoka.models.retry` (one policy for every
remote call). A request that still fails after its retries comes back with `error` set, so the
executor neither caches nor scores it and a rerun retries only those.

API keys are read from the environment or a `.env` file at call time and kept only in the
HTTP client's headers: never in the identity, settings, errors or anything written to disk.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Awaitable, Callable, Literal, Mapping, Sequence
from urllib.parse import urlsplit, urlunsplit

from pydantic import AfterValidator, Field

from hyoka.errors import BackendUnavailable, ModelSpecError
from hyoka.models import retry
from hyoka.models.args import BackendArgs, validate_args
from hyoka.models.retry import AdaptiveLimiter, PermanentError, RetryPolicy, RetryStats, TransientError
from hyoka.models.base import (
    Backend,
    GenerateRequest,
    GenerateResult,
    LoglikelihoodRequest,
    LoglikelihoodResult,
    ModelIdentity,
)
from hyoka.models.tokenization import split_context_continuation
from hyoka.core.reasoning import split_reasoning

ApiKind = Literal["chat", "completions"]


@dataclass(frozen=True)
class Preset:
    """What differs between providers. `prompt_logprobs`: /completions answers echo+logprobs."""

    base_url: str
    api_key_env: str | None  # None: the endpoint needs no key (local servers)
    api: ApiKind = "chat"
    max_n: int = 1
    concurrency: int = 64
    prompt_logprobs: bool = False
    #: name of the output-length field (OpenAI's newer models reject max_tokens)
    max_tokens_field: str = "max_tokens"
    #: provider-specific body fields sent with every generation request
    extra_body: tuple[tuple[str, Any], ...] = ()
    #: send loglikelihood requests one at a time, in order (each with its retries): a server
    #: that reuses the previous prompt's KV cache gives order-dependent numerics otherwise
    score_in_order: bool = False


PRESETS: dict[str, Preset] = {
    "openai": Preset("https://api.openai.com/v1", "OPENAI_API_KEY", max_n=128, max_tokens_field="max_completion_tokens"),
    "together": Preset("https://api.together.xyz/v1", "TOGETHER_API_KEY", max_n=1, prompt_logprobs=True),
    "groq": Preset("https://api.groq.com/openai/v1", "GROQ_API_KEY", max_n=1, concurrency=16),
    "deepseek": Preset("https://api.deepseek.com/v1", "DEEPSEEK_API_KEY", max_n=1),
    "openrouter": Preset("https://openrouter.ai/api/v1", "OPENROUTER_API_KEY", max_n=1),
    # DeepInfra's OpenAI-compatible endpoint (the TSUBAME manual's hosted open models)
    "deepinfra": Preset("https://api.deepinfra.com/v1/openai", "DEEPINFRA_API_KEY", max_n=1, concurrency=32),
    # local servers: no key, prompt logprobs available, base models → completions by default
    "vllm": Preset("http://127.0.0.1:8000/v1", None, api="completions", max_n=128, concurrency=128, prompt_logprobs=True),
    # llama-cpp-python's server answers one request at a time and ignores `n`; its sampler
    # defaults (repeat_penalty 1.1, top_k 40) differ from in-process llamacpp: pin them
    "llamacpp": Preset(
        "http://127.0.0.1:8000/v1",
        None,
        api="completions",
        max_n=1,
        concurrency=1,  # the server decodes one at a time; more in flight only adds contention (bench/api_throughput.py)
        prompt_logprobs=True,
        extra_body=(("repeat_penalty", 1.0), ("top_k", 0)),
        score_in_order=True,  # same scores as in-process llamacpp: (see hyoka.models.llamacpp)
    ),
    # any other endpoint given by base_url=: try what is asked, report what it cannot do
    "generic": Preset("", None, api="chat", max_n=1, concurrency=64, prompt_logprobs=True),
}

class ClientArgs(BackendArgs):
    """How hyoka talks to an OpenAI-compatible endpoint (also the served backends' client)."""

    api: ApiKind | None = Field(default=None, description="generation endpoint: chat or completions (default: the preset's)")
    api_key_env: str | None = Field(default=None, description="name of the environment variable holding the key")
    concurrency: int | None = Field(default=None, ge=1, description="requests in flight at most (default: the preset's)")
    timeout: float = Field(default=600.0, gt=0, description="seconds per attempt")
    max_retries: int = Field(default=7, ge=0, description="retries per request after the first attempt")
    max_n: int | None = Field(default=None, ge=1, description="samples per request the provider allows (n is split in chunks)")
    price_in: float | None = Field(default=None, ge=0, description="USD per million prompt tokens")
    price_out: float | None = Field(default=None, ge=0, description="USD per million completion tokens")
    reasoning_effort: str | None = Field(default=None, description="sent as reasoning_effort (o-series, gpt-oss, ...)")

    def client_args(self) -> dict[str, Any]:
        """The client arguments the user set, for the OpenAIBackend a served backend starts."""
        return {k: getattr(self, k) for k in self.model_fields_set if k in ClientArgs.model_fields}


def _http_url(value: str) -> str:
    if not re.match(r"https?://", value):
        raise ValueError("must start with http:// or https://")
    return value


#: an endpoint root given in --model-args (openai:, litellm:)
HttpBaseUrl = Annotated[str, AfterValidator(_http_url)]


class OpenAIArgs(ClientArgs):
    preset: Literal["openai", "together", "groq", "deepseek", "openrouter", "deepinfra", "vllm", "llamacpp", "generic"] | None = Field(
        default=None, description="provider defaults (URL, key variable, API, limits); default: openai, or generic with base_url"
    )
    base_url: HttpBaseUrl | None = Field(default=None, description="endpoint root, e.g. http://127.0.0.1:8000/v1")
    score_model: str | None = Field(default=None, description="model name for loglikelihood requests (default: the model)")


@dataclass(frozen=True)
class ApiConfig:
    model: str
    preset: str
    base_url: str
    api: ApiKind
    api_key_env: str | None
    concurrency: int
    max_n: int
    policy: RetryPolicy
    prompt_logprobs: bool
    max_tokens_field: str
    extra_body: tuple[tuple[str, Any], ...] = ()
    score_in_order: bool = False
    price_in: float | None = None
    price_out: float | None = None
    reasoning_effort: str | None = None
    score_model: str | None = None

    @property
    def public_endpoint(self) -> str:
        """base_url without user:password@ (never recorded)."""
        parts = urlsplit(self.base_url)
        netloc = parts.hostname or ""
        if parts.port:
            netloc += f":{parts.port}"
        return urlunsplit((parts.scheme, netloc, parts.path.rstrip("/"), "", ""))


def parse_api_config(
    model: str,
    args: Mapping[str, Any] | OpenAIArgs,
    *,
    default_preset: str | None = None,
    require_base_url: bool = True,
) -> ApiConfig:
    """Model-args → ApiConfig, with one-line errors naming the argument. `litellm:` shares it
    with `require_base_url=False` (litellm knows each provider's endpoint)."""
    for key in args if isinstance(args, Mapping) else ():
        if key in ("api_key", "key", "token"):
            raise ModelSpecError(
                f"--model-args {key}=...: API keys are read only from the environment or .env; "
                "set e.g. OPENAI_API_KEY, or name the variable with api_key_env=NAME"
            )
    a = validate_args(OpenAIArgs, args, source="--model-args")
    name = a.preset or default_preset or ("generic" if a.base_url else "openai")
    preset = PRESETS[name]
    base_url = (a.base_url or preset.base_url).rstrip("/")
    if not base_url and require_base_url:
        raise ModelSpecError("openai: give the endpoint with --model-args base_url=http://HOST:PORT/v1 (or a preset=...)")
    return ApiConfig(
        model=model,
        preset=name,
        base_url=base_url,
        api=a.api or preset.api,
        api_key_env=a.api_key_env if "api_key_env" in a.model_fields_set else preset.api_key_env,
        concurrency=a.concurrency or preset.concurrency,
        max_n=a.max_n or preset.max_n,
        policy=RetryPolicy(max_attempts=a.max_retries + 1, timeout=a.timeout),
        prompt_logprobs=preset.prompt_logprobs,
        max_tokens_field=preset.max_tokens_field,
        extra_body=preset.extra_body,
        score_in_order=preset.score_in_order,
        price_in=a.price_in,
        price_out=a.price_out,
        reasoning_effort=a.reasoning_effort,
        score_model=a.score_model,
    )


def read_api_key(env_name: str | None, *, required: bool, dotenv: Path = Path(".env")) -> str | None:
    """The key from the environment, else from `.env` in the working directory. Never logged."""
    if not env_name:
        return None
    value = os.environ.get(env_name)
    if not value and dotenv.is_file():
        value = _dotenv_value(dotenv, env_name)
    if not value and required:
        raise ModelSpecError(
            f"no API key: set {env_name} in the environment or in .env "
            f"(or name another variable with api_key_env=NAME in --model-args, or in --judge-args for a judge)"
        )
    return value or None


def _dotenv_value(path: Path, name: str) -> str | None:
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        line = line.strip()
        if line.startswith("export "):
            line = line[len("export ") :].lstrip()
        key, sep, value = line.partition("=")
        if sep and key.strip() == name:
            value = value.strip()
            if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
                value = value[1:-1]
            return value
    return None


@dataclass
class UsageStats:
    prompt_tokens: int = 0
    completion_tokens: int = 0
    reasoning_tokens: int = 0

    def add(self, usage: dict[str, Any] | None) -> None:
        if not usage:
            return
        self.prompt_tokens += int(usage.get("prompt_tokens") or 0)
        self.completion_tokens += int(usage.get("completion_tokens") or 0)
        details = usage.get("completion_tokens_details") or {}
        self.reasoning_tokens += int(details.get("reasoning_tokens") or 0)


@dataclass
class _Transport:
    retry: RetryStats = field(default_factory=RetryStats)
    usage: UsageStats = field(default_factory=UsageStats)
    http_requests: int = 0
    #: attempts whose connection reached a server (an answer, or a reset after connecting)
    reached: int = 0


class OpenAIBackend(Backend):
    kind = "openai"
    Args = OpenAIArgs

    def __init__(self, name: str, args: Mapping[str, Any] | OpenAIArgs, *, default_preset: str | None = None) -> None:
        try:
            import httpx  # noqa: F401
        except ImportError:
            raise BackendUnavailable("backend 'openai' needs httpx: pip install 'hyoka[api]'") from None
        if not name:
            raise ModelSpecError("openai: give the model name the endpoint serves, e.g. openai:gpt-4o-mini")
        self.config = parse_api_config(name, args, default_preset=default_preset)
        self.config.policy.validate()
        required = self.config.api_key_env is not None and self.config.preset not in ("generic", "vllm", "llamacpp")
        self._api_key = read_api_key(self.config.api_key_env, required=required)
        self._limiter = AdaptiveLimiter(self.config.concurrency, self.config.policy)
        self._transport = _Transport()
        self._rng = random.Random(0)  # back-off jitter only: no effect on results
        self._identity = self._make_identity()

    # -- identity ----------------------------------------------------------------------

    def _make_identity(self) -> ModelIdentity:
        c = self.config
        settings = {"api": c.api, "preset": c.preset}
        if c.extra_body:
            settings["extra_body"] = json.dumps(dict(c.extra_body), sort_keys=True)
        if c.reasoning_effort:
            settings["reasoning_effort"] = c.reasoning_effort
        return ModelIdentity(
            backend=self.kind,
            name=c.model,
            weights_hash=f"api:{c.public_endpoint}",
            template_hash="server",  # chat endpoints apply the server's own template
            settings=tuple(sorted(settings.items())),
        )

    @property
    def identity(self) -> ModelIdentity:
        return self._identity

    def preferred_batch_size(self) -> int:
        # big batches keep `concurrency` requests in flight; the executor caches per batch
        return max(16, min(1024, self.config.concurrency * 4))

    def transport_stats(self) -> dict[str, Any]:
        """Retries, token usage and cost so far (summary.json → transport)."""
        t, c = self._transport, self.config
        out: dict[str, Any] = {
            "endpoint": c.public_endpoint,
            "http_requests": t.http_requests,
            **t.retry.as_dict(),
            "concurrency": {"max": self._limiter.max, "final": self._limiter.limit},
            "usage": {
                "prompt_tokens": t.usage.prompt_tokens,
                "completion_tokens": t.usage.completion_tokens,
                "reasoning_tokens": t.usage.reasoning_tokens,
            },
        }
        if c.price_in is not None or c.price_out is not None:
            cost = t.usage.prompt_tokens * (c.price_in or 0) + t.usage.completion_tokens * (c.price_out or 0)
            out["cost_usd"] = round(cost / 1e6, 6)
        return out

    # -- HTTP --------------------------------------------------------------------------

    def _run(self, jobs: list[Callable[[Any], Awaitable[Any]]], *, in_order: bool = False) -> list[Any]:
        """Run coroutine factories concurrently on one client (one after the other when
        `in_order`); results in order."""
        import httpx

        async def main() -> list[Any]:
            headers = {"Authorization": f"Bearer {self._api_key}"} if self._api_key else {}
            limits = httpx.Limits(max_connections=self.config.concurrency, max_keepalive_connections=self.config.concurrency)
            timeout = httpx.Timeout(self.config.policy.timeout)
            async with httpx.AsyncClient(base_url=self.config.base_url, headers=headers, limits=limits, timeout=timeout) as client:
                if in_order:
                    return [await job(client) for job in jobs]
                return await asyncio.gather(*(job(client) for job in jobs))

        return asyncio.run(main())

    async def _post(self, client: Any, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """POST with retries. Raises PermanentError when the request fails for good, ModelSpecError
        when no request can succeed (bad key, unknown model)."""

        async def attempt() -> dict[str, Any]:
            import httpx

            self._transport.http_requests += 1
            try:
                response = await client.post(path, json=body)
            except httpx.TimeoutException as exc:
                raise TransientError(retry.TIMEOUT, type(exc).__name__) from None
            except httpx.ConnectError as exc:  # refused, no route: nothing listens there (yet)
                raise TransientError(retry.CONNECTION, self._scrub(f"{type(exc).__name__}: {exc}")) from None
            except httpx.TransportError as exc:  # reset, closed without a response: a server is there
                self._transport.reached += 1
                raise TransientError(retry.CONNECTION, self._scrub(f"{type(exc).__name__}: {exc}")) from None
            self._transport.reached += 1
            return self._parse_response(response, path)

        try:
            answer = await retry.retry_async(
                attempt, policy=self.config.policy, limiter=self._limiter, stats=self._transport.retry, rng=self._rng
            )
        except PermanentError as exc:
            if self._never_connected(exc):
                # nothing has ever answered: every other request would wait out the same retries
                raise ModelSpecError(
                    f"{self.config.public_endpoint}{path}: no connection after {self.config.policy.max_attempts} attempts "
                    f"({exc.detail.split(' (gave up')[0]}); is the server running, and is base_url right?"
                ) from None
            raise
        return answer

    def _never_connected(self, exc: PermanentError) -> bool:
        """True when no attempt of this backend has reached a server and every failure so far was
        a refused connection: the endpoint is not there, not merely flaky."""
        failures = set(self._transport.retry.retries) | set(self._transport.retry.gave_up)
        return exc.reason == retry.CONNECTION and self._transport.reached == 0 and failures <= {retry.CONNECTION}

    def _parse_response(self, response: Any, path: str) -> dict[str, Any]:
        status = response.status_code
        if status == 200:
            try:
                data = response.json()
            except ValueError:
                raise TransientError(retry.SERVER_ERROR, "200 with a body that is not JSON") from None
            if not isinstance(data, dict) or not isinstance(data.get("choices"), list):
                raise TransientError(retry.SERVER_ERROR, "200 without choices")
            return data
        detail = self._scrub(_error_text(response))
        reason = retry.classify_status(status)
        if reason is not None:
            after = retry.parse_retry_after(response.headers.get("retry-after"))
            raise TransientError(reason, f"HTTP {status} {detail}", after)
        where = f"{self.config.public_endpoint}{path}"
        if status in (401, 403):
            env = self.config.api_key_env or "the key variable"
            raise ModelSpecError(f"{where} refused the API key (HTTP {status}); check {env} (environment or .env)")
        if status == 404:
            raise ModelSpecError(
                f"{where}: HTTP 404 for model '{self.config.model}' ({detail}); "
                "check the model name (GET /models lists them) and base_url"
            )
        raise PermanentError("bad_request" if status == 400 else f"http_{status}", f"HTTP {status} {detail}")

    def _scrub(self, text: str) -> str:
        """Errors may quote the request; make sure no key survives into a result or log."""
        if self._api_key:
            text = text.replace(self._api_key, "***")
        return re.sub(r"(sk-|Bearer\s+)[A-Za-z0-9_\-\.]{6,}", r"\1***", text)[:300]

    # -- generation --------------------------------------------------------------------

    def generate(self, requests: Sequence[GenerateRequest]) -> list[GenerateResult]:
        return self._run([lambda client, r=r: self._generate_one(client, r) for r in requests])

    async def _generate_one(self, client: Any, request: GenerateRequest) -> GenerateResult:
        n = max(1, request.params.n)
        chunks = [min(self.config.max_n, n - start) for start in range(0, n, self.config.max_n)]
        try:
            # later chunks get their own seeds: the same seed would repeat the same samples
            answers = list(
                await asyncio.gather(
                    *(self._generate_chunk(client, request, size, index) for index, size in enumerate(chunks))
                )
            )
            # some servers ignore `n` (llama.cpp) and answer one choice: ask again for the rest
            index = len(chunks)
            while sum(len(a["choices"]) for a in answers) < n and index < len(chunks) + n:
                missing = n - sum(len(a["choices"]) for a in answers)
                answers.append(await self._generate_chunk(client, request, min(missing, self.config.max_n), index))
                index += 1
        except PermanentError as exc:
            return GenerateResult("", error=f"{exc.reason}: {exc.detail}")
        choices = [choice for answer in answers for choice in answer["choices"]][:n]
        usage_prompt = sum(int((a.get("usage") or {}).get("prompt_tokens") or 0) for a in answers)
        usage_completion = sum(int((a.get("usage") or {}).get("completion_tokens") or 0) for a in answers)
        texts = [self._split(choice) for choice in choices]
        if not texts:
            return GenerateResult("", error="server_error: answer has no choices")
        extra: dict[str, Any] = {}
        if len(texts) > 1:
            extra["samples"] = [{"text": t, "reasoning": r} for t, r, _ in texts]
        reasoning_tokens = sum(
            int(((a.get("usage") or {}).get("completion_tokens_details") or {}).get("reasoning_tokens") or 0)
            for a in answers
        )
        text, reasoning, finish = texts[0]
        # split_choice took the reasoning off; from_output only strips the answer, as for every backend
        return GenerateResult.from_output(
            text,
            reasoning=reasoning,
            prompt_tokens=usage_prompt or None,
            completion_tokens=usage_completion or None,
            reasoning_tokens=reasoning_tokens or None,
            finish_reason=finish,
            extra=extra,
        )

    async def _generate_chunk(self, client: Any, request: GenerateRequest, n: int, index: int) -> dict[str, Any]:
        p = request.params
        # OpenAI's newer chat models take max_completion_tokens; /completions keeps max_tokens
        length_field = self.config.max_tokens_field if self.config.api == "chat" else "max_tokens"
        body: dict[str, Any] = {
            "model": self.config.model,
            length_field: p.max_tokens,
            "temperature": p.temperature,
            "top_p": p.top_p,
            "seed": p.seed + index * 1_000_003 if p.seed is not None else None,
        }
        if n > 1:
            body["n"] = n
        if p.stop:
            body["stop"] = list(p.stop)
        if self.config.reasoning_effort:
            body["reasoning_effort"] = self.config.reasoning_effort
        body.update(dict(self.config.extra_body))
        if self.config.api == "chat":
            messages = [{"role": m.role, "content": m.content} for m in request.messages]
            body["messages"] = messages or [{"role": "user", "content": request.prompt}]
            path = "/chat/completions"
        else:
            body["prompt"] = request.prompt
            path = "/completions"
        answer = await self._post(client, path, body)
        self._transport.usage.add(answer.get("usage"))
        return answer

    def _split(self, choice: dict[str, Any]) -> tuple[str, str | None, str | None]:
        return split_choice(choice, self.config.api)

    # -- loglikelihood -----------------------------------------------------------------

    def loglikelihood(self, requests: Sequence[LoglikelihoodRequest]) -> list[LoglikelihoodResult]:
        self._check_prompt_logprobs()
        jobs = [lambda client, r=r: self._score_one(client, r) for r in requests]
        return self._run(jobs, in_order=self.config.score_in_order)

    def _check_prompt_logprobs(self) -> None:
        # scoring always goes to /completions, whatever `api` says for generation
        c = self.config
        if not c.prompt_logprobs:
            raise ModelSpecError(
                f"openai:{c.model} (preset {c.preset}) cannot score loglikelihood tasks: the endpoint returns no "
                "prompt logprobs; use generate tasks, or a completions endpoint with echo+logprobs (vLLM, llama.cpp server)"
            )

    async def _score_one(self, client: Any, request: LoglikelihoodRequest) -> LoglikelihoodResult:
        context, continuation = split_context_continuation(request.context, request.continuation)
        text = context + continuation
        body = {
            "model": self.config.score_model or self.config.model,
            "prompt": text,
            "max_tokens": 1,  # 0 means 'unlimited' on llama.cpp's server
            "temperature": 0.0,
            "echo": True,
            "logprobs": 1,
        }
        try:
            answer = await self._post(client, "/completions", body)
        except PermanentError as exc:
            return LoglikelihoodResult(float("-inf"), False, 0, error=f"{exc.reason}: {exc.detail}")
        return self._read_prompt_logprobs(answer, len(context), len(text))

    def _read_prompt_logprobs(self, answer: dict[str, Any], context_chars: int, text_chars: int) -> LoglikelihoodResult:
        choice = answer["choices"][0] if answer["choices"] else {}
        lp = choice.get("logprobs") or {}
        offsets, values, tops = lp.get("text_offset"), lp.get("token_logprobs"), lp.get("top_logprobs")
        if not offsets or not values or len(offsets) != len(values):
            raise ModelSpecError(
                f"openai:{self.config.model}: {self.config.public_endpoint}/completions returned no prompt logprobs "
                "for echo=true,logprobs=1; this endpoint cannot score loglikelihood tasks"
            )
        # prompt tokens are those starting before the end of the text (echo appends the generated token)
        prompt_idx = [i for i, off in enumerate(offsets) if off < text_chars]
        ends = [offsets[i + 1] if i + 1 < len(offsets) else text_chars for i in prompt_idx]
        # a token that straddles the boundary belongs to the continuation (as in local backends)
        scored = [i for i, end in zip(prompt_idx, ends) if min(end, text_chars) > context_chars]
        if not scored:
            return LoglikelihoodResult(float("-inf"), False, 0, error="empty_continuation: no token after the context")
        total, greedy = 0.0, True
        for i in scored:
            value = values[i]
            if value is None:
                return LoglikelihoodResult(float("-inf"), False, len(scored), error="no_context: first token has no logprob")
            total += float(value)
            top = tops[i] if tops and i < len(tops) else None
            if isinstance(top, dict) and top and max(top.values()) > float(value) + 1e-6:
                greedy = False
        return LoglikelihoodResult(total, greedy, len(scored))

    def close(self) -> None:
        pass


def split_choice(choice: dict[str, Any], api: ApiKind) -> tuple[str, str | None, str | None]:
    """(answer, reasoning, finish_reason) of one choice: a separate reasoning field
    (reasoning_content as vLLM/DeepSeek send it, or reasoning) wins, else <think> blocks in
    the text are the reasoning and only what is outside them is the answer."""
    if api == "chat":
        message = choice.get("message") or {}
        content = message.get("content") or ""
        separate = message.get("reasoning_content") or message.get("reasoning")
    else:
        content, separate = choice.get("text") or "", None
    if "<think>" in content or "</think>" in content:
        answer, inline = split_reasoning(content)
    else:
        answer, inline = content, None
    reasoning = separate if isinstance(separate, str) and separate else inline
    return answer, reasoning, choice.get("finish_reason")


def _error_text(response: Any) -> str:
    try:
        data = response.json()
    except ValueError:
        return response.text[:200].strip()
    if isinstance(data, dict):
        err = data.get("error", data.get("detail", data))
        if isinstance(err, dict):
            err = err.get("message", err)
        return str(err)[:200]
    return str(data)[:200]

