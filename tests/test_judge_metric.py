"""The `judge` metric in real runs (`hyoka run MODEL --tasks T --judge BACKEND:NAME`): the
mock: backend answers and judges with scripted replies ("[[A]]", "Rating: [[7]]", garbage);
the slow test runs Gemma 3 270M as both model and judge through a llama.cpp server."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from conftest import hyoka_cmd, require

from hyoka.cli import main

VICUNA = ("ja_vicuna_qa/jp_bench/question.jsonl", "ja_vicuna_qa/jp_bench/judge_prompts.jsonl",
          "ja_vicuna_qa/jp_bench/model_answer/openai--text-davinci-003/results.jsonl")  # fmt: skip
ANSWER = "私の答えです"
CapSys = pytest.CaptureFixture[str]


@pytest.fixture
def data(shared_data: Path) -> Path:
    missing = [p for p in VICUNA if not (shared_data / p).is_file()]
    require(not missing, f"ja_vicuna_qa files missing from {shared_data}: {missing}")
    return shared_data


def _script(folder: Path, name: str, *rows: dict[str, object]) -> Path:
    path = folder / f"{name}.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def _run(capsys: CapSys, tmp_path: Path, *args: str, judge_script: Path | None = None,
         expect: int = 0) -> tuple[dict, str]:  # fmt: skip
    """`hyoka run mock: ... --limit 3` in this process (the CLI's own main); mock: answers ANSWER."""
    out_dir = tmp_path / "out"
    judge = ["--judge", "mock:", "--judge-args", f"script={judge_script}"] if judge_script else []
    code = main(["run", "mock:", "--model-args", f"reply={ANSWER}", "--limit", "3", "--output", str(out_dir), "--quiet",
                 *judge, *args])  # fmt: skip
    out = capsys.readouterr()
    assert code == expect, out.err[-3000:]
    if expect == 2:
        assert "Traceback" not in out.err and len(out.err.strip().splitlines()) == 1, out.err
    metrics = json.loads((out_dir / "metrics.json").read_text()) if expect != 2 else {}
    return metrics, out.out + out.err


def _model_first(folder: Path, *, a: str = "[[A]]", b: str = "[[B]]") -> Path:
    """A fair judge: picks the model's answer whichever position it is in."""
    return _script(folder, "judge", {"pattern": f"アシスタントAの答えの始まり\\]\\n{ANSWER}", "output": a}, {"output": b})


def test_pairwise_win_in_both_orders(data: Path, tmp_path: Path, capsys: CapSys) -> None:
    metrics, out = _run(capsys, tmp_path, "--tasks", "ja_vicuna_qa", judge_script=_model_first(tmp_path))
    m = metrics["tasks"]["ja_vicuna_qa"]["metrics"]
    assert m["win_rate_adjusted"]["value"] == 1.0 and m["win_rate_adjusted"]["n"] == 3
    assert m["win_rate"]["value"] == 1.0 and m["loss_rate"]["value"] == 0.0 and m["tie_rate"]["value"] == 0.0
    assert m["win_rate_adjusted"]["failed"] == 0
    rows = [json.loads(line) for line in (tmp_path / "out" / "samples_ja_vicuna_qa.jsonl").read_text().splitlines()]
    judged = rows[0]["details"]["judge"]["samples"][0]
    games = [j["key"].rsplit("/", 1)[-1] for j in judged["judgments"]]
    assert games == ["g1", "g2"] and judged["judgments"][0]["reply"] == "[[A]]" and judged["judgments"][1]["reply"] == "[[B]]"
    assert ANSWER in judged["judgments"][0]["sent"]
    judge = json.loads((tmp_path / "out" / "summary.json").read_text())["judge"]
    assert judge["spec"] == "mock:" and judge["backend"] == "mock" and judge["config"]["retries"] == 2
    assert judge["execution"]["model_calls"] == 6  # 3 documents, both orders
    used = {Path(f).parent.name: v["sha256"][:12] for f, v in judge["files"].items()}  # prompts, references, baseline
    assert used == {"jp_bench": "429c07ec3540", "gpt-4": "078918a91386", "openai--text-davinci-003": "a50d7e090324"}


def test_position_bias_is_a_tie_and_garbage_is_counted_not_scored(data: Path, tmp_path: Path, capsys: CapSys) -> None:
    biased = _script(tmp_path, "biased", {"output": "[[A]]"})
    metrics, _ = _run(capsys, tmp_path, "--tasks", "ja_vicuna_qa", judge_script=biased)
    m = metrics["tasks"]["ja_vicuna_qa"]["metrics"]
    assert m["win_rate_adjusted"]["value"] == 0.5 and m["tie_rate"]["value"] == 1.0

    garbage = _script(tmp_path, "garbage", {"output": "うーん、どちらとも言えない"})
    metrics, _ = _run(capsys, tmp_path, "--tasks", "ja_vicuna_qa", "--judge-args", "retries=1", judge_script=garbage)
    m = metrics["tasks"]["ja_vicuna_qa"]["metrics"]["win_rate_adjusted"]
    assert m["n"] == 0 and m["failed"] == 3 and m["failures"] == {"no_verdict": 3}
    # a later run into the same folder keeps the judged task, its failures included
    metrics, _ = _run(capsys, tmp_path, "--tasks", "demo_ja")
    assert metrics["tasks"]["ja_vicuna_qa"]["metrics"]["win_rate_adjusted"]["failures"] == {"no_verdict": 3}


def test_rakuda_last_digit_verdicts(data: Path, tmp_path: Path, capsys: CapSys) -> None:
    require((data / "rakuda/rakuda_v2/questions.jsonl").is_file(), "rakuda files missing")
    judge = _script(tmp_path, "judge", {"pattern": f"アシスタント1の回答の開始\\]\\n{ANSWER}", "output": "1の方が良い。\n1"},
                    {"output": "2の方が良い。\n2"})  # fmt: skip
    metrics, _ = _run(capsys, tmp_path, "--tasks", "rakuda", judge_script=judge)
    assert metrics["tasks"]["rakuda"]["metrics"]["win_rate_adjusted"]["value"] == 1.0


def test_judge_failures_and_cache(data: Path, tmp_path: Path, capsys: CapSys) -> None:
    # the judge's requests fail: counted as backend_error, not cached, exit 1 (rerun to fill in)
    failing = _script(tmp_path, "failing", {"error": "server_error: 500 after 5 tries"})
    metrics, _ = _run(capsys, tmp_path, "--tasks", "ja_vicuna_qa", judge_script=failing, expect=1)
    m = metrics["tasks"]["ja_vicuna_qa"]["metrics"]["win_rate_adjusted"]
    assert m["n"] == 0 and m["failures"] == {"backend_error": 3}
    # a good judge, twice: the second run judges nothing again
    fair = _model_first(tmp_path)
    _, first = _run(capsys, tmp_path, "--tasks", "ja_vicuna_qa", judge_script=fair)
    _, second = _run(capsys, tmp_path, "--tasks", "ja_vicuna_qa", judge_script=fair)
    assert "judge: 6 requests, 0 from cache, 6 model calls" in first
    assert "judge: 6 requests, 6 from cache, 0 model calls" in second


def test_saved_answers_judged_again_by_another_judge(data: Path, tmp_path: Path, capsys: CapSys) -> None:
    require((data / "rakuda/rakuda_v2/questions.jsonl").is_file(), "rakuda files missing")
    _run(capsys, tmp_path, "--tasks", "rakuda", judge_script=_script(tmp_path, "tie", {"output": "どちらも同じ。3"}))
    samples = tmp_path / "out" / "samples_rakuda.jsonl"
    fair = _script(tmp_path, "fair", {"pattern": f"アシスタント1の回答の開始\\]\\n{ANSWER}", "output": "1"}, {"output": "2"})
    assert main(["score", str(samples), "--task", "rakuda", "--judge", "mock:", "--judge-args", f"script={fair}",
                 "--output", str(tmp_path / "again")]) == 0  # fmt: skip
    out = capsys.readouterr().out
    metrics = json.loads((tmp_path / "again" / "metrics.json").read_text())
    assert metrics["tasks"]["rakuda"]["metrics"]["win_rate_adjusted"]["value"] == 1.0 and "judge: 6 requests" in out
    assert main(["score", str(samples), "--task", "rakuda"]) == 2  # a judged task needs --judge
    assert "needs a judge model" in capsys.readouterr().err


def test_single_rating_with_reference_from_a_doc_field(
    tmp_path: Path, capsys: CapSys, monkeypatch: pytest.MonkeyPatch
) -> None:
    tasks = tmp_path / "tasks"
    tasks.mkdir()
    (tasks / "qa.jsonl").write_text('{"q": "1+1は？", "ref": "2"}\n{"q": "日本の首都は？", "ref": ""}\n', encoding="utf-8")
    (tasks / "prompts.jsonl").write_text(
        '{"name": "s", "type": "single", "system_prompt": "", "prompt_template": "Q: {question}\\nA: {answer}"}\n'
        '{"name": "s-ref", "type": "single", "system_prompt": "", "prompt_template": "Q: {question}\\nRef: {ref_answer_1}\\nA: {answer}"}\n',
        encoding="utf-8",
    )
    (tasks / "qa.yaml").write_text(
        "name: my_judged\nlanguage: ja\ndataset:\n  source: mine\n  revision: '1'\n  splits:\n"
        "    test: {mirror_path: qa.jsonl}\n  eval_split: test\nformulation: generate\n"
        "prompt: {doc_to_text: '{{ q }}', doc_to_target: '{{ ref }}'}\n"
        "metrics:\n  - {name: judge, mode: single, prompts: {mirror_path: prompts.jsonl}, prompt: s,\n"
        "     reference_prompt: s-ref, reference_field: ref, question_field: q}\n",
        encoding="utf-8",
    )
    judge = _script(tmp_path, "judge", {"pattern": "Ref: 2", "output": "Rating: [[7]]"}, {"output": "評価：[[3]]"})
    monkeypatch.setenv("HYOKA_DATA_DIR", str(tasks))  # the task's files are its own mirror
    metrics, _ = _run(capsys, tmp_path, "--tasks", "my_judged", "--include-path", str(tasks), judge_script=judge)
    m = metrics["tasks"]["my_judged"]["metrics"]["judge_score"]
    assert m["value"] == 5.0 and m["n"] == 2  # 7 with the reference, 3 without


def test_no_judge_or_an_unused_judge_is_one_line_before_any_model_call(data: Path, tmp_path: Path, capsys: CapSys) -> None:
    _, err = _run(capsys, tmp_path, "--tasks", "ja_vicuna_qa", expect=2)
    assert "task ja_vicuna_qa uses metric 'judge', which needs a judge model: add --judge BACKEND:NAME" in err
    _, err = _run(capsys, tmp_path, "--tasks", "demo_ja", judge_script=_model_first(tmp_path), expect=2)
    assert "--judge" in err and "no task of this run" in err


def test_judge_args_without_a_judge_is_one_line_that_keeps_the_key_out(tmp_path: Path, capsys: CapSys) -> None:
    # a forgotten --judge: the settings were dropped without a word (a suite then skipped its MT-Bench)
    _, err = _run(capsys, tmp_path, "--tasks", "demo_ja", "--judge-args", "api_key=sk-qa-0123456789", expect=2)
    assert "--judge-args is given but --judge is not" in err and "sk-qa" not in err
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
def test_gemma_answers_and_judges_ja_vicuna_qa_and_rakuda(data: Path, gemma_gguf: Path, tmp_path: Path) -> None:
    """The done-when run: llamacpp-server Gemma as both model and judge, --limit 3. A 270M
    judge mostly writes no verdict: every document must be scored or counted, nothing crash."""
    require((data / "rakuda/rakuda_v2/questions.jsonl").is_file(), "rakuda files missing")
    model = f"llamacpp-server:{gemma_gguf}"
    out_dir = tmp_path / "out"
    cmd = hyoka_cmd("run", model, "--tasks", "ja_vicuna_qa,rakuda", "--limit", "3", "--model-args", "n_threads=2",
                    "--gen", "max_tokens=12", "--judge", model, "--judge-args", "n_threads=2,max_tokens=8,retries=0",
                    "--output", str(out_dir), "--quiet")  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    metrics = json.loads((out_dir / "metrics.json").read_text())["tasks"]
    for task in ("ja_vicuna_qa", "rakuda"):
        m = metrics[task]["metrics"]["win_rate_adjusted"]
        assert m["n"] + m["failed"] == 3, m  # every document scored or counted
        assert sum(m["failures"].values()) == m["failed"]
        rows = (out_dir / f"samples_{task}.jsonl").read_text().splitlines()
        assert len(rows) == 3
    assert "judge:" in done.stdout


def test_a_judge_prompt_missing_from_its_file_stops_the_run_before_any_model(data: Path, tmp_path: Path, capsys: CapSys) -> None:
    tasks = tmp_path / "tasks"
    tasks.mkdir()
    from hyoka.tasks.registry import load_registry

    source = load_registry().tasks["ja_vicuna_qa"].path.read_text(encoding="utf-8")
    (tasks / "vicuna_typo.yaml").write_text(source.replace('name: "ja_vicuna_qa{suffix}"', 'name: "vicuna_typo{suffix}"')
                                            .replace("prompt: pair\n", "prompt: pairr\n"), encoding="utf-8")  # fmt: skip
    _, err = _run(capsys, tmp_path, "--tasks", "vicuna_typo", "--include-path", str(tasks), judge_script=_model_first(tmp_path),
                  expect=2)  # fmt: skip
    assert "prompt 'pairr' is not in ja_vicuna_qa/jp_bench/judge_prompts.jsonl (it has pair, pair-math, single, single-math)" in err


def test_ja_vicuna_qa_single_rates_each_answer(data: Path, tmp_path: Path, capsys: CapSys) -> None:
    # the first questions are generic: rated with the plain prompt (no reference answer in it)
    judge = _script(tmp_path, "judge", {"pattern": "参考解答の始まり", "output": "評価：[[2]]"}, {"output": "[[8]]"})
    metrics, _ = _run(capsys, tmp_path, "--tasks", "ja_vicuna_qa_single", judge_script=judge)
    assert metrics["tasks"]["ja_vicuna_qa_single"]["metrics"]["judge_score"]["value"] == 8.0
