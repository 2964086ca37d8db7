"""jaster's EL, MT, CG and SUM categories (chABSA, ALT, WikiCorpus, MBPP-ja, XL-Sum ja) on
fixture files written in each upstream's own schema (tests/fixtures/jaster_hub), packed the
way upstream publishes them (zip, tar.gz, tar.bz2, JSON lines) into a mirror folder at the
paths the task files name. Splits are checked against llm-jp-eval's rule, prompts against its
layout, and one `hyoka run mock:` over the whole `jaster_hub` suite against scores worked out
by hand.
"""

from __future__ import annotations

import json
import math
import os
import random
import shutil
import subprocess
import tarfile
import zipfile
from functools import lru_cache
from pathlib import Path

import pytest

from conftest import hyoka_cmd, import_or_require, require
from hyoka.tasks.registry import Registry, load_registry
from hyoka.tasks.task import LoadedTask, PromptOptions, load_task

FIXTURES = Path(__file__).parent / "fixtures" / "jaster_hub"
PREAMBLE = "以下は、タスクを説明する指示と、文脈のある入力の組み合わせです。要求を適切に満たす応答を書きなさい。\n\n### 指示:\n"
HUB_TASKS = [
    "jaster_chabsa",
    "jaster_alt_e_to_j",
    "jaster_alt_j_to_e",
    "jaster_wikicorpus_e_to_j",
    "jaster_wikicorpus_j_to_e",
    "jaster_mbpp",
    "jaster_xlsum_ja",
]


