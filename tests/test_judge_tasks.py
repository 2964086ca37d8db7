"""Judged tasks (ja_vicuna_qa, rakuda): the `judge` metric's parameters, its pinned files, the
items it asks the judge about, and how judgments become scores and counted failures."""

from __future__ import annotations

from pathlib import Path

import pytest

from hyoka.errors import TaskConfigError
from hyoka.judge.judge import Judgment
from hyoka.judge.task_scoring import JudgedDoc, build_items, load_resources, score_docs
from hyoka.metrics.judge import parse_spec
from hyoka.tasks.registry import load_registry
from hyoka.tasks.task import load_task


def _spec_and_docs(task: str) -> tuple[object, list[dict[str, object]]]:
    config = load_registry().tasks[task].config
    [metric] = [m for m in config.metrics if m.name == "judge"]
    return parse_spec(metric.params()), load_task(config).eval_docs


def _judgment(key: str, *, winner: str | None = None, rating: float | None = None, failure: str | None = None) -> Judgment:
    return Judgment(key, 0, "p", "", "", "", reply="r", winner=winner, rating=rating, failure=failure, attempts=1)


def test_ja_vicuna_qa_pins_upstreams_files_and_default_baseline(shared_data: Path) -> None:
    spec, docs = _spec_and_docs("ja_vicuna_qa")
    res = load_resources(spec, task="ja_vicuna_qa")
    assert res.baseline_model == "openai--text-davinci-003"  # upstream's default baseline
    assert len(docs) == 80 and len(res.baseline.answers) == 80
    assert res.prompt.name == "pair" and res.reference_prompt.name == "pair-math"
    assert sorted(int(k) for k in res.references) == list(range(61, 71))  # coding and math only
    other, _ = _spec_and_docs("ja_vicuna_qa_vs_calm2_7b_chat")
    assert load_resources(other, task="x").baseline.model_id == "cyberagent--calm2-7b-chat"


def test_pairwise_items_both_orders_with_reference_for_coding(shared_data: Path) -> None:
    spec, docs = _spec_and_docs("ja_vicuna_qa")
    res = load_resources(spec, task="ja_vicuna_qa")
    chosen = [JudgedDoc("t/0", docs[0], ["私の答え"]), JudgedDoc("t/60", docs[60], ["def f(): ...", None])]
    items, refs, unjudged = build_items(spec, res, chosen, task="t")
    assert [i.key for i in items] == ["t/0/s0/g1", "t/0/s0/g2", "t/60/s0/g1", "t/60/s0/g2"]
    g1, g2 = items[0].values, items[1].values
    assert g1["answer_a"] == "私の答え" == g2["answer_b"] and g1["answer_b"] == g2["answer_a"]
    assert g1["answer_b"] == res.baseline.answers[1].samples[0].turns[0]
    assert g1["question"] == docs[0]["turns"][0] and "ref_answer_1" not in g1
    assert items[2].prompt.name == "pair-math" and items[2].values["ref_answer_1"] == res.references["61"]
    assert unjudged == {(1, 1): "answer_error"}  # the second sample's generation failed
    assert refs["t/60/s0/g2"].doc == 1


def test_rakuda_uses_string_ids_and_the_last_digit_prompt(shared_data: Path) -> None:
    spec, docs = _spec_and_docs("rakuda")
    res = load_resources(spec, task="rakuda")
    assert res.prompt.output_format == "last" and res.baseline_model == "gpt-3.5-turbo"
    items, _, unjudged = build_items(spec, res, [JudgedDoc("r/0", docs[0], ["四国は…"])], task="rakuda")
    assert len(items) == 2 and not unjudged
    assert items[0].values["answer_b"] == res.baseline.answers[docs[0]["question_id"]].samples[0].turns[0]
    orphan = {**docs[0], "question_id": "not-in-the-baseline"}
    _, _, unjudged = build_items(spec, res, [JudgedDoc("r/0", orphan, ["x"])], task="rakuda")
    assert unjudged == {(0, 0): "missing_baseline_answer"}


