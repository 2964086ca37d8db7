"""MT-Bench and the LLM judge.

Fast tests drive the real pipeline (data files, prompts, cache, executor, scoring, run
directory) with a scripted judge backend. The slow ones run Gemma 3 270M (a tiny base
model: its judgments are mostly unparseable, which is the point — failures must be
counted and the run must finish).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from conftest import mock_backend, require

from hyoka.cli import main
from hyoka.cache import RequestCache
from hyoka.errors import HyokaError
from hyoka.judge.answer_files import load_answer_file
from hyoka.judge.judge import Judge, JudgeConfig, JudgeItem, game_outcome
from hyoka.judge.prompts import load_prompt_file
from hyoka.mtbench.data import japanese_ratio
from hyoka.mtbench.prompt_sets import load_prompt_set
from hyoka.mtbench.runner import MTBenchOptions, run_mtbench

JA = "japanese_mt_bench"
STABLELM = f"{JA}/model_answer/japanese-stablelm-instruct-alpha-7b.jsonl"
GPT4 = f"{JA}/model_answer/gpt-4.jsonl"
DATA = (f"{JA}/question_full.jsonl", f"{JA}/judge_ja_prompts.jsonl", f"{JA}/judge_prompts.jsonl", STABLELM, GPT4)


def scripted(folder: Path, *rows: dict, name: str = "script"):  # type: ignore[no-untyped-def]
    """A `mock:` judge or model answering from these script rows (see hyoka.models.mock)."""
    sub = folder / name
    sub.mkdir(exist_ok=True)
    return mock_backend(sub, list(rows))


def replying(folder: Path, reply: str, name: str = "script"):  # type: ignore[no-untyped-def]
    """A `mock:` backend giving every prompt the same reply."""
    return scripted(folder, {"output": reply}, name=name)


@pytest.fixture
def data(shared_data: Path) -> Path:
    """The mirror (conftest points HYOKA_DATA_DIR at it and isolates the cache)."""
    missing = [p for p in DATA if not (shared_data / p).is_file()]
    require(not missing, f"MT-Bench files missing from {shared_data}: {missing}")
    return shared_data


def _item(data: Path) -> JudgeItem:
    prompt = load_prompt_set("en").get("single", False, 1)
    return JudgeItem("q", prompt, {"question": "What is 2+2?", "answer": "4"})


# --- prompts ---------------------------------------------------------------------------------------


def test_prompt_variants_come_from_the_data_files(data: Path) -> None:
    ja = load_prompt_set("ja")
    first = ja.get("single", False, 1)
    assert first.output_format == "[[評価]]" and first.system_prompt == "あなたは有益な助手です。"
    assert "{ref_answer_1}" in ja.get("single", True, 1).prompt_template
    # Stability's Japanese file has no multi-turn prompts: turn 2 uses the English ones beside it
    assert ja.get("single", False, 2).name == "single-v1-multi-turn"
    assert "judge_prompts.jsonl" in ja.get("single", False, 2).source
    swallow = load_prompt_set("en-ja")
    assert "The expected language is Japanese" in swallow.get("single", False, 1).prompt_template
    assert "The expected language is Japanese" in swallow.get("pairwise", True, 2).system_prompt
    assert "Japanese" not in load_prompt_set("en").get("single", False, 1).prompt_template


def test_bad_prompt_file_is_one_line_naming_line_and_field(tmp_path: Path) -> None:
    path = tmp_path / "prompts.jsonl"
    path.write_text('{"name": "single-v1", "type": "single", "system_prompt": "", "prompt_template": "{question}"}\n'
                    '{"name": "x", "type": "single", "system_prompt": "", "prompt_template": "{questoin}"}\n', encoding="utf-8")  # fmt: skip
    with pytest.raises(HyokaError, match=r"line 2: prompt_template uses unknown fields \['questoin'\]"):
        load_prompt_file(path)


# --- the judge component -----------------------------------------------------------------------------


def test_unparseable_reply_is_retried_with_a_new_cache_key(data: Path, tmp_path: Path) -> None:
    # the first call with a prompt gets the first reply, the retry the second
    judge_backend = scripted(tmp_path, {"output": ["Looks right.", "Rating: [[7]]"]})
    cache = RequestCache(tmp_path / "c.sqlite")
    judge = Judge(judge_backend, cache, JudgeConfig(retries=2))
    [j] = judge.judge([_item(data)], show_progress=False)
    assert (j.rating, j.failure, j.attempts, j.earlier_replies) == (7.0, None, 2, ["Looks right."])
    assert cache.count() == 2  # both attempts are cached under different keys
    again = Judge(judge_backend, cache, JudgeConfig(retries=2))
    [k] = again.judge([_item(data)], show_progress=False)
    assert k.rating == 7.0 and again.stats.model_calls == 0


def test_judge_gives_up_after_k_retries_and_keeps_the_reply(data: Path, tmp_path: Path) -> None:
    judge = Judge(replying(tmp_path, "申し訳ありませんが、評価できません。"), RequestCache(tmp_path / "c.sqlite"), JudgeConfig(retries=1))
    [j] = judge.judge([_item(data)], show_progress=False)
    assert j.failure == "refusal" and j.attempts == 2
    assert j.reply == "申し訳ありませんが、評価できません。" and len(j.earlier_replies) == 1


def test_reasoning_is_split_off_before_parsing(data: Path, tmp_path: Path) -> None:
    reply = "<think>maybe [[2]]?</think>The answer is correct.\n評価：[[9]]"
    [j] = Judge(replying(tmp_path, reply), RequestCache(tmp_path / "c.sqlite")).judge([_item(data)], show_progress=False)
    assert j.rating == 9.0 and j.reasoning == "maybe [[2]]?"


def test_judge_without_system_role_gets_the_instructions_in_the_user_turn(data: Path, tmp_path: Path) -> None:
    # a chat template that rejects system messages (as Gemma 2's and Mistral's do)
    template = tmp_path / "no_system.jinja"
    template.write_text(
        "{% for m in messages %}{% if m.role == 'system' %}{{ raise_exception('no system role') }}{% endif %}"
        "<{{ m.role }}>{{ m.content }}{% endfor %}<assistant>",
        encoding="utf-8",
    )
    backend = mock_backend(tmp_path, [{"output": "[[5]]"}], chat_template=template)
    item = JudgeItem("q", load_prompt_set("en").get("single", False, 2), {
        "question_1": "Q1", "question_2": "Q2", "answer_1": "A1", "answer_2": "A2"})  # fmt: skip
    judge = Judge(backend, RequestCache(tmp_path / "c.sqlite"))
    [j] = judge.judge([item], show_progress=False)
    assert j.rating == 5.0 and not judge.plain_fallback
    assert j.sent.startswith("<user>Please act as an impartial judge") and j.sent.endswith("<assistant>")


def test_structured_mode_asks_for_json(data: Path, tmp_path: Path) -> None:
    backend = replying(tmp_path, 'The draft said [[3]].\n{"rating": 8}')
    judge = Judge(backend, RequestCache(tmp_path / "c.sqlite"), JudgeConfig(structured=True))
    [j] = judge.judge([_item(data)], show_progress=False)
    assert j.rating == 8.0 and j.rule == "json"
    assert '{"rating":' in backend.requests[0].messages[-1].content


# --- MT-Bench runs with a scripted judge ------------------------------------------------------------


def _options(data: Path, tmp_path: Path, **kw: object) -> MTBenchOptions:
    base = dict(output=tmp_path / "run", lang="ja", show_progress=False, bootstrap=200)
    return MTBenchOptions(**{**base, **kw})  # type: ignore[arg-type]


def test_byo_answers_with_repeats_take_the_median(data: Path, tmp_path: Path) -> None:
    # repeat r of a judgment is the r-th call with its prompt (seeds 1234, 1235, 1236)
    backend = scripted(tmp_path, {"output": ["評価：[[2]]", "評価：[[9]]", "評価：[[5]]"]})
    options = _options(data, tmp_path, answers_file=data / GPT4, categories=("writing",), limit=2, judge_repeats=3)
    outcome = run_mtbench(None, Judge(backend, RequestCache(tmp_path / "c.sqlite")), RequestCache(tmp_path / "c2.sqlite"), options)
    detail = outcome.metrics["mtbench"]
    assert detail["overall"]["score"] == 5.0 and detail["overall"]["score_10"] == 0.5
    assert detail["overall"]["n"] == 4 and detail["overall"]["failed"] == 0
    assert detail["judge_calls"]["judgments"] == 12
    assert detail["turns"]["2"]["n"] == 2 and detail["categories"]["writing"]["turns"]["1"]["score"] == 5.0
    assert [r.params.seed for r in backend.requests[:3]] == [1234, 1235, 1236]
    turn2 = [c for c in backend.requests if "### User:" in c.prompt]
    assert turn2 and all("Assistant A" in c.prompt for c in turn2)  # the multi-turn prompt
    assert outcome.metrics["tasks"]["mtbench_ja"]["metrics"]["score"]["failed"] == 0
    assert {p.suffix for p in outcome.charts} == {".png", ".svg"}
    rows = [json.loads(line) for line in (tmp_path / "run" / "judgments.jsonl").read_text().splitlines()]
    assert {"sent", "reply", "rating", "failure", "user_prompt"} <= set(rows[0])


def test_one_turn_answers_count_turn_two_as_missing(data: Path, tmp_path: Path) -> None:
    backend = replying(tmp_path, "Rating: [[4]]")
    options = _options(data, tmp_path, answers_file=data / STABLELM, categories=("math",), limit=1)
    outcome = run_mtbench(None, Judge(backend, RequestCache(tmp_path / "c.sqlite")), RequestCache(tmp_path / "c2.sqlite"), options)
    detail = outcome.metrics["mtbench"]
    assert detail["turns"]["1"]["score"] == 4.0
    assert detail["turns"]["2"]["n"] == 0 and detail["turns"]["2"]["failures"] == {"missing_answer": 1}
    # math is judged against the reference answer
    assert backend.requests[0].messages[-1].content.count("[参考回答の開始]") == 1


def test_each_samples_second_turn_follows_its_own_first(data: Path, tmp_path: Path) -> None:
    # each prompt's first call gets answer 1, its second answer 2: the two samples of a
    # question (seeds 10, 11) answer turn 1 differently; turn 2 prompts are new (call 1)
    model = scripted(tmp_path, {"output": ["<think>plan</think>answer 1", "<think>plan</think>answer 2"]}, name="model")
    judge = replying(tmp_path, "[[6]]", name="judge")
    first_answer = {10: "answer 1", 11: "answer 2"}
    cache = RequestCache(tmp_path / "c.sqlite")
    options = _options(data, tmp_path, categories=("writing",), limit=2, num_samples=2, seed=10)
    outcome = run_mtbench(model, Judge(judge, cache), cache, options)
    assert [sum(m.role == "user" for m in r.messages) for r in model.requests] == [1, 1, 1, 1, 2, 2, 2, 2]  # two rounds
    for request in model.requests[4:]:
        # the history holds THIS sample's first answer, without its reasoning
        assert request.messages[1].content == first_answer[request.params.seed]
    assert {r.params.temperature for r in model.requests} == {0.7}  # FastChat's for writing
    saved = load_answer_file(tmp_path / "run" / "answers.jsonl")
    choice = saved.answers[71].samples[1]
    assert choice.turns == ["answer 2", "answer 1"] and choice.reasoning == ["plan", "plan"]
    assert outcome.metrics["mtbench"]["overall"]["score"] == 6.0 and outcome.metrics["mtbench"]["overall"]["n"] == 8
    assert outcome.metrics["mtbench"]["overall"]["sample_std"] == 0.0
    # a rerun generates nothing: every answer comes from the cache
    options.output = tmp_path / "again"
    again = run_mtbench(model, Judge(judge, cache), cache, options)
    assert again.answer_stats.model_calls == 0 and again.answer_stats.cache_hits == 8


def test_pairwise_judges_both_orders(data: Path, tmp_path: Path) -> None:
    model = load_answer_file(data / STABLELM)
    marker = model.answers[71].samples[0].turns[0][:20]
    common = dict(answers_file=data / STABLELM, baseline_file=data / GPT4, categories=("writing",), limit=1, turns=(1,))
    # a judge that always picks the model's answer: a win in both orders
    # [[A]] when the model's answer (containing `marker`) is in position A, else [[B]]
    in_a = "Assistant A's Answer\\](?:(?!Assistant B).)*" + re.escape(marker)
    fair = scripted(tmp_path, {"pattern": in_a, "output": "[[A]]"}, {"output": "[[B]]"}, name="fair")
    won = run_mtbench(None, Judge(fair, RequestCache(tmp_path / "a.sqlite")), RequestCache(tmp_path / "x.sqlite"),
                      _options(data, tmp_path, **common))  # fmt: skip
    overall = won.metrics["mtbench"]["overall"]
    assert (overall["win"], overall["loss"], overall["tie"], overall["win_rate_adjusted"]) == (1, 0, 0, 1.0)
    assert len(fair.requests) == 2
    # a judge with position bias (always A) flips with the order: a tie, as FastChat counts it
    biased = replying(tmp_path, "[[A]]", name="biased")
    tied = run_mtbench(None, Judge(biased, RequestCache(tmp_path / "b.sqlite")), RequestCache(tmp_path / "y.sqlite"),
                       _options(data, tmp_path, output=tmp_path / "run2", **common))  # fmt: skip
    assert tied.metrics["mtbench"]["overall"]["tie"] == 1
    assert tied.metrics["mtbench"]["overall"]["win_rate_adjusted"] == 0.5


def test_game_outcome_follows_fastchat() -> None:
    assert game_outcome("A", "B") == "win"  # model is A, then B: chosen both times
    assert game_outcome("B", "A") == "loss"
    assert game_outcome("A", "A") == "tie"  # position bias
    assert game_outcome("tie", "B") == "tie"


def test_japanese_ratio() -> None:
    assert japanese_ratio("これは日本語の文です。")["japanese"] == 1.0
    assert japanese_ratio("This is English.")["japanese"] == 0.0
    mixed = japanese_ratio("Pythonで書きます")
    assert 0.4 < mixed["japanese"] < 0.6 and mixed["kanji"] > 0 and mixed["kana"] > 0
    assert japanese_ratio("")["japanese"] == 0.0


def test_bad_answers_file_is_one_line_and_exit_2(data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "answers.jsonl"
    bad.write_text('{"question_id": 1, "choices": [{"index": 0, "turns": ["ok"]}]}\n{"question_id": 2, "choices": []}\n')
    code = main(["mtbench", "--judge", "llamacpp:/nonexistent.gguf", "--answers", str(bad), "--output", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert re.search(r"answers\.jsonl line 2: field 'choices' is missing or empty", err)
    assert main(["mtbench", "--judge", "llamacpp:/x.gguf"]) == 2  # neither MODEL nor --answers


# --- the real thing: Gemma 3 270M answers and judges -----------------------------------------------------


@pytest.mark.slow
def test_mtbench_ja_end_to_end_gemma_server(
    data: Path, gemma_gguf: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    model = f"llamacpp-server:{gemma_gguf}"
    args = ["mtbench", model, "--model-args", "n_threads=2", "--judge", model, "--judge-args", "n_threads=2,max_tokens=24,retries=1",
            "--categories", "writing", "--limit", "1", "--gen", "max_tokens=24", "--quiet"]  # fmt: skip
    first = tmp_path / "first"
    assert main([*args, "--output", str(first)]) == 0
    out = capsys.readouterr().out
    assert "failed" in out and "overall" in out
    metrics = json.loads((first / "metrics.json").read_text())["mtbench"]
    overall = metrics["overall"]
    assert overall["n"] + overall["failed"] == 2  # one question, two turns: scored or counted
    assert set(metrics["turns"]) == {"1", "2"}
    assert (first / "radar.png").stat().st_size > 1000 and "<svg" in (first / "radar.svg").read_text()
    answers = load_answer_file(first / "answers.jsonl")  # FastChat format, readable back
    assert len(answers.answers[71].samples[0].turns) == 2
    summary = json.loads((first / "summary.json").read_text())
    assert summary["execution"]["answers"]["model_calls"] == 2

    # second run, other judge prompts: re-judged, with zero answer-generation calls
    second = tmp_path / "second"
    assert main([*args, "--judge-prompts", "en-ja", "--output", str(second)]) == 0
    summary = json.loads((second / "summary.json").read_text())
    assert summary["execution"]["answers"]["model_calls"] == 0
    assert summary["execution"]["answers"]["cache_hits"] == 2
    assert summary["execution"]["judge"]["model_calls"] >= 2
    assert load_answer_file(second / "answers.jsonl").answers[71].samples[0].turns == answers.answers[71].samples[0].turns


@pytest.mark.slow
def test_byo_saved_answers_judged_by_gemma(data: Path, gemma_gguf: Path, tmp_path: Path) -> None:
    from hyoka.models.llamacpp import LlamaCppBackend

    backend = LlamaCppBackend(str(gemma_gguf), {"n_threads": "2", "n_ctx": "4096"})
    try:
        judge = Judge(backend, RequestCache(tmp_path / "c.sqlite"), JudgeConfig(max_tokens=16, retries=0))
        options = _options(data, tmp_path, answers_file=data / STABLELM, categories=("math",), limit=1)
        outcome = run_mtbench(None, judge, RequestCache(tmp_path / "c.sqlite"), options)
    finally:
        backend.close()
    detail = outcome.metrics["mtbench"]
    assert detail["judge_calls"]["judgments"] == 1  # turn 1 only: the file has one turn
    assert detail["overall"]["n"] + detail["overall"]["failed"] == 2
    row = json.loads((tmp_path / "run" / "judgments.jsonl").read_text().splitlines()[0])
    assert row["prompt_name"] == "single-math-v1" and "[参考回答の開始]" in row["user_prompt"]
    assert outcome.judge_stats.model_calls == 1 and outcome.answer_stats.model_calls == 0


def test_unjudgeable_answers_name_their_reason() -> None:
    from hyoka.judge.answer_files import Sample
    from hyoka.mtbench.items import _answer_problem

    assert _answer_problem(None, 1) == "missing_answer"
    assert _answer_problem(Sample(turns=["a"]), 2) == "missing_answer"
    assert _answer_problem(Sample(turns=["a"], error="turn 2: timeout"), 2) == "answer_error"
    assert _answer_problem(Sample(turns=["a", "b"], error=None), 2) is None
