"""The jaster task family on its real data (HYOKA_DATA_DIR, laid out like shared/data).

For every task: the data loads with the pinned checksums, 0-shot and 4-shot prompts have
llm-jp-eval's layout, no few-shot example comes from the evaluated split, and the gold is
well-formed: a model that answers exactly the gold scores 1.0 through the task's own
extractor chain and metric. Without the data these tests skip (and fail when CI=true).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from conftest import SHARED_DATA, require
from hyoka.core.types import GenerateResult
from hyoka.engine.scoring import DocResults, score_task
from hyoka.models.base import render_plain
from hyoka.results.aggregate import MetricValue, TaskResult, aggregate_categories
from hyoka.tasks.registry import BUILTIN_DIR, Registry, load_registry
from hyoka.tasks.task import LoadedTask, PromptOptions, load_task
from hyoka.tasks.yaml_io import FunctionRef
from hyoka.text.extract import parse_number

JASTER_DIR = BUILTIN_DIR / "jaster"
PREAMBLE = "以下は、タスクを説明する指示と、文脈のある入力の組み合わせです。要求を適切に満たす応答を書きなさい。\n\n### 指示:\n"

NLI3 = {"entailment", "contradiction", "neutral"}
#: the labels each classification task's gold must come from
LABELS: dict[str, set[str]] = {
    "jaster_jnli": NLI3,
    "jaster_jsick": NLI3,
    "jaster_jamp": NLI3,
    "jaster_janli": {"entailment", "non-entailment"},
    "jaster_jsem": {"yes", "no", "unknown", "undef"},
    "jaster_jcola_in_domain": {"0", "1"},
    "jaster_jcola_out_of_domain": {"0", "1"},
    "jaster_commonsensemoralja": {"0", "1"},
    "jaster_jcommonsenseqa": {"0", "1", "2", "3", "4"},
    "jaster_jmmlu": {"A", "B", "C", "D"},
}
NUMERIC = {"jaster_mawps", "jaster_mgsm_ja", "jaster_mgsm_en", "jaster_jsts"}
FREE_TEXT = {"jaster_jemhopqa", "jaster_jemhopqa_cot", "jaster_niilc", "jaster_jsquad", "jaster_xwinograd_ja"}
#: the FA category (Wikipedia Annotated Corpus, tests/test_jaster_wiki.py): answers of several lines
WIKI = {f"jaster_wiki_{t}" for t in ("reading", "ner", "dependency", "pas", "coreference")}
JASTER_TASKS = sorted({*LABELS, *NUMERIC, *FREE_TEXT, *WIKI})
#: the categories of the jaster suite, in order
CATEGORIES = ["NLI", "QA", "RC", "MC", "MR", "HE", "FA"]


@pytest.fixture(scope="module")
def registry() -> Registry:
    return load_registry()


def _data_files(registry: Registry, name: str) -> list[str]:
    """Every mirror file a task reads, the JSeM manifest's entries included."""
    files = []
    for spec in registry.tasks[name].config.dataset.splits.values():
        if spec.package_resource:
            manifest = BUILTIN_DIR / spec.mirror_path
            files += [json.loads(line)["mirror_path"] for line in manifest.read_text().splitlines() if line.strip()]
        else:
            files.append(spec.mirror_path)
    return sorted(set(files))


def require_data(*relative_paths: str) -> None:
    """Skip locally, fail in CI, when a data file is missing from the mirror."""
    missing = [p for p in relative_paths if not (SHARED_DATA / p).is_file()]
    require(not missing, f"benchmark data missing under {SHARED_DATA}: {', '.join(missing[:3])}")


def _hook(name: str) -> Any:
    """A function of jaster_hooks.py, imported the way a task YAML's !function is."""
    return FunctionRef(f"jaster_hooks.{name}", str(JASTER_DIR)).resolve()


_LOADED: dict[str, LoadedTask] = {}


def _loaded(registry: Registry, name: str) -> LoadedTask:
    require_data(*_data_files(registry, name))
    if name not in _LOADED:
        _LOADED[name] = load_task(registry.tasks[name].config)
    return _LOADED[name]


def test_every_jaster_task_is_listed(registry: Registry) -> None:
    # the jaster_hub tasks read upstream files that are not in shared/data: tests/test_jaster_hub.py
    found = sorted(n for n in registry.tasks if n.startswith("jaster_") and "jaster_hub" not in registry.tasks[n].config.groups)
    assert found == JASTER_TASKS


