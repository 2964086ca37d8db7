"""Turning a dataset file into a list of documents (dicts)."""

from __future__ import annotations

import csv
import gzip
import json
from pathlib import Path
from typing import Any

from hyoka.errors import DatasetError, HyokaError
from hyoka.tasks.config import DatasetConfig

Doc = dict[str, Any]


def read_docs(path: Path, dataset: DatasetConfig, *, split: str, task: str) -> list[Doc]:
    try:
        if dataset.reader is not None:
            docs = dataset.reader.resolve()(path, split)
        else:
            docs = _read_builtin_format(path, dataset)
    except DatasetError:
        raise
    except (ValueError, KeyError, IndexError, csv.Error, UnicodeDecodeError, gzip.BadGzipFile, EOFError) as exc:
        raise DatasetError(f"task '{task}': cannot read {path} as {dataset.format}: {type(exc).__name__}: {exc}") from None
    if not isinstance(docs, list) or not all(isinstance(d, dict) for d in docs):
        raise DatasetError(f"task '{task}': reader for {path} must return a list of dicts")
    if dataset.process_docs is not None:
        docs = dataset.process_docs.resolve()(docs)
    return docs


def _open_text(path: Path) -> Any:
    """A text file, gunzipped on the fly when it ends in .gz (HumanEval ships as .jsonl.gz)."""
    if path.suffix == ".gz":
        return gzip.open(path, "rt", encoding="utf-8-sig")
    return path.open(encoding="utf-8-sig")


def _read_builtin_format(path: Path, dataset: DatasetConfig) -> list[Doc]:
    fmt = dataset.format
    if fmt == "jsonl":
        with _open_text(path) as f:
            return [json.loads(line) for line in f if line.strip()]
    if fmt in ("json", "json_records"):
        with _open_text(path) as f:
            data = json.loads(f.read())
        if isinstance(data, dict) and fmt == "json_records":
            raise ValueError("expected a JSON array of records")
        return data if isinstance(data, list) else [data]
    if fmt in ("csv", "tsv"):
        return _read_delimited(path, dataset, delimiter="," if fmt == "csv" else "\t")
    if fmt == "text":
        return [{"text": line.rstrip("\n")} for line in path.open(encoding="utf-8") if line.strip()]
    raise ValueError(f"unknown format {fmt}")


def _read_delimited(path: Path, dataset: DatasetConfig, *, delimiter: str) -> list[Doc]:
    quoting = csv.QUOTE_MINIMAL if delimiter == "," else csv.QUOTE_NONE
    with path.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f, delimiter=delimiter, quoting=quoting))
    if dataset.csv_header is not None:
        header = dataset.csv_header
    else:
        header, rows = rows[0], rows[1:]
    docs = []
    for i, row in enumerate(rows):
        if not row:
            continue
        if len(row) != len(header):
            raise ValueError(f"row {i + 1} has {len(row)} columns, expected {len(header)} ({', '.join(header)})")
        docs.append(dict(zip(header, row)))
    return docs


def read_jsonl_objects(
    path: Path, *, error: type[HyokaError] = DatasetError, expected: str = "one JSON object per line"
) -> list[tuple[int, dict[str, Any]]]:
    """(line number, object) for every non-blank line of a JSONL file the user gave us.

    Any problem is one `error` naming the file and line, and what each line should be.
    """
    if not path.is_file():
        raise error(f"{path}: no such file ({expected})")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise error(f"{path}: cannot read it as UTF-8 text ({exc})") from None
    rows = []
    for lineno, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise error(f"{path}:{lineno}: not JSON ({exc.msg}); expected {expected}") from None
        if not isinstance(obj, dict):
            raise error(f"{path}:{lineno}: expected {expected}, got {type(obj).__name__}")
        rows.append((lineno, obj))
    return rows
