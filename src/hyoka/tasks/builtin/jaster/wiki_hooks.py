"""Readers for jaster's FA category: llm-jp-eval's five Wikipedia Annotated Corpus tasks.

One KNP document (morphemes, named entities, dependencies, predicate-argument structure,
coreference; parsed with rhoknp, as llm-jp-eval does) becomes one sample {id, input,
output} per task; a document whose output is empty is left out (llm-jp-eval drops those).
Written for hyoka from llm-jp-eval v1.4.1's task definitions (no llm-jp-eval code is used);
tests/test_jaster_wiki.py checks the samples against the two documents llm-jp-eval's own
tests spell out. What each task asks for:

- reading: the text → its reading in hiragana, morpheme by morpheme;
- ner: every named entity but OPTIONAL, "entity（type）", joined by spaces;
- dependency: one line "source phrase -> head phrase" per bunsetsu dependency;
- pas: one line per predicate "predicate ガ：argument ヲ：argument …";
- coreference: one line per entity mentioned twice or more, its mentions joined by spaces.

The corpus keeps parentheses as separate sentences (comment "括弧始:（ 括弧終:） 括弧位置:N"
after a sentence marked "括弧削除"). reading, dependency and coreference leave them out of
input and output; ner and pas put them back into the input text and read the whole document.

The split "file" is a manifest (wiki_files.jsonl: every KNP file and the id lists, each with
its mirror path, pinned URL and sha256); the reader resolves and verifies every file of the
split it is asked for.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hyoka.core.logs import quiet_logger
from hyoka.data.files import DataFile, read_manifest, resolve_file
from hyoka.errors import DatasetError
from hyoka.text.normalize import nfkc

if TYPE_CHECKING:  # rhoknp is imported when a wiki task reads its data (extra "jaster")
    from rhoknp import BasePhrase, Document, Morpheme, Sentence
    from rhoknp.cohesion import Predicate

Doc = dict[str, Any]

SPLITS = ("dev", "test")

# --- reading the corpus ------------------------------------------------------------------------


def _rhoknp() -> Any:
    try:
        import rhoknp
    except ImportError:
        raise DatasetError(
            "the jaster Wikipedia tasks (jaster_wiki_*) parse KNP files with rhoknp, which is not "
            "installed; pip install 'hyoka[jaster]'"
        ) from None
    return rhoknp


def _split_files(manifest: Path, split: str) -> list[DataFile]:
    """The KNP files of `split`, in the order of its id list (llm-jp-eval: sorted by id)."""
    if split not in SPLITS:
        raise DatasetError(f"{manifest}: Wikipedia Annotated Corpus split must be one of {SPLITS}, not '{split}'")
    specs = read_manifest(manifest)
    if split not in specs:
        raise DatasetError(f"{manifest}: no entry for id/{split}.id; is this the wiki_files.jsonl manifest?")
    id_file = resolve_file(specs[split], task=f"jaster_wiki ({split})").path
    doc_ids = sorted(line.strip() for line in id_file.read_text(encoding="utf-8").splitlines() if line.strip())
    missing = [doc_id for doc_id in doc_ids if doc_id not in specs]
    if missing:
        raise DatasetError(f"{manifest}: {len(missing)} documents of {split} have no entry (first: {missing[0]})")
    return [specs[doc_id] for doc_id in doc_ids]


@functools.lru_cache(maxsize=4)
def _documents(manifest: Path, split: str) -> tuple["Document", ...]:
    """Every document of a split, parsed once per process (the five tasks share them)."""
    rhoknp = _rhoknp()
    documents = []
    with quiet_logger("rhoknp"):  # a warning per annotation it cannot attach: about the corpus, not actionable
        for spec in _split_files(manifest, split):
            path = resolve_file(spec, task=f"jaster_wiki ({split})").path
            try:
                documents.append(rhoknp.Document.from_knp(path.read_text(encoding="utf-8")))
            except Exception as exc:  # rhoknp raises plain ValueError/AssertionError on bad KNP
                raise DatasetError(f"{path}: not a readable KNP document ({exc}); replace it with the pinned file") from None
    return tuple(documents)


def _read(manifest: Path, split: str, convert: Callable[["Document"], tuple[str, str]]) -> list[Doc]:
    """Docs {id, input, output, gold}: `output` as the corpus writes it (what a few-shot
    example shows), `gold` NFKC-normalised (llm-jp-eval normalises both sides before scoring)."""
    docs = []
    for document in _documents(manifest.resolve(), split):
        with quiet_logger("rhoknp"):  # rhoknp attaches some annotations lazily
            text, output = convert(document)
        if output.strip():  # llm-jp-eval keeps only documents with something to answer
            docs.append({"id": document.doc_id, "input": text, "output": output, "gold": nfkc(output)})
    if not docs:
        raise DatasetError(f"{manifest}: no {split} document has an answer for this task")
    return docs


# --- text helpers --------------------------------------------------------------------------------

#: what is trimmed from both ends of a mention or argument: particles, punctuation, copula
_FUNCTION_POS = ("助詞", "特殊", "判定詞")
_PARENTHESIS = re.compile(r"括弧始:(\S+) 括弧終:(\S+) 括弧位置:(\d+)")


def _is_parenthesis(sentence: "Sentence") -> bool:
    return "括弧始" in sentence.misc_comment


def _main_sentences(document: "Document") -> list["Sentence"]:
    """The sentences without the parenthesised ones the corpus split off."""
    return [s for s in document.sentences if not _is_parenthesis(s)]


def _text_with_parentheses(document: "Document") -> str:
    """The document text with each parenthesis put back where it was cut out (its position
    and brackets are in the parenthesis sentence's comment)."""
    out = []
    sentences = iter(document.sentences)
    for sentence in sentences:
        text = sentence.text
        if "括弧削除" in sentence.misc_comment:
            inner = next(sentences, None)
            match = _PARENTHESIS.search(inner.misc_comment) if inner is not None else None
            if inner is None or match is None:
                raise DatasetError(f"{document.doc_id}: sentence {sentence.sid} says 括弧削除 but no parenthesis sentence follows")
            start, end, position = match.group(1), match.group(2), int(match.group(3))
            text = text[:position] + start + inner.text + end + text[position:]
        out.append(text)
    return "".join(out)


def _trimmed(morphemes: Sequence["Morpheme"], leading: tuple[str, ...], trailing: tuple[str, ...]) -> str:
    """The morphemes' text without leading / trailing function words; all of it when nothing
    else is left (a mention that is only a particle keeps its text)."""
    start, end = 0, len(morphemes)
    while start < end and morphemes[start].pos in leading:
        start += 1
    while end > start and morphemes[end - 1].pos in trailing:
        end -= 1
    kept = morphemes[start:end] or morphemes
    return "".join(m.text for m in kept)


def _dependents(base_phrase: "BasePhrase") -> list["BasePhrase"]:
    """The base phrase and everything that depends on it, directly or not."""
    out = [base_phrase]
    for child in base_phrase.children:
        out += _dependents(child)
    return out


def base_phrase_text(base_phrase: "BasePhrase") -> str:
    """A mention or an argument as text: the base phrase grown by its dependents that are
    next to it inside its bunsetsu (so 館 becomes アメリカ議会図書館), without particles,
    punctuation or copula at either end."""
    siblings = base_phrase.phrase.base_phrases
    anchor = siblings.index(base_phrase)
    dependents = _dependents(base_phrase)
    span = [base_phrase]
    for following in siblings[anchor + 1 :]:
        if following not in dependents:
            break
        span.append(following)
    for preceding in reversed(siblings[:anchor]):
        if preceding not in dependents:
            break
        span.append(preceding)
    span.sort(key=lambda bp: bp.index)
    return _trimmed([m for bp in span for m in bp.morphemes], _FUNCTION_POS, _FUNCTION_POS)


def predicate_text(predicate: "Predicate") -> str:
    """A predicate as text: its bunsetsu without leading function words and trailing particles
    or punctuation (a copula at the end stays: ひとつである)."""
    return _trimmed(predicate.phrase.morphemes, _FUNCTION_POS, ("助詞", "特殊"))


# --- reading -------------------------------------------------------------------------------------

_LETTER_READINGS = dict(
    zip(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZ",
        "えー びー しー でぃー いー えふ じー えいち あい じぇー けー える えむ えぬ おー ぴー "
        "きゅー あーる えす てぃー ゆー ぶい だぶりゅー えっくす わい ぜっと".split(),
    )
)


def morpheme_reading(morpheme: "Morpheme") -> str:
    """The corpus reading; of alternatives (にっぽん/にほん) the first; an upper-case Latin
    acronym (BSD, whose corpus reading is BSD) spelled out letter by letter (びーえすでぃー)."""
    reading = morpheme.reading.split("/")[0]
    if all(char in _LETTER_READINGS for char in reading):
        return "".join(_LETTER_READINGS[char] for char in reading)
    return reading


def reading_sample(document: "Document") -> tuple[str, str]:
    sentences = _main_sentences(document)
    text = "".join(s.text for s in sentences)
    return text, "".join(morpheme_reading(m) for s in sentences for m in s.morphemes)


# --- named entities ------------------------------------------------------------------------------

NE_LABELS = {
    "ORGANIZATION": "組織名",
    "PERSON": "人名",
    "LOCATION": "地名",
    "ARTIFACT": "固有物名",
    "DATE": "日付表現",
    "TIME": "時刻表現",
    "MONEY": "金額表現",
    "PERCENT": "割合表現",
}


def ner_sample(document: "Document") -> tuple[str, str]:
    entities = [
        f"{entity.text}（{NE_LABELS[entity.category.value]}）"
        for entity in document.named_entities
        if entity.category.value in NE_LABELS  # OPTIONAL: annotators could not decide
    ]
    return _text_with_parentheses(document), " ".join(entities)


# --- dependency ----------------------------------------------------------------------------------


def dependency_sample(document: "Document") -> tuple[str, str]:
    sentences = _main_sentences(document)
    lines = [f"{p.text} -> {p.parent.text}" for s in sentences for p in s.phrases if p.parent is not None]
    return "".join(s.text for s in sentences), "\n".join(lines)


# --- predicate-argument structure ----------------------------------------------------------------

#: the cases asked for, in output order (ガ２, the second nominative, is written ガ)
PAS_CASES = ("ガ", "デ", "ト", "ニ", "ヘ", "ヲ", "カラ", "ガ２", "マデ", "ヨリ")


def _arguments_text(pas: Any) -> str:
    from rhoknp.cohesion import EndophoraArgument

    parts = []
    for case in PAS_CASES:
        for argument in pas.get_arguments(case, relax=False):
            # only arguments written in the text, and not inside the predicate's own bunsetsu
            if not isinstance(argument, EndophoraArgument) or argument.phrase == pas.predicate.phrase:
                continue
            parts.append(f" {'ガ' if case == 'ガ２' else case}：{base_phrase_text(argument.base_phrase)}")
    return "".join(parts)


def pas_sample(document: "Document") -> tuple[str, str]:
    lines = []
    for pas in document.pas_list:
        arguments = _arguments_text(pas)
        predicate = predicate_text(pas.predicate)
        if predicate and arguments:
            lines.append(predicate + arguments)
    return _text_with_parentheses(document), "\n".join(lines)


# --- coreference ---------------------------------------------------------------------------------


def _mention_groups(base_phrases: Iterable["BasePhrase"]) -> list[list["BasePhrase"]]:
    """Base phrases grouped by the exact set of entities they mention, first mention first."""
    groups: dict[tuple[int, ...], list["BasePhrase"]] = {}
    for base_phrase in base_phrases:
        if base_phrase.entities:
            groups.setdefault(tuple(sorted(e.eid for e in base_phrase.entities)), []).append(base_phrase)
    return list(groups.values())


def coreference_sample(document: "Document") -> tuple[str, str]:
    # entities are recomputed on the document without parentheses (a mention inside one
    # must not link two mentions outside it)
    main = _rhoknp().Document.from_sentences(_main_sentences(document))
    lines = [
        " ".join(base_phrase_text(bp) for bp in sorted(group, key=lambda bp: bp.global_index))
        for group in _mention_groups(main.base_phrases)
        if len(group) >= 2
    ]
    return main.text, "\n".join(lines)


# --- the readers the task files name ---------------------------------------------------------


def read_wiki_reading(path: Path, split: str) -> list[Doc]:
    """Reading prediction: {id, input: text, output: its reading in hiragana}."""
    return _read(path, split, reading_sample)


def read_wiki_ner(path: Path, split: str) -> list[Doc]:
    """Named entities: {id, input: text with parentheses, output: "entity（type） …"}."""
    return _read(path, split, ner_sample)


def read_wiki_dependency(path: Path, split: str) -> list[Doc]:
    """Bunsetsu dependencies: {id, input, output: "source -> head" lines}."""
    return _read(path, split, dependency_sample)


def read_wiki_pas(path: Path, split: str) -> list[Doc]:
    """Predicate-argument structure: {id, input: text with parentheses, output: PAS lines}."""
    return _read(path, split, pas_sample)


def read_wiki_coreference(path: Path, split: str) -> list[Doc]:
    """Coreference: {id, input, output: one line of mentions per entity}."""
    return _read(path, split, coreference_sample)
