"""Typed task configuration: what a task YAML file may say.

Every field is validated here; `hyoka validate` maps each validation error back to the
file, line and field it came from (see hyoka.tasks.yaml_io).
"""

from __future__ import annotations

import hashlib
from typing import Any, Literal, Union

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationInfo, field_validator, model_validator

from hyoka.data.files import DataFile
from hyoka.data.readers import DataFormat
from hyoka.tasks.yaml_io import FunctionRef

__all__ = ["DataFile", "DataFormat"]  # DataFile lives in the data layer; re-exported for task code


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True, frozen=True)


class DatasetConfig(StrictModel):
    source: str | None = Field(default=None, description="upstream id, e.g. 'github:yahoojapan/JGLUE' or 'hf:org/name'")
    revision: str | None = Field(default=None, description="commit or tag the files are pinned to")
    licence: str | None = None
    format: DataFormat = "jsonl"
    csv_header: list[str] | None = Field(default=None, description="column names for CSV/TSV without a header row")
    splits: dict[str, DataFile]
    eval_split: str
    reader: FunctionRef | None = Field(default=None, description="custom reader: fn(path, split) -> list[dict]")
    process_docs: FunctionRef | None = Field(default=None, description="fn(docs: list[dict]) -> list[dict]")

    @model_validator(mode="after")
    def _split_exists(self) -> "DatasetConfig":
        if self.eval_split not in self.splits:
            raise ValueError(f"eval_split '{self.eval_split}' is not one of splits {sorted(self.splits)}")
        return self

    @model_validator(mode="after")
    def _one_hub_pin(self) -> "DatasetConfig":
        # `source: hf:REPO` with `revision: COMMIT` and hub urls: one repository, one commit, so
        # the revision the summary records is the one every file was read at
        if not (self.source or "").startswith("hf:") or not self.revision:
            return self
        pin = f"hf://datasets/{self.source[3:]}@{self.revision}/"
        for split, file in self.splits.items():
            if file.url is not None and file.url.startswith("hf://") and not file.url.startswith(pin):
                raise ValueError(f"splits.{split}.url {file.url} is not at source {self.source} revision {self.revision}")
        return self


class FewshotConfig(StrictModel):
    num: int = Field(default=0, ge=0)
    split: str | None = Field(default=None, description="split the examples come from; never the evaluated one")
    #: random: a seeded draw per document; fixed: one seeded draw shared by every document
    #: (llm-jp-eval's way, and prompts then share a prefix the KV cache can reuse); first: the first k
    sampler: Literal["random", "fixed", "first"] = "random"
    seed: int = 1234
    separator: str = "\n\n"
    #: llm-jp style: examples inside one user message; chat style: user/assistant turns
    style: Literal["inline", "turns"] = "inline"


Template = Union[str, FunctionRef]


class PromptConfig(StrictModel):
    doc_to_text: Template = Field(description="Jinja2 template over the doc, or !function module.fn(doc)")
    doc_to_target: Template = Field(description="gold: choice index (multiple choice) or answer text")
    doc_to_choice: Union[Template, list[str], None] = Field(
        default=None, description="choices: a Jinja2 expression giving a list, a list, or !function"
    )
    instruction: str | None = Field(default=None, description="text placed before the examples (llm-jp style)")
    system: str | None = None
    target_delimiter: str = Field(default=" ", description="between prompt and answer in few-shot examples and loglikelihood")
    fewshot_target: Template | None = Field(
        default=None, description="how a few-shot example's answer is written; default: the gold choice or target"
    )


class GenerationConfig(StrictModel):
    max_tokens: int = Field(default=256, gt=0)
    temperature: float = Field(default=0.0, ge=0)
    top_p: float = Field(default=1.0, gt=0, le=1)
    stop: list[str] = Field(default_factory=list)
    seed: int = 1234


