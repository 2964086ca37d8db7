"""Readers for the jaster categories whose data is not in shared/data: EL (chABSA), MT (ALT,
WikiCorpus), CG (MBPP-ja) and SUM (XL-Sum ja).

Each reads the upstream file as published (a zip, a tarball, a JSON-lines file) from the
mirror (`HYOKA_DATA_DIR`) and cuts the splits the way llm-jp-eval v1.4.1's preprocessing does
(the comment on each says how). Written for hyoka from the datasets' own formats; no
llm-jp-eval code is used. Every reader is `fn(path, split) -> list[dict]` and raises
DatasetError naming the file and what is wrong with it.

Documents carry `input` and `output` as llm-jp-eval's samples do (the prompt shows `input`,
the gold is `output`, NFKC-normalised as llm-jp-eval compares it), plus the fields a task
needs beyond them.
"""

from __future__ import annotations

import io
import json
import lzma
import random
import re
import tarfile
import xml.etree.ElementTree as ET
import zipfile
import zlib
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterator

from hyoka.data.files import DataFile, resolve_file
from hyoka.data.readers import jsonl_objects, read_jsonl_objects
from hyoka.errors import DatasetError
from hyoka.text.normalize import nfkc

Doc = dict[str, Any]

#: llm-jp-eval's split of a shuffled list: the first 80% train, the next 10% dev, the rest test
_SPLIT_NAMES = ("train", "dev", "test")


def _cut_80_10_10(items: list[Any], split: str, path: Path) -> list[Any]:
    """llm-jp-eval's cut: [:0.8n] train, [0.8n:0.9n] dev, [0.9n:] test (int() of each bound)."""
    if split not in _SPLIT_NAMES:
        raise DatasetError(f"{path}: split must be one of {', '.join(_SPLIT_NAMES)}, not '{split}'")
    n = len(items)
    bounds = {"train": (0, int(n * 0.8)), "dev": (int(n * 0.8), int(n * 0.9)), "test": (int(n * 0.9), n)}
    start, end = bounds[split]
    return items[start:end]


def _seeded_shuffle(items: list[Any]) -> list[Any]:
    """`random.seed(42); random.shuffle(items)`, as llm-jp-eval shuffles before cutting —
    on a private Random so that nothing else's random state moves."""
    shuffled = list(items)
    random.Random(42).shuffle(shuffled)
    return shuffled


#: what a damaged tarball raises while it is read: the tar layer, or the gzip / bz2 / xz stream
#: under it (a download cut short ends in EOFError deep inside tarfile)
_BROKEN_TAR = (tarfile.TarError, EOFError, OSError, zlib.error, lzma.LZMAError)


def _broken_tar(path: Path, exc: BaseException, published: str) -> DatasetError:
    """One line for a tarball that cannot be read (tarfile's own message spans lines)."""
    if isinstance(exc, EOFError):
        detail = "it ends early: an incomplete download?"
    else:
        detail = (str(exc).splitlines() or [type(exc).__name__])[0].rstrip(" :")
    return DatasetError(f"{path}: not a readable tar archive ({detail}); place {published} as published")


def _sample(index: int, input_text: str, output: str, **extra: Any) -> Doc:
    return {"id": index, "input": input_text, "output": nfkc(output), **extra}


# --- chABSA (EL) -----------------------------------------------------------------------------


def _chabsa_files(path: Path) -> Iterator[tuple[str, bytes]]:
    """(name, bytes) of every chABSA-dataset/*.json in the zip, in name order (llm-jp-eval
    reads sorted(glob("*.json")) of the extracted folder)."""
    try:
        with zipfile.ZipFile(path) as archive:
            # the top folder only: a zip made on a Mac also has __MACOSX/chABSA-dataset/._*.json
            names = sorted(n for n in archive.namelist() if re.fullmatch(r"chABSA-dataset/[^/]+\.json", n))
            for name in names:
                yield name, archive.read(name)
    except zipfile.BadZipFile:
        raise DatasetError(f"{path}: not a zip file; place chABSA-dataset.zip as published") from None


