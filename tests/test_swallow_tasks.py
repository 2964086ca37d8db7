"""Swallow-suite tasks: prompts, gold answers and scoring on fixture files in the upstream
schemas (tests/fixtures/hub) and on the real JEMHopQA and JMMLU data."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import pytest

from hyoka.core.types import GenerateResult
from hyoka.engine.scoring import DocResults, score_task
from hyoka.models.base import render_plain
from hyoka.tasks.registry import Registry, load_registry
from hyoka.tasks.task import LoadedTask, PromptOptions, load_task

from conftest import import_or_require

FIXTURES = Path(__file__).parent / "fixtures" / "hub"
HUB_TASKS = ["mmlu_prox_ja", "mmlu_pro", "gpqa_ja", "math_100_ja", "hellaswag", "wmt20_en_ja", "wmt20_ja_en"]


def write_hub_mirror(root: Path) -> Path:
    """The fixture rows as parquet files at the tasks' mirror paths (hf/REPO/PATH.parquet)."""
    pa = import_or_require("pyarrow", "pip install 'hyoka[hub]'")
    import pyarrow.parquet as pq

    for source in FIXTURES.rglob("*.jsonl"):
        rows = [json.loads(line) for line in source.read_text(encoding="utf-8").splitlines() if line.strip()]
        target = root / source.relative_to(FIXTURES).with_suffix(".parquet")
        target.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(pa.Table.from_pylist(rows), target)
    return root


@pytest.fixture
def hub_mirror(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, shared_data: Path) -> Path:
    mirror = write_hub_mirror(tmp_path / "mirror")
    monkeypatch.setenv("HYOKA_DATA_DIR", f"{mirror}:{shared_data}")
    return mirror


@lru_cache(maxsize=1)
def registry() -> Registry:
    """The built-in tasks, loaded once for these tests (the YAML files do not change)."""
    return load_registry()


def loaded(name: str) -> LoadedTask:
    """The task's data as read from the mirror. The fixture rows stand in for the upstream hub
    files, so the sha256 a task pins (hellaswag, mmlu_pro) is left out: only here, for them."""
    config = registry().tasks[name].config
    if name in HUB_TASKS:
        splits = {s: f.model_copy(update={"sha256": None}) for s, f in config.dataset.splits.items()}
        config = config.model_copy(update={"dataset": config.dataset.model_copy(update={"splits": splits})})
    return load_task(config)


def score(name: str, outputs: list[str]) -> list[dict[str, float]]:
    """Each output scored as the answer to the task's documents 0, 1, ... (no model)."""
    task = loaded(name)
    samples = task.build_samples(limit=len(outputs), options=PromptOptions())
    docs = [DocResults(s, render_plain(s.messages), [GenerateResult.from_output(out)]) for s, out in zip(samples, outputs)]
    return [record.metrics for record in score_task(task.config, docs).records]


def test_every_hub_task_reads_its_fixture(hub_mirror: Path) -> None:
    for name in HUB_TASKS:
        task = loaded(name)
        samples = task.build_samples(limit=None, options=PromptOptions())
        assert len(samples) == 5, name
        assert all(s.references and s.references[0] for s in samples), name
        assert task.files[task.config.dataset.eval_split].origin == f"mirror:{hub_mirror}"


def test_mmlu_prox_ja_lists_only_present_options(hub_mirror: Path) -> None:
    samples = loaded("mmlu_prox_ja").build_samples(limit=2, options=PromptOptions())
    first, second = samples[0].messages[-1].content, samples[1].messages[-1].content
    assert "A, B, C, D, E, F, G, H, I, Jから1つ選んで答えてください" in first
    assert "J) 横浜" in first and samples[0].references == ["C"]
    assert "A, B, C, Dから1つ選んで" in second and "E)" not in second and samples[1].references == ["B"]
    assert first.startswith("次の選択問題に答えてください。出力の最後の行には「回答: $選択肢」")
    assert score("mmlu_prox_ja", ["…よって東京。\n回答: C", "2×2×2=8\n回答: A"]) == [{"accuracy": 1.0}, {"accuracy": 0.0}]