@pytest.mark.parametrize("name", JASTER_TASKS)
def test_task_shape(registry: Registry, name: str) -> None:
    cfg = registry.tasks[name].config
    assert cfg.formulation == "generate"
    assert "jaster" in cfg.groups and len(cfg.groups) == 2  # the suite and a category group
    assert cfg.fewshot.num == 4 and cfg.fewshot.split != cfg.dataset.eval_split
    assert cfg.prompt.instruction is not None and cfg.prompt.instruction.startswith(PREAMBLE)
    for spec in cfg.dataset.splits.values():
        assert spec.sha256 is not None
        assert spec.package_resource or spec.url is None or spec.url.startswith("https://raw.githubusercontent.com/")


@pytest.mark.parametrize("name", JASTER_TASKS)
def test_loads_real_data(registry: Registry, name: str) -> None:
    task = _loaded(registry, name)
    assert len(task.eval_docs) == task.config.num_docs
    assert len(task.fewshot_docs) >= 4


@pytest.mark.parametrize("name", JASTER_TASKS)
def test_fewshot_never_from_evaluated_docs(registry: Registry, name: str) -> None:
    task = _loaded(registry, name)

    def key(doc: dict[str, Any]) -> str:
        return json.dumps(doc, ensure_ascii=False, sort_keys=True)

    evaluated = {key(d) for d in task.eval_docs}
    assert not [d for d in task.fewshot_docs if key(d) in evaluated]


@pytest.mark.parametrize("name", JASTER_TASKS)
@pytest.mark.parametrize("shots", [0, 4])
def test_prompt_layout(registry: Registry, name: str, shots: int) -> None:
    task = _loaded(registry, name)
    samples = task.build_samples(limit=25, options=PromptOptions(num_fewshot=shots))
    instruction = task.config.prompt.instruction
    for sample in samples:
        assert len(sample.messages) == 1 and sample.messages[0].role == "user"
        prompt = sample.messages[0].content
        assert prompt.startswith(instruction + "\n\n### 入力:\n")
        assert prompt.endswith("\n\n### 応答:\n")
        assert prompt.count("### 入力:\n") == shots + 1
        assert prompt.count("### 応答:\n") == shots + 1
        assert len(sample.fewshot_ids) == shots == len(set(sample.fewshot_ids))
        assert all(0 <= i < len(task.fewshot_docs) for i in sample.fewshot_ids)


@pytest.mark.parametrize("name", ["jaster_jnli", "jaster_jemhopqa_cot"])
def test_chat_turns_style(registry: Registry, name: str) -> None:
    task = _loaded(registry, name)
    sample = task.build_samples(limit=1, options=PromptOptions(num_fewshot=2, fewshot_style="turns"))[0]
    roles = [m.role for m in sample.messages]
    assert roles == ["user", "assistant", "user", "assistant", "user"]
    assert sample.messages[0].content.startswith(task.config.prompt.instruction)
    assert "### 指示" not in sample.messages[-1].content  # the instruction is said once


def _gold_output(name: str, reference: str) -> str:
    # what a perfect model would write: CoT tasks end with the 答え： line
    return f"推論は省略。\n答え：{reference}" if name == "jaster_jemhopqa_cot" else reference


@pytest.mark.parametrize("name", JASTER_TASKS)
def test_targets_well_formed(registry: Registry, name: str) -> None:
    task = _loaded(registry, name)
    samples = task.build_samples(limit=None, options=PromptOptions(num_fewshot=0))
    for sample in samples:
        assert len(sample.references) == 1, sample.doc
        gold = sample.references[0]
        assert gold and gold == gold.strip() and ("\n" not in gold or name in WIKI), sample.doc
        if name in LABELS:
            assert gold in LABELS[name]
        if name in NUMERIC:
            value = parse_number(gold)
            assert value is not None, gold
            if name == "jaster_jsts":
                assert 0.0 <= value <= 5.0
    for doc in task.fewshot_docs[:50]:
        shot = task._shot_answer(doc)
        assert shot.strip() and "\n\n" not in shot  # a blank line would end the example early
        if name in LABELS:
            assert shot in LABELS[name]


@pytest.mark.parametrize("name", JASTER_TASKS)
def test_gold_output_scores_full_marks(registry: Registry, name: str) -> None:
    """The gold, written as the model would, survives extraction and scores 1.0."""
    task = _loaded(registry, name)
    samples = task.build_samples(limit=60, options=PromptOptions(num_fewshot=0))
    # llm-jp-eval's set_f1 keeps repeated gold lines (a document that says 「…した -> …」
    # twice): no answer can recall both, so even the gold scores below 1 there
    lines = [s.references[0].split("\n") for s in samples]
    samples = [s for s, ls in zip(samples, lines) if name not in WIKI or len(set(ls)) == len(ls)]
    outputs = [GenerateResult.from_output(_gold_output(name, s.references[0]) + "\n\n余計な説明") for s in samples]
    outcome = score_task(task.config, [DocResults(s, render_plain(s.messages), [o]) for s, o in zip(samples, outputs)])
    records = outcome.records
    assert all(r.error is None for r in records)
    assert all(r.extracted == r.references[0] for r in records)
    for label, value in outcome.metrics.items():
        assert math.isclose(value.value, 1.0), (label, value)


