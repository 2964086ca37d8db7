"""Every IFEval / M-IFEval instruction check on responses written for hyoka: one that
follows the instruction and one that does not (more where the rule has a subtle edge).

The English rules are lm-evaluation-harness's, the Japanese ones M-IFEval's; the
differential test (test_ifeval_differential.py) compares the English ones with lm-eval
itself on hundreds of responses.
"""

from __future__ import annotations

from typing import Any

import pytest

from hyoka.errors import HyokaError
from hyoka.metrics.ifeval import INSTRUCTIONS, InstructionArgsError, InstructionDoc, build_check, loose_variants

LT, AL = "less than", "at least"
JLT, JAL = "未満", "以上"

# (instruction id, kwargs, response, follows?)
CASES: list[tuple[str, dict[str, Any], str, bool]] = [
    # --- English: keywords
    ("keywords:existence", {"keywords": ["tokyo", "ramen"]}, "Ramen in TOKYO is great.", True),
    ("keywords:existence", {"keywords": ["tokyo", "ramen"]}, "Soba in Tokyo.", False),
    ("keywords:frequency", {"keyword": "cat", "frequency": 3, "relation": AL}, "cat, Cat and a catalog", True),
    ("keywords:frequency", {"keyword": "cat", "frequency": 3, "relation": AL}, "cat and dog", False),
    ("keywords:frequency", {"keyword": "dog", "frequency": 2, "relation": LT}, "one dog", True),
    ("keywords:frequency", {"keyword": "dog", "frequency": 2, "relation": LT}, "dog dog", False),
    ("keywords:forbidden_words", {"forbidden_words": ["can"]}, "You cannot.", True),  # whole words only
    ("keywords:forbidden_words", {"forbidden_words": ["can"]}, "You CAN.", False),
    ("keywords:letter_frequency", {"letter": "e", "let_frequency": 3, "let_relation": AL}, "EeE", True),
    ("keywords:letter_frequency", {"letter": "e", "let_frequency": 3, "let_relation": AL}, "tree", False),
    ("keywords:letter_frequency", {"letter": "#", "let_frequency": 2, "let_relation": AL}, "#a #b", True),
    ("keywords:letter_frequency", {"letter": "#", "let_frequency": 2, "let_relation": AL}, "#a b", False),
    # --- language
    ("language:response_language", {"language": "de"}, "Das ist ein kurzer deutscher Satz über das Wetter.", True),
    ("language:response_language", {"language": "de"}, "This is an English sentence about the weather.", False),
    ("language:response_language", {"language": "de"}, "12345 !!!", True),  # langdetect finds nothing: follows
    # --- length constraints
    ("length_constraints:number_sentences", {"num_sentences": 3, "relation": LT}, "Dr. Smith came. He left.", True),
    ("length_constraints:number_sentences", {"num_sentences": 3, "relation": LT}, "One. Two. Three.", False),
    ("length_constraints:number_sentences", {"num_sentences": 3, "relation": AL}, "123 !!!", True),  # NLTK: 3 sentences
    ("length_constraints:number_paragraphs", {"num_paragraphs": 2}, "First\n***\nSecond\n***", True),
    ("length_constraints:number_paragraphs", {"num_paragraphs": 2}, "First\n***\n\n***\nSecond", False),
    ("length_constraints:number_words", {"num_words": 4, "relation": LT}, "don't stop", True),  # 3 words
    ("length_constraints:number_words", {"num_words": 4, "relation": LT}, "one two three four", False),
    ("length_constraints:nth_paragraph_first_word", {"num_paragraphs": 2, "nth_paragraph": 2, "first_word": "then"},
     "Start.\n\n\"Then,\" he said.", True),
    ("length_constraints:nth_paragraph_first_word", {"num_paragraphs": 2, "nth_paragraph": 2, "first_word": "then"},
     "Start.\n\nThenceforth.", False),
    ("length_constraints:nth_paragraph_first_word", {"num_paragraphs": 2, "nth_paragraph": 2, "first_word": "then"},
     "Start.\n\nThen.\n\nMore.", False),  # three paragraphs
    # --- detectable content
    ("detectable_content:number_placeholders", {"num_placeholders": 2}, "[name] at [address]", True),
    ("detectable_content:number_placeholders", {"num_placeholders": 2}, "[name] only", False),
    ("detectable_content:postscript", {"postscript_marker": "P.S."}, "Hi.\np. s. see you", True),
    ("detectable_content:postscript", {"postscript_marker": "P.S."}, "Hi.\nPS see you", False),
    ("detectable_content:postscript", {"postscript_marker": "P.P.S"}, "Hi.\nP.P.S more", True),
    ("detectable_content:postscript", {"postscript_marker": "P.P.S"}, "Hi.\nP.S. more", False),
    # --- detectable format
    ("detectable_format:number_bullet_lists", {"num_bullets": 2}, "* one\n- two", True),
    ("detectable_format:number_bullet_lists", {"num_bullets": 2}, "* one\n** not a bullet", False),
    ("detectable_format:constrained_response", {}, "Well. My answer is maybe.", True),
    ("detectable_format:constrained_response", {}, "my answer is yes.", False),
    ("detectable_format:number_highlighted_sections", {"num_highlights": 2}, "**one** and **two**", True),  # bold counts
    ("detectable_format:number_highlighted_sections", {"num_highlights": 2}, "*one* and * *", False),
    ("detectable_format:multiple_sections", {"section_spliter": "Section", "num_sections": 2}, "Section 1\na\nSection 2\nb", True),
    ("detectable_format:multiple_sections", {"section_spliter": "Section", "num_sections": 2}, "SECTION 1\na\nSECTION 2\nb", False),
    ("detectable_format:json_format", {}, '```json\n{"a": [1, 2]}\n```', True),
    ("detectable_format:json_format", {}, "```\n{'a': 1}\n```", False),
    ("detectable_format:title", {}, "<<A Poem>>\nRoses", True),
    ("detectable_format:title", {}, "<<  >>\nRoses", False),
    # --- combination
    ("combination:two_responses", {}, "Yes.\n******\nNo.", True),
    ("combination:two_responses", {}, "Yes.\n******\nYes.", False),
    ("combination:repeat_prompt", {"prompt_to_repeat": "Write a haiku."}, "  write a HAIKU. An old pond", True),
    ("combination:repeat_prompt", {"prompt_to_repeat": "Write a haiku."}, "Sure! Write a haiku.", False),
    # --- start / end
    ("startend:end_checker", {"end_phrase": "Any other questions?"}, 'Done. "any other questions?"\n', True),
    ("startend:end_checker", {"end_phrase": "Any other questions?"}, "Any other questions? Bye.", False),
    ("startend:quotation", {}, '  "Wrapped"\n', True),
    ("startend:quotation", {}, "“Curly”", False),
    # --- change case
    ("change_case:capital_word_frequency", {"capital_frequency": 2, "capital_relation": AL}, "THIS is VERY good", True),
    ("change_case:capital_word_frequency", {"capital_frequency": 2, "capital_relation": AL}, "This Is Not", False),
    ("change_case:english_capital", {}, "THIS IS AN ENGLISH SENTENCE ABOUT THE WEATHER.", True),
    ("change_case:english_capital", {}, "DAS IST EIN DEUTSCHER SATZ ÜBER DAS WETTER HEUTE.", False),
    ("change_case:english_lowercase", {}, "this is an english sentence about the weather.", True),
    ("change_case:english_lowercase", {}, "This is an English sentence.", False),
    # --- punctuation
    ("punctuation:no_comma", {}, "No commas here. Full-width ，is fine.", True),
    ("punctuation:no_comma", {}, "One, two.", False),
    # === Japanese (M-IFEval) ==============================================================
    ("ja:keywords:existence", {"keywords": ["猫"]}, "猫が好きです。", True),
    ("ja:keywords:existence", {"keywords": ["猫"]}, "犬が好きです。", False),
    ("ja:keywords:frequency", {"keyword": "海", "frequency": 2, "relation": JAL}, "海と海が見える。", True),
    ("ja:keywords:frequency", {"keyword": "海", "frequency": 2, "relation": JAL}, "海が見える。", False),
    ("ja:keywords:frequency", {"keyword": "海", "frequency": 2, "relation": JLT}, "山が見える。", True),
    ("ja:keywords:forbidden_words", {"forbidden_words": ["雨"]}, "今日は晴れです。", True),
    ("ja:keywords:forbidden_words", {"forbidden_words": ["雨"]}, "今日は雨です。", False),
    ("ja:keywords:letter_frequency", {"letter": "あ", "let_frequency": 3, "let_relation": JAL}, "あアあ", True),  # katakana counts
    ("ja:keywords:letter_frequency", {"letter": "あ", "let_frequency": 3, "let_relation": JAL}, "ああ", False),
    ("ja:language:response_language", {"language": "ja"}, "今日はとても良い天気ですね。散歩に行きましょう。", True),
    ("ja:language:response_language", {"language": "ja"}, "Today is a very nice day for a walk.", False),
    ("ja:length_constraints:number_sentences", {"num_sentences": 2, "relation": JAL}, "一文目です！二文目です。", True),
    ("ja:length_constraints:number_sentences", {"num_sentences": 2, "relation": JAL}, "これは私の\n本です。", False),  # の joins lines
    ("ja:length_constraints:number_sentences", {"num_sentences": 2, "relation": JLT}, "彼は「はい。そうです。」と言った。", True),  # 。 in quotes
    ("ja:length_constraints:number_letters", {"num_letters": 5, "relation": JLT}, "短い。", True),
    ("ja:length_constraints:number_letters", {"num_letters": 5, "relation": JLT}, "これは長い文です。", False),
    ("ja:length_constraints:number_paragraphs", {"num_paragraphs": 2}, "一つ目\n***\n二つ目", True),
    ("ja:length_constraints:number_paragraphs", {"num_paragraphs": 2}, "一つ目\n\n二つ目", False),
    ("ja:length_constraints:nth_paragraph_first_word", {"num_paragraphs": 2, "nth_paragraph": 2, "first_word": "次に"},
     "まず準備します。\n\n「次に、焼きます。", True),
    ("ja:length_constraints:nth_paragraph_first_word", {"num_paragraphs": 2, "nth_paragraph": 2, "first_word": "次に"},
     "まず準備します。\n\n最後に焼きます。", False),
    ("ja:detectable_content:number_placeholders", {"num_placeholders": 1}, "[名前]様", True),
    ("ja:detectable_content:number_placeholders", {"num_placeholders": 1}, "【名前】様", False),
    ("ja:detectable_content:postscript", {"postscript_marker": "追伸"}, "本文です。\n追伸：また会いましょう。", True),
    ("ja:detectable_content:postscript", {"postscript_marker": "追伸"}, "本文です。", False),
    ("ja:detectable_content:postscript", {"postscript_marker": "P.S."}, "本文。\np.s. またね", True),
    ("ja:detectable_format:number_bullet_lists", {"num_bullets": 2}, "・一つ目\n・二つ目", True),
    ("ja:detectable_format:number_bullet_lists", {"num_bullets": 2}, "* 一つ目\n* 二つ目", False),
    ("ja:detectable_format:number_numbered_lists", {"num_items": 2}, "1. 一つ目\n2. 二つ目", True),
    ("ja:detectable_format:number_numbered_lists", {"num_items": 2}, "1.一つ目\n2.二つ目", False),  # no space
    ("ja:detectable_format:constrained_response", {}, "結論：はい、そうです。", True),
    ("ja:detectable_format:constrained_response", {}, "はい。", False),
    ("ja:detectable_format:number_highlighted_sections", {"num_highlights": 2}, "《一》と《二》", True),
    ("ja:detectable_format:number_highlighted_sections", {"num_highlights": 2}, "《 》と《二》", False),
    ("ja:detectable_format:multiple_sections", {"section_spliter": "章", "num_sections": 2}, "第1章\nA\n第２章\nB", True),
    ("ja:detectable_format:multiple_sections", {"section_spliter": "章", "num_sections": 2}, "1章\nA\n2章\nB", False),
    ("ja:detectable_format:json_format", {}, '{"名前": "太郎"}', True),
    ("ja:detectable_format:json_format", {}, "名前：太郎", False),
    ("ja:detectable_format:title", {}, "『春の歌』\n桜が咲く。", True),
    ("ja:detectable_format:title", {}, "「春の歌」\n桜が咲く。", False),
    ("ja:detectable_format:nominal_ending", {"count": 1}, "美しい夕焼け。", True),
    ("ja:detectable_format:nominal_ending", {"count": 1}, "夕焼けが美しいです。", False),
    ("ja:detectable_format:nominal_ending", {"count": 1}, "彼は「夕焼け。」と言った。", False),  # quotes removed
    ("ja:combination:two_responses", {}, "はい。\n******\nいいえ。", True),
    ("ja:combination:two_responses", {}, "はい。", False),
    ("ja:combination:repeat_prompt", {"prompt_to_repeat": "Say Hi."}, "Say Hi. こんにちは", True),
    ("ja:combination:repeat_prompt", {"prompt_to_repeat": "Say Hi."}, "say hi. こんにちは", False),  # case-sensitive
    ("ja:startend:end_checker", {"end_phrase": "以上です"}, "説明しました。以上です」", True),
    ("ja:startend:end_checker", {"end_phrase": "以上です"}, "説明しました。以上です。", False),
    ("ja:startend:quotation", {}, "「答えです」", True),
    ("ja:startend:quotation", {}, "『答えです』", False),
    ("ja:startend:sentence_unified_end", {"ending": "です"}, "これはペンです。彼は「行くよ。」と言ったのです。", True),
    ("ja:startend:sentence_unified_end", {"ending": "です"}, "これはペンです。あれは本だ。", False),
    ("ja:startend:sentence_unified_end", {"ending": "です"}, "これはペンです。と言った", False),  # text after the last 。
    ("ja:letters:furigana", {}, "漢字（かんじ）を書（か）く。", True),
    ("ja:letters:furigana", {}, "漢字（かんじ）を書く。", False),
    ("ja:letters:furigana", {}, "漢字(かんじ)", False),  # half-width brackets
    ("ja:letters:kansuuji", {}, "三人と五匹", True),
    ("ja:letters:kansuuji", {}, "３人", False),  # full-width digits are digits too
    ("ja:letters:no_katakana", {}, "ひらがなと漢字だけ。", True),
    ("ja:letters:no_katakana", {}, "ｶﾀｶﾅ", False),  # half-width katakana
    ("ja:letters:katakana_only", {}, "カタカナ・テスト！ 123", True),
    ("ja:letters:katakana_only", {}, "カタカナと", False),
    ("ja:letters:no_hiragana", {}, "漢字カタカナABC。", True),
    ("ja:letters:no_hiragana", {}, "漢字の", False),
    ("ja:letters:hiragana_only", {}, "ひらがなだけ、です！ー", True),
    ("ja:letters:hiragana_only", {}, "ひらがなと漢字", False),
    ("ja:letters:kanji", {"kanji_limit": 3, "relation": JAL}, "漢字三つ", True),
    ("ja:letters:kanji", {"kanji_limit": 3, "relation": JAL}, "かんじ一", False),
    ("ja:punctuation:no_comma", {}, "読点なし，カンマは別。", True),
    ("ja:punctuation:no_comma", {}, "はい、そうです。", False),
    ("ja:punctuation:no_period", {}, "句点なし．ピリオドは別", True),
    ("ja:punctuation:no_period", {}, "終わり。", False),
]


