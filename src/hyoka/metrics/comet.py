"""COMET with a model the user points to: `{name: comet, model: PATH, source: FIELD}`.

COMET scores a translation from its source sentence, the hypothesis and the reference. The
source comes from the document the metric already receives (`ScoreInput.doc`): `source` names
the field that holds it (the wmt20 tasks' documents have `en` and `ja`; en→ja: `source: en`).
The model is a checkpoint of unbabel-comet (`pip install unbabel-comet`; e.g. a downloaded
Unbabel/wmt22-comet-da, `…/checkpoints/model.ckpt`); hyoka never downloads one. It is loaded
once, in `check`, before the evaluated model, so a wrong path or a missing library is one
line before any model call. The per-output value is COMET's segment score; the task's value
is their mean, which is COMET's system score.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping, Sequence

from hyoka.errors import DatasetError, TaskConfigError
from hyoka.metrics.base import Metric, SampleScore, ScoreInput, ScoringContext, register_metric
from hyoka.metrics.exact_match import require_references


@lru_cache(maxsize=2)
def load_comet_model(model: str) -> Any:
    """unbabel-comet's model from a checkpoint file (once per process and path)."""
    path = Path(model).expanduser()
    if not path.is_file():
        raise TaskConfigError(
            f"metric 'comet': model {model} is not a file; give the checkpoint of a downloaded COMET model "
            "(…/checkpoints/model.ckpt of e.g. Unbabel/wmt22-comet-da)"
        )
    try:
        from comet import load_from_checkpoint
    except ImportError:
        raise TaskConfigError("metric 'comet' needs unbabel-comet: pip install unbabel-comet") from None
    return load_from_checkpoint(str(path))


@register_metric("comet")
class Comet(Metric):
    """COMET segment scores of (source, hypothesis, reference) triples; higher is better."""

    name = "comet"

    def __init__(self, *, model: str | None = None, source: str | None = None, batch_size: int = 8, gpus: int = 0) -> None:
        if not model:
            raise TaskConfigError(
                "metric 'comet': point it to a COMET checkpoint with `{name: comet, model: PATH, source: FIELD}` "
                "(e.g. a downloaded Unbabel/wmt22-comet-da; pip install unbabel-comet); BLEU and chrF need none"
            )
        if not source:
            raise TaskConfigError(
                f"metric 'comet' (model {model}): add `source: FIELD`, the document field with the source "
                "sentence (wmt20_en_ja: en, wmt20_ja_en: ja)"
            )
        self.model, self.source, self.batch_size, self.gpus = model, source, batch_size, gpus

    def check_docs(self, docs: Mapping[int, Mapping[str, Any]], *, task: str) -> None:
        for doc_id, doc in docs.items():  # a wrong `source:` before the model translates anything
            self._source(doc, doc_id, task)

    def check(self, context: ScoringContext) -> None:
        load_comet_model(self.model)  # a wrong path or a missing library: one line, before any model call

    def _source(self, doc: Mapping[str, Any], doc_id: int, task: str) -> str:
        if self.source not in doc:
            raise DatasetError(
                f"metric 'comet': document {doc_id} of task '{task}' has no field '{self.source}' "
                f"(fields: {', '.join(sorted(doc))}); fix the metric's source:"
            )
        return str(doc[self.source])

    def triples(self, items: Sequence[ScoreInput]) -> list[dict[str, str]]:
        """COMET's input: one {src, mt, ref} per output, the source read from the document."""
        out = []
        for item in items:
            require_references(self.name, item.references)
            source = self._source(item.doc, item.doc_id, item.task)
            out += [{"src": source, "mt": p, "ref": item.references[0]} for p in item.predictions]
        return out

    def score_batch(self, items: Sequence[ScoreInput], context: ScoringContext) -> list[SampleScore]:
        label = self.labels()[0]
        triples = self.triples(items)
        segment = list(load_comet_model(self.model).predict(triples, batch_size=self.batch_size, gpus=self.gpus).scores)
        scores, i = [], 0
        for item in items:
            mine = [float(v) for v in segment[i : i + len(item.predictions)]]
            i += len(item.predictions)
            value = sum(mine) / len(mine) if mine else float("nan")
            scores.append(SampleScore({label: value}, per_output=[{label: v} for v in mine]))
        return scores