def read_chabsa(path: Path, split: str) -> list[Doc]:
    """chABSA-dataset.zip → one sample per sentence with at least one opinion.

    input: "文章：SENTENCE"; output: one line "TARGET POLARITY" per opinion, in the file's
    order. All sentences of all files (name order) are shuffled with seed 42 and cut
    80/10/10, as llm-jp-eval does.
    """
    samples = []
    for name, data in _chabsa_files(path):
        try:
            record = json.loads(data.decode("utf-8"))
            sentences = record["sentences"]
        except (UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError) as exc:
            raise DatasetError(f"{path}: {name} is not a chABSA annotation file ({type(exc).__name__}: {exc})") from None
        for sentence in sentences:
            opinions = [f"{o['target']} {o['polarity']}" for o in sentence.get("opinions") or []]
            if opinions:
                samples.append((sentence["sentence"], "\n".join(opinions)))
    if not samples:
        raise DatasetError(f"{path}: no chABSA-dataset/*.json with annotated sentences; is this chABSA-dataset.zip?")
    chosen = _cut_80_10_10(_seeded_shuffle(samples), split, path)
    return [_sample(i, f"文章：{text}", gold) for i, (text, gold) in enumerate(chosen)]


# --- ALT (MT) --------------------------------------------------------------------------------

#: the parallel corpus; the split files (URL-{train,dev,test}.txt) are the tasks' splits
ALT_CORPUS = DataFile(mirror_path="alt/ALT-Parallel-Corpus-20191206.zip")

#: llm-jp-eval keeps a pair only when both sides together are shorter than this (characters)
MAX_PAIR_CHARS = 500


def _alt_sentences(text: str) -> dict[str, dict[str, str]]:
    """data_{ja,en}.txt: "SNT.ARTICLE.SENTENCE<TAB>text" → {article: {sentence: text}}.
    Lines without a tab (sentences with no content upstream) are left out, as upstream does."""
    out: dict[str, dict[str, str]] = {}
    for line in text.splitlines():
        if "\t" not in line:
            continue
        tag, sentence = line.split("\t", 1)
        parts = tag.split(".")
        if len(parts) != 3:
            continue
        out.setdefault(parts[1], {})[parts[2]] = sentence.strip()
    return out


@lru_cache(maxsize=2)
def _alt_corpus(zip_path: Path, mtime: float) -> tuple[dict[str, dict[str, str]], dict[str, dict[str, str]]]:
    """(english, japanese) sentences of the ALT zip; cached: both directions read one file."""
    try:
        with zipfile.ZipFile(zip_path) as archive:
            by_name = {Path(n).name: n for n in archive.namelist()}
            missing = [f for f in ("data_en.txt", "data_ja.txt") if f not in by_name]
            if missing:
                raise DatasetError(f"{zip_path}: has no {', '.join(missing)}; is this ALT-Parallel-Corpus-20191206.zip?")
            read = lambda name: archive.read(by_name[name]).decode("utf-8")  # noqa: E731
            return _alt_sentences(read("data_en.txt")), _alt_sentences(read("data_ja.txt"))
    except zipfile.BadZipFile:
        raise DatasetError(f"{zip_path}: not a zip file; place ALT-Parallel-Corpus-20191206.zip as published") from None


def _alt_article_ids(path: Path) -> list[str]:
    """URL-{split}.txt: "URL.ARTICLE<TAB>wikinews url" per line → the article ids, in order."""
    ids = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        tag = line.split("\t", 1)[0]
        parts = tag.split(".")
        if len(parts) != 2:
            raise DatasetError(f"{path}:{number}: expected 'URL.<article id><TAB><url>'; is this an ALT URL-*.txt file?")
        ids.append(parts[1])
    return ids


def alt_pairs(path: Path, split: str, *, task: str) -> list[tuple[str, str]]:
    """(english, japanese) pairs of the articles `path` (URL-{split}.txt) lists: every sentence
    of each article (data_en.txt order) that has a Japanese side, shorter than MAX_PAIR_CHARS."""
    corpus = resolve_file(ALT_CORPUS, task=task).path
    english, japanese = _alt_corpus(corpus, corpus.stat().st_mtime)
    pairs = []
    for article in _alt_article_ids(path):
        for sentence_id, en in english.get(article, {}).items():
            ja = japanese.get(article, {}).get(sentence_id)
            if ja is not None and len(ja) + len(en) < MAX_PAIR_CHARS:
                pairs.append((en, ja))
    return pairs