@pytest.mark.parametrize("instruction_id, kwargs, response, follows", CASES, ids=[f"{c[0]}-{c[3]}" for c in CASES])
def test_check(instruction_id: str, kwargs: dict[str, Any], response: str, follows: bool) -> None:
    assert build_check(instruction_id, kwargs)(response) is follows


def test_every_instruction_has_a_following_and_a_failing_case() -> None:
    covered = {(c[0], c[3]) for c in CASES}
    lacking = [(i, f) for i in INSTRUCTIONS for f in (True, False) if (i, f) not in covered]
    assert not lacking
    assert len(INSTRUCTIONS) == 58  # 25 IFEval + 33 M-IFEval ja types


def test_loose_variants_drop_first_and_last_lines_and_asterisks() -> None:
    variants = loose_variants("Sure:\n**\"Wrapped\"**\nHope it helps")
    assert variants[0] == "Sure:\n**\"Wrapped\"**\nHope it helps"
    assert '"Wrapped"' in variants  # first and last line dropped, asterisks removed
    assert len(variants) == 8
    doc = {"key": 1, "instruction_id_list": ["startend:quotation", "punctuation:no_comma"], "kwargs": [{}, {}]}
    result = InstructionDoc.from_doc(doc).evaluate("Sure, here:\n**\"Wrapped\"**\nHope it helps")
    assert [(r.strict, r.loose) for r in result.instructions] == [(False, True), (False, True)]
    assert (result.prompt_strict, result.prompt_loose) == (False, True)


