"""A loaded task: its documents, and the samples (prompt, choices, references) built from them."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hyoka.data.files import ResolvedFile, resolve_file
from hyoka.data.readers import Doc, read_format
from hyoka.errors import DatasetError, TaskConfigError
from hyoka.core.types import Message
from hyoka.tasks.config import TaskConfig
from hyoka.tasks.prompts import call_hook, evaluate, render_text


@dataclass
class Sample:
    """One evaluated document, ready to become model requests."""

    doc_id: int
    doc: Doc
    messages: list[Message]
    choices: list[str] | None
    #: gold choice index (multiple choice) or None
    gold_index: int | None
    #: gold answers as text (one or more)
    references: list[str]
    fewshot_ids: list[int] = field(default_factory=list)


@dataclass
class PromptOptions:
    num_fewshot: int | None = None  # None: the task's own
    system_prompt: str | None = None
    fewshot_style: str | None = None  # "inline" | "turns"; None: the task's own


def parse_doc_range(text: str) -> tuple[int, int]:
    """`START:END` (documents START to END-1 of each task, 0-based) for `hyoka run --docs`."""
    start, colon, end = text.partition(":")
    try:
        first, stop = int(start), int(end)
    except ValueError:
        first = stop = -1
    if not colon or first < 0 or stop <= first:
        raise ValueError(f"{text!r}: write START:END with 0 <= START < END, e.g. 100:200")
    return first, stop


@dataclass
class LoadedTask:
    config: TaskConfig
    eval_docs: list[Doc]
    fewshot_docs: list[Doc]
    files: dict[str, ResolvedFile]

    @property
    def name(self) -> str:
        return self.config.name

    def build_samples(
        self, *, limit: int | None, options: PromptOptions, docs: tuple[int, int] | None = None
    ) -> list[Sample]:
        """The first `limit` documents, or of those the ones with ids in [start, end) of `docs`;
        a document's id, few-shot draw and prompt do not depend on which others are built."""
        ids = range(len(self.eval_docs) if limit is None else min(limit, len(self.eval_docs)))
        if docs is not None:
            ids = ids[docs[0] : docs[1]]
        return [self._sample(i, self.eval_docs[i], options) for i in ids]

    # -- per document -------------------------------------------------------------------

    def _sample(self, doc_id: int, doc: Doc, options: PromptOptions) -> Sample:
        try:
            return self._build_sample(doc_id, doc, options)
        except TaskConfigError as exc:
            # name the document: the user can then look at it (`--limit` reaches it quickly)
            raise TaskConfigError(f"{exc} (document {doc_id} of split '{self.config.dataset.eval_split}': {_preview(doc)})") from None

    def _build_sample(self, doc_id: int, doc: Doc, options: PromptOptions) -> Sample:
        cfg = self.config
        choices = self._choices(doc)
        gold_index, references = self._target(doc, choices)
        shots = self._fewshot_for(doc_id, options)
        style = options.fewshot_style or cfg.fewshot.style
        question = render_text(cfg.prompt.doc_to_text, doc, task=self.name, field="doc_to_text")
        messages = self._messages(question, shots, style=style, system=options.system_prompt or cfg.prompt.system)
        return Sample(doc_id, doc, messages, choices, gold_index, references, [i for i, _ in shots])

    def _choices(self, doc: Doc) -> list[str] | None:
        spec = self.config.prompt.doc_to_choice
        if spec is None:
            return None
        value = evaluate(spec, doc, task=self.name, field="doc_to_choice")
        if not isinstance(value, (list, tuple)) or not value:
            raise TaskConfigError(f"task '{self.name}': prompt.doc_to_choice must give a non-empty list, got {value!r}")
        return [str(c) for c in value]

    def _target(self, doc: Doc, choices: list[str] | None) -> tuple[int | None, list[str]]:
        value = evaluate(self.config.prompt.doc_to_target, doc, task=self.name, field="doc_to_target")
        if choices is not None and self.config.formulation == "loglikelihood" or _is_index(value, choices):
            index = _as_index(value, choices, task=self.name)
            return index, [choices[index]] if choices else []
        if isinstance(value, (list, tuple)):
            return None, [str(v) for v in value]
        return None, [str(value)]

    def _fewshot_for(self, doc_id: int, options: PromptOptions) -> list[tuple[int, Doc]]:
        cfg = self.config.fewshot
        num = cfg.num if options.num_fewshot is None else options.num_fewshot
        if num < 0:
            raise TaskConfigError(f"--num-fewshot {num}: give 0 or more examples")
        if num == 0:
            return []
        if not self.fewshot_docs:
            raise TaskConfigError(
                f"task '{self.name}' has no few-shot split; run it with --num-fewshot 0 or add fewshot.split to its YAML"
            )
        size = len(self.fewshot_docs)
        if cfg.sampler == "first":
            picked = list(range(min(num, size)))
        elif cfg.sampler == "fixed":
            picked = random.Random(str(cfg.seed)).sample(range(size), min(num, size))
        else:
            # seeded per document: the same doc gets the same examples whatever --limit or order
            picked = random.Random(f"{cfg.seed}:{doc_id}").sample(range(size), min(num, size))
        return [(i, self.fewshot_docs[i]) for i in picked]

    def _shot_answer(self, doc: Doc) -> str:
        p = self.config.prompt
        if p.fewshot_target is not None:
            return render_text(p.fewshot_target, doc, task=self.name, field="fewshot_target")
        choices = self._choices(doc)
        gold, refs = self._target(doc, choices)
        return refs[0] if refs else ""

    def _messages(self, question: str, shots: list[tuple[int, Doc]], *, style: str, system: str | None) -> list[Message]:
        p = self.config.prompt
        messages: list[Message] = [Message("system", system)] if system else []
        shot_pairs = [
            (render_text(p.doc_to_text, d, task=self.name, field="doc_to_text"), self._shot_answer(d)) for _, d in shots
        ]
        if style == "turns":
            prefix = f"{p.instruction}\n\n" if p.instruction else ""
            for i, (q, a) in enumerate(shot_pairs):
                messages += [Message("user", (prefix if i == 0 else "") + q), Message("assistant", a)]
            messages.append(Message("user", (prefix if not shot_pairs else "") + question))
            return messages
        sep = self.config.fewshot.separator
        blocks = ([p.instruction] if p.instruction else []) + [f"{q}{p.target_delimiter}{a}" for q, a in shot_pairs]
        messages.append(Message("user", sep.join([*blocks, question])))
        return messages


