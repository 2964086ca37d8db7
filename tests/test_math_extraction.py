"""Number extraction for MGSM / GSM8K / BBH: hyoka's `numbers_in` on every number form, and
each task's extract chain scored like lm-evaluation-harness's own filters and exact_match.

The lm-eval side is lm-eval itself: its task YAMLs (read from the installed package at test
time), its RegexFilter and its exact_match, so a drift in either implementation fails here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import import_or_require
from hyoka.metrics import get_metric
from hyoka.tasks.builtin.mgsm.mgsm_hooks import lm_eval_gold
from hyoka.tasks.registry import load_registry
from hyoka.text.extract import build_extractor, numbers_in, parse_number

# (reply, the numbers hyoka reads, in order)
NUMBER_FORMS = [
    ("The total is 1,234 apples.", ["1234"]),  # thousands separators
    ("It costs $1,234,567.89.", ["1234567.89"]),
    ("Half is .5 and a coin is $.20 now.", ["0.5", "0.20"]),  # leading-dot decimals
    ("-.25 degrees", ["-0.25"]),
    ("33-33-1 = -1", ["33", "33", "1", "-1"]),  # a hyphen between numbers is not a sign
    ("He had -5 points, then 2-3 more.", ["-5", "2", "3"]),
    ("答えは１，２５０円です。", ["1250"]),  # full-width digits and comma
    ("気温は−５度、－３度", ["-5", "-3"]),  # U+2212 and full-width minus
    ("3/4 of 12 is 9.", ["3/4", "12", "9"]),
    ("1,2,3", ["1", "2", "3"]),
    ("version 1.2.3", ["1.2"]),
    ("三個と十五個", []),  # kanji numerals are not read (no reference reads them)
    ("The answer is 5.", ["5"]),  # a sentence-final dot is not a decimal point
]


@pytest.mark.parametrize("reply, expected", NUMBER_FORMS, ids=[r for r, _ in NUMBER_FORMS])
def test_numbers_in_every_form(reply: str, expected: list[str]) -> None:
    assert numbers_in(reply) == expected


def test_parse_number_leading_dot() -> None:
    assert parse_number(".5") == 0.5 and parse_number("-.5") == -0.5 and parse_number("$.5") is None


def test_delete_extractor_removes_each_pattern_in_order() -> None:
    extract = build_extractor([{"name": "delete", "patterns": [",", r"\$", r"\.$"]}])
    assert extract("$1,234.") == "1234"
    with pytest.raises(Exception, match="invalid pattern"):
        build_extractor([{"name": "delete", "patterns": ["("]}])


# replies to a question whose gold is GOLD; every number form, right and wrong
REPLIES = [
    "She makes 9 * 2 = $18 every day. The answer is 18.",
    "The answer is $18.00.",
    "So 16 - 3 - 4 = 9 eggs, 9 x 2 = 18 dollars.",
    "The answer is 18",
    "The answer is 1,8.",
    "9*2=18。答えは18です。",
    "答えは１８です。",  # full-width: no reference reads it
    "The answer is -18.",
    "33-33-1 = -18",
    "The answer is .18",
    "I don't know.",
    "18 eggs... wait, 16-3-4=9",
    "**18**",
    "The answer is 1,800.",
    "It is 1800 dollars.",
    "The answer is 18\n\nQuestion: next",
]

LMEVAL_TASKS = {
    # hyoka task -> (lm-eval task file, the lm-eval filter that hyoka reproduces)
    "gsm8k_cot": ("gsm8k/gsm8k-cot.yaml", "flexible-extract"),
    "mgsm_en_cot": ("mgsm/native_cot/mgsm_native_cot_en.yaml", "flexible-extract"),
    "mgsm_ja_cot": ("mgsm/native_cot/mgsm_native_cot_ja.yaml", "flexible-extract"),
}


def lmeval_score(task_file: str, filter_name: str, reply: str, gold: str) -> float:
    import lm_eval
    from lm_eval.api.metrics import exact_match_hf_evaluate
    from lm_eval.filters.extraction import RegexFilter

    folder = Path(lm_eval.__file__).parent / "tasks"
    config = yaml.load((folder / task_file).read_text(), Loader=yaml.BaseLoader)
    if "include" in config:
        base = yaml.load((folder / task_file).parent.joinpath(config["include"]).read_text(), Loader=yaml.BaseLoader)
        config = {**base, **config}
    [chain] = [f["filter"] for f in config["filter_list"] if f["name"] == filter_name]
    regex = next(step for step in chain if step["function"] == "regex")
    extracted = RegexFilter(regex["regex_pattern"], int(regex.get("group_select", 0))).apply([[reply]], [{}])[0][0]
    [metric] = [m for m in config["metric_list"] if m["metric"] == "exact_match"]
    return float(
        exact_match_hf_evaluate(
            [extracted],
            [gold],
            regexes_to_ignore=metric.get("regexes_to_ignore"),
            ignore_case=metric.get("ignore_case") == "true",
            ignore_punctuation=metric.get("ignore_punctuation") == "true",
        )["exact_match"]
    )


@pytest.mark.parametrize("task", sorted(LMEVAL_TASKS))
def test_task_scores_equal_lm_eval_filters(task: str) -> None:
    import_or_require("lm_eval", "lm-eval is a test dependency")
    config = load_registry([]).tasks[task].config
    extract = build_extractor([{"name": e.name, **e.params()} for e in config.extract])
    metric = get_metric("exact_match")
    task_file, filter_name = LMEVAL_TASKS[task]
    for gold in ("18", "-18", "1,800"):
        # the gold as the task writes it (gsm8k: "," and "$" dropped; mgsm: punctuation)
        reference = lm_eval_gold(gold) if task.startswith("mgsm") else gold.replace(",", "").replace("$", "")
        for reply in REPLIES:
            ours = metric.sample(extract(reply), [reference])
            assert ours == lmeval_score(task_file, filter_name, reply, gold), (task, reply, gold, extract(reply))


def test_gsm8k_gold_keeps_lm_eval_normalisation(shared_data: Path) -> None:
    from hyoka.tasks.task import PromptOptions, load_task

    task = load_task(load_registry([]).tasks["gsm8k_cot"].config)
    samples = task.build_samples(limit=None, options=PromptOptions(num_fewshot=0))
    golds = {s.references[0] for s in samples}
    assert "2125" in golds and not any("," in g for g in golds)  # "#### 2,125" upstream


def test_bbh_cot_answer_follows_so_the_answer_is() -> None:
    """The rest of the line after "the answer is ", a final "." removed (the BBH paper's
    scoring: it reproduces the published per-task accuracies; lm-eval's regex drops the
    last character even when it is not a ".", e.g. "So the answer is ] ]")."""
    config = load_registry([]).tasks["bbh_dyck_languages"].config
    extract = build_extractor([{"name": e.name, **e.params()} for e in config.extract])
    assert extract("Today is 12/24. So the answer is (B).") == "(B)"
    assert extract("So we need ] ]. So the answer is ] ]") == "] ]"
    assert extract("So the answer is (B).\nQ: next") == "(B)"
    assert extract("I think (B)") == ""


@pytest.mark.parametrize(
    "task, raw, extracted",
    [
        ("gsm8k_cot", "<think>Maybe 99? The answer is 99.</think>So 9 * 2 = 18. The answer is 18.", "18"),
        ("mgsm_ja_cot", "<think>答えは99です。</think>9×2=18。答えは18です。", "18"),
        ("bbh_date_understanding", "<think>So the answer is (A).</think>So the answer is (B).", "(B)"),
        ("bbh_direct_date_understanding", "<think>(A)</think> (B)", "(B)"),
    ],
)
def test_reasoning_is_removed_before_extraction(task: str, raw: str, extracted: str, shared_data: Path) -> None:
    """The think part never reaches a task's extractor; it is kept in the record."""
    from hyoka.core.types import GenerateResult
    from hyoka.engine.scoring import DocResults, score_task
    from hyoka.tasks.task import PromptOptions, load_task

    config = load_registry([]).tasks[task].config
    sample = load_task(config).build_samples(limit=1, options=PromptOptions(num_fewshot=0))[0]
    outcome = score_task(config, [DocResults(sample, "prompt", [GenerateResult.from_output(raw)])])
    [record] = outcome.records
    assert record.extracted == extracted
    assert record.reasoning and "<think>" not in record.output
