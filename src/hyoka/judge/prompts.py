"""Judge prompt templates, in FastChat's judge_prompts.jsonl format. The templates are
data: read from files (a task's pinned file, MT-Bench's variants in hyoka.mtbench), never
copied into hyoka.

A file holds one JSON object per line: name, type ("single" | "pairwise"), system_prompt,
prompt_template (Python `str.format` fields such as ``{question}``, ``{answer}``,
``{ref_answer_1}``), output_format ("[[rating]]", "[[評価]]", "[[A]]" or "last", rakuda's
verdict on the last line), category.
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Mapping

from hyoka.data.readers import read_jsonl_objects
from hyoka.errors import HyokaError

PromptType = Literal["single", "pairwise"]

_KNOWN_FIELDS = {
    "question", "answer", "ref_answer_1", "ref_answer_2",
    "question_1", "question_2", "answer_1", "answer_2",
    "answer_a", "answer_b", "answer_a_1", "answer_a_2", "answer_b_1", "answer_b_2",
}  # fmt: skip


@dataclass(frozen=True)
class JudgePrompt:
    name: str
    type: PromptType
    system_prompt: str
    prompt_template: str
    output_format: str
    category: str
    #: where it came from: "<file> (sha256 …)"
    source: str

    @property
    def fields(self) -> frozenset[str]:
        return frozenset(f for _, f, _, _ in string.Formatter().parse(self.prompt_template) if f)

    @property
    def expects_verdict(self) -> bool:
        return self.type == "pairwise"

    def render(self, values: Mapping[str, str]) -> str:
        """The user message: the template with `values` filled in (extra values are ignored,
        as in FastChat, which passes the reference answers to every template)."""
        missing = self.fields - set(values)
        if missing:
            raise HyokaError(f"judge prompt '{self.name}' ({self.source}) needs {sorted(missing)} that this judgment lacks")
        return self.prompt_template.format(**{k: v for k, v in values.items() if k in self.fields})


def parse_prompt_object(obj: dict[str, Any], *, source: str, lineno: int) -> JudgePrompt:
    """One JSONL object → JudgePrompt; a bad one is one error naming file, line and field."""
    where = f"{source} line {lineno}"
    for key in ("name", "type", "system_prompt", "prompt_template"):
        if not isinstance(obj.get(key), str):
            raise HyokaError(f"{where}: field '{key}' is missing or not a string")
    if obj["type"] not in ("single", "pairwise"):
        raise HyokaError(f"{where}: field 'type' must be 'single' or 'pairwise', got {obj['type']!r}")
    default_format = "[[A]]" if obj["type"] == "pairwise" else "[[rating]]"
    if obj["type"] == "pairwise" and obj.get("output_format") not in (None, "[[A]]", "last"):
        raise HyokaError(f"{where}: field 'output_format' of a pairwise prompt must be '[[A]]' or 'last', got {obj['output_format']!r}")
    prompt = JudgePrompt(
        name=obj["name"],
        type=obj["type"],
        system_prompt=obj["system_prompt"],
        prompt_template=obj["prompt_template"],
        output_format=str(obj.get("output_format") or default_format),
        category=str(obj.get("category") or "general"),
        source=source,
    )
    try:
        unknown = prompt.fields - _KNOWN_FIELDS
    except ValueError as exc:  # a stray '{' in the template
        raise HyokaError(f"{where}: field 'prompt_template' is not a valid format string ({exc}); write literal braces as {{{{ }}}}") from None
    if unknown:
        raise HyokaError(f"{where}: prompt_template uses unknown fields {sorted(unknown)}; known: {sorted(_KNOWN_FIELDS)}")
    return prompt


def load_prompt_file(path: Path, *, label: str | None = None) -> dict[str, JudgePrompt]:
    source = label or str(path)
    prompts: dict[str, JudgePrompt] = {}
    expected = "one judge prompt object with name, type, system_prompt, prompt_template per line"
    for lineno, obj in read_jsonl_objects(path, error=HyokaError, expected=expected):
        prompt = parse_prompt_object(obj, source=source, lineno=lineno)
        prompts[prompt.name] = prompt
    if not prompts:
        raise HyokaError(f"{path}: no judge prompts in it (expected FastChat judge_prompts.jsonl lines)")
    return prompts