def test_mmlu_pro_english_prompt_and_letter(hub_mirror: Path) -> None:
    text = loaded("mmlu_pro").build_samples(limit=1, options=PromptOptions())[0].messages[-1].content
    assert "selecting one option from A, B, C, D, E, F, G, H, I, J." in text and "C) Tokyo" in text
    assert score("mmlu_pro", ["Tokyo is the capital.\nAnswer: C", "I think (A)... no. Answer: B"]) == [
        {"accuracy": 1.0}, {"accuracy": 1.0},
    ]  # fmt: skip


def test_gpqa_ja_shuffle_is_seeded_per_question(hub_mirror: Path) -> None:
    from hyoka.tasks.builtin.swallow.swallow_hooks import gpqa_docs

    samples = loaded("gpqa_ja").build_samples(limit=None, options=PromptOptions())
    golds = [s.references[0] for s in samples]
    assert len(set(golds)) > 1  # the correct answer is not always in one place
    for s in samples:  # the correct answer sits at its letter
        assert s.doc[s.references[0]] == s.doc["Correct Answer"]
        assert f"{s.references[0]}) {s.doc['Correct Answer']}" in s.messages[-1].content
    # same question → same order, whatever else is in the list or where it stands
    docs = [dict(s.doc) for s in samples]
    assert [d["gold_letter"] for d in gpqa_docs(list(reversed(docs)))] == list(reversed(golds))
    assert gpqa_docs(docs[:1])[0]["gold_letter"] == golds[0]
    assert [d["gold_letter"] for d in gpqa_docs(docs, seed=7)] != golds or len(samples) < 3


def test_math_100_ja_uses_math_verify(hub_mirror: Path) -> None:
    import_or_require("math_verify", "pip install 'hyoka[swallow]'")
    text = loaded("math_100_ja").build_samples(limit=1, options=PromptOptions())[0].messages[-1].content
    assert "回答: $\\boxed{ANSWER}$" in text and text.endswith("$\\frac{1}{2}+\\frac{1}{3}$ を計算しなさい。")
    outputs = ["通分して 3/6+2/6。\n回答: $\\boxed{\\dfrac{5}{6}}$", "x=4\n回答: $\\boxed{4}$", "回答: $\\boxed{\\sqrt{50}}$"]
    assert [m["accuracy"] for m in score("math_100_ja", outputs)] == [1.0, 1.0, 1.0]
    assert score("math_100_ja", ["回答: $\\boxed{5/7}$"]) == [{"accuracy": 0.0}]


def test_hellaswag_is_generative_with_clean_endings(hub_mirror: Path) -> None:
    samples = loaded("hellaswag").build_samples(limit=2, options=PromptOptions())
    assert "Incomplete context: Roof shingle removal: A man is sitting on a roof. He" in samples[0].messages[-1].content
    second = samples[1].messages[-1].content
    endings = second.split("\n\nA: ")[1]
    assert "[step]" not in endings and "[substeps]" not in endings
    assert "B: Fill holes with wood filler.  Let it dry." in second
    assert [s.references for s in samples] == [["D"], ["B"]]
    assert score("hellaswag", ["He pulls up roofing.\nAnswer: D", "Answer: A"]) == [{"accuracy": 1.0}, {"accuracy": 0.0}]


def test_wmt20_prompts_extraction_and_bleu(hub_mirror: Path) -> None:
    import_or_require("MeCab", "pip install mecab-python3 ipadic")
    en_ja = loaded("wmt20_en_ja").build_samples(limit=1, options=PromptOptions())[0]
    assert en_ja.messages[-1].content.endswith("英語: The weather was nice today, so I took a walk in the park.")
    assert en_ja.references == ["今日は天気が良かったので、公園を散歩した。"]
    ja_en = loaded("wmt20_ja_en").build_samples(limit=1, options=PromptOptions())[0]
    assert ja_en.messages[-1].content.endswith("Japanese: 今日は天気が良かったので、公園を散歩した。")
    # the last "日本語:" line is the translation; without one the translation is empty
    perfect = score("wmt20_en_ja", ["翻訳します。\n日本語: 今日は天気が良かったので、公園を散歩した。"])[0]
    assert perfect["bleu"] == pytest.approx(100.0) and perfect["chrf"] == pytest.approx(100.0)
    assert score("wmt20_en_ja", ["今日は天気が良かったので、公園を散歩した。"])[0]["bleu"] == 0.0
    assert score("wmt20_ja_en", ["English: The weather was nice today, so I took a walk in the park."])[0]["bleu"] == pytest.approx(100.0)


