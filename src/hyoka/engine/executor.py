"""Sending requests to a backend: cache first, then the model in batches, storing as batches finish.

`execute` returns typed results (hyoka.core.types), one per pending request, in order.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Sequence

from tqdm import tqdm

from hyoka.core.types import Request, Result, request_kind
from hyoka.cache import RequestCache, request_key
from hyoka.models.base import Backend


@dataclass(frozen=True)
class PendingRequest:
    kind: str  # "loglikelihood" | "generate" (must match the request's type)
    request: Request
    #: sample index: part of the cache key, so N samples of one prompt are N calls
    repeat: int = 0

    def __post_init__(self) -> None:
        if self.kind != request_kind(self.request):
            raise ValueError(f"PendingRequest kind {self.kind!r} does not match {type(self.request).__name__}")


@dataclass
class ExecutionStats:
    requests: int = 0
    cache_hits: int = 0
    model_calls: int = 0
    errors: int = 0
    seconds: float = 0.0
    error_reasons: dict[str, int] = field(default_factory=dict)

    def add(self, other: "ExecutionStats") -> None:
        self.requests += other.requests
        self.cache_hits += other.cache_hits
        self.model_calls += other.model_calls
        self.errors += other.errors
        self.seconds += other.seconds
        for k, v in other.error_reasons.items():
            self.error_reasons[k] = self.error_reasons.get(k, 0) + v


def execute(
    backend: Backend,
    cache: RequestCache,
    pending: Sequence[PendingRequest],
    *,
    description: str,
    show_progress: bool = True,
) -> tuple[list[Result], ExecutionStats]:
    """Results (in the order of `pending`) and what it took to get them."""
    start = time.perf_counter()
    model = backend.identity.as_dict()
    keys = [request_key(model, p.request, p.repeat) for p in pending]
    found = cache.get_many(set(keys))
    stats = ExecutionStats(requests=len(pending), cache_hits=sum(1 for k in keys if k in found))
    todo: dict[str, PendingRequest] = {}
    for key, p in zip(keys, pending):
        if key not in found and key not in todo:
            todo[key] = p
    batch_size = max(1, backend.preferred_batch_size())
    with tqdm(
        total=len(todo), desc=description, unit="req", disable=not show_progress or not todo, dynamic_ncols=True
    ) as bar:
        items = list(todo.items())
        for kind in ("loglikelihood", "generate"):
            of_kind = [(k, p) for k, p in items if p.kind == kind]
            for i in range(0, len(of_kind), batch_size):
                batch = of_kind[i : i + batch_size]
                results = _call(backend, kind, [p.request for _, p in batch])
                if len(results) != len(batch):  # a backend bug must not shift answers onto other prompts
                    raise RuntimeError(f"{type(backend).__name__}.{kind} returned {len(results)} results for {len(batch)} requests")
                stats.model_calls += len(batch)
                rows = []
                for (key, p), result in zip(batch, results):
                    found[key] = result
                    if result.error is not None:
                        stats.errors += 1
                        reason = result.error.split(":", 1)[0]
                        stats.error_reasons[reason] = stats.error_reasons.get(reason, 0) + 1
                    else:
                        rows.append((key, model, p.request, result))
                cache.put_many(rows)
                bar.update(len(batch))
    stats.seconds = time.perf_counter() - start
    return [found[k] for k in keys], stats


def _call(backend: Backend, kind: str, requests: list[Any]) -> Sequence[Result]:
    if kind == "loglikelihood":
        return backend.loglikelihood(requests)
    return backend.generate(requests)
