"""The prompts of the MGSM, GSM8K and BBH tasks, checked against the upstream files and
lm-evaluation-harness's layout."""

from __future__ import annotations

from pathlib import Path

import pytest

from hyoka.tasks.registry import load_registry
from hyoka.tasks.task import PromptOptions, load_task



def first_prompt(task: str, **options: object) -> tuple[str, list[str]]:
    loaded = load_task(load_registry([]).tasks[task].config)
    sample = loaded.build_samples(limit=1, options=PromptOptions(**options))[0]  # type: ignore[arg-type]
    [message] = sample.messages
    return message.content, sample.references


def test_every_bbh_task_and_group_is_registered(shared_data: Path) -> None:
    registry = load_registry([])
    names = sorted(p.stem for p in (shared_data / "bbh" / "bbh").glob("*.json"))
    assert len(names) == 27
    assert sorted(registry.resolve(["bbh"])) == sorted(f"bbh_{n}" for n in names)
    assert sorted(registry.resolve(["bbh_direct"])) == sorted(f"bbh_direct_{n}" for n in names)


@pytest.mark.parametrize("name", ["date_understanding", "boolean_expressions", "sports_understanding", "word_sorting"])
def test_bbh_cot_prompt_is_the_upstream_prompt_then_the_question(shared_data: Path, name: str) -> None:
    upstream = (shared_data / "bbh" / "cot-prompts" / f"{name}.txt").read_text(encoding="utf-8")
    body = upstream.split("-----\n", 1)[1].strip("\n")
    prompt, references = first_prompt(f"bbh_{name}")
    # byte for byte the upstream prompt (sports_understanding's shots keep their space)
    assert prompt.startswith(body + "\n\nQ: ")
    assert prompt.endswith("\nA: Let's think step by step.")
    assert prompt.count("So the answer is") == 3
    assert references and references[0]


def test_bbh_direct_prompt_uses_short_answers(shared_data: Path) -> None:
    prompt, references = first_prompt("bbh_direct_date_understanding")
    assert prompt.startswith("Infer the date from context.\n\nQ: Today is Christmas Eve of 1937.")
    assert "\nA: (D)\n\nQ: " in prompt and "Let's think" not in prompt
    assert prompt.endswith("\nA:") and references == ["(B)"]


def test_mgsm_prompts_follow_lm_eval_native_cot(shared_data: Path) -> None:
    ja, ja_refs = first_prompt("mgsm_ja_cot")
    assert ja.startswith("問題：ロジャーは5個のテニスボールがあります。")
    assert "\nステップごとの答え: ロジャーは最初5個のボールがありました。" in ja
    assert ja.count("\n\n問題：") == 8  # 7 more exemplars and the question
    assert ja.endswith("\n\n問題： ジャネットのアヒルは1日に16個の卵を生みます。ジャネットは毎朝朝食の一環で3個を消費し、毎日4個使って友達向けにマフィンを焼きます。残りを市場で1個あたり2ドルの価格で売ります。彼女は毎日市場でいくら手に入れていますか？\nステップごとの答え:")
    assert ja_refs == ["18"]
    en, _ = first_prompt("mgsm_en_cot", num_fewshot=0)
    assert en.startswith("Question: Janet") and en.endswith("\nStep-by-Step Answer:")


def test_gsm8k_cot_prompt(shared_data: Path) -> None:
    prompt, references = first_prompt("gsm8k_cot")
    assert prompt.startswith("Q: There are 15 trees in the grove.")
    assert prompt.count("\nA: ") == 8 and prompt.count("The answer is") == 8
    assert prompt.endswith("\nA:") and references == ["18"]


def test_every_new_task_loads_its_pinned_files_with_num_docs(shared_data: Path) -> None:
    """Checksums of every data and prompt file hold, and num_docs is the evaluated split's size."""
    registry = load_registry([])
    names = ["ifeval", "m_ifeval_ja", "mgsm_ja_cot", "mgsm_en_cot", "gsm8k_cot"]
    names += [n for n in registry.tasks if n.startswith("bbh_")]
    assert len(names) == 5 + 54
    for name in names:
        config = registry.tasks[name].config
        task = load_task(config)
        assert len(task.eval_docs) == config.num_docs, name
        if config.fewshot.num:
            assert len(task.fewshot_docs) >= config.fewshot.num, name
