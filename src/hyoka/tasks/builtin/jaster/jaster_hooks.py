"""Readers and document hooks for the jaster (llm-jp-eval) task family.

Task YAMLs next to this file refer to these functions as `!function jaster_hooks.NAME`.
Each reader is `fn(path, split) -> list[dict]`; it only parses what it is given and
raises DatasetError naming the file and what is wrong with it.

Written for hyoka from the datasets' own formats (no llm-jp-eval code is used); where a
split rule imitates llm-jp-eval's preprocessing, the comment says so.
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from hyoka.data.files import DataFile, read_manifest, resolve_file
from hyoka.errors import DatasetError
from hyoka.text.normalize import nfkc

Doc = dict[str, Any]


def _nfkc(text: str) -> str:
    # llm-jp-eval NFKC-normalises both the output and the gold before comparing
    return nfkc(text)


def _bucket(key: str, buckets: int = 10) -> int:
    """A stable bucket for a key (sha256, not Python's salted hash): same split everywhere."""
    return int(hashlib.sha256(key.encode("utf-8")).hexdigest(), 16) % buckets


def _parse_xml(path: Path) -> ET.Element:
    try:
        # ElementTree never fetches external DTDs (JSeM names jsem.dtd, which is not shipped)
        return ET.parse(path).getroot()
    except ET.ParseError as exc:
        raise DatasetError(f"{path}: not well-formed XML ({exc}); replace it with the pinned file") from None


def _json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8-sig"))
    except json.JSONDecodeError as exc:
        raise DatasetError(f"{path}: not valid JSON ({exc.msg} at line {exc.lineno})") from None


# --- NIILC ---------------------------------------------------------------------------------


def read_niilc(path: Path, split: str) -> list[Doc]:
    """NIILC-ECQA2015 XML → {id, question, answers, answer}.

    `answer` joins every gold answer with "," — the single gold string llm-jp-eval scores
    against (its instruction asks for multiple answers joined by commas).
    """
    docs = []
    for q in _parse_xml(path).iter("question"):
        text = (q.findtext("text") or "").strip()
        answers = [_nfkc(a.text.strip()) for a in q.iter("answer") if a.text and a.text.strip()]
        if not text or not answers:
            continue  # a few questions have no answer recorded: nothing to score against
        docs.append({"id": q.get("id", ""), "question": text, "answers": answers, "answer": ",".join(answers)})
    if not docs:
        raise DatasetError(f"{path}: no <question> with <text> and <answer> found; is this a NIILC-ECQA2015 file?")
    return docs


# --- JSQuAD --------------------------------------------------------------------------------


def read_jsquad(path: Path, split: str) -> list[Doc]:
    """SQuAD-style JSON → one doc per question: {id, title, context, question, answers, answer}.

    JGLUE contexts start with "title [SEP] "; like llm-jp-eval we keep only the text after
    the marker. `answer` is the first gold answer (llm-jp-eval's single gold).
    """
    data = _json(path)
    if not isinstance(data, dict) or not isinstance(data.get("data"), list):
        raise DatasetError(f"{path}: expected a SQuAD JSON object with a 'data' list")
    docs = []
    for article in data["data"]:
        for paragraph in article.get("paragraphs", []):
            context = paragraph["context"].split("[SEP]")[-1].strip()
            for qa in paragraph.get("qas", []):
                answers = [_nfkc(a["text"]) for a in qa.get("answers", []) if a.get("text")]
                if qa.get("is_impossible") or not answers:
                    continue
                docs.append(
                    {
                        "id": qa["id"],
                        "title": article.get("title", ""),
                        "context": context,
                        "question": qa["question"],
                        "answers": answers,
                        "answer": answers[0],
                    }
                )
    return docs


# --- JaNLI ---------------------------------------------------------------------------------


def read_janli(path: Path, split: str) -> list[Doc]:
    """janli.tsv holds both splits; its `split` column says which row belongs where."""
    with path.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE))
    if rows and "split" not in rows[0]:
        raise DatasetError(f"{path}: no 'split' column; is this JaNLI's janli.tsv?")
    docs = [r for r in rows if r["split"] == split]
    if not docs:
        raise DatasetError(f"{path}: no rows with split == '{split}' (the file has train and test)")
    return docs


# --- manifests: one task, many pinned files -------------------------------------------------


def _manifest(path: Path) -> list[DataFile]:
    """A manifest: one pinned DataFile (mirror_path, url, sha256) per line, JSON lines."""
    return list(read_manifest(path).values())


# --- JSeM ----------------------------------------------------------------------------------

JSEM_LABELS = ("yes", "no", "unknown", "undef")


def jsem_split_of(file_stem: str, problem_id: str) -> str:
    """test / dev / train for one problem: 10% / 10% / 80% by a stable hash of its id.

    llm-jp-eval shuffles all JSeM problems with a fixed seed and cuts 80/10/10; a hash of
    (file, jsem_id) gives the same proportions without depending on Python's RNG, and a
    problem never changes split when other files change.
    """
    bucket = _bucket(f"{file_stem}:{problem_id}")
    return "test" if bucket == 0 else "dev" if bucket == 1 else "train"


