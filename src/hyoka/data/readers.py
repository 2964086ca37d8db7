"""Turning a dataset file into a list of documents (dicts), and the one JSONL reader.

Task hooks (a custom `reader`, `process_docs`) are called by the task layer (hyoka.tasks.task),
which knows their names for error messages; this module only knows file formats."""

from __future__ import annotations

import csv
import gzip
import json
from pathlib import Path
from typing import Any, Literal

from hyoka.errors import DatasetError, HyokaError

Doc = dict[str, Any]
DataFormat = Literal["json", "jsonl", "json_records", "csv", "tsv", "text", "parquet"]


def read_format(path: Path, fmt: DataFormat, *, csv_header: list[str] | None = None, task: str) -> list[Doc]:
    """A dataset file in one of the built-in formats → documents; errors name the task and file:line."""
    try:
        docs = _read_builtin_format(path, fmt, csv_header)
    except DatasetError:
        raise
    except (ValueError, KeyError, IndexError, csv.Error, UnicodeDecodeError, OSError, EOFError) as exc:
        raise DatasetError(f"task '{task}': cannot read {path} as {fmt}: {type(exc).__name__}: {exc}") from None
    return docs


def _read_builtin_format(path: Path, fmt: DataFormat, csv_header: list[str] | None) -> list[Doc]:
    if fmt == "jsonl":
        return [obj for _, obj in read_jsonl_objects(path, expected="one JSON object (a document) per line")]
    if fmt in ("json", "json_records"):
        data = json.loads(_read_text(path))
        if isinstance(data, dict) and fmt == "json_records":
            raise ValueError("expected a JSON array of records")
        return data if isinstance(data, list) else [data]
    if fmt in ("csv", "tsv"):
        return _read_delimited(path, csv_header, delimiter="," if fmt == "csv" else "\t")
    if fmt == "parquet":
        return _read_parquet(path)
    if fmt == "text":
        return [{"text": line.rstrip("\n")} for line in path.open(encoding="utf-8") if line.strip()]
    raise ValueError(f"unknown format {fmt}")


def _read_text(path: Path) -> str:
    """A text file, gunzipped on the fly when it ends in .gz (HumanEval ships as .jsonl.gz)."""
    if path.suffix == ".gz":
        with gzip.open(path, "rt", encoding="utf-8-sig") as f:
            return f.read()
    return path.read_text(encoding="utf-8-sig")
def _read_parquet(path: Path) -> list[Doc]:
    """Rows of a parquet file as dicts (nested lists and structs become lists and dicts)."""
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise DatasetError(f"{path}: reading parquet needs pyarrow (pip install 'hyoka[hub]')") from None
    try:
        return pq.read_table(path).to_pylist()
    except OSError as exc:  # pyarrow's ArrowInvalid is an OSError/ValueError subclass
        raise ValueError(str(exc).splitlines()[0]) from None


def _read_delimited(path: Path, csv_header: list[str] | None, *, delimiter: str) -> list[Doc]:
    quoting = csv.QUOTE_MINIMAL if delimiter == "," else csv.QUOTE_NONE
    with path.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f, delimiter=delimiter, quoting=quoting))
    if csv_header is not None:
        header = csv_header
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
        text = _read_text(path)
    except (OSError, UnicodeDecodeError, EOFError) as exc:
        raise error(f"{path}: cannot read it as UTF-8 text ({exc})") from None
    return jsonl_objects(text, str(path), error=error, expected=expected)


def jsonl_objects(
    text: str, where: str, *, error: type[HyokaError] = DatasetError, expected: str = "one JSON object per line"
) -> list[tuple[int, dict[str, Any]]]:
    """(line number, object) for every non-blank line of JSONL text read from `where` (a file,
    or a member of an archive: "data.tar.bz2:ja_test.jsonl")."""
    rows = []
    for lineno, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise error(f"{where}:{lineno}: not JSON ({exc.msg}); expected {expected}") from None
        if not isinstance(obj, dict):
            raise error(f"{where}:{lineno}: expected {expected}, got {type(obj).__name__}")
        rows.append((lineno, obj))
    return rows
