"""The one durable request cache: SQLite in WAL mode, one row per finished model call.

Rows are committed as each batch finishes, so `kill -9` loses at most the batch in flight,
and a rerun (same or extended, re-scored) finds every finished call here. Failed calls are
never cached: a rerun retries them.

The cache stores and returns typed results (hyoka.core.types): a row's `response` is
`result_to_json(result)`, read back with `result_from_json(kind, ...)`; nothing else
(de)serialises a model result.
"""

from __future__ import annotations

import json
import os
import sqlite3
import sys
import threading
import time
from pathlib import Path
from typing import Any, Iterable, Tuple

from hyoka.core.types import Request, Result, request_kind, result_from_json, result_to_json, sha256_text, stable_json
from hyoka.errors import HyokaError

#: one finished call: (key, model identity as a dict, the request, its result)
CacheRow = Tuple[str, dict[str, Any], Request, Result]

SCHEMA = """
CREATE TABLE IF NOT EXISTS responses (
    key TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    model TEXT NOT NULL,
    request TEXT NOT NULL,
    response TEXT NOT NULL,
    created REAL NOT NULL
);
"""


def request_key(model: dict[str, Any], request: Request, repeat: int = 0) -> str:
    """Content key: model identity (weights, template, settings), request kind and content
    (the rendered text and settings; never where it came from), repeat index."""
    payload = {"model": model, "kind": request_kind(request), "request": request.key_payload(), "repeat": repeat}
    return sha256_text(stable_json(payload))


class CacheError(HyokaError):
    pass


class RequestCache:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        #: where a corrupt cache file was moved (None when the file was fine)
        self.moved_aside: Path | None = None
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            if path.exists() and not path.is_file():
                raise CacheError(f"request cache {path} is not a file; remove it or set HYOKA_CACHE_DIR elsewhere")
            try:
                self._db = self._open(path)
            except sqlite3.DatabaseError as exc:
                if isinstance(exc, sqlite3.OperationalError) and not _corrupt(exc):
                    raise
                # a damaged file (not a database, malformed): keep it for inspection, start afresh
                self.moved_aside = _move_aside(path)
                print(
                    f"hyoka: request cache {path} was unreadable ({exc}); moved it to {self.moved_aside} "
                    "and started an empty cache (earlier answers will be asked again)",
                    file=sys.stderr,
                )
                self._db = self._open(path)
        except (OSError, sqlite3.OperationalError) as exc:
            reason = getattr(exc, "strerror", None) or str(exc)
            raise CacheError(
                f"request cache {path}: cannot open it for writing ({reason}); "
                "set HYOKA_CACHE_DIR to a writable folder, or run with --no-cache"
            ) from None

    @staticmethod
    def _open(path: Path) -> sqlite3.Connection:
        db = sqlite3.connect(str(path), check_same_thread=False, timeout=60)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.executescript(SCHEMA)
            db.execute("SELECT COUNT(*) FROM responses LIMIT 1").fetchone()
            # a write in a transaction that is rolled back: a read-only folder or file fails here
            db.execute("BEGIN IMMEDIATE")
            db.execute("ROLLBACK")
        except BaseException:
            db.close()
            raise
        return db

    def get_many(self, keys: Iterable[str]) -> dict[str, Result]:
        keys = list(keys)
        found: dict[str, Result] = {}
        with self._lock:
            for start in range(0, len(keys), 500):
                chunk = keys[start : start + 500]
                marks = ",".join("?" * len(chunk))
                for key, kind, response in self._db.execute(
                    f"SELECT key, kind, response FROM responses WHERE key IN ({marks})", chunk  # noqa: S608
                ):
                    found[key] = result_from_json(kind, json.loads(response))
        return found

    def put_many(self, rows: Iterable[CacheRow]) -> None:
        """Finished calls, committed together. Failed results must not be passed (never cached)."""
        now = time.time()
        data = [
            (k, request_kind(req), stable_json(m), stable_json(req.key_payload()), stable_json(result_to_json(res)), now)
            for k, m, req, res in rows
        ]
        with self._lock, self._db:
            self._db.executemany("INSERT OR REPLACE INTO responses VALUES (?,?,?,?,?,?)", data)

    def count(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM responses").fetchone()[0])

    # -- rows that are not model calls (e.g. sandboxed program runs, kind "code_exec") -------

    def get_records(self, kind: str, keys: Iterable[str]) -> dict[str, dict[str, Any]]:
        """Stored JSON responses of another `kind`, by key (the same table, no decoding)."""
        keys = list(keys)
        found: dict[str, dict[str, Any]] = {}
        with self._lock:
            for start in range(0, len(keys), 500):
                chunk = keys[start : start + 500]
                marks = ",".join("?" * len(chunk))
                for key, response in self._db.execute(
                    f"SELECT key, response FROM responses WHERE kind = ? AND key IN ({marks})", [kind, *chunk]  # noqa: S608
                ):
                    found[key] = json.loads(response)
        return found

    def put_records(self, kind: str, rows: Iterable[tuple[str, dict[str, Any], dict[str, Any], dict[str, Any]]]) -> None:
        """(key, identity, request, response) rows of another `kind`, committed together."""
        now = time.time()
        data = [(k, kind, stable_json(m), stable_json(req), stable_json(resp), now) for k, m, req, resp in rows]
        with self._lock, self._db:
            self._db.executemany("INSERT OR REPLACE INTO responses VALUES (?,?,?,?,?,?)", data)

    def close(self) -> None:
        with self._lock:
            self._db.close()


def _corrupt(exc: sqlite3.DatabaseError) -> bool:
    text = str(exc).lower()
    return "not a database" in text or "malformed" in text or "corrupt" in text


def _move_aside(path: Path) -> Path:
    """requests.sqlite → requests.sqlite.corrupt-YYYYmmdd-HHMMSS (with its -wal/-shm files)."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    target = path.with_name(f"{path.name}.corrupt-{stamp}")
    n = 1
    while target.exists():
        n += 1
        target = path.with_name(f"{path.name}.corrupt-{stamp}-{n}")
    os.replace(path, target)
    for suffix in ("-wal", "-shm"):
        side = path.with_name(path.name + suffix)
        if side.exists():
            os.replace(side, target.with_name(target.name + suffix))
    return target


class NullCache(RequestCache):
    """--no-cache: every request goes to the model; nothing is stored."""

    def __init__(self) -> None:
        self.path = Path("/dev/null")
        self.moved_aside = None

    def get_many(self, keys: Iterable[str]) -> dict[str, Result]:
        return {}

    def put_many(self, rows: Iterable[CacheRow]) -> None:
        return None

    def count(self) -> int:
        return 0

    def get_records(self, kind: str, keys: Iterable[str]) -> dict[str, dict[str, Any]]:
        return {}

    def put_records(self, kind: str, rows: Iterable[tuple[str, dict[str, Any], dict[str, Any], dict[str, Any]]]) -> None:
        return None

    def close(self) -> None:
        return None