#: every prompt from one pinned llm-jp-eval version (docs/tasks.md); hyoka's own additions say so
PINNED = "llm-jp-eval v1.4.1"
HYOKA_ADDITIONS = {"jaster_xwinograd_ja", "jaster_jemhopqa_cot"}


@pytest.mark.parametrize("name", JASTER_TASKS)
def test_prompt_version_is_pinned(registry: Registry, name: str) -> None:
    version = registry.tasks[name].config.prompt_version
    assert version == (f"hyoka 1 ({PINNED} layout)" if name in HYOKA_ADDITIONS else PINNED)


def test_instructions_that_differed_from_the_pinned_version(registry: Registry) -> None:
    """The two instructions that followed another llm-jp-eval version before the pin."""
    jamp = registry.tasks["jaster_jamp"].config
    assert jamp.prompt.instruction is not None
    rules = jamp.prompt.instruction.split("制約：\n", 1)[1].splitlines()
    assert [r.rsplit("は", 1)[-1] for r in rules] == ["entailmentと出力", "contradictionと出力", "neutralと出力"]
    for name in ("jaster_mgsm_ja", "jaster_mgsm_en"):  # v1.x MGSM; v2 asks for "数字のみの回答" in 25 tokens
        cfg = registry.tasks[name].config
        assert cfg.prompt.instruction is not None
        assert cfg.prompt.instruction.endswith("### 指示:\n質問を入力とし、回答を出力してください。回答の他には何も含めないことを厳守してください。")
        assert cfg.generation.max_tokens == 10


def test_suite_categories(registry: Registry) -> None:
    group = registry.groups["jaster"]
    assert group.categories is not None
    assert list(group.categories) == CATEGORIES
    members = registry.resolve(["jaster"])
    assert sorted(members) == JASTER_TASKS
    for category, tasks in group.categories.items():
        for task, metric in tasks.items():
            labels = [m.params().get("label", m.name) for m in registry.tasks[task].config.metrics]
            assert metric in labels, (category, task)


def test_aggregate_categories_is_llmjp_mean_of_means() -> None:
    def result(task: str, metric: str, value: float) -> TaskResult:
        return TaskResult(task, {metric: MetricValue(value, 0.1, 10)}, {metric: [value] * 10}, 0)

    categories = {"NLI": {"a": "exact_match", "b": "exact_match"}, "QA": {"c": "char_f1"}}
    results = {"a": result("a", "exact_match", 0.2), "b": result("b", "exact_match", 0.6), "c": result("c", "char_f1", 0.9)}
    scored = aggregate_categories(categories, results)
    assert math.isclose(scored.scores["NLI"].value, 0.4)
    assert math.isclose(scored.scores["QA"].value, 0.9)
    assert scored.avg is not None and math.isclose(scored.avg.value, 0.65)
    # a missing member: that category and AVG are withheld, the others still reported
    partial = aggregate_categories(categories, {k: v for k, v in results.items() if k != "b"})
    assert partial.missing == {"NLI": ["b"]} and partial.avg is None and "QA" in partial.scores


def test_jsem_split_is_stable_and_disjoint(registry: Registry) -> None:
    require_data(*_data_files(registry, "jaster_jsem"))
    counts = {s: 0 for s in ("train", "dev", "test")}
    for i in range(2000):
        counts[_hook("jsem_split_of")("Verbs", str(i))] += 1
    assert 120 < counts["test"] < 280 and 120 < counts["dev"] < 280
    task = _loaded(registry, "jaster_jsem")
    assert not {d["id"] for d in task.eval_docs} & {d["id"] for d in task.fewshot_docs}


def test_reader_errors_are_one_line(tmp_path: Path) -> None:
    from hyoka.errors import DatasetError

    bad = tmp_path / "bad.xml"
    bad.write_text("<questions><question>", encoding="utf-8")
    with pytest.raises(DatasetError, match=r"bad\.xml: not well-formed XML"):
        _hook("read_niilc")(bad, "test")
    tsv = tmp_path / "janli.tsv"
    tsv.write_text("a\tb\n1\t2\n", encoding="utf-8")
    with pytest.raises(DatasetError, match="no 'split' column"):
        _hook("read_janli")(tsv, "test")


def _doc_block(text: str, opener: str) -> str:
    """The fenced code block of docs/tasks.md whose first line is `opener`."""
    for block in text.split("```")[1::2]:
        body = block.split("\n", 1)[1] if "\n" in block else ""
        if body.startswith(opener):
            return body
    raise AssertionError(f"no code block starting with {opener!r} in docs/tasks.md")


