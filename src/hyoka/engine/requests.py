"""From a task's samples to model requests: the prompt (rendered once, by the runner) and
N outputs per document.

N comes from `--gen n=N` or `--repeats N` (one mechanism): output i of a document is its
own request with seed + i and repeat index i in the cache key, so N greedy outputs are
still N calls, output 0 shares its cache entry with a plain run, and raising N later
only asks for the new outputs.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from hyoka.core.types import GenerateRequest, GenerationParams, LoglikelihoodRequest, RequestOrigin
from hyoka.engine.executor import PendingRequest
from hyoka.errors import HyokaError
from hyoka.tasks.config import TaskConfig
from hyoka.tasks.task import Sample


def generation_params(config: TaskConfig, overrides: dict[str, Any]) -> GenerationParams:
    """The task's `generation:` with the run's overrides (`--gen`, settings) on top; range-checked."""
    g = config.generation
    values: dict[str, Any] = {
        "max_tokens": g.max_tokens,
        "temperature": g.temperature,
        "top_p": g.top_p,
        "stop": tuple(g.stop),
        "seed": g.seed,
    }
    values.update(overrides)
    return GenerationParams(**values)


def output_count(config: TaskConfig, params: GenerationParams, repeats: int) -> int:
    """N outputs per document; refused where it cannot mean anything (one line, before any call)."""
    if repeats < 1:
        raise HyokaError(f"--repeats {repeats}: give a number of outputs per document >= 1")
    if params.n > 1 and repeats > 1 and params.n != repeats:
        raise HyokaError(f"--gen n={params.n} and --repeats {repeats} ask for different output counts; give one of them")
    n = max(params.n, repeats)
    if n > 1 and config.formulation == "loglikelihood":
        raise HyokaError(
            f"task '{config.name}' scores choices by log-likelihood, which gives the same scores every time: "
            f"n={n} outputs per document cannot differ; run it without --repeats/--gen n"
        )
    return n


class TaskRequests:
    """Builds one task's requests. One per task in a run; the scorer never sees it."""

    def __init__(
        self, config: TaskConfig, *, gen_overrides: dict[str, Any] | None = None, repeats: int = 1, use_chat_template: bool = False
    ) -> None:
        self.config = config
        self.use_chat_template = use_chat_template
        self.params = generation_params(config, gen_overrides or {})
        self.n = output_count(config, self.params, repeats)

    def for_sample(self, sample: Sample, prompt: str) -> list[PendingRequest]:
        """loglikelihood: one request per choice; generate: one per output (n)."""
        if self.config.formulation == "loglikelihood":
            assert sample.choices is not None
            # a chat template's generation prompt already ends the turn: no delimiter after it
            delim = "" if self.use_chat_template else self.config.prompt.target_delimiter
            return [
                PendingRequest("loglikelihood", LoglikelihoodRequest(prompt, delim + c, self._origin(sample, i)))
                for i, c in enumerate(sample.choices)
            ]
        messages = tuple(sample.messages)
        return [
            PendingRequest(
                "generate",
                GenerateRequest(prompt, replace(self.params, n=1, seed=self.params.seed + i), messages, self._origin(sample, i)),
                repeat=i,
            )
            for i in range(self.n)
        ]

    def _origin(self, sample: Sample, index: int) -> RequestOrigin:
        return RequestOrigin(self.config.name, sample.doc_id, index)
