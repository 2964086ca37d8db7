"""`--suite swallow_ja` / `swallow_en` end to end: the mock backend with scripted answers on the
fixture hub files and the real JEMHopQA/JMMLU data, and Gemma offline on the real data.

The mirror each test builds holds only part of the data (JEMHopQA, two JMMLU subjects,
optionally the hub fixtures), so the suite must skip the rest and say why.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from hyoka.tasks.task import PromptOptions

from conftest import hyoka_cmd
from test_swallow_tasks import loaded, write_hub_mirror

JMMLU_SUBJECTS = ["abstract_algebra", "anatomy"]
SYSTEM = "あなたは誠実で優秀な日本人のアシスタントです。"


def partial_mirror(root: Path, shared: Path, *, hub: bool) -> Path:
    """JEMHopQA and two JMMLU subjects linked from the shared data, plus the hub fixtures."""
    (root / "jmmlu" / "JMMLU").mkdir(parents=True)
    (root / "jemhopqa").symlink_to(shared / "jemhopqa")
    for subject in JMMLU_SUBJECTS:
        (root / "jmmlu" / "JMMLU" / f"{subject}.csv").symlink_to(shared / "jmmlu" / "JMMLU" / f"{subject}.csv")
    if hub:
        write_hub_mirror(root)
    return root


def answer_for(task: str, gold: str) -> str:
    if task.startswith("wmt20_en_ja"):
        return f"翻訳します。\n日本語: {gold}"
    if task.startswith("wmt20_ja_en"):
        return f"English: {gold}"
    if task.startswith(("jemhopqa", "math_100")):
        return f"考えます。\n回答: $\\boxed{{{gold}}}$"
    return f"順に検討します。\n回答: {gold}"


def script_right_then_wrong(tasks: list[str], path: Path) -> Path:
    """Doc 0 of every task answered right, doc 1 wrong (an answer no gold has)."""
    rows = []
    for task in tasks:
        sample = loaded(task).build_samples(limit=1, options=PromptOptions())[0]
        rows.append({"task": task, "doc_id": 0, "output": answer_for(task, sample.references[0])})
        rows.append({"task": task, "doc_id": 1, "output": "わかりません"})
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", encoding="utf-8")
    return path


def run(*args: str, env_mirror: Path, monkeypatch: pytest.MonkeyPatch) -> subprocess.CompletedProcess[str]:
    monkeypatch.setenv("HYOKA_DATA_DIR", str(env_mirror))
    return subprocess.run(hyoka_cmd("run", *args, "--quiet"), capture_output=True, text=True, timeout=600)


def test_swallow_ja_suite_with_mock_backend(
    tmp_path: Path, shared_data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    mirror = partial_mirror(tmp_path / "mirror", shared_data, hub=True)
    monkeypatch.setenv("HYOKA_DATA_DIR", str(mirror))
    present = ["jemhopqa_cot", "wmt20_en_ja", "wmt20_ja_en", "mmlu_prox_ja", "math_100_ja", "gpqa_ja"]
    present += [f"swallow_jmmlu_{s}" for s in JMMLU_SUBJECTS]
    script = script_right_then_wrong(present, tmp_path / "script.jsonl")
    out_dir = tmp_path / "run"
    done = run("mock:", "--model-args", f"script={script}", "--suite", "swallow_ja", "--limit", "2",
               "--output", str(out_dir), env_mirror=mirror, monkeypatch=monkeypatch)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    stderr = done.stderr.splitlines()
    # every member without data is named with the reason; the optional ones too
    skipped = [line for line in stderr if line.startswith("hyoka: suite swallow_ja: skipping ")]
    assert len(skipped) == 51 + 3
    assert any("skipping swallow_jmmlu_virology: offline and jmmlu/JMMLU/virology.csv is not in" in s for s in skipped)
    # without --judge, MT-Bench is named as skipped with the reason
    assert "hyoka: suite swallow_ja: skipping mt_bench_ja: MT-Bench is judged by an LLM and this run has none: " \
        "add --judge BACKEND:NAME (docs/judge.md)" in stderr
    assert any(s.startswith("hyoka: suite swallow_ja: skipping m_ifeval_ja: ") for s in skipped)
    # mock: has no chat template: the suite's chat setting degrades, with a note
    assert any(s.startswith("hyoka: note: suite swallow_ja asks for the chat template") for s in stderr)

    samples = [json.loads(x) for x in (out_dir / "samples_gpqa_ja.jsonl").read_text().splitlines()]
    assert samples[0]["messages"][0] == {"role": "system", "content": SYSTEM}
    summary = json.loads((out_dir / "summary.json").read_text())
    assert summary["tasks"]["gpqa_ja"]["generation"]["max_tokens"] == 2048
    assert summary["tasks"]["gpqa_ja"]["generation"]["temperature"] == 0.0

    agg = json.loads((out_dir / "aggregated_results.json").read_text())
    suite = agg["suite"]
    values = {name: s["value"] for name, s in suite["scores"].items()}
    for name in ("jemhopqa", "jmmlu", "mmlu_prox_ja", "math_100_ja", "gpqa_ja"):
        assert values[name] == pytest.approx(0.5), name
    assert 0 < values["wmt20_en_ja"] < 100 and 0 < values["wmt20_ja_en"] < 100
    scaled = [s["scaled"] for s in suite["scores"].values() if s["scaled"] is not None]
    assert len(scaled) == 7 and suite["overall"] == pytest.approx(sum(scaled) / 7)
    assert suite["complete"] is False and suite["missing"] == ["m_ifeval_ja", "jhumaneval", "mt_bench_ja"]
    assert suite["unavailable"] == [] and suite["mtbench"] == {}
    assert len(suite["skipped"]) == 51 + 3
    assert agg["tasks"]["jemhopqa_cot"]["headline"] == {"metric": "f1_score_quasi", "value": pytest.approx(0.5)}
    assert agg["tasks"]["jemhopqa_cot"]["scores"]["exact_match"] == pytest.approx(0.5)
    assert agg["tasks"]["wmt20_en_ja"]["headline"]["metric"] == "bleu"
    assert agg["settings"]["system_prompt"] == SYSTEM and agg["settings"]["chat_template_applied"] is False


def test_user_settings_win_over_the_suite(tmp_path: Path, shared_data: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    mirror = partial_mirror(tmp_path / "mirror", shared_data, hub=False)
    template = Path(__file__).parent / "fixtures" / "gemma_chat_template.jinja"
    out_dir = tmp_path / "run"
    done = run("mock:", "--model-args", f"reply=回答: A,chat_template={template}", "--suite", "swallow_ja",
               "--limit", "1", "--gen", "max_tokens=64", "--system-prompt", "簡潔に答えて。",
               "--output", str(out_dir), env_mirror=mirror, monkeypatch=monkeypatch)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert "asks for the chat template" not in done.stderr  # the template given is used
    # offline, a pinned hub file that is not here: which repository and revision to place where
    assert "skipping mmlu_prox_ja: offline and hf://datasets/li-lab/MMLU-ProX@8e6106a6c6ce1c5027e66cc338143cf997b2aa09/" \
        "ja/test-00000-of-00001.parquet is not in " in done.stderr
    assert "place ja/test-00000-of-00001.parquet of dataset li-lab/MMLU-ProX at revision 8e6106a6c6ce1c5027e66cc338143cf997b2aa09 " \
        "at " in done.stderr
    summary = json.loads((out_dir / "summary.json").read_text())
    assert summary["chat_template_applied"] is True and summary["system_prompt"] == "簡潔に答えて。"
    assert summary["tasks"]["jemhopqa_cot"]["generation"]["max_tokens"] == 64
    assert summary["settings"]["suite"]["applied_settings"] == {"generation.temperature": 0.0, "chat": True}
    record = json.loads((out_dir / "samples_jemhopqa_cot.jsonl").read_text().splitlines()[0])
    assert record["prompt"].startswith("<start_of_turn>user\n簡潔に答えて。")
    agg = json.loads((out_dir / "aggregated_results.json").read_text())
    assert set(agg["suite"]["missing"]) == {
        "wmt20_en_ja", "wmt20_ja_en", "mmlu_prox_ja", "math_100_ja", "gpqa_ja", "m_ifeval_ja", "jhumaneval", "mt_bench_ja",
    }  # fmt: skip


def test_swallow_en_suite_runs_mt_bench_with_a_judge(tmp_path: Path, shared_data: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """MT-Bench en as a suite member: answered by mock:, judged by a scripted mock: judge, so the
    score is known by hand: question 81 (the Hawaii travel post) gets 9 on both turns,
    question 82 gets 6 on both, so the mean rating is 7.5 and the suite's score 0.75. The
    fixture rows at hellaswag's and mmlu_pro's mirror paths are not the pinned hub files: the
    suite names them as skipped with the checksum it found."""
    mirror = write_hub_mirror(tmp_path / "mirror")
    judge = tmp_path / "judge.jsonl"
    judge.write_text('{"pattern": "Hawaii", "output": "Rating: [[9]]"}\n{"output": "Rating: [[6]]"}\n', encoding="utf-8")
    out_dir = tmp_path / "run"
    done = run("mock:", "--model-args", "reply=A fine answer.", "--suite", "swallow_en", "--limit", "2",
               "--judge", "mock:", "--judge-args", f"script={judge}", "--output", str(out_dir),
               env_mirror=Path(f"{mirror}:{shared_data}"), monkeypatch=monkeypatch)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    for task, expected in (("hellaswag", "899813071e1e"), ("mmlu_pro", "0e24a191921c")):
        assert f"hyoka: suite swallow_en: skipping {task}: " in done.stderr
        assert f"expected {expected}… (a different revision of the file)" in done.stderr
    # a complete `hyoka mtbench` run folder inside the run folder
    bench = out_dir / "mt_bench_en"
    judgments = [json.loads(x) for x in (bench / "judgments.jsonl").read_text().splitlines()]
    assert sorted((j["question_id"], j["turn"], j["rating"]) for j in judgments) == [(81, 1, 9), (81, 2, 9), (82, 1, 6), (82, 2, 6)]
    answers = [json.loads(x) for x in (bench / "answers.jsonl").read_text().splitlines()]
    assert [a["question_id"] for a in answers] == [81, 82]
    # MT-Bench keeps its per-category temperatures (the suite's greedy setting is for its tasks)
    assert json.loads((bench / "summary.json").read_text())["generation"]["temperature_preset"] == "fastchat"
    agg = json.loads((out_dir / "aggregated_results.json").read_text())
    assert agg["tasks"]["mt_bench_en"]["headline"] == {"metric": "score", "value": pytest.approx(7.5)}
    suite = agg["suite"]
    assert suite["scores"]["mt_bench_en"] == {"source": "mt_bench_en", "metric": "score", "value": pytest.approx(7.5), "scaled": pytest.approx(0.75)}
    assert suite["overall"] == pytest.approx(0.75) and suite["missing"] == ["hellaswag", "mmlu_pro"]
    assert suite["mtbench"] == {"mt_bench_en": {"lang": "en", "judge_prompts": None, "folder": "mt_bench_en"}}


def test_suite_with_no_data_at_all_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    done = run("mock:", "--suite", "swallow_en", env_mirror=tmp_path, monkeypatch=monkeypatch)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and done.stderr.startswith("hyoka: error: --suite swallow_en: no task has its data here; hellaswag:")
    assert done.stderr.rstrip().endswith("(and 2 more tasks)")  # mmlu_pro, and mt_bench_en (no judge)


@pytest.mark.slow
def test_gemma_swallow_ja_offline_on_the_real_data(
    tmp_path: Path, shared_data: Path, gemma_gguf: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    mirror = partial_mirror(tmp_path / "mirror", shared_data, hub=False)
    out_dir = tmp_path / "run"
    done = run(f"llamacpp:{gemma_gguf}", "--suite", "swallow_ja", "--limit", "1", "--gen", "max_tokens=8",
               "--output", str(out_dir), env_mirror=mirror, monkeypatch=monkeypatch)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert "hyoka: note: suite swallow_ja asks for the chat template, but model" in done.stderr
    assert "skipping gpqa_ja: hf/LLaMAX/BenchMAX_Science/ja/train.parquet not found" in done.stderr
    agg = json.loads((out_dir / "aggregated_results.json").read_text())
    assert sorted(agg["tasks"]) == ["jemhopqa_cot", *(f"swallow_jmmlu_{s}" for s in JMMLU_SUBJECTS)]
    assert all(t["n"] == 1 and t["errors"] == 0 for t in agg["tasks"].values())
    assert agg["suite"]["scores"]["jemhopqa"]["value"] is not None
    assert agg["suite"]["scores"]["jmmlu"]["value"] is not None
    assert agg["suite"]["overall"] is not None and agg["suite"]["complete"] is False


def test_swallow_ja_mt_bench_member_reads_swallows_judge_prompts_before_the_model(
    tmp_path: Path, shared_data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With a judge, swallow_ja's MT-Bench member is planned with Swallow's en-ja judge prompts
    and gpt-4o references, read from the mirror before any model loads; its run settings come
    from the run (system prompt, limit, max_tokens), its temperatures from MT-Bench's table."""
    from hyoka.engine.runner import RunOptions
    from hyoka.mtbench.suite_members import prepare_members
    from hyoka.tasks import suite as suites
    from hyoka.tasks.registry import load_registry

    registry = load_registry()
    plan = suites.plan_suite(registry, registry.groups["swallow_ja"], judge=True)
    gen, system, _ = suites.apply_settings(plan, gen={}, system_prompt=None, chat=False)
    run = RunOptions(tasks=plan.tasks, output=tmp_path / "run", limit=3, prompt=PromptOptions(system_prompt=system), gen_overrides=gen)
    [member] = prepare_members(plan, run, "mock:")
    assert member.name == "mt_bench_ja" and member.options.output == tmp_path / "run" / "mt_bench_ja"
    assert member.prepared.prompts.variant == "en-ja" and member.prepared.reference_name == "gpt-4o-2024-08-06"
    assert [q.question_id for q in member.prepared.questions] == [1, 2, 3]
    assert member.options.system_prompt == SYSTEM and member.options.max_tokens == 2048
    assert member.options.temperatures["writing"] == 0.7 and member.options.temperatures["math"] == 0.0
    assert "mt_bench_ja" not in plan.skipped
    # --docs START:END takes those questions, as of every other member (it ran all 80 before)
    ranged = RunOptions(tasks=plan.tasks, output=tmp_path / "run", docs=(1, 3), prompt=PromptOptions(), gen_overrides=gen)
    [member] = prepare_members(plan, ranged, "mock:")
    assert [q.question_id for q in member.prepared.questions] == [2, 3]
    past = RunOptions(tasks=plan.tasks, output=tmp_path / "run", docs=(100, 101), prompt=PromptOptions(), gen_overrides=gen)
    assert prepare_members(plan, past, "mock:") == []
    assert plan.skipped["mt_bench_ja"] == "--docs 100:101: japanese_mt_bench has 80 questions, none in this range"
    # the member's data not here: skipped with the reason, like any member
    plan = suites.plan_suite(registry, registry.groups["swallow_ja"], judge=True)
    monkeypatch.setenv("HYOKA_DATA_DIR", str(tmp_path / "empty"))
    assert prepare_members(plan, run, "mock:") == [] and plan.mtbench == {}
    assert plan.skipped["mt_bench_ja"].startswith("task 'japanese_mt_bench': offline and japanese_mt_bench/question_full.jsonl is not in ")
