"""`hyoka mtbench`'s command line: what each option does to the run, and bad input as one
line on stderr with exit 2 before any model loads."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from conftest import hyoka_cmd, mock_backend, require

from hyoka.cli import build_parser, main
from hyoka.cache import RequestCache
from hyoka.judge.judge import Judge
from hyoka.errors import HyokaError
from hyoka.models.registry import parse_model_spec
from hyoka.mtbench.command import _options
from hyoka.mtbench.report import results_table
from hyoka.mtbench.runner import prepare, run_mtbench

QUESTIONS = "japanese_mt_bench/question_full.jsonl"


@pytest.fixture
def data(shared_data: Path) -> Path:
    require((shared_data / QUESTIONS).is_file(), f"{QUESTIONS} missing from {shared_data}")
    return shared_data


def _args(*argv: str) -> object:
    return build_parser().parse_args(["mtbench", *argv])


def _cli_error(*argv: str, capsys: pytest.CaptureFixture[str] | None = None) -> str:
    """`hyoka mtbench ARGV` must fail with exit 2 and one line on stderr: as a real subprocess,
    or (with `capsys`) through the CLI's main in this process, which is faster."""
    if capsys is None:
        out = subprocess.run(hyoka_cmd("mtbench", *argv), capture_output=True, text=True, timeout=120)
        code, err = out.returncode, out.stderr
    else:
        code, err = main(["mtbench", *argv]), capsys.readouterr().err
    assert code == 2, err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    return err


def test_gen_keys_mtbench_does_not_use_are_errors(tmp_path: Path) -> None:
    model = ["llamacpp:/nonexistent.gguf", "--judge", "llamacpp:/nonexistent.gguf", "--output", str(tmp_path / "o")]
    assert "--num-samples" in _cli_error(*model, "--gen", "n=2")
    assert "this command uses; use one of max_tokens, temperature, top_p, seed, stop" in _cli_error(*model, "--gen", "repetition_penalty=1.1")


def test_stop_system_prompt_and_settings_reach_the_options(tmp_path: Path) -> None:
    settings = tmp_path / "greedy-ja.yaml"
    settings.write_text("system_message: あなたは誠実なアシスタントです。\ngeneration: {max_tokens: 300, top_p: 0.9}\n", encoding="utf-8")
    spec = parse_model_spec("llamacpp:/m.gguf")
    args = _args("llamacpp:/m.gguf", "--judge", "llamacpp:/j.gguf", "--settings", str(settings), "--gen", "stop=[\"###\"]",
                 "--gen", "max_tokens=64")  # fmt: skip
    options, _ = _options(args, spec, "llamacpp:/j.gguf")
    assert options.system_prompt == "あなたは誠実なアシスタントです。"  # from the file
    assert options.max_tokens == 64  # the command line wins over the file
    assert options.top_p == 0.9 and options.stop == ("###",)
    assert options.settings["sources"]["generation.max_tokens"] == "cli"
    assert options.output.name == "m-greedy-ja-ja"
    args = _args("llamacpp:/m.gguf", "--judge", "x:y", "--settings", str(settings), "--system-prompt", "短く答えて")
    assert _options(args, spec, "x:y")[0].system_prompt == "短く答えて"


def test_settings_with_n_or_without_a_model_are_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    settings = tmp_path / "s.yaml"
    settings.write_text("generation: {n: 4}\n", encoding="utf-8")
    with pytest.raises(HyokaError, match="generation.n: hyoka mtbench takes --num-samples"):
        _options(_args("llamacpp:/m.gguf", "--judge", "x:y", "--settings", str(settings)), parse_model_spec("llamacpp:/m.gguf"), "x:y")
    answers = tmp_path / "a.jsonl"
    assert "leave it out" in _cli_error("--answers", str(answers), "--judge", "llamacpp:/j.gguf", "--settings", str(settings), capsys=capsys)


def test_per_category_takes_the_first_n_of_each(data: Path, tmp_path: Path) -> None:
    options, _ = _options(_args("llamacpp:/m.gguf", "--judge", "x:y", "--per-category", "2", "--output", str(tmp_path)),
                          parse_model_spec("llamacpp:/m.gguf"), "x:y")  # fmt: skip
    questions = prepare(options).questions
    by_category: dict[str, list[int]] = {}
    for q in questions:
        by_category.setdefault(q.category, []).append(q.question_id)
    assert len(by_category) == 8 and all(len(ids) == 2 for ids in by_category.values())
    assert by_category["coding"] == [1, 2] and by_category["writing"] == [71, 72]  # file order
    options.limit = 3
    assert [q.question_id for q in prepare(options).questions] == [1, 2, 11]


def test_custom_question_file(data: Path, tmp_path: Path) -> None:
    questions = tmp_path / "mine.jsonl"
    rows = [{"question_id": 501, "category": "business", "turns": ["売上を伸ばすには？", "予算が半分なら？"]},
            {"question_id": 502, "category": "business", "turns": ["会議を短くするには？"]}]  # fmt: skip
    questions.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    args = _args("llamacpp:/m.gguf", "--judge", "x:y", "--questions", str(questions), "--categories", "business")
    options, _ = _options(args, parse_model_spec("llamacpp:/m.gguf"), "x:y")
    prepared = prepare(options)
    assert [q.question_id for q in prepared.questions] == [501, 502] and prepared.questions[1].turns == ("会議を短くするには？",)
    assert prepared.question_source.file == str(questions) and len(prepared.question_source.sha256) == 64


