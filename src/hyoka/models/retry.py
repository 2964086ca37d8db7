"""One retry policy for everything that talks to a remote service (API backends, later the judge).

- `RetryPolicy`: how often and how long to retry, the per-attempt timeout.
- `AdaptiveLimiter`: a concurrency limit shared by all requests of a backend that halves on
  429/503 and pauses everyone until Retry-After has passed, then grows back one slot per
  run of successes (AIMD), so a rate-limited provider is not hammered by 64 retries at once.
- `retry_async`: runs one attempt function under the limiter until it succeeds, fails for good,
  or the attempts run out; every failed attempt is counted by reason in `RetryStats`.

An attempt function signals what happened by raising `TransientError` (worth retrying) or
`PermanentError` (this request will never succeed: report it as the result's `error`).
"""

from __future__ import annotations

import asyncio
import email.utils
import random
import time
from dataclasses import dataclass, field
from typing import Awaitable, Callable, TypeVar

T = TypeVar("T")

#: reasons a failed attempt is counted under (summary.json → transport.retries)
RATE_LIMIT = "rate_limit"  # 429
UNAVAILABLE = "unavailable"  # 503 (overloaded / loading)
SERVER_ERROR = "server_error"  # other 5xx
CONNECTION = "connection"  # reset, refused, closed without a response
TIMEOUT = "timeout"  # no answer within the per-request timeout


@dataclass(frozen=True)
class RetryPolicy:
    """How a request is retried. Delays in seconds."""

    max_attempts: int = 8
    #: exponential back-off: attempt k waits uniform(0, min(max_delay, base_delay * 2**k)) ("full jitter")
    base_delay: float = 0.5
    max_delay: float = 30.0
    #: one attempt's wall-clock limit (connect + queueing at the server + answer)
    timeout: float = 600.0
    #: Retry-After values above this are capped, so a bad header cannot park a run for hours
    max_retry_after: float = 120.0
    #: successes in a row before the adaptive limit grows by one slot
    recover_after: int = 8

    def backoff(self, attempt: int, rng: random.Random) -> float:
        """Delay before retry number `attempt` (0-based), full jitter."""
        ceiling = min(self.max_delay, self.base_delay * (2**attempt))
        return rng.uniform(0, ceiling)

    def validate(self) -> None:
        from hyoka.errors import ModelSpecError

        if self.max_attempts < 1:
            raise ModelSpecError(f"max_retries must be >= 0 (got {self.max_attempts - 1})")
        if self.timeout <= 0:
            raise ModelSpecError(f"timeout must be a positive number of seconds (got {self.timeout})")


class TransientError(Exception):
    """This attempt failed, another may succeed. `retry_after` comes from the server when it said."""

    def __init__(self, reason: str, detail: str, retry_after: float | None = None) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail
        self.retry_after = retry_after