def read_jsem(path: Path, split: str) -> list[Doc]:
    """`path` is a manifest (one pinned DataFile per JSeM XML file, JSON lines); every
    listed file is resolved (mirror or download, sha256 checked) and its problems read.

    Docs: {id, file, premise, hypothesis, answer, phenomena}; only the problems of
    `split` (train, dev or test; see `jsem_split_of`).
    """
    if split not in ("train", "dev", "test"):
        raise DatasetError(f"{path}: JSeM split must be train, dev or test, not '{split}'")
    docs = []
    for spec in _manifest(path):
        resolved = resolve_file(spec, task="jaster_jsem")
        stem = Path(spec.mirror_path).stem
        for problem in _parse_xml(resolved.path).iter("problem"):
            answer = (problem.get("answer") or "").strip()
            pid = problem.get("jsem_id") or ""
            if answer not in JSEM_LABELS or jsem_split_of(stem, pid) != split:
                continue
            premise = "".join((p.findtext("script") or "").strip() for p in problem.iter("p"))
            hypothesis = "".join((h.findtext("script") or "").strip() for h in problem.iter("h"))
            if not premise or not hypothesis:
                continue
            docs.append(
                {
                    "id": f"{stem}:{pid}",
                    "file": stem,
                    "premise": premise,
                    "hypothesis": hypothesis,
                    "answer": answer,
                    "phenomena": problem.get("phenomena", ""),
                }
            )
    return docs


# --- MAWPS (ja) ----------------------------------------------------------------------------

_MAWPS_DELIMITER = "\n解答："
_MAWPS_FINAL = re.compile(r"答えは(.+?)です")


def read_mawps_shots(path: Path, split: str) -> list[Doc]:
    """shot_example.json → {question, answer, rationale}: the worked examples' final number
    ("よって、答えは126です。") is the few-shot answer, as in llm-jp-eval."""
    records = _json(path)
    docs = []
    for i, record in enumerate(records):
        text = record.get("shot_example", "") if isinstance(record, dict) else ""
        question, sep, rationale = text.partition(_MAWPS_DELIMITER)
        final = _MAWPS_FINAL.search(rationale)
        if not sep or final is None:
            raise DatasetError(f"{path}: example {i} has no '解答：…答えは…です' part; is this shot_example.json?")
        docs.append({"question": question.strip(), "answer": final.group(1).strip(), "rationale": rationale.strip()})
    return docs


def read_mawps(path: Path, split: str) -> list[Doc]:
    """Split "shots": shot_example.json (see `read_mawps_shots`); any other split: test.json,
    whose questions end in "\\n解答：" — only the problem is kept (the template adds its own)."""
    if split == "shots":
        return read_mawps_shots(path, split)
    records = _json(path)
    if not isinstance(records, list) or not all(isinstance(r, dict) and "question" in r for r in records):
        raise DatasetError(f"{path}: expected a JSON array of {{idx, question, answer}}; is this MAWPS test.json?")
    return [
        {"idx": r.get("idx"), "question": r["question"].split(_MAWPS_DELIMITER)[0].strip(), "answer": str(r["answer"])}
        for r in records
    ]


# --- MGSM ------------------------------------------------------------------------------------

_MGSM_PREFIXES = {"ja": ("問題：", "ステップごとの答え："), "en": ("Question: ", "Step-by-Step Answer:")}


def _mgsm_exemplars(path: Path, lang: str) -> list[Doc]:
    data = _json(path)
    try:
        exemplars = data["MGSM_EXEMPLARS"][lang]
        numbers = data["EXEMPLAR_NUMBER_ANSWERS"]
    except (KeyError, TypeError):
        raise DatasetError(f"{path}: expected MGSM_EXEMPLARS['{lang}'] and EXEMPLAR_NUMBER_ANSWERS") from None
    q_prefix, a_prefix = _MGSM_PREFIXES[lang]
    docs = []
    for key in sorted(exemplars, key=int):
        item = exemplars[key]
        docs.append(
            {
                "question": item["q"].removeprefix(q_prefix).strip(),
                "answer": str(numbers[int(key) - 1]),
                "rationale": item["a"].removeprefix(a_prefix).strip(),
            }
        )
    return docs


def _mgsm_tsv(path: Path) -> list[Doc]:
    # questions contain quote characters: no CSV quoting at all (see SOURCES.md)
    docs = []
    with path.open(encoding="utf-8", newline="") as f:
        for number, row in enumerate(csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE), start=1):
            if len(row) != 2:
                raise DatasetError(f"{path}:{number}: {len(row)} columns, expected 2 (question, answer)")
            docs.append({"question": row[0].strip(), "answer": row[1].strip()})
    return docs


def _read_mgsm(path: Path, split: str, lang: str) -> list[Doc]:
    """Split "exemplars": the 8 exemplars of `lang` from exemplars.json; any other: the TSV."""
    return _mgsm_exemplars(path, lang) if split == "exemplars" else _mgsm_tsv(path)