def _pair_doc(index: int, en: str, ja: str) -> Doc:
    """Both sides as written (the prompt shows the source as is) and NFKC-normalised (the gold:
    llm-jp-eval normalises the reference it compares with); the task file picks the direction."""
    return {"id": index, "en": en, "ja": ja, "gold_en": nfkc(en), "gold_ja": nfkc(ja)}


def read_alt(path: Path, split: str) -> list[Doc]:
    """ALT: the sentence pairs of the articles URL-{split}.txt lists (see `alt_pairs`)."""
    return [_pair_doc(i, en, ja) for i, (en, ja) in enumerate(alt_pairs(path, split, task="jaster_alt_*"))]


# --- WikiCorpus (MT) -------------------------------------------------------------------------


def _wikicorpus_paragraphs(xml_text: str, name: str) -> list[tuple[str, str]]:
    """One file's paragraphs as (japanese, english): per <par>, the <j> and checked English
    (<e type="check">) of each <sen> that has both, joined with spaces; titles are left out.
    Only pairs shorter than MAX_PAIR_CHARS together are kept (llm-jp-eval: few-shot fits)."""
    # the corpus has bare "&" in places: escaped before parsing, as llm-jp-eval does
    try:
        root = ET.fromstring(xml_text.replace("&", "&amp;"))
    except ET.ParseError as exc:
        raise DatasetError(f"{name}: not well-formed XML ({exc})") from None
    pairs = []
    for par in root.findall("par"):
        ja_sentences, en_sentences = [], []
        for sen in par.findall("sen"):
            ja, en = sen.find("j"), sen.find("e[@type='check']")
            if ja is not None and en is not None and ja.text is not None and en.text is not None:
                ja_sentences.append(ja.text)
                en_sentences.append(en.text)
        ja_par, en_par = " ".join(ja_sentences), " ".join(en_sentences)
        if len(ja_par) + len(en_par) < MAX_PAIR_CHARS:
            pairs.append((ja_par, en_par))
    return pairs


@lru_cache(maxsize=2)
def _wikicorpus_files(path: Path, mtime: float) -> tuple[tuple[tuple[str, str], ...], ...]:
    """Every XML file's paragraph pairs, files in path order (cached: four tasks × splits read it)."""
    files = []
    try:
        with tarfile.open(path, "r:*") as archive:
            members = sorted((m for m in archive.getmembers() if m.isfile() and m.name.endswith(".xml")), key=lambda m: m.name)
            for member in members:
                handle = archive.extractfile(member)
                assert handle is not None
                text = io.TextIOWrapper(handle, encoding="utf-8").read()
                files.append(tuple(_wikicorpus_paragraphs(text, f"{path}:{member.name}")))
    except _BROKEN_TAR as exc:
        raise _broken_tar(path, exc, "wiki_corpus_2.01.tar.gz") from None
    if not files:
        raise DatasetError(f"{path}: no .xml files inside; is this wiki_corpus_2.01.tar.gz?")
    return tuple(files)


def wikicorpus_pairs(path: Path, split: str) -> list[tuple[str, str]]:
    """(japanese, english) paragraphs of `split`: the files (each a list of paragraphs) are
    shuffled with seed 42 and cut 80/10/10, then flattened — whole files go to one split.

    llm-jp-eval lists the files with os.walk (file-system order); hyoka sorts them by path so
    that every machine gets the same split (see the task file)."""
    files = list(_wikicorpus_files(path, path.stat().st_mtime))
    return [pair for pairs in _cut_80_10_10(_seeded_shuffle(files), split, path) for pair in pairs]


def read_wikicorpus(path: Path, split: str) -> list[Doc]:
    """WikiCorpus: the paragraph pairs of `split` (see `wikicorpus_pairs`)."""
    return [_pair_doc(i, en, ja) for i, (ja, en) in enumerate(wikicorpus_pairs(path, split))]


# --- XL-Sum Japanese (SUM) -------------------------------------------------------------------

#: hyoka split → the member of japanese_XLSum_v2.0.tar.bz2 (XL-Sum's own train/val/test)
XLSUM_MEMBERS = {"train": "japanese_train.jsonl", "dev": "japanese_val.jsonl", "test": "japanese_test.jsonl"}


