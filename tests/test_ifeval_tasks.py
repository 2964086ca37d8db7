"""The ifeval and m_ifeval_ja tasks end to end through the scorer (mock: backend with
scripted answers) and `hyoka score` on {"prompt", "response"} files matched by prompt."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from conftest import hyoka_cmd

# answers written for hyoka to IFEval keys 1000-1005 (first docs); per doc the expected
# strict decisions are computed by the checks themselves in the assertions below
IFEVAL_ANSWERS = {
    0: "Raymond III was a count. *Early life* He was born. *Rule* He ruled. *Legacy* He died.",
    1: "Hark, good traveller, thou shalt see Tokyo; thence Kyoto.",
    2: "<think>let me think, with commas, about this</think>[name] [address] [phone]",
}


def run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(hyoka_cmd(*args), capture_output=True, text=True, timeout=300, env=dict(os.environ), cwd=cwd)


def test_ifeval_run_reports_lm_eval_metrics_and_per_type(tmp_path: Path, shared_data: Path) -> None:
    script = tmp_path / "script.jsonl"
    script.write_text("".join(json.dumps({"task": "ifeval", "doc_id": i, "output": o}) + "\n" for i, o in IFEVAL_ANSWERS.items()))
    out = tmp_path / "run"
    result = run(["run", "mock:", "--model-args", f"script={script}", "--tasks", "ifeval", "--limit", "3", "--output", str(out), "--quiet"], tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    samples = [json.loads(line) for line in (out / "samples_ifeval.jsonl").read_text().splitlines()]
    metrics = json.loads((out / "metrics.json").read_text())
    task = metrics["tasks"]["ifeval"]["metrics"] if "tasks" in metrics else metrics["ifeval"]
    from hyoka.metrics.ifeval import InstructionDoc

    decisions = []
    for sample in samples:
        detail = sample["details"]["ifeval"]
        text = sample["output"]
        assert "<think>" not in text  # the reasoning was split off before the checks
        expected = InstructionDoc.from_doc(sample["doc"]).evaluate(text).instructions
        assert detail["strict"] == [[r.strict for r in expected]]
        assert detail["loose"] == [[r.loose for r in expected]]
        decisions += [r.strict for r in expected]
    # pooled over instructions, as lm-eval's agg_inst_level_acc
    assert abs(task["inst_level_strict_acc"]["value"] - sum(decisions) / len(decisions)) < 1e-9
    assert {"prompt_level_strict_acc", "prompt_level_loose_acc", "inst_level_loose_acc"} <= set(task)
    assert "inst_level_strict_acc/punctuation:no_comma" in task


def test_m_ifeval_ja_scores_japanese_rules(tmp_path: Path, shared_data: Path) -> None:
    docs = [json.loads(line) for line in (shared_data / "m_ifeval" / "data" / "ja_input_data.jsonl").read_text().splitlines()]
    furigana = next(i for i, d in enumerate(docs) if d["instruction_id_list"] == ["ja:letters:furigana"])
    script = tmp_path / "script.jsonl"
    script.write_text(
        json.dumps({"task": "m_ifeval_ja", "doc_id": furigana, "output": "漢字（かんじ）を書（か）く。"}) + "\n"
        + json.dumps({"output": "わかりません"}) + "\n"
    )
    out = tmp_path / "run"
    result = run(["run", "mock:", "--model-args", f"script={script}", "--tasks", "m_ifeval_ja", "--output", str(out), "--quiet"], tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    samples = {json.loads(line)["doc_id"]: json.loads(line) for line in (out / "samples_m_ifeval_ja.jsonl").read_text().splitlines()}
    assert samples[furigana]["details"]["ifeval"]["strict"] == [[True]]
    assert len(samples) == 172


def test_hyoka_score_matches_prompt_response_files(tmp_path: Path, shared_data: Path) -> None:
    """IFEval's published form: {"prompt", "response"} per line, matched by prompt text."""
    docs = [json.loads(line) for line in (shared_data / "ifeval" / "input_data.jsonl").read_text().splitlines()][:4]
    responses = tmp_path / "responses.jsonl"
    responses.write_text("".join(json.dumps({"prompt": d["prompt"], "response": "My answer is yes."}) + "\n" for d in reversed(docs)))
    out = tmp_path / "scored"
    result = run(["score", str(responses), "--task", "ifeval", "--output", str(out)], tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    scored = {json.loads(line)["doc"]["key"]: json.loads(line) for line in (out / "samples_ifeval.jsonl").read_text().splitlines()}
    assert sorted(scored) == sorted(d["key"] for d in docs)
    from hyoka.metrics.ifeval import InstructionDoc

    for d in docs:
        expected = [r.strict for r in InstructionDoc.from_doc(d).evaluate("My answer is yes.").instructions]
        assert scored[d["key"]]["details"]["ifeval"]["strict"] == [expected]
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"prompt": "not an IFEval prompt", "response": "x"}) + "\n")
    result = run(["score", str(bad), "--task", "ifeval"], tmp_path)
    assert result.returncode == 2 and "bad.jsonl:1" in result.stderr and "Traceback" not in result.stderr