class StandInComet:
    """A STAND-IN for a COMET model, whose weights are not available to the tests: it has
    unbabel-comet's `predict(samples, batch_size, gpus) -> .scores` interface, records the
    (src, mt, ref) triples it is given, and scores 0.9 for a translation equal to the
    reference, 0.1 otherwise, so the expected values are known by hand. Not a COMET score."""

    def __init__(self) -> None:
        self.received: list[dict[str, str]] = []

    def predict(self, samples: list[dict[str, str]], batch_size: int, gpus: int) -> object:
        self.received += samples
        return type("Prediction", (), {"scores": [0.9 if s["mt"] == s["ref"] else 0.1 for s in samples]})()


def test_comet_receives_source_hypothesis_reference(hub_mirror: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """wmt20_en_ja with `{name: comet, model: PATH, source: en}`: the metric gets the English
    source from each document, the extracted translation and the Japanese reference."""
    from hyoka.metrics import comet
    from hyoka.tasks.config import MetricSpec

    import_or_require("MeCab", "pip install mecab-python3 ipadic")
    checkpoint = tmp_path / "model.ckpt"
    checkpoint.write_bytes(b"stand-in")
    stand_in = StandInComet()
    monkeypatch.setattr(comet, "load_comet_model", lambda model: stand_in if model == str(checkpoint) else None)
    task = loaded("wmt20_en_ja")
    config = task.config.model_copy(
        update={"metrics": [*task.config.metrics, MetricSpec(name="comet", model=str(checkpoint), source="en")]}
    )
    samples = task.build_samples(limit=2, options=PromptOptions())
    right = f"翻訳します。\n日本語: {samples[0].references[0]}"
    outputs = [right, "日本語: 違う訳"]
    docs = [DocResults(s, render_plain(s.messages), [GenerateResult.from_output(o)]) for s, o in zip(samples, outputs)]
    outcome = score_task(config, docs)
    assert stand_in.received == [
        {"src": samples[0].doc["en"], "mt": samples[0].references[0], "ref": samples[0].references[0]},
        {"src": samples[1].doc["en"], "mt": "違う訳", "ref": samples[1].references[0]},
    ]
    assert stand_in.received[0]["src"] == "The weather was nice today, so I took a walk in the park."
    assert [r.metrics["comet"] for r in outcome.records] == [pytest.approx(0.9), pytest.approx(0.1)]
    assert outcome.task_result().metrics["comet"].value == pytest.approx(0.5)


def test_jemhopqa_real_data_six_metrics(shared_data: Path) -> None:
    task = loaded("jemhopqa")
    assert len(task.eval_docs) == 120
    gold = task.eval_docs[0]["answer"]
    metrics = score("jemhopqa", [f"考えました。\n回答: $\\boxed{{{gold}}}$", "わかりません"])
    assert metrics[0] == {
        "exact_match": 1.0, "f1_score": 1.0, "llmjpeval_f1_score": 1.0,
        "quasi_exact_match": 1.0, "f1_score_quasi": 1.0, "llmjpeval_f1_score_quasi": 1.0,
    }  # fmt: skip
    assert metrics[1]["exact_match"] == 0.0 and metrics[1]["quasi_exact_match"] == 0.0
    cot = loaded("jemhopqa_cot").build_samples(limit=1, options=PromptOptions())[0].messages[-1].content
    assert "ステップバイステップで考えてから回答してください。\n\n問題: " in cot


def test_swallow_jmmlu_real_data(shared_data: Path) -> None:
    members = registry().resolve(["swallow_jmmlu"])
    assert len(members) == 53 and "swallow_jmmlu_japanese_civics" not in members
    task = loaded("swallow_jmmlu_abstract_algebra")
    sample = task.build_samples(limit=1, options=PromptOptions())[0]
    assert sample.messages[-1].content.startswith("次の選択問題に答えてください。")
    assert sample.references[0] in "ABCD"
    right = sample.references[0]
    wrong = next(c for c in "ABCD" if c != right)
    assert score("swallow_jmmlu_abstract_algebra", [f"A は違う。{wrong}も違う。\n回答: {right}"]) == [{"accuracy": 1.0}]
