"""hyoka.text.extract: every extractor on Japanese output, and pipelines from specs."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hyoka.errors import TaskConfigError
from hyoka.text.extract import (
    EXTRACTORS,
    boxed_contents,
    build_extractor,
    numbers_in,
    parse_number,
    split_reasoning,
)


def run(name: str, text: str, **params: object) -> str:
    return EXTRACTORS[name](**params)(text)


def test_every_documented_extractor_is_registered() -> None:
    assert set(EXTRACTORS) == {
        "strip_reasoning",
        "mc_letter",
        "mc_index",
        "boxed",
        "last_number",
        "first_paragraph",
        "first_line",
        "answer_tag",
        "regex",
        "normalize",
        "nfkc",
        "strip",
        "yes_no",
        "code_block",
        "delete",
        "answer_span",
    }


def test_nfkc_keeps_lines_and_indentation() -> None:
    # llm-jp-eval's normalize: NFKC (and the ends stripped); multi-line answers (chABSA, code) keep their layout
    assert run("nfkc", "ＡＢＣ株式会社 positive\n  def f():\n    return １") == "ABC株式会社 positive\n  def f():\n    return 1"
    assert run("normalize", "a\nb") == "a b"  # the whole-answer normaliser collapses them


# --- reasoning -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "answer", "reasoning"),
    [
        ("<think>まず考える。</think>\n\n答えはBです。", "答えはBです。", "まず考える。"),
        ("<think>\n</think>\n\n東京", "東京", ""),
        ("<think>考え中で止まった", "", "考え中で止まった"),
        ("前置き<think>途中", "前置き", "途中"),
        ("思考はプロンプト側で開いた</think>東京", "東京", "思考はプロンプト側で開いた"),
        ("<think>一</think>A<think>二</think>B", "AB", "一\n二"),
        ("東京", "東京", None),
        ("", "", None),
    ],
)
def test_split_reasoning(text: str, answer: str, reasoning: str | None) -> None:
    assert split_reasoning(text) == (answer, reasoning)


def test_split_reasoning_other_tag() -> None:
    assert split_reasoning("<thinking>考える</thinking>東京", tag="thinking") == ("東京", "考える")
    assert split_reasoning("<thinking>考える</thinking>東京") == ("<thinking>考える</thinking>東京", None)


def test_strip_reasoning_extractor() -> None:
    assert run("strip_reasoning", "<think>長い推論</think>\n答え：C") == "答え：C"
    assert run("strip_reasoning", "<think>終わらない推論") == ""
    with pytest.raises(TaskConfigError, match="strip_reasoning"):
        EXTRACTORS["strip_reasoning"](tag="<think>")


# --- multiple choice -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("A", "A"),
        ("Ａ", "A"),
        ("(A)", "A"),
        ("（Ａ）", "A"),
        ("A.", "A"),
        ("A)", "A"),
        ("Bです。", "B"),
        ("選択肢Cが正しい", "C"),
        ("回答: B", "B"),
        ("回答：Ｂ", "B"),
        ("答え：B", "B"),
        ("答えはB", "B"),
        ("答えは (D) です", "D"),
        ("正解は「C」です。", "C"),
        ("解答：選択肢B", "B"),
        ("the answer is B", "B"),
        ("The correct answer is (C).", "C"),
        ("Answer: B", "B"),
        ("answer is: D", "D"),
        ("**B**", "B"),
        ("**(C)**", "C"),
        ("最終的に \\boxed{D}", "D"),
        ("(b)", "B"),
        # explicit answers win over an earlier bare letter
        ("A と B を比べると、答えはBです", "B"),
        ("Aは誤り。正解はC", "C"),
        # nothing to find
        ("わかりません", ""),
        ("答え: Because it is", ""),
        ("DNA と RNA", ""),
        ("", ""),
    ],
)
def test_mc_letter(text: str, expected: str) -> None:
    assert run("mc_letter", text) == expected


def test_mc_letter_first_and_last() -> None:
    text = "答えはA……いや、答えはCです"
    assert run("mc_letter", text) == "A"
    assert run("mc_letter", text, match="last") == "C"
    assert run("mc_letter", "B か D", match="last") == "D"


def test_mc_letter_only_listed_letters() -> None:
    assert run("mc_letter", "E です", letters="ABCD") == ""
    assert run("mc_letter", "E か B", letters="ABCD") == "B"
    assert run("mc_letter", "答えはE", letters="abcde") == "E"


@pytest.mark.parametrize("letters", ["", "AB1", "AA", "ＡＢ"])
def test_mc_letter_bad_letters(letters: str) -> None:
    with pytest.raises(TaskConfigError, match="letters"):
        EXTRACTORS["mc_letter"](letters=letters)


def test_mc_letter_bad_match() -> None:
    with pytest.raises(TaskConfigError, match="match"):
        EXTRACTORS["mc_letter"](match="middle")


@pytest.mark.parametrize(
    ("text", "params", "expected"),
    [
        ("3", {}, "3"),
        ("３", {}, "3"),
        ("③番です", {}, "3"),
        ("答えは2番", {}, "2"),
        ("回答：４", {}, "4"),
        ("Answer: 3", {}, "3"),
        ("**1**", {}, "1"),
        ("1と2なら、答えは2", {}, "2"),
        ("0", {}, ""),
        ("0", {"base": 0}, "0"),
        ("5", {"num_choices": 4}, ""),
        ("5 ではなく 4", {"num_choices": 4}, "4"),
        ("4", {"base": 0, "num_choices": 4}, ""),
        ("1 か 3", {"match": "last"}, "3"),
        ("3.5", {}, ""),
        ("1,000", {}, ""),
        ("わからない", {}, ""),
    ],
)
def test_mc_index(text: str, params: dict[str, object], expected: str) -> None:
    assert run("mc_index", text, **params) == expected


def test_mc_index_bad_params() -> None:
    with pytest.raises(TaskConfigError, match="base"):
        EXTRACTORS["mc_index"](base=2)
    with pytest.raises(TaskConfigError, match="num_choices"):
        EXTRACTORS["mc_index"](num_choices=0)


# --- math and numbers ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("よって答えは \\boxed{42} です", "42"),
        ("\\boxed{\\frac{1}{2}}", "\\frac{1}{2}"),
        ("\\boxed{1} ではなく \\boxed{ 2 }", "2"),
        ("\\boxed {x^{2}}", "x^{2}"),
        ("\\boxed{未完", ""),
        ("\\boxed{３}", "３"),
        ("答えは42", ""),
    ],
)
def test_boxed(text: str, expected: str) -> None:
    assert run("boxed", text) == expected


def test_boxed_contents_order() -> None:
    assert boxed_contents("\\boxed{a{b}} \\boxed{c} \\boxed{") == ["a{b}", "c"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("合計は１，２５０円です", "1250"),
        ("答えは 42。", "42"),
        ("気温は−５度", "-5"),
        ("気温は－５度", "-5"),
        ("差は -3.5", "-3.5"),
        ("2-3個", "3"),
        ("割合は3/4です", "3/4"),
        ("1,2,3", "3"),
        ("円周率は3.14", "3.14"),
        ("+7", "7"),
        ("１２３４５６７", "1234567"),
        ("数字なし", ""),
        ("三個", ""),
    ],
)
def test_last_number(text: str, expected: str) -> None:
    assert run("last_number", text) == expected


def test_numbers_in_order() -> None:
    assert numbers_in("りんご3個とみかん１２個で計15個") == ["3", "12", "15"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("42", 42.0),
        ("１，２３４", 1234.0),
        (" ５ ", 5.0),
        ("−0.5", -0.5),
        ("+3", 3.0),
        ("3/4", 0.75),
        ("-1/2", -0.5),
        ("1,234.5", 1234.5),
        ("1/0", None),
        ("3個", None),
        ("約3", None),
        ("1,23", None),
        ("", None),
        ("三", None),
    ],
)
def test_parse_number(text: str, expected: float | None) -> None:
    assert parse_number(text) == expected


# --- segments --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("東京\n\n理由：首都だから", "東京"),
        ("  東京です \n続き\n\n別段落", "東京です \n続き"),
        ("\n\n東京", ""),  # llm-jp-eval: the first paragraph is empty
        ("東京", "東京"),
    ],
)
def test_first_paragraph(text: str, expected: str) -> None:
    assert run("first_paragraph", text) == expected


def test_first_paragraph_skip_empty() -> None:
    assert run("first_paragraph", "\n\n  \n\n東京\n\n大阪", skip_empty=True) == "東京"
    assert run("first_paragraph", "\n\n", skip_empty=True) == ""


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="東京 \n\u3000ab。", max_size=30))
def test_first_paragraph_is_llm_jp_eval_split(text: str) -> None:
    assert run("first_paragraph", text) == text.split("\n\n")[0].strip()


@pytest.mark.parametrize(
    ("text", "expected"),
    [("\n  東京 \n説明です", "東京"), ("大阪", "大阪"), ("\n\u3000\n", ""), ("", "")],
)
def test_first_line(text: str, expected: str) -> None:
    assert run("first_line", text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("<answer>東京</answer>", "東京"),
        ("<answer>仮</answer> 再考して <answer>\n大阪\n</answer>", "大阪"),
        ("<answer>閉じていない", ""),
        ("東京", ""),
    ],
)
def test_answer_tag(text: str, expected: str) -> None:
    assert run("answer_tag", text) == expected


def test_answer_tag_custom() -> None:
    assert run("answer_tag", "<final>京都</final>", tag="final") == "京都"


def test_regex() -> None:
    assert run("regex", "答え：東京、次点：大阪", pattern=r"[:：](\S+?)、") == "東京"
    assert run("regex", "A=1 A=2", pattern=r"A=(\d)", match="last") == "2"
    assert run("regex", "東京都", pattern=r"東京") == "東京"
    assert run("regex", "答えは大阪", pattern=r"答えは(?P<ans>.+)", group="ans") == "大阪"
    assert run("regex", "ANSWER: x", pattern=r"answer: (\w)", ignore_case=True) == "x"
    assert run("regex", "なし", pattern=r"(\d+)") == ""
    assert run("regex", "b", pattern=r"(a)|(b)") == ""  # group 1 did not take part


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"pattern": "("}, "invalid pattern"),
        ({"pattern": "(a)", "group": 2}, "no group 2"),
        ({"pattern": "(a)", "group": "x"}, "no group named"),
        ({"pattern": "(a)", "match": "any"}, "match"),
    ],
)
def test_regex_bad_params(params: dict[str, object], message: str) -> None:
    with pytest.raises(TaskConfigError, match=message):
        EXTRACTORS["regex"](**params)


def test_normalize_strip_and_yes_no_extractors() -> None:
    assert run("normalize", "「東京」") == "東京"
    assert run("normalize", "東京。", strip_trailing_punct=True) == "東京"
    assert run("normalize", "ＡＢＣ", lowercase=True) == "abc"
    assert run("strip", "\u3000 東京 \n") == "東京"
    assert run("yes_no", "はい。") == "yes"
    assert run("yes_no", "×") == "no"
    assert run("yes_no", "たぶん") == ""


# --- pipelines -------------------------------------------------------------------------------


def test_build_extractor_applies_in_order() -> None:
    pipeline = build_extractor(
        [{"name": "strip_reasoning"}, {"name": "first_line"}, {"name": "mc_letter", "letters": "ABCD"}]
    )
    assert pipeline("<think>AかBか…</think>\n\n答えは（Ｃ）\n理由は…") == "C"
    assert pipeline("<think>終わらない") == ""


def test_build_extractor_order_matters() -> None:
    text = "\\boxed{「東京」}"
    assert build_extractor([{"name": "boxed"}, {"name": "normalize"}])(text) == "東京"
    assert build_extractor([{"name": "normalize"}, {"name": "boxed"}])(text) == "「東京」"


def test_build_extractor_empty_is_identity() -> None:
    assert build_extractor([])(" 東京 ") == " 東京 "


def test_build_extractor_unknown_name() -> None:
    with pytest.raises(TaskConfigError, match="unknown extractor 'mc_leter'"):
        build_extractor([{"name": "mc_leter"}])


def test_build_extractor_bad_parameter_names_it() -> None:
    with pytest.raises(TaskConfigError) as info:
        build_extractor([{"name": "mc_letter", "leters": "ABCD"}])
    message = str(info.value)
    assert "mc_letter" in message and "leters" in message and "letters" in message
    assert "\n" not in message


def test_build_extractor_missing_required_parameter() -> None:
    with pytest.raises(TaskConfigError, match="regex.*pattern"):
        build_extractor([{"name": "regex"}])


@pytest.mark.parametrize("specs", [[{"letters": "AB"}], [{"name": 3}], ["mc_letter"]])
def test_build_extractor_malformed_spec(specs: list[object]) -> None:
    with pytest.raises(TaskConfigError, match="extractor #1"):
        build_extractor(specs)  # type: ignore[arg-type]
