"""MT-Bench's judge prompt variants (`--judge-prompts`): which pinned FastChat prompt files
make up each, and picking the prompt for a (mode, reference-guided, turn).

- ``ja``: Stability AI's Japanese prompts (judge_ja_prompts.jsonl) for the first turn.
  That file has no multi-turn or pairwise prompts (jp-stable judges turn 1 only), so the
  second turn and pairwise judging use the English FastChat prompts shipped beside it.
- ``en``: FastChat's English prompts (lm-sys).
- ``en-ja``: Swallow's English prompts with the Japanese-answer clause.
- a path to a JSONL file in the same format (it must hold the names the run needs).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Mapping

from hyoka.errors import HyokaError
from hyoka.judge.prompts import JudgePrompt, load_prompt_file
from hyoka.mtbench.data import MANIFEST
from hyoka.data.files import DataFile

Mode = Literal["single", "pairwise"]

#: the FastChat names of the eight prompts, by (mode, reference-guided, turn)
PROMPT_NAMES: dict[tuple[Mode, bool, int], str] = {
    ("single", False, 1): "single-v1",
    ("single", True, 1): "single-math-v1",
    ("single", False, 2): "single-v1-multi-turn",
    ("single", True, 2): "single-math-v1-multi-turn",
    ("pairwise", False, 1): "pair-v2",
    ("pairwise", True, 1): "pair-math-v1",
    ("pairwise", False, 2): "pair-v2-multi-turn",
    ("pairwise", True, 2): "pair-math-v1-multi-turn",
}


#: the pinned prompt files and the variants made of them (data_files.yaml)
PROMPT_FILES: Mapping[str, DataFile] = MANIFEST.prompt_files
#: variant → prompt files, earlier files win for a name they both hold
VARIANTS: Mapping[str, list[str]] = MANIFEST.prompt_variants


@dataclass(frozen=True)
class PromptSet:
    variant: str
    prompts: Mapping[str, JudgePrompt]
    files: tuple[str, ...]

    def get(self, mode: Mode, reference: bool, turn: int) -> JudgePrompt:
        name = PROMPT_NAMES[(mode, reference, turn)]
        if name not in self.prompts:
            raise HyokaError(
                f"judge prompts '{self.variant}' ({', '.join(self.files)}) have no '{name}' prompt; "
                f"add a line with \"name\": \"{name}\" or pick another --judge-prompts"
            )
        return self.prompts[name]


def load_prompt_set(variant: str) -> PromptSet:
    """A named variant (ja, en, en-ja) from the data mirror, or a JSONL file path."""
    from hyoka.data.files import resolve_file

    if variant not in VARIANTS:
        path = Path(variant).expanduser()
        if variant.endswith(".jsonl") and path.is_file():
            return PromptSet(variant, load_prompt_file(path), (str(path),))
        raise HyokaError(
            f"--judge-prompts {variant}: not a variant ({', '.join(VARIANTS)}) nor an existing .jsonl prompt file"
        )
    merged: dict[str, JudgePrompt] = {}
    files: list[str] = []
    for key in VARIANTS[variant]:
        resolved = resolve_file(PROMPT_FILES[key], task=f"judge prompts {variant}")
        label = f"{PROMPT_FILES[key].mirror_path} (sha256 {resolved.sha256[:12]})"
        files.append(label)
        for name, prompt in load_prompt_file(resolved.path, label=label).items():
            merged.setdefault(name, prompt)
    return PromptSet(variant, merged, tuple(files))