def test_docs_custom_task_example_works(tmp_path: Path) -> None:
    """The custom-task example in docs/tasks.md validates, loads and shuffles correctly."""
    from hyoka.tasks.registry import validate_file

    docs = (Path(__file__).resolve().parents[1] / "docs" / "tasks.md").read_text(encoding="utf-8")
    folder = tmp_path / "my_tasks"
    folder.mkdir()
    (folder / "my_stem.yaml").write_text(_doc_block(docs, "# JMMLU (CC BY-SA 4.0) science"), encoding="utf-8")
    (folder / "my_hooks.py").write_text(_doc_block(docs, '"""Hooks for my_stem'), encoding="utf-8")
    configs, problems = validate_file(folder / "my_stem.yaml")
    assert not problems and len(configs) == 3
    registry = load_registry([folder])
    assert registry.resolve(["my_stem"]) == [
        "my_stem_college_physics",
        "my_stem_high_school_chemistry",
        "my_stem_elementary_mathematics",
    ]
    require_data("jmmlu/JMMLU/college_physics.csv")
    task = load_task(registry.tasks["my_stem_college_physics"].config)
    assert len(task.eval_docs) == task.config.num_docs
    import csv

    with (SHARED_DATA / "jmmlu/JMMLU/college_physics.csv").open(encoding="utf-8-sig", newline="") as f:
        raw = [r for r in csv.reader(f) if r]
    samples = task.build_samples(limit=20, options=PromptOptions())
    for sample, row in zip(samples, raw):
        original_gold = row[1 + "ABCD".index(row[5].strip())]
        assert sample.choices == ["A", "B", "C", "D"]
        assert sample.doc["options"][sample.gold_index] == original_gold
        assert sorted(sample.doc["options"]) == sorted(row[1:5])
        assert sample.messages[0].content.endswith("\n答え：")


@pytest.mark.slow
def test_jaster_suite_with_gemma_offline(registry: Registry, gemma_gguf: Path, tmp_path: Path) -> None:
    """`hyoka run llamacpp:<gemma>` on the jaster suite's tasks but FA, `--limit 20`, offline:
    category scores; FA (long answers: minutes of generation here) is reported missing and
    AVG withheld. FA runs end to end in tests/test_jaster_wiki.py."""
    import os
    import subprocess

    from conftest import hyoka_cmd

    for name in registry.resolve(["jaster"]):
        require_data(*_data_files(registry, name))
    out = tmp_path / "run"
    tasks = [t for t in registry.resolve(["jaster"]) if t not in WIKI]
    cmd = hyoka_cmd("run", f"llamacpp:{gemma_gguf}", "--tasks", ",".join(tasks), "--limit", "20", "--output", str(out), "--quiet")
    env = {**os.environ, "HYOKA_OFFLINE": "1", "HF_HUB_OFFLINE": "1"}
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=3600)
    assert done.returncode == 0, done.stderr[-3000:]
    metrics = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    assert sorted(metrics["tasks"]) == sorted(tasks)
    for name, entry in metrics["tasks"].items():
        assert entry["errors"] == 0, name
        assert all(m["n"] == 20 for m in entry["metrics"].values()), name
    group = metrics["groups"]["jaster"]
    categories = [c for c in CATEGORIES if c != "FA"]
    scores = [group["metrics"][c]["value"] for c in categories]
    assert all(0.0 <= s <= 1.0 for s in scores)
    assert "AVG" not in group["metrics"] and "FA" not in group["metrics"]
    assert set(group["categories"]) == set(CATEGORIES)
    assert [c for c, entry in group["categories"].items() if "missing" in entry] == ["FA"]
    # the suite's outputs score the same again without the model
    again = subprocess.run(
        hyoka_cmd("score", str(out / "samples_jaster_jnli.jsonl"), "--task", "jaster_jnli"),
        env=env, capture_output=True, text=True, timeout=600,
    )
    assert again.returncode == 0, again.stderr[-2000:]
    assert f"{metrics['tasks']['jaster_jnli']['metrics']['exact_match']['value']:.4f}" in again.stdout


def test_suite_is_an_alias_of_tasks() -> None:
    from hyoka.cli import build_parser

    parser = build_parser()
    assert parser.parse_args(["run", "llamacpp:m.gguf", "--suite", "jaster"]).tasks == "jaster"
    assert parser.parse_args(["run", "llamacpp:m.gguf", "--tasks", "jaster_jnli"]).tasks == "jaster_jnli"
    with pytest.raises(SystemExit):
        parser.parse_args(["run", "llamacpp:m.gguf", "--suite", "jaster", "--tasks", "jaster_jnli"])