def _zip(folder: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(target, "w") as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                archive.write(path, path.relative_to(folder.parent).as_posix())


def _tar(folder: Path, target: Path, mode: str, *, flat: bool = False) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(target, mode) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                archive.add(path, path.name if flat else path.relative_to(folder.parent).as_posix())


def write_mirror(root: Path) -> Path:
    """The fixtures as upstream publishes them, at the tasks' mirror paths."""
    _zip(FIXTURES / "chabsa" / "chABSA-dataset", root / "chabsa" / "chABSA-dataset.zip")
    _zip(FIXTURES / "alt" / "ALT-Parallel-Corpus-20191206", root / "alt" / "ALT-Parallel-Corpus-20191206.zip")
    for split in ("train", "dev", "test"):
        shutil.copy(FIXTURES / "alt" / f"URL-{split}.txt", root / "alt" / f"URL-{split}.txt")
    _tar(FIXTURES / "wikicorpus" / "wiki_corpus_2.01", root / "wikicorpus" / "wiki_corpus_2.01.tar.gz", "w:gz")
    _tar(FIXTURES / "xlsum", root / "hf/csebuetnlp/xlsum/data/japanese_XLSum_v2.0.tar.bz2", "w:bz2", flat=True)
    target = root / "hf/llm-jp/mbpp-ja/mbpp_translation.jsonl"
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(FIXTURES / "mbpp-ja" / "mbpp_translation.jsonl", target)
    return root


@pytest.fixture
def mirror(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = write_mirror(tmp_path / "mirror")
    monkeypatch.setenv("HYOKA_DATA_DIR", str(root))
    return root


@lru_cache(maxsize=1)
def registry() -> Registry:
    return load_registry()


def loaded(name: str) -> LoadedTask:
    return load_task(registry().tasks[name].config)


def prompt(name: str, shots: int, index: int = 0) -> str:
    sample = loaded(name).build_samples(limit=index + 1, options=PromptOptions(num_fewshot=shots))[index]
    return sample.messages[-1].content


# -- splits and documents ----------------------------------------------------------------------


def test_chabsa_split_is_llmjp_seeded_shuffle(mirror: Path) -> None:
    # llm-jp-eval: every sentence with opinions (files in name order), random.seed(42),
    # random.shuffle, then [:80%] train, [80%:90%] dev, [90%:] test
    sentences = []
    for path in sorted((FIXTURES / "chabsa" / "chABSA-dataset").glob("*.json")):
        for s in json.loads(path.read_text(encoding="utf-8"))["sentences"]:
            if s["opinions"]:
                sentences.append((s["sentence"], "\n".join(f"{o['target']} {o['polarity']}" for o in s["opinions"])))
    assert len(sentences) == 12  # one sentence of the fixture has no opinion
    state = random.getstate()
    random.seed(42)
    random.shuffle(sentences)
    random.setstate(state)
    task = loaded("jaster_chabsa")
    assert [(d["input"], d["output"]) for d in task.eval_docs] == [(f"文章：{s}", g) for s, g in sentences[10:]]
    assert [d["input"] for d in task.fewshot_docs] == [f"文章：{s}" for s, _ in sentences[:9]]


def test_alt_pairs_follow_the_url_split(mirror: Path) -> None:
    e_to_j = loaded("jaster_alt_e_to_j")
    # article 80200: sentence 3 has no Japanese side, sentence 4 is 500+ characters together
    assert [(d["en"], d["ja"]) for d in e_to_j.eval_docs] == [
        ("The president visited Tokyo yesterday.", "大統領は昨日東京を訪れた。"),
        ("He met the prime minister for two hours.", "彼は首相と２時間会談した。"),
    ]
    assert [d["en"] for d in e_to_j.fewshot_docs][:2] == [
        "The city council approved the new budget on Monday.",
        "The budget includes funds for two new schools.",
    ]
    # the prompt shows the source as written; the gold is NFKC (llm-jp-eval normalises it)
    j_to_e = loaded("jaster_alt_j_to_e").build_samples(limit=2, options=PromptOptions(num_fewshot=0))
    assert j_to_e[1].messages[-1].content.endswith("### 入力:\n彼は首相と２時間会談した。\n\n### 応答:\n")
    assert e_to_j.build_samples(limit=2, options=PromptOptions(num_fewshot=0))[1].references == ["彼は首相と2時間会談した。"]


def test_wikicorpus_whole_files_go_to_one_split(mirror: Path) -> None:
    files = sorted(p.relative_to(FIXTURES / "wikicorpus").as_posix() for p in (FIXTURES / "wikicorpus").rglob("*.xml"))
    state = random.getstate()
    random.seed(42)
    random.shuffle(files)  # as llm-jp-eval shuffles (the module's generator, seed 42)
    random.setstate(state)
    # 10 files: [:8] train, [8:9] dev, [9:] test
    assert files[8:] == ["wiki_corpus_2.01/BDS/BDS00001.xml", "wiki_corpus_2.01/BDS/BDS00002.xml"]
    task = loaded("jaster_wikicorpus_j_to_e")
    # the test file's first paragraph (checked English; the draft translation is not used);
    # its second paragraph is too long to keep
    assert [(d["ja"], d["en"]) for d in task.eval_docs] == [("空海は真言宗の開祖である。", "Kukai was the founder of the Shingon sect.")]
    train = [d["en"] for d in task.fewshot_docs]
    assert len(train) == 8 and train[0] == "The Fujiwara clan flourished in the Heian period."
    assert "The Onin War began in 1467 & lasted eleven years." in train  # a bare & upstream is read
    assert not any("Sesshu" in t for t in train)  # the dev file


def test_xlsum_and_mbpp_documents(mirror: Path) -> None:
    xlsum = loaded("jaster_xlsum_ja")
    assert [d["output"] for d in xlsum.eval_docs] == ["猫が好きです。", "台風が九州に接近している。"]
    assert [d["output"] for d in xlsum.fewshot_docs] == ["新しい駅が開業した。", "各地で記録的な暑さとなった。", "与党が過半数を維持した。"]
    mbpp = loaded("jaster_mbpp")
    assert [d["id"] for d in mbpp.eval_docs] == [11, 12]  # rows [10:510]: MBPP's test task ids
    first = mbpp.eval_docs[0]
    assert first["input"] == (
        "文字列から指定した文字をすべて取り除くpython関数を書きなさい。\n\n### テストケース:\n"
        'assert remove_char("hello", "l") == "heo"\nassert remove_char("abcda", "a") == "bcd"'
    )
    assert first["entry_point"] == "remove_char" and mbpp.eval_docs[1]["entry_point"] == "shared"


def test_prompts_have_llmjp_layout(mirror: Path) -> None:
    two_shot = prompt("jaster_chabsa", 2)
    assert two_shot.startswith(PREAMBLE + "与えられた文章から固有表現で書かれたターゲットの名前を抽出し")
    train = loaded("jaster_chabsa").fewshot_docs
    first_test = loaded("jaster_chabsa").eval_docs[0]
    expected_tail = (
        f"\n\n### 入力:\n{train[0]['input']}\n\n### 応答:\n{train[0]['output']}"
        f"\n\n### 入力:\n{train[1]['input']}\n\n### 応答:\n{train[1]['output']}"
        f"\n\n### 入力:\n{first_test['input']}\n\n### 応答:\n"
    )
    assert two_shot.endswith(expected_tail)
    assert prompt("jaster_xlsum_ja", 0) == (
        PREAMBLE + "与えられたニュース記事を要約してください。\n\n### 入力:\n"
        "ある調査によると、多くの人が猫が好きだと答えた。犬も人気だった。\n\n### 応答:\n"
    )
    assert prompt("jaster_wikicorpus_e_to_j", 0).endswith("### 入力:\nKukai was the founder of the Shingon sect.\n\n### 応答:\n")


def test_reader_errors_are_one_line(mirror: Path) -> None:
    from hyoka.errors import DatasetError
    from hyoka.tasks.yaml_io import FunctionRef

    hooks = Path(registry().tasks["jaster_chabsa"].config.source_dir or "")
    bad = mirror / "not_a.zip"
    bad.write_text("plain text", encoding="utf-8")
    with pytest.raises(DatasetError, match=r"not_a\.zip: not a zip file") as caught:
        FunctionRef("jaster_hub_hooks.read_chabsa", str(hooks)).resolve()(bad, "test")
    assert "\n" not in str(caught.value)
    rows = mirror / "rows.jsonl"
    rows.write_text('{"task_id": 1, "text": "x"}\n', encoding="utf-8")
    with pytest.raises(DatasetError, match=r"rows\.jsonl:1: no text_jp, test_list, code field"):
        FunctionRef("jaster_hub_hooks.read_mbpp_ja", str(hooks)).resolve()(rows, "test")


def test_a_cut_off_or_foreign_tarball_is_one_line_naming_the_file(
    mirror: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from hyoka.cli import main

    wikicorpus = mirror / "wikicorpus" / "wiki_corpus_2.01.tar.gz"
    wikicorpus.write_bytes(wikicorpus.read_bytes()[: wikicorpus.stat().st_size // 2])  # a download cut short
    (mirror / "hf/csebuetnlp/xlsum/data/japanese_XLSum_v2.0.tar.bz2").write_text("not a tarball", encoding="utf-8")
    for task, published in (("jaster_xlsum_ja", "japanese_XLSum_v2.0.tar.bz2"), ("jaster_wikicorpus_e_to_j", "wiki_corpus_2.01.tar.gz")):
        code = main(["run", "mock:", "--tasks", task, "--limit", "1", "--output", str(tmp_path / task), "--quiet"])
        lines = capsys.readouterr().err.strip().splitlines()
        assert code == 2 and len(lines) == 1, lines  # was: tarfile's five lines, or "fix the hook"
        assert f"{published}: not a readable tar archive" in lines[0] and f"place {published} as published" in lines[0]


# -- metrics ------------------------------------------------------------------------------------


def test_rouge2_with_mecab_words_by_hand() -> None:
    import_or_require("MeCab", "pip install 'hyoka[jaster]'")
    import_or_require("rouge_score", "pip install 'hyoka[jaster]'")
    from hyoka.metrics import get_metric

    rouge = get_metric("rouge2")
    # 猫|が|好き|です|。 vs 犬|が|好き|です|。: 3 of 4 bigrams shared → P = R = F = 0.75
    assert rouge.sample("犬が好きです。", ["猫が好きです。"]) == pytest.approx(75.0)
    assert rouge.sample("猫が好きです。", ["猫が好きです。"]) == pytest.approx(100.0)
    assert get_metric("rouge2", scale=0.01).sample("犬が好きです。", ["猫が好きです。"]) == pytest.approx(0.75)


def test_bleu_sentence_average_is_llmjp_mean() -> None:
    import_or_require("sacrebleu", "pip install 'hyoka[swallow]'")
    from hyoka.metrics import ScoreInput, get_metric

    bleu = get_metric("bleu", tokenize="13a", average="sentence")
    pairs = [("the cat sat on the mat", "the cat sat on the mat"), ("dogs run", "the cat sat on the mat")]
    items = [ScoreInput("t", i, {}, "", [ref], [hyp], [hyp]) for i, (hyp, ref) in enumerate(pairs)]
    scores = bleu.score_batch(items, None)  # type: ignore[arg-type]
    assert [s.values["bleu"] for s in scores] == [pytest.approx(100.0), pytest.approx(0.0)]
    assert bleu.aggregate(items, scores)["bleu"].value == pytest.approx(50.0)  # corpus BLEU would differ
    with pytest.raises(Exception, match="average must be 'corpus' or 'sentence'"):
        get_metric("bleu", average="median")


# -- end to end ---------------------------------------------------------------------------------


def _script_rows() -> list[dict]:
    """Scripted answers; every value below is worked out by hand in the test."""
    return [
        # chABSA test docs (gold: see test_chabsa_split_is_llmjp_seeded_shuffle): a perfect
        # answer, and one line of two right with an extra wrong one
        {"task": "jaster_chabsa", "doc_id": 0, "output": "@GOLD0"},
        {"task": "jaster_chabsa", "doc_id": 1, "output": "@HALF1"},
        {"task": "jaster_alt_e_to_j", "doc_id": 0, "output": "大統領は昨日東京を訪れた。"},
        {"task": "jaster_alt_e_to_j", "doc_id": 1, "output": "ぜんぜん違う"},
        {"task": "jaster_alt_j_to_e", "doc_id": 0, "output": "The president visited Tokyo yesterday.\n\nNote: done."},
        {"task": "jaster_alt_j_to_e", "doc_id": 1, "output": "Nothing alike"},
        {"task": "jaster_wikicorpus_e_to_j", "doc_id": 0, "output": "空海は真言宗の開祖である。"},
        {"task": "jaster_wikicorpus_j_to_e", "doc_id": 0, "output": "Something else entirely"},
        {"task": "jaster_mbpp", "doc_id": 0, "output": "def remove_char(s, ch):\n    return s.replace(ch, '')"},
        {"task": "jaster_mbpp", "doc_id": 1, "output": "def shared(a, b):\n    return list(set(a) | set(b))"},
        {"task": "jaster_xlsum_ja", "doc_id": 0, "output": "犬が好きです。"},
        {"task": "jaster_xlsum_ja", "doc_id": 1, "output": "台風が九州に接近している。"},
    ]


def test_jaster_hub_suite_end_to_end_with_mock(mirror: Path, tmp_path: Path) -> None:
    from hyoka.sandbox import unavailable_reason

    require(unavailable_reason() is None, f"bubblewrap cannot run here: {unavailable_reason()}")
    import_or_require("MeCab", "pip install 'hyoka[jaster]'")
    import_or_require("rouge_score", "pip install 'hyoka[jaster]'")
    chabsa = loaded("jaster_chabsa").eval_docs
    gold0, gold1 = chabsa[0]["output"], chabsa[1]["output"]
    gold1_lines = gold1.split("\n")
    rows = _script_rows()
    rows[0]["output"] = gold0
    # first gold line right, one invented line: P = 1/2, R = 1/len(gold), F by hand below
    rows[1]["output"] = gold1_lines[0] + "\n存在しない会社 positive"
    script = tmp_path / "script.jsonl"
    script.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    out = tmp_path / "run"
    env = {**os.environ, "HYOKA_DATA_DIR": str(mirror)}
    done = subprocess.run(
        hyoka_cmd("run", "mock:", "--model-args", f"script={script}", "--suite", "jaster_hub", "--num-fewshot", "0",
                  "--output", str(out), "--quiet"),
        env=env, capture_output=True, text=True, timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    metrics = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    assert sorted(metrics["tasks"]) == sorted(HUB_TASKS)
    value = lambda task, label: metrics["tasks"][task]["metrics"][label]["value"]  # noqa: E731

    precision, recall = 1 / 2, 1 / len(gold1_lines)
    half = 2 * precision * recall / (precision + recall)
    assert value("jaster_chabsa", "set_f1") == pytest.approx((1.0 + half) / 2)
    # BLEU: llm-jp-eval's mean of sentence scores (100 for the exact one, 0 for no overlap);
    # the j→e answer is cut at the blank line, as llm-jp-eval cuts every answer
    assert value("jaster_alt_e_to_j", "bleu_ja") == pytest.approx(50.0)
    assert value("jaster_alt_j_to_e", "bleu_en") == pytest.approx(50.0)
    assert value("jaster_wikicorpus_e_to_j", "bleu_ja") == pytest.approx(100.0)
    assert value("jaster_wikicorpus_j_to_e", "bleu_en") == pytest.approx(0.0)
    assert 0.0 <= value("jaster_alt_e_to_j", "chrf") <= 100.0
    # MBPP: the first solution passes both asserts, the second (a union) fails
    assert value("jaster_mbpp", "pass@1") == pytest.approx(0.5)
    # ROUGE-2: 75 (three of four MeCab bigrams) and 100
    assert value("jaster_xlsum_ja", "rouge2") == pytest.approx(87.5)
    assert value("jaster_xlsum_ja", "rouge2_scaling") == pytest.approx(0.875)
    group = metrics["groups"]["jaster_hub"]["metrics"]
    assert group["EL"]["value"] == pytest.approx((1.0 + half) / 2)
    assert group["AVG"]["value"] == pytest.approx(((1.0 + half) / 2 + 0.5 + 0.875) / 3)
    assert math.isfinite(group["AVG"]["value"])

    # the Nejumi form: chABSA's 0-shot and 2-shot scores averaged into GLP_抽出, ALT as a
    # BLEU/100 column; the 2-shot run is the same scripted model (one leaderboard row)
    two = tmp_path / "run-2shot"
    done = subprocess.run(
        hyoka_cmd("run", "mock:", "--model-args", f"script={script}", "--tasks", "jaster_chabsa,jaster_alt_e_to_j",
                  "--num-fewshot", "2", "--output", str(two), "--quiet"),
        env=env, capture_output=True, text=True, timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    from hyoka.reporting.leaderboard import build_rows, load_suite
    from hyoka.reporting.runs import load_run

    [row] = build_rows([load_run(out), load_run(two)], load_suite("nejumi"))
    chabsa = row.scores["jaster_chabsa:set_f1 (0/2-shot)"]
    assert chabsa is not None and sorted(s[2] for s in chabsa.sources) == [0, 2]
    two_shot = json.loads((two / "metrics.json").read_text(encoding="utf-8"))["tasks"]
    assert chabsa.value == pytest.approx((value("jaster_chabsa", "set_f1") + two_shot["jaster_chabsa"]["metrics"]["set_f1"]["value"]) / 2)
    alt = row.scores["翻訳 ALT e→j BLEU/100"]
    assert alt is not None and alt.value == pytest.approx((50.0 + two_shot["jaster_alt_e_to_j"]["metrics"]["bleu_ja"]["value"]) / 200)
    assert row.categories["GLP_抽出"] is None  # MT-Bench extraction is not in these runs


def test_offline_without_a_copy_is_one_line(tmp_path: Path) -> None:
    env = {**os.environ, "HYOKA_DATA_DIR": str(tmp_path / "empty"), "HYOKA_OFFLINE": "1"}
    done = subprocess.run(
        hyoka_cmd("run", "mock:", "--tasks", "jaster_xlsum_ja", "--limit", "1", "--output", str(tmp_path / "run")),
        env=env, capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "hf/csebuetnlp/xlsum/data/japanese_XLSum_v2.0.tar.bz2" in lines[0] and "HYOKA_DATA_DIR" in lines[0]
