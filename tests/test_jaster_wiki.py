"""jaster's FA category: llm-jp-eval's five Wikipedia Annotated Corpus tasks.

- the KNP → sample conversion of every task on a KNP document written for these tests
  (tests/fixtures/wiki/hanako.knp; the expected samples were written by hand from it);
- the real corpus (HYOKA_DATA_DIR): split sizes, and the two documents whose samples
  llm-jp-eval's own tests spell out (wiki00280639, wiki00132787, both in dev);
- set_f1 and the nfkc extractor on hand-computed cases;
- one `hyoka run mock: --tasks jaster_fa` end to end.
"""

from __future__ import annotations

import json
import math
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from conftest import SHARED_DATA, hyoka_cmd, import_or_require, require
from hyoka.metrics.set_f1 import set_f1_score
from hyoka.tasks.registry import BUILTIN_DIR
from hyoka.tasks.yaml_io import FunctionRef
from hyoka.text.extract import build_extractor

JASTER_DIR = BUILTIN_DIR / "jaster"
MANIFEST = JASTER_DIR / "wiki_files.jsonl"
CORPUS = SHARED_DATA / "wikipedia_annotated_corpus"
FIXTURE = Path(__file__).parent / "fixtures" / "wiki" / "hanako.knp"
TASKS = ("reading", "ner", "dependency", "pas", "coreference")


def _hook(name: str) -> Any:
    """A function of wiki_hooks.py, imported the way a task YAML's !function is."""
    return FunctionRef(f"wiki_hooks.{name}", str(JASTER_DIR)).resolve()


def _document(text: str) -> Any:
    rhoknp = import_or_require("rhoknp", "pip install 'hyoka[jaster]'")
    return rhoknp.Document.from_knp(text)


# --- the conversion, on a document written for this test -------------------------------------

PLAIN = "花子は東京大学で言語学を学んだ。彼女はNHKに就職した。"
WITH_PARENTHESIS = "花子（はなこ）は東京大学で言語学を学んだ。彼女はNHKに就職した。"
EXPECTED = {
    # the reading morpheme by morpheme; NHK (reading NHK) spelled out letter by letter
    "reading": (PLAIN, "はなこはとうきょうだいがくでげんごがくをまなんだ。かのじょはえぬえいちけーにしゅうしょくした。"),
    # entities in document order; the parenthesis is put back into the input at position 2
    "ner": (WITH_PARENTHESIS, "花子（人名） 東京大学（組織名） NHK（組織名）"),
    "dependency": (
        PLAIN,
        "花子は -> 学んだ。\n東京大学で -> 学んだ。\n言語学を -> 学んだ。\n彼女は -> 就職した。\nNHKに -> 就職した。",
    ),
    # cases in llm-jp-eval's order (ガ デ … ヲ); 大学 grows to 東京大学 (its dependent in
    # the same bunsetsu); particles and 。 trimmed
    "pas": (WITH_PARENTHESIS, "学んだ ガ：花子 デ：東京大学 ヲ：言語学\n就職した ガ：彼女 ニ：NHK"),
    # 花子 = 彼女 (the parenthesis はなこ, also = 花子, is not part of this task's text);
    # entities mentioned once (言語学, 東京大学, NHK as arguments) are not listed
    "coreference": (PLAIN, "花子 彼女"),
}


@pytest.mark.parametrize("task", TASKS)
def test_conversion_of_a_handwritten_document(task: str) -> None:
    document = _document(FIXTURE.read_text(encoding="utf-8"))
    assert _hook(f"{task}_sample")(document) == EXPECTED[task]


def test_trimming_keeps_a_mention_that_is_only_function_words() -> None:
    document = _document(FIXTURE.read_text(encoding="utf-8"))
    particle_only = [m for m in document.morphemes if m.text in ("は", "。")][:2]
    assert _hook("_trimmed")(particle_only, ("助詞", "特殊"), ("助詞", "特殊")) == "は。"


def test_a_cut_parenthesis_without_its_sentence_is_one_line() -> None:
    from hyoka.errors import DatasetError

    text = FIXTURE.read_text(encoding="utf-8")
    first_sentence_only = text.split("EOS\n")[0] + "EOS\n"
    with pytest.raises(DatasetError, match="括弧削除 but no parenthesis sentence follows"):
        _hook("ner_sample")(_document(first_sentence_only))