def test_blank_response_follows_nothing() -> None:
    doc = {"key": 1, "instruction_id_list": ["punctuation:no_comma"], "kwargs": [{}]}
    [result] = InstructionDoc.from_doc(doc).evaluate("  \n").instructions
    assert (result.strict, result.loose) == (False, False)


@pytest.mark.parametrize(
    "instruction_id, kwargs, message",
    [
        ("keywords:nonexistent", {}, "unknown instruction id 'keywords:nonexistent'"),
        ("keywords:frequency", {"keyword": "a", "frequency": 2}, "lack ['relation']"),
        ("punctuation:no_comma", {"extra": 1}, "unknown ['extra']"),
        ("keywords:frequency", {"keyword": "a", "frequency": 2, "relation": "more than"}, "relation must be one of"),
        ("ja:letters:kanji", {"kanji_limit": -1, "relation": "以上"}, "non-negative integer"),
        ("length_constraints:nth_paragraph_first_word", {"num_paragraphs": 2, "nth_paragraph": 3, "first_word": "a"}, "1..2"),
        ("ja:keywords:letter_frequency", {"letter": "a", "let_frequency": 1, "let_relation": "以上"}, "one hiragana"),
    ],
)
def test_bad_kwargs_are_one_clear_error(instruction_id: str, kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(InstructionArgsError, match=message.replace("[", r"\[").replace("]", r"\]").replace(".", r"\.")) as info:
        build_check(instruction_id, kwargs)
    assert isinstance(info.value, HyokaError) and "\n" not in str(info.value)