class PermanentError(Exception):
    """This request cannot succeed (bad request, too long): becomes the result's `error`."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


@dataclass
class RetryStats:
    """What retrying cost: failed attempts by reason, time spent waiting, requests given up."""

    attempts: int = 0
    retries: dict[str, int] = field(default_factory=dict)
    gave_up: dict[str, int] = field(default_factory=dict)
    backoff_seconds: float = 0.0
    limit_reductions: int = 0

    def count(self, reason: str) -> None:
        self.retries[reason] = self.retries.get(reason, 0) + 1

    def as_dict(self) -> dict[str, object]:
        return {
            "attempts": self.attempts,
            "failed_attempts": dict(sorted(self.retries.items())),
            "failed_attempts_total": sum(self.retries.values()),
            "gave_up": dict(sorted(self.gave_up.items())),
            "backoff_seconds": round(self.backoff_seconds, 3),
            "concurrency_reductions": self.limit_reductions,
        }


class AdaptiveLimiter:
    """A concurrency limit that shrinks under rate limiting and recovers slowly.

    Its asyncio primitives are made lazily per event loop: a backend runs each batch in a
    fresh `asyncio.run`, and the learned limit must survive from one batch to the next.
    """

    def __init__(self, max_concurrency: int, policy: RetryPolicy) -> None:
        self.max = max(1, max_concurrency)
        self.limit = self.max
        self.policy = policy
        self.in_flight = 0
        self.resume_at = 0.0  # monotonic time before which nobody starts an attempt
        self._streak = 0
        self._cond: asyncio.Condition | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def _condition(self) -> asyncio.Condition:
        loop = asyncio.get_running_loop()
        if self._cond is None or self._loop is not loop:
            self._cond, self._loop, self.in_flight = asyncio.Condition(), loop, 0
        return self._cond

    async def acquire(self) -> None:
        cond = self._condition()
        async with cond:
            while True:
                pause = self.resume_at - time.monotonic()
                if pause > 0:
                    # sleep outside the lock so others can see the pause too
                    cond.release()
                    try:
                        await asyncio.sleep(pause)
                    finally:
                        await cond.acquire()
                    continue
                if self.in_flight < self.limit:
                    self.in_flight += 1
                    return
                await cond.wait()

    async def release(self) -> None:
        cond = self._condition()
        async with cond:
            self.in_flight -= 1
            cond.notify_all()

    def on_success(self) -> None:
        self._streak += 1
        if self._streak >= self.policy.recover_after and self.limit < self.max:
            self.limit += 1
            self._streak = 0

    def on_overload(self, retry_after: float | None) -> bool:
        """The service said 'slow down': halve the limit, pause everyone. True if the limit shrank."""
        self._streak = 0
        if retry_after:
            self.resume_at = max(self.resume_at, time.monotonic() + min(retry_after, self.policy.max_retry_after))
        old = self.limit
        self.limit = max(1, self.limit // 2)
        return self.limit < old


async def retry_async(
    attempt: Callable[[], Awaitable[T]],
    *,
    policy: RetryPolicy,
    limiter: AdaptiveLimiter,
    stats: RetryStats,
    rng: random.Random,
) -> T:
    """Run `attempt` until it returns. Raises PermanentError when it fails for good (including
    running out of attempts: reason is the last transient reason, detail says how many tries)."""
    last: TransientError | None = None
    for number in range(policy.max_attempts):
        await limiter.acquire()
        stats.attempts += 1
        try:
            result = await asyncio.wait_for(attempt(), timeout=policy.timeout)
        except TransientError as exc:
            last = exc
        except (asyncio.TimeoutError, TimeoutError):
            last = TransientError(TIMEOUT, f"no answer within {policy.timeout:g}s")
        else:
            limiter.on_success()
            return result
        finally:
            await limiter.release()
        stats.count(last.reason)
        if last.reason in (RATE_LIMIT, UNAVAILABLE) and limiter.on_overload(last.retry_after):
            stats.limit_reductions += 1
        if number + 1 == policy.max_attempts:
            break
        delay = last.retry_after if last.retry_after is not None else policy.backoff(number, rng)
        delay = min(delay, policy.max_retry_after)
        stats.backoff_seconds += delay
        await asyncio.sleep(delay)
    assert last is not None
    stats.gave_up[last.reason] = stats.gave_up.get(last.reason, 0) + 1
    raise PermanentError(last.reason, f"{last.detail} (gave up after {policy.max_attempts} attempts)")


def parse_retry_after(value: str | None) -> float | None:
    """Retry-After as seconds: either delta-seconds or an HTTP date. None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def classify_status(status: int) -> str | None:
    """The transient reason for an HTTP status, or None when retrying cannot help."""
    if status == 429:
        return RATE_LIMIT
    if status == 503:
        return UNAVAILABLE
    if status in (408, 425) or status >= 500:
        return SERVER_ERROR if status >= 500 else TIMEOUT
    return None