def test_a_split_the_corpus_has_no_knp_for_is_one_line() -> None:
    from hyoka.errors import DatasetError

    with pytest.raises(DatasetError, match=r"split must be one of \('dev', 'test'\), not 'train'"):
        _hook("read_wiki_ner")(MANIFEST, "train")


# --- set_f1 and the extractor, by hand ---------------------------------------------------------


@pytest.mark.parametrize(
    ("prediction", "gold", "expected"),
    [
        ("a -> b\nc -> d", "a -> b\nc -> d", 1.0),
        # one of two lines right: P = 1/2, R = 1/2
        ("a -> b\nx -> y", "a -> b\nc -> d", 0.5),
        # a repeated predicted line counts once: P = 1/1, R = 1/2 → F1 = 2/3
        ("a -> b\na -> b", "a -> b\nc -> d", 2 / 3),
        # NER answers are one line: a missing entity makes the whole line wrong
        ("花子(人名)", "花子(人名) NHK(組織名)", 0.0),
    ],
)
def test_set_f1_by_hand(prediction: str, gold: str, expected: float) -> None:
    assert math.isclose(set_f1_score(prediction, gold), expected)


def test_wiki_extraction_keeps_lines() -> None:
    extract = build_extractor([{"name": "first_paragraph"}, {"name": "nfkc"}])
    assert extract("\u3000Ａ　->　Ｂ\nＣ　->　Ｄ\n\n説明") == "A -> B\nC -> D"


# --- the real corpus ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def corpus_docs(shared_data: Path) -> dict[tuple[str, str], list[dict[str, Any]]]:
    import_or_require("rhoknp", "pip install 'hyoka[jaster]'")
    require((CORPUS / "id" / "test.id").is_file(), f"Wikipedia Annotated Corpus missing under {CORPUS}")
    # module scope: runs before the per-test environment (conftest.isolated_env) is set
    with pytest.MonkeyPatch.context() as env:
        env.setenv("HYOKA_DATA_DIR", str(shared_data))
        env.setenv("HYOKA_OFFLINE", "1")
        return {(task, split): _hook(f"read_wiki_{task}")(MANIFEST, split) for task in TASKS for split in ("dev", "test")}


def _ids(split: str) -> list[str]:
    return (CORPUS / "id" / f"{split}.id").read_text(encoding="utf-8").split()


def _docs_with_named_entities(split: str) -> int:
    """Documents with a named entity that is not OPTIONAL, counted from the raw KNP tags (a
    base phrase line, "+ …"; the morpheme-level head/tail tags alone make no entity)."""
    tag = re.compile(r"^\+ .*<NE:(ORGANIZATION|PERSON|LOCATION|ARTIFACT|DATE|TIME|MONEY|PERCENT):", re.MULTILINE)
    return sum(
        1 for doc_id in _ids(split) if tag.search((CORPUS / "knp" / doc_id[:8] / f"{doc_id}.knp").read_text(encoding="utf-8"))
    )


def test_real_corpus_sizes(corpus_docs: dict[tuple[str, str], list[dict[str, Any]]]) -> None:
    for split, size in (("dev", 100), ("test", 200)):
        assert len(_ids(split)) == size
        # every document has a text to read and bunsetsu that depend on each other
        for task in ("reading", "dependency", "coreference"):
            docs = corpus_docs[(task, split)]
            assert [d["id"] for d in docs] == sorted(_ids(split)), (task, split)
        assert len(corpus_docs[("ner", split)]) == _docs_with_named_entities(split)
    assert len(corpus_docs[("ner", "test")]) == 113
    # the YAMLs' num_docs (what `hyoka tasks` shows) match what the readers give
    import yaml

    for task in TASKS:
        config = yaml.safe_load(re.sub(r"!function ", "", (JASTER_DIR / f"jaster_wiki_{task}.yaml").read_text(encoding="utf-8")))
        assert config["num_docs"] == len(corpus_docs[(task, "test")]), task