class ExtractorSpec(StrictModel):
    model_config = ConfigDict(extra="allow", frozen=True)
    name: str

    def params(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


class MetricSpec(StrictModel):
    model_config = ConfigDict(extra="allow", frozen=True)
    name: str

    def params(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


Formulation = Literal["loglikelihood", "generate"]


class TaskConfig(StrictModel):
    name: str = Field(pattern=r"^[A-Za-z0-9_.\-]+$")
    language: Literal["ja", "en", "multi"]
    description: str = ""
    groups: list[str] = Field(default_factory=list)
    dataset: DatasetConfig
    formulation: Formulation
    prompt: PromptConfig
    fewshot: FewshotConfig = FewshotConfig()
    generation: GenerationConfig = GenerationConfig()
    extract: list[ExtractorSpec] = Field(default_factory=list)
    metrics: list[MetricSpec] = Field(default_factory=lambda: [MetricSpec(name="accuracy")])
    #: the upstream prompt set the wording follows (e.g. "llm-jp-eval v1.4.1"): recorded in each
    #: run's summary.json, and a score with another version is never mixed silently (leaderboard, compare)
    prompt_version: str | None = Field(default=None, min_length=1)
    #: tasks only run when named explicitly (licences such as CC BY-NC-ND)
    opt_in: bool = False
    num_docs: int | None = Field(default=None, description="size of the eval split, for `hyoka tasks`")
    #: runtime estimate for cluster walltimes until a run of the task is recorded (docs/cluster.md)
    seconds_per_doc: float | None = Field(default=None, gt=0)
    #: the task file's folder (set by the registry): `path:` data files are relative to it
    _source_dir: Path | None = PrivateAttr(default=None)

    @property
    def source_dir(self) -> Path | None:
        return self._source_dir

    def with_source_dir(self, folder: Path) -> "TaskConfig":
        self._source_dir = folder
        return self

    @field_validator("metrics", mode="before")
    @classmethod
    def _metric_names(cls, v: Any) -> Any:
        if isinstance(v, list):
            return [{"name": m} if isinstance(m, str) else m for m in v]
        return v

    @field_validator("extract", mode="before")
    @classmethod
    def _extract_names(cls, v: Any) -> Any:
        if isinstance(v, list):
            return [{"name": m} if isinstance(m, str) else m for m in v]
        return v

    # field validators (not one model validator) so that these problems are reported together
    # with any other field's, and each points at its own line
    @field_validator("prompt")
    @classmethod
    def _choices_for_loglikelihood(cls, prompt: PromptConfig, info: ValidationInfo) -> PromptConfig:
        if info.data.get("formulation") == "loglikelihood" and prompt.doc_to_choice is None:
            raise ValueError("formulation 'loglikelihood' needs prompt.doc_to_choice (the options to score)")
        return prompt

    @field_validator("fewshot")
    @classmethod
    def _fewshot_split(cls, fs: FewshotConfig, info: ValidationInfo) -> FewshotConfig:
        if fs.num > 0 and fs.split is None:
            raise ValueError("fewshot.num > 0 needs fewshot.split (a train/dev split, not the evaluated one)")
        dataset = info.data.get("dataset")
        if fs.split is not None and dataset is not None:
            if fs.split == dataset.eval_split:
                raise ValueError("fewshot.split must differ from dataset.eval_split (no examples from the evaluated split)")
            if fs.split not in dataset.splits:
                raise ValueError(f"fewshot.split '{fs.split}' is not one of dataset.splits {sorted(dataset.splits)}")
        return fs

    def config_hash(self) -> str:
        return hashlib.sha256(self.model_dump_json().encode()).hexdigest()[:16]


class GenerationSettingsOverride(StrictModel):
    max_tokens: int | None = Field(default=None, gt=0)
    temperature: float | None = Field(default=None, ge=0)
    top_p: float | None = Field(default=None, gt=0, le=1)
    seed: int | None = None
    stop: list[str] | None = None


class SuiteSettings(StrictModel):
    """How a suite runs its tasks unless the user says otherwise (CLI > --settings > suite > task)."""

    chat: bool | None = Field(default=None, description="apply the model's chat template")
    system_prompt: str | None = None
    generation: GenerationSettingsOverride = Field(default_factory=lambda: GenerationSettingsOverride())


class SuiteScore(StrictModel):
    """One headline number of a suite: a task's or group's metric, brought to 0..1 by `scale`."""

    source: str = Field(description="task or group name")
    metric: str = Field(description="metric label in that task's (or group's) metrics")
    scale: float = Field(default=1.0, gt=0, description="multiplier onto 0..1 (BLEU 0-100: 0.01)")


class SuiteMTBench(StrictModel):
    """An MT-Bench member of a suite (run by hyoka.mtbench, judged by the run's --judge)."""

    lang: Literal["ja", "en"] = Field(description="which MT-Bench: ja (Japanese) or en")
    judge_prompts: str | None = Field(default=None, description="judge prompt variant: ja, en or en-ja (Swallow's); default the bench's own")


class GroupConfig(StrictModel):
    """A named set of tasks (or other groups) with aggregate scores.

    `categories` (optional) maps a category name to member tasks with the metric that
    category uses (llm-jp-eval's jaster layout); the group score is then the mean over
    categories.
    """

    group: str = Field(pattern=r"^[A-Za-z0-9_.\-]+$")
    description: str = ""
    tasks: list[str] = Field(default_factory=list)
    categories: dict[str, dict[str, str]] | None = None
    aggregate: list[Literal["micro", "macro"]] = Field(default_factory=lambda: ["micro", "macro"])
    # -- suites (hyoka.tasks.suite; docs/swallow.md): a group that also says how it is run
    #: run settings the suite asks for (--suite NAME applies them below the user's own)
    settings: SuiteSettings | None = None
    #: headline scores; their mean is the suite's overall score (aggregated_results.json)
    scores: dict[str, SuiteScore] | None = None
    #: members run once such a task or group exists in hyoka; until then named as skipped
    optional_tasks: list[str] = Field(default_factory=list)
    #: MT-Bench members (member name → bench language), run by `hyoka mtbench`'s runner when
    #: the run has a judge (--judge), else named as skipped; scores name them as `source`
    mtbench: dict[str, SuiteMTBench] = Field(default_factory=dict)