def read_mgsm_ja(path: Path, split: str) -> list[Doc]:
    """MGSM ja: mgsm_ja.tsv, or (split "exemplars") the Japanese exemplars {question, answer, rationale}."""
    return _read_mgsm(path, split, "ja")


def read_mgsm_en(path: Path, split: str) -> list[Doc]:
    """MGSM en: mgsm_en.tsv, or (split "exemplars") the English exemplars."""
    return _read_mgsm(path, split, "en")


# --- XWinograd (jp) ----------------------------------------------------------------------------


def read_xwinograd_jp(path: Path, split: str) -> list[Doc]:
    """dataset.tsv (no header; JSON columns) → the Japanese rows whose upstream tag is `split`.

    Docs: {sentence, pronoun, choices (2 candidates), label (index of the correct one), answer}.
    The second column tags each row train/test upstream; few-shot examples come from
    "train" rows and "test" rows are evaluated, so no evaluated schema is ever an example.
    """
    docs = []
    with path.open(encoding="utf-8", newline="") as f:
        for number, row in enumerate(csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE), start=1):
            if len(row) != 7:
                raise DatasetError(f"{path}:{number}: {len(row)} columns, expected 7 (lang, tag, en, sentence, …)")
            lang, tag, _english, sentence, _tokens, pronoun, candidates = row
            if lang != "jp" or tag != split:
                continue
            try:
                pronoun_text = json.loads(pronoun)[0]
                cands = json.loads(candidates)
            except (json.JSONDecodeError, IndexError) as exc:
                raise DatasetError(f"{path}:{number}: bad JSON column ({exc})") from None
            choices = [c[0] for c in cands]
            gold = [i for i, c in enumerate(cands) if c[3]]
            if len(choices) != 2 or len(gold) != 1:
                raise DatasetError(f"{path}:{number}: expected 2 candidates with one correct")
            docs.append(
                {
                    "sentence": sentence,
                    "pronoun": pronoun_text,
                    "choices": choices,
                    "label": gold[0],
                    "answer": choices[gold[0]],
                }
            )
    if not docs:
        raise DatasetError(f"{path}: no 'jp' rows tagged '{split}'; is this crosslingual_winograd's dataset.tsv?")
    return docs


# --- JEMHopQA --------------------------------------------------------------------------------


def jemhopqa_docs(docs: list[Doc]) -> list[Doc]:
    """NFKC gold, and `reasoning`: the derivation triples as short sentences (CoT few-shot)."""
    out = []
    for d in docs:
        steps = []
        for triple in d.get("derivations") or []:
            if len(triple) == 3:
                subject, relation, values = triple
                value = "、".join(values) if isinstance(values, list) else str(values)
                steps.append(f"{subject}の{relation}は{value}。")
        out.append({**d, "answer": _nfkc(str(d["answer"])), "reasoning": "".join(steps)})
    return out


# --- JMMLU ----------------------------------------------------------------------------------

#: examples per subject set aside for few-shot prompts (MMLU's dev split has 5 per subject)
JMMLU_DEV_PER_SUBJECT = 5


def _read_manifest_files(path: Path, task: str) -> list[tuple[str, Path]]:
    """(file stem, local path) for every pinned file a manifest lists (resolved, verified)."""
    return [(Path(spec.mirror_path).stem, resolve_file(spec, task=task).path) for spec in _manifest(path)]


def read_jmmlu(path: Path, split: str) -> list[Doc]:
    """`path` is a manifest of JMMLU subject CSVs (no header, UTF-8 with BOM).

    JMMLU has no dev split: the first JMMLU_DEV_PER_SUBJECT rows of each subject (file
    order) that occur only once in it are split "dev" (the few-shot pool); every other row
    is split "test" (evaluated).
    Docs: {subject, question, A, B, C, D, answer}.
    """
    if split not in ("dev", "test"):
        raise DatasetError(f"{path}: JMMLU split must be dev or test, not '{split}'")
    docs = []
    for subject, csv_path in _read_manifest_files(path, "jaster_jmmlu"):
        with csv_path.open(encoding="utf-8-sig", newline="") as f:
            rows = [r for r in csv.reader(f) if r]
        for number, row in enumerate(rows, start=1):
            if len(row) != 6 or row[5].strip() not in ("A", "B", "C", "D"):
                raise DatasetError(f"{csv_path}:{number}: expected question, A, B, C, D, answer letter")
        # a few questions occur twice in a subject file: only a row with no twin may become
        # a few-shot example, or the same question would be shown and then evaluated
        counts: dict[tuple[str, ...], int] = {}
        for row in rows:
            counts[tuple(row)] = counts.get(tuple(row), 0) + 1
        dev_rows = [i for i, row in enumerate(rows) if counts[tuple(row)] == 1][:JMMLU_DEV_PER_SUBJECT]
        chosen = [row for i, row in enumerate(rows) if (i in dev_rows) == (split == "dev")]
        docs += [
            {"subject": subject, "question": q, "A": a, "B": b, "C": c, "D": d, "answer": ans.strip()}
            for q, a, b, c, d, ans in chosen
        ]
    return docs