# llm-jp-eval's tests give these samples for wiki00280639 (all five tasks)
LLMJP_WIKI00280639 = {
    "reading": (
        "アメリカ議会図書館は、アメリカ合衆国の事実上の国立図書館。",
        "あめりかぎかいとしょかんは、あめりかがっしゅうこくのじじつじょうのこくりつとしょかん。",
    ),
    "ner": ("アメリカ議会図書館（アメリカぎかいとしょかん）は、アメリカ合衆国の事実上の国立図書館。", "アメリカ合衆国（地名）"),
    "dependency": (
        "アメリカ議会図書館は、アメリカ合衆国の事実上の国立図書館。",
        "アメリカ議会図書館は、 -> 国立図書館。\nアメリカ合衆国の -> 国立図書館。\n事実上の -> 国立図書館。",
    ),
    "pas": ("アメリカ議会図書館（アメリカぎかいとしょかん）は、アメリカ合衆国の事実上の国立図書館。", "国立図書館 ガ：アメリカ議会図書館"),
    "coreference": ("アメリカ議会図書館は、アメリカ合衆国の事実上の国立図書館。", "アメリカ アメリカ合衆国\nアメリカ議会図書館 国立図書館"),
}


@pytest.mark.parametrize("task", TASKS)
def test_real_corpus_known_samples(corpus_docs: dict[tuple[str, str], list[dict[str, Any]]], task: str) -> None:
    by_id = {d["id"]: d for d in corpus_docs[(task, "dev")]}
    doc = by_id["wiki00280639"]
    assert (doc["input"], doc["output"]) == LLMJP_WIKI00280639[task]
    # wiki00132787 (llm-jp-eval's second example): its NER sample in full; the parenthesis
    # (BSD) is back in the input and its entity counted; NFKC turns （ ） and U+3000 into ASCII
    bsd = {d["id"]: d for d in corpus_docs[("ner", "dev")]}["wiki00132787"]
    assert "Berkeley\u3000Software\u3000Distribution\u3000（BSD）\u3000などで採用されている。" in bsd["input"]
    assert bsd["output"] == (
        "カリフォルニア大学（組織名） Computer\u3000Systems\u3000Research\u3000Group（組織名） "
        "Berkeley\u3000Software\u3000Distribution（固有物名） BSD（固有物名）"
    )
    assert bsd["gold"] == "カリフォルニア大学(組織名) Computer Systems Research Group(組織名) Berkeley Software Distribution(固有物名) BSD(固有物名)"


# --- end to end -------------------------------------------------------------------------------------


def test_fa_category_end_to_end_with_mock(corpus_docs: dict[tuple[str, str], list[dict[str, Any]]], tmp_path: Path) -> None:
    """`hyoka run mock: --tasks jaster_fa --limit 2`: the first document of each task is
    answered with its corpus answer (full marks), the second with "∅" (no line of the gold,
    no word character for char_f1: 0): every task scores 0.5 and so does the FA category."""
    script = tmp_path / "answers.jsonl"
    rows = [{"task": f"jaster_wiki_{t}", "doc_id": 0, "output": corpus_docs[(t, "test")][0]["output"]} for t in TASKS]
    script.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    out = tmp_path / "run"
    cmd = hyoka_cmd(
        "run", "mock:", "--tasks", "jaster_fa", "--limit", "2", "--num-fewshot", "1",
        "--model-args", f"script={script},reply=∅", "--output", str(out), "--quiet",
    )
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    metrics = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    headline = {"reading": "char_f1", "ner": "set_f1", "dependency": "set_f1", "pas": "set_f1", "coreference": "set_f1"}
    for task, metric in headline.items():
        value = metrics["tasks"][f"jaster_wiki_{task}"]["metrics"][metric]
        assert value["n"] == 2 and math.isclose(value["value"], 0.5), (task, value)
    fa = metrics["groups"]["jaster_fa"]["metrics"]
    assert all(m["n"] == 2 for m in fa.values()), fa
    assert math.isclose(metrics["groups"]["jaster"]["metrics"]["FA"]["value"], 0.5)
    sample = json.loads((out / "samples_jaster_wiki_pas.jsonl").read_text(encoding="utf-8").splitlines()[0])
    prompt = json.dumps(sample, ensure_ascii=False)
    first_dev = corpus_docs[("pas", "dev")][0]
    # the one example is the first dev document, answer as the corpus writes it
    assert json.dumps(first_dev["input"], ensure_ascii=False)[1:-1] in prompt
    assert json.dumps(corpus_docs[("pas", "test")][0]["input"], ensure_ascii=False)[1:-1] in prompt