def test_pairwise_outcomes_and_failures_are_counted_not_scored(shared_data: Path) -> None:
    spec, docs = _spec_and_docs("rakuda")
    res = load_resources(spec, task="rakuda")
    chosen = [JudgedDoc(f"r/{i}", docs[i], ["a"]) for i in range(4)] + [JudgedDoc("r/4", docs[4], [None])]
    _, refs, unjudged = build_items(spec, res, chosen, task="rakuda")
    judgments = [
        _judgment("r/0/s0/g1", winner="A"), _judgment("r/0/s0/g2", winner="B"),  # model chosen in both orders: win
        _judgment("r/1/s0/g1", winner="A"), _judgment("r/1/s0/g2", winner="A"),  # position bias: tie
        _judgment("r/2/s0/g1", winner="B"), _judgment("r/2/s0/g2", winner="A"),  # baseline both times: loss
        _judgment("r/3/s0/g1", winner="A"), _judgment("r/3/s0/g2", failure="no_verdict"),
    ]  # fmt: skip
    scores = score_docs(spec, chosen, judgments, refs, unjudged)
    assert [s.values.get("win_rate_adjusted") for s in scores] == [1.0, 0.5, 0.0, None, None]
    assert scores[0].values == {"win_rate_adjusted": 1.0, "win_rate": 1.0, "loss_rate": 0.0, "tie_rate": 0.0}
    assert [s.failure for s in scores] == [None, None, None, "no_verdict", "answer_error"]
    assert len(scores[3].details["samples"][0]["judgments"]) == 2  # kept for the samples file


def test_single_rating_with_a_reference_from_a_doc_field() -> None:
    from hyoka.judge.prompts import JudgePrompt
    from hyoka.judge.task_scoring import JudgeResources

    spec = parse_spec({"mode": "single", "prompts": {"mirror_path": "x.jsonl"}, "prompt": "single",
                       "reference_prompt": "single-math", "reference_field": "answer"})  # fmt: skip
    plain = JudgePrompt("single", "single", "", "{question}\n{answer}", "[[rating]]", "general", "x")
    with_ref = JudgePrompt("single-math", "single", "", "{question}\n{ref_answer_1}\n{answer}", "[[rating]]", "math", "x")
    res = JudgeResources(plain, with_ref, None, {}, {})
    docs = [JudgedDoc("t/0", {"question": "1+1?", "answer": "2"}, ["2", "3"]), JudgedDoc("t/1", {"question": "詩を", "answer": ""}, ["…"])]
    items, refs, _ = build_items(spec, res, docs, task="t")
    assert [(i.key, i.prompt.name) for i in items] == [("t/0/s0", "single-math"), ("t/0/s1", "single-math"), ("t/1/s0", "single")]
    assert items[0].values["ref_answer_1"] == "2"
    judgments = [_judgment("t/0/s0", rating=9.0), _judgment("t/0/s1", failure="no_rating"), _judgment("t/1/s0", rating=4.0)]
    scores = score_docs(spec, docs, judgments, refs, {})
    assert scores[0].values == {"judge_score": 9.0} and scores[0].failures == ["no_rating"] and scores[0].failure is None
    assert scores[1].values == {"judge_score": 4.0}


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"mode": "pairwise", "prompts": {"mirror_path": "p.jsonl"}, "prompt": "pair"}, "needs baseline"),
        ({"mode": "single", "prompts": {"mirror_path": "p.jsonl"}, "prompt": "s", "baseline": {"mirror_path": "b"}}, "baseline is for mode pairwise"),
        ({"mode": "single", "prompts": {"mirror_path": "p.jsonl"}, "prompt": "s", "reference_field": "ref"}, "need reference_prompt"),
        ({"mode": "single", "prompts": {"mirror_path": "p.jsonl"}, "prompt": "s", "qestion_field": "q"}, "qestion_field: unknown parameter"),
        ({"mode": "both", "prompts": {"mirror_path": "p.jsonl"}, "prompt": "s"}, "mode:"),
    ],
)
def test_bad_metric_parameters_are_one_line(params: dict[str, object], message: str) -> None:
    with pytest.raises(TaskConfigError, match=message) as info:
        parse_spec(params)
    assert str(info.value).startswith("metric 'judge': ") and "\n" not in str(info.value)


def test_ja_vicuna_qa_single_uses_the_reference_prompt_for_coding(shared_data: Path) -> None:
    spec, docs = _spec_and_docs("ja_vicuna_qa_single")
    res = load_resources(spec, task="ja_vicuna_qa_single")
    items, _, _ = build_items(spec, res, [JudgedDoc("t/0", docs[0], ["a"]), JudgedDoc("t/60", docs[60], ["b"])], task="t")
    assert [(i.prompt.name, "ref_answer_1" in i.values) for i in items] == [("single", False), ("single-math", True)]
    assert "[参考解答の始まり]" in items[1].prompt.render(items[1].values)