def test_custom_math_question_without_a_reference_fails_before_any_model(data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    questions = tmp_path / "math.jsonl"
    questions.write_text('{"question_id": 900, "category": "math", "turns": ["1+1は？"]}\n', encoding="utf-8")
    err = _cli_error("llamacpp:/nonexistent.gguf", "--judge", "llamacpp:/nonexistent.gguf", "--questions", str(questions),
                     "--output", str(tmp_path / "o"), capsys=capsys)  # fmt: skip
    assert "no answer for question 900 (math)" in err and "--reference FILE.jsonl" in err
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"question_id": 1, "category": "x", "turns": "not a list"}\n', encoding="utf-8")
    err = _cli_error("llamacpp:/nonexistent.gguf", "--judge", "llamacpp:/nonexistent.gguf", "--questions", str(bad), capsys=capsys)
    assert "bad.jsonl line 1: field 'turns' must be a list of strings" in err


def test_table_shows_unanswered_apart_from_judge_failures() -> None:
    def entry(score: float | None, unanswered: int, judge_failed: int) -> dict[str, object]:
        failures = {**({"missing_answer": unanswered} if unanswered else {}), **({"no_rating": judge_failed} if judge_failed else {})}
        return {"score": score, "score_10": None if score is None else score / 10, "failed": unanswered + judge_failed,
                "unanswered": unanswered, "judge_failed": judge_failed, "failures": failures}  # fmt: skip

    writing = {**entry(6.0, 1, 2), "turns": {"1": entry(6.0, 0, 2), "2": entry(None, 1, 0)}}
    detail = {"mode": "single", "turns": {"1": entry(6.0, 0, 2), "2": entry(None, 1, 0)}, "categories": {"writing": writing},
              "overall": entry(6.0, 1, 2), "judge_calls": {"judgments": 3, "failed": 2, "retried": 2, "failures": {"no_rating": 2}},
              "language": {"japanese_ratio": None}}  # fmt: skip
    table = results_table({"mtbench": detail})
    header, _, row, overall = table.splitlines()[:4]
    assert header.split()[-3:] == ["unanswered", "judge", "failed"]
    assert row.split()[-2:] == ["1", "2"] and overall.split()[-2:] == ["1", "2"]
    assert "not judged, no answer: {'missing_answer': 1}" in table


def test_system_prompt_and_stop_reach_every_answer_request(data: Path, tmp_path: Path) -> None:
    (tmp_path / "m").mkdir()
    (tmp_path / "j").mkdir()
    model = mock_backend(tmp_path / "m", [{"output": "答え###続き"}])
    judge = mock_backend(tmp_path / "j", [{"output": "評価：[[7]]"}])
    args = _args("mock:", "--judge", "mock:", "--system-prompt", "日本語で答えて", "--gen", "stop=[\"###\"]",
                 "--categories", "writing", "--limit", "1", "--output", str(tmp_path / "run"), "--quiet")  # fmt: skip
    options, _ = _options(args, parse_model_spec("mock:"), "mock:")
    options.bootstrap = 10
    cache = RequestCache(tmp_path / "c.sqlite")
    outcome = run_mtbench(model, Judge(judge, cache), cache, options)
    assert len(model.requests) == 2  # two turns
    for request in model.requests:
        assert request.messages[0].role == "system" and request.messages[0].content == "日本語で答えて"
        assert request.params.stop == ("###",)
    assert model.requests[1].messages[2].content == "答え"  # cut at the stop sequence, as a model's would be
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["generation"]["stop"] == ["###"] and summary["generation"]["system_prompt"] == "日本語で答えて"
    assert outcome.metrics["mtbench"]["overall"]["score"] == 7.0


def test_pinned_files_are_declared_in_the_manifest(tmp_path: Path) -> None:
    from hyoka.mtbench.data import BENCHES, DATA_FILES, load_manifest

    assert BENCHES["ja"].questions.mirror_path == QUESTIONS and len(BENCHES["ja"].questions.sha256 or "") == 64
    broken = tmp_path / "data_files.yaml"
    broken.write_text(DATA_FILES.read_text(encoding="utf-8").replace("ja: [stability_ja, stability_en]", "ja: [stability_jp]"), encoding="utf-8")
    with pytest.raises(HyokaError, match=r"data_files.yaml: prompt_variants.ja names \['stability_jp'\], not in prompt_files"):
        load_manifest(broken)


def test_judge_args_are_checked_by_the_one_argument_loader(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    answers = tmp_path / "a.jsonl"
    answers.write_text('{"question_id": 1, "choices": [{"index": 0, "turns": ["x"]}]}\n', encoding="utf-8")
    common = ["--answers", str(answers), "--judge", "mock:", "--output", str(tmp_path / "o")]
    assert "--judge-args retries: must be >= 0 (got '-1')" in _cli_error(*common, "--judge-args", "retries=-1", capsys=capsys)
    assert "--judge-args max_tokens: must be an integer (got 'lots')" in _cli_error(*common, "--judge-args", "max_tokens=lots", capsys=capsys)
    assert "--judge-args" in _cli_error(*common, "--judge-args", "no_such_setting=1", capsys=capsys)  # neither the judge's nor mock:'s


def test_a_judge_without_its_key_says_where_to_name_the_variable(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.chdir(tmp_path)  # no .env here
    answers = tmp_path / "a.jsonl"
    answers.write_text('{"question_id": 1, "choices": [{"index": 0, "turns": ["x"]}]}\n', encoding="utf-8")
    err = _cli_error("--answers", str(answers), "--judge", "openai:gpt-4o", "--output", str(tmp_path / "o"), capsys=capsys)
    assert "no API key: set OPENAI_API_KEY" in err and "in --judge-args for a judge" in err  # it only named --model-args
