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


def test_m_ifeval_ja_scores_japanese_rules(shared_data: Path) -> None:
    """In process: the task's documents, scored by the scorer with M-IFEval's rules."""
    from hyoka.core.types import GenerateResult
    from hyoka.engine.scoring import DocResults, score_task
    from hyoka.tasks.registry import load_registry
    from hyoka.tasks.task import PromptOptions, load_task

    config = load_registry([]).tasks["m_ifeval_ja"].config
    samples = load_task(config).build_samples(limit=None, options=PromptOptions())
    assert len(samples) == 172
    furigana = next(s for s in samples if s.doc["instruction_id_list"] == ["ja:letters:furigana"])
    no_period = next(s for s in samples if s.doc["instruction_id_list"] == ["ja:punctuation:no_period"])
    answers = [(furigana, "漢字（かんじ）を書（か）く。"), (furigana, "漢字を書く。"), (no_period, "句点を使わない答え")]
    docs = [DocResults(s, s.doc["prompt"], [GenerateResult.from_output(text)]) for s, text in answers]
    outcome = score_task(config, docs)
    assert [r.details["ifeval"]["strict"] for r in outcome.records] == [[[True]], [[False]], [[True]]]
    assert outcome.metrics["inst_level_strict_acc/ja:letters:furigana"].value == 0.5
    assert outcome.metrics["prompt_level_strict_acc"].value == 2 / 3


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


def test_repeats_are_all_scored_and_pooled(shared_data: Path) -> None:
    """Two outputs per document (--repeats 2): values are means over outputs, the
    instruction level pools both, and the spread between repeats is reported."""
    from hyoka.core.types import GenerateResult
    from hyoka.engine.scoring import DocResults, score_task
    from hyoka.tasks.registry import load_registry
    from hyoka.tasks.task import PromptOptions, load_task

    config = load_registry([]).tasks["ifeval"].config
    samples = load_task(config).build_samples(limit=None, options=PromptOptions())
    no_comma = [s for s in samples if s.doc["instruction_id_list"] == ["punctuation:no_comma"]][:2]
    docs = [
        DocResults(no_comma[0], "p", [GenerateResult.from_output("no commas"), GenerateResult.from_output("a, b")]),
        DocResults(no_comma[1], "p", [GenerateResult.from_output("none"), GenerateResult.from_output("none here")]),
    ]
    outcome = score_task(config, docs)
    assert [r.metrics["prompt_level_strict_acc"] for r in outcome.records] == [0.5, 1.0]
    assert outcome.metrics["inst_level_strict_acc"].value == 0.75 and outcome.metrics["inst_level_strict_acc"].n == 4
    assert outcome.repeats == 2
    assert abs(outcome.repeat_std["prompt_level_strict_acc"] - 0.3535533905932738) < 1e-9  # 1.0 and 0.5