def _is_index(value: Any, choices: list[str] | None) -> bool:
    return choices is not None and isinstance(value, int) and not isinstance(value, bool)


def _as_index(value: Any, choices: list[str] | None, *, task: str) -> int:
    assert choices is not None
    if isinstance(value, str) and value in choices:
        return choices.index(value)
    try:
        index = int(value)
    except (TypeError, ValueError):
        raise TaskConfigError(f"task '{task}': prompt.doc_to_target gave {value!r}, not a choice index or choice") from None
    if not 0 <= index < len(choices):
        raise TaskConfigError(f"task '{task}': prompt.doc_to_target gave index {index} for {len(choices)} choices")
    return index


def load_task(config: TaskConfig) -> LoadedTask:
    ds = config.dataset
    files = {
        split: resolve_file(ds.splits[split], task=config.name, base_dir=config.source_dir) for split in _needed_splits(config)
    }
    eval_docs = _read_split(config, files[ds.eval_split].path, ds.eval_split)
    if not eval_docs:
        raise DatasetError(f"task '{config.name}': split '{ds.eval_split}' ({files[ds.eval_split].path}) has no documents")
    fewshot_docs: list[Doc] = []
    if config.fewshot.split is not None and config.fewshot.split in files:
        fewshot_docs = _read_split(config, files[config.fewshot.split].path, config.fewshot.split)
    return LoadedTask(config, eval_docs, fewshot_docs, files)


def _read_split(config: TaskConfig, path: Path, split: str) -> list[Doc]:
    """The split's documents: the built-in format or the task's `reader`, then `process_docs`."""
    ds, task = config.dataset, config.name
    if ds.reader is not None:
        docs = call_hook(ds.reader, path, split, task=task, field="dataset.reader", what=f"reading {path}")
        if not isinstance(docs, list) or not all(isinstance(d, dict) for d in docs):
            raise DatasetError(f"task '{task}': dataset.reader {ds.reader} must return a list of dicts for {path}")
    else:
        docs = read_format(path, ds.format, csv_header=ds.csv_header, task=task)
    if ds.process_docs is not None:
        docs = call_hook(ds.process_docs, docs, task=task, field="dataset.process_docs", what=f"split '{split}'")
        if not isinstance(docs, list) or not all(isinstance(d, dict) for d in docs):
            raise DatasetError(f"task '{task}': dataset.process_docs {ds.process_docs} must return a list of dicts")
    return docs


def _preview(doc: Doc, limit: int = 80) -> str:
    text = ", ".join(f"{k}={v!r}" for k, v in doc.items())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _needed_splits(config: TaskConfig) -> list[str]:
    splits = [config.dataset.eval_split]
    if config.fewshot.split is not None:
        splits.append(config.fewshot.split)
    return splits
