"""`litellm:PROVIDER/MODEL` — providers that are not OpenAI-compatible, through litellm.

    hyoka run litellm:anthropic/claude-3-5-sonnet-20241022 --suite swallow_ja
    hyoka run litellm:gemini/gemini-2.0-flash --tasks jemhopqa
    hyoka run litellm:bedrock/anthropic.claude-3-haiku-20240307-v1:0 --tasks jemhopqa
    hyoka run litellm:azure/my-deployment --model-args base_url=https://X.openai.azure.com,api_key_env=AZURE_API_KEY
    hyoka run litellm:openai/generate --model-args base_url=http://127.0.0.1:8000/v1   # any OpenAI-compatible server

Everything but the transport is the `openai:` backend's (hyoka.models.openai_api): the same
model-args, the same retry policy and adaptive concurrency (hyoka.engine.retry; litellm's
own retries are off), the same usage and cost accounting, reasoning kept apart, and the
same key rules — keys only from the environment or .env, never in model-args, identity,
results or errors. Without `api_key_env`, litellm reads the provider's usual variable
(ANTHROPIC_API_KEY, GEMINI_API_KEY, AWS_* for Bedrock, ...). Log-likelihood tasks need
prompt log-probabilities, which these providers do not give: they fail with one line.
"""

from __future__ import annotations

import asyncio
import random
from typing import Any, Awaitable, Callable, Mapping

from pydantic import Field

from hyoka.errors import BackendUnavailable, ModelSpecError
from hyoka.models import retry
from hyoka.models.args import validate_args
from hyoka.models.openai_api import ClientArgs, HttpBaseUrl, OpenAIArgs, OpenAIBackend, _Transport, parse_api_config, read_api_key
from hyoka.models.retry import AdaptiveLimiter, PermanentError, TransientError


class LiteLLMArgs(ClientArgs):
    """The `openai:` client arguments; `base_url` only for self-hosted or Azure endpoints."""

    base_url: HttpBaseUrl | None = Field(default=None, description="endpoint root (Azure, an OpenAI-compatible server); default: litellm's")


class LiteLLMBackend(OpenAIBackend):
    kind = "litellm"

    Args = LiteLLMArgs

    def __init__(self, name: str, args: Mapping[str, Any] | LiteLLMArgs) -> None:
        if "/" not in name:
            raise ModelSpecError(
                f"litellm:{name}: write the model as PROVIDER/MODEL, e.g. litellm:anthropic/claude-3-5-sonnet-20241022"
            )
        for key in args if isinstance(args, Mapping) else ():
            if key in ("api_key", "key", "token"):
                raise ModelSpecError(
                    f"--model-args {key}=...: API keys are read only from the environment or .env; "
                    "name the variable with api_key_env=NAME (or let litellm read the provider's own)"
                )
        a = validate_args(LiteLLMArgs, args, source="--model-args")
        # litellm finds the provider's key itself unless a variable is named
        api_key = read_api_key(a.api_key_env, required=True) if a.api_key_env else None
        # litellm takes seconds to import: arguments and key are checked first
        try:
            import litellm
        except ImportError:
            raise BackendUnavailable("backend 'litellm' needs litellm: pip install 'hyoka[litellm]'") from None
        self._litellm = litellm
        self._litellm.suppress_debug_info = True  # no banners on stderr; hyoka reports errors itself
        # the openai: configuration with the generic preset (chat, one sample per request)
        self.config = parse_api_config(
            name, OpenAIArgs(preset="generic", **a.given()), require_base_url=False
        )
        self.config.policy.validate()
        self._api_key = api_key
        self._limiter = AdaptiveLimiter(self.config.concurrency, self.config.policy)
        self._transport = _Transport()
        self._rng = random.Random(0)  # back-off jitter only
        self._identity = self._make_identity()

    def _run(self, jobs: list[Callable[[Any], Awaitable[Any]]], *, in_order: bool = False) -> list[Any]:
        async def main() -> list[Any]:
            # litellm keeps its own HTTP clients: the jobs get no client
            if in_order:
                return [await job(None) for job in jobs]
            return await asyncio.gather(*(job(None) for job in jobs))

        return asyncio.run(main())

    async def _post(self, client: Any, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """One completion through litellm, under hyoka's retry policy."""
        litellm = self._litellm
        call = litellm.acompletion if path == "/chat/completions" else litellm.atext_completion
        kwargs = {k: v for k, v in body.items() if v is not None}
        if self.config.base_url:
            kwargs["api_base"] = self.config.base_url
        if self._api_key:
            kwargs["api_key"] = self._api_key

        async def attempt() -> dict[str, Any]:
            self._transport.http_requests += 1
            try:
                response = await call(**kwargs, num_retries=0, timeout=self.config.policy.timeout)
            except Exception as exc:  # noqa: BLE001  (every litellm error is classified below)
                raise self._classified(exc) from None
            data = response.model_dump() if hasattr(response, "model_dump") else dict(response)
            if not isinstance(data.get("choices"), list) or not data["choices"]:
                raise TransientError(retry.SERVER_ERROR, "answer without choices")
            return data

        return await retry.retry_async(
            attempt, policy=self.config.policy, limiter=self._limiter, stats=self._transport.retry, rng=self._rng
        )

    def _classified(self, exc: Exception) -> Exception:
        """litellm's exception → hyoka's retry vocabulary (the same as for HTTP statuses)."""
        e = self._litellm.exceptions
        detail = self._scrub(f"{type(exc).__name__}: {exc}")
        if isinstance(exc, e.Timeout):
            return TransientError(retry.TIMEOUT, detail)
        if isinstance(exc, e.APIConnectionError):
            return TransientError(retry.CONNECTION, detail)
        if isinstance(exc, (e.AuthenticationError, e.PermissionDeniedError)):
            env = self.config.api_key_env or "the provider's key variable"
            return ModelSpecError(f"litellm:{self.config.model}: the provider refused the API key; check {env} (environment or .env)")
        if isinstance(exc, e.NotFoundError):
            return ModelSpecError(f"litellm:{self.config.model}: model not found ({detail[:160]}); check PROVIDER/MODEL")
        if isinstance(exc, e.BadRequestError):
            return PermanentError("bad_request", detail)
        status = getattr(exc, "status_code", None)
        reason = retry.classify_status(int(status)) if isinstance(status, int) else None
        if reason is not None:
            return TransientError(reason, detail)
        return PermanentError(f"http_{status}" if status else "provider_error", detail)