def read_xlsum_ja(path: Path, split: str) -> list[Doc]:
    """japanese_XLSum_v2.0.tar.bz2 → {id, input: the article text, output: its summary, title, url};
    XL-Sum's own train/val/test split (llm-jp-eval keeps it)."""
    if split not in XLSUM_MEMBERS:
        raise DatasetError(f"{path}: XL-Sum split must be one of {', '.join(XLSUM_MEMBERS)}, not '{split}'")
    wanted = XLSUM_MEMBERS[split]
    try:
        with tarfile.open(path, "r:*") as archive:
            member = next((m for m in archive.getmembers() if Path(m.name).name == wanted), None)
            if member is None:
                raise DatasetError(f"{path}: has no {wanted}; is this japanese_XLSum_v2.0.tar.bz2?")
            handle = archive.extractfile(member)
            assert handle is not None
            text = handle.read().decode("utf-8")
    except _BROKEN_TAR as exc:
        raise _broken_tar(path, exc, "japanese_XLSum_v2.0.tar.bz2") from None
    except UnicodeDecodeError as exc:
        raise DatasetError(f"{path}:{wanted}: not UTF-8 text ({exc})") from None
    expected = "a JSON object with id, text and summary"
    docs = []
    for number, row in jsonl_objects(text, f"{path}:{wanted}", expected=expected):
        try:
            docs.append(_sample(len(docs), row["text"], row["summary"], title=row.get("title", ""), url=row.get("url", ""), xlsum_id=row["id"]))
        except KeyError as exc:
            raise DatasetError(f"{path}:{wanted}:{number}: expected {expected} (no {exc})") from None
    return docs


# --- MBPP-ja (CG) ----------------------------------------------------------------------------

#: MBPP's own index ranges (task ids 1-10 prompt, 11-510 test, 511-600 validation, 601-974
#: train), which llm-jp-eval uses over the file's rows: test [10:510], dev [510:600], train [600:]
MBPP_SPLITS = {"test": (10, 510), "dev": (510, 600), "train": (600, None)}

def _entry_point(tests: list[str], code: str) -> str:
    """The function the tests call (MBPP has no entry_point field): the first function of the
    reference solution that an assert names, else its last function."""
    defined = re.findall(r"^def\s+([A-Za-z_]\w*)\s*\(", code, re.MULTILINE)
    called = [name for test in tests for name in re.findall(r"([A-Za-z_]\w*)\s*\(", test)]
    return next((name for name in called if name in defined), defined[-1] if defined else "")


def _check_program(setup: str, tests: list[str]) -> str:
    """The tests as hyoka's code_exec runs them: `check(candidate)` running every assert in turn
    (the first failure fails the problem, as llm-jp-eval's loop does)."""
    body = "\n".join(f"    {t.strip()}" for t in tests) or "    pass"
    return f"{setup.strip()}\n\n\ndef check(candidate):\n{body}\n"


def read_mbpp_ja(path: Path, split: str) -> list[Doc]:
    """mbpp_translation.jsonl (MBPP with the task text translated, `text_jp`) → the rows of `split`.

    input: "TEXT_JP\\n\\n### テストケース:\\nASSERT\\nASSERT..."; output: the list of asserts as
    Python writes it (llm-jp-eval's gold); test/entry_point/prompt for the code_exec metric.
    """
    if split not in MBPP_SPLITS:
        raise DatasetError(f"{path}: MBPP split must be one of {', '.join(MBPP_SPLITS)}, not '{split}'")
    rows = []
    for number, row in read_jsonl_objects(path, expected="mbpp_translation.jsonl rows"):
        missing = [k for k in ("text_jp", "test_list", "code") if k not in row]
        if missing:
            raise DatasetError(f"{path}:{number}: no {', '.join(missing)} field (has {', '.join(sorted(row))}); is this mbpp_translation.jsonl?")
        rows.append(row)
    start, end = MBPP_SPLITS[split]
    docs = []
    for row in rows[start:end]:
        tests = [str(t) for t in row["test_list"]]
        entry = _entry_point(tests, row["code"])
        docs.append(
            _sample(
                row.get("task_id", len(docs)),
                f"{row['text_jp']}\n\n### テストケース:\n" + "\n".join(tests),
                str(tests),
                prompt="",
                test=_check_program(str(row.get("test_setup_code") or ""), tests),
                entry_point=entry,
                code=row["code"],
            )
        )
    return docs

