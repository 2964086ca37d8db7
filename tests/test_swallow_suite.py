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
    assert any("skipping swallow_jmmlu_virology: offline and virology.csv is not in" in s for s in skipped)
    assert "hyoka: suite swallow_ja: skipping mt_bench_ja: not available in hyoka yet" in stderr
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
    assert suite["complete"] is False and suite["missing"] == ["m_ifeval_ja", "jhumaneval"]
    assert suite["unavailable"] == ["mt_bench_ja"]
    assert len(suite["skipped"]) == 51 + 2
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
    assert "skipping mmlu_prox_ja: hf/li-lab/MMLU-ProX/ja/test.parquet not found in" in done.stderr
    summary = json.loads((out_dir / "summary.json").read_text())
    assert summary["chat_template_applied"] is True and summary["system_prompt"] == "簡潔に答えて。"
    assert summary["tasks"]["jemhopqa_cot"]["generation"]["max_tokens"] == 64
    assert summary["settings"]["suite"]["applied_settings"] == {"generation.temperature": 0.0, "chat": True}
    record = json.loads((out_dir / "samples_jemhopqa_cot.jsonl").read_text().splitlines()[0])
    assert record["prompt"].startswith("<start_of_turn>user\n簡潔に答えて。")
    agg = json.loads((out_dir / "aggregated_results.json").read_text())
    assert set(agg["suite"]["missing"]) == {
        "wmt20_en_ja", "wmt20_ja_en", "mmlu_prox_ja", "math_100_ja", "gpqa_ja", "m_ifeval_ja", "jhumaneval",
    }  # fmt: skip


def test_swallow_en_suite_with_mock_backend(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    mirror = write_hub_mirror(tmp_path / "mirror")
    monkeypatch.setenv("HYOKA_DATA_DIR", str(mirror))
    script = script_right_then_wrong(["hellaswag", "mmlu_pro"], tmp_path / "script.jsonl")
    out_dir = tmp_path / "run"
    done = run("mock:", "--model-args", f"script={script}", "--suite", "swallow_en", "--limit", "2",
               "--output", str(out_dir), env_mirror=mirror, monkeypatch=monkeypatch)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    suite = json.loads((out_dir / "aggregated_results.json").read_text())["suite"]
    assert {k: v["value"] for k, v in suite["scores"].items()} == {"hellaswag": 0.5, "mmlu_pro": 0.5}
    assert suite["overall"] == pytest.approx(0.5)


def test_suite_with_no_data_at_all_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    done = run("mock:", "--suite", "swallow_en", env_mirror=tmp_path, monkeypatch=monkeypatch)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and done.stderr.startswith("hyoka: error: --suite swallow_en: no task has its data here; hellaswag:")
    assert done.stderr.rstrip().endswith("(and 1 more tasks)")


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
