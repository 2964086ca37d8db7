"""Cache shards: each job's SQLite shard merges into the user's cache (real SQLite), rows
already there are kept, and `hyoka status` counts a shard's finished requests read-only."""

from __future__ import annotations

from pathlib import Path

from hyoka.cluster.collect import merge_shard
from hyoka.cluster.commands import finished_requests
from hyoka.core.types import LoglikelihoodRequest, LoglikelihoodResult
from hyoka.cache import CacheRow, RequestCache, request_key

MODEL = {"backend": "llamacpp", "name": "m.gguf", "weights_hash": "ab", "template_hash": "none", "settings": {}}


def rows(texts: list[str], logprob: float) -> list[CacheRow]:
    out = []
    for text in texts:
        request = LoglikelihoodRequest(text, "x")
        out.append((request_key(MODEL, request), MODEL, request, LoglikelihoodResult(logprob, False, 1)))
    return out


def test_shards_merge_into_the_user_cache(tmp_path: Path) -> None:
    first, second = RequestCache(tmp_path / "a" / "requests.sqlite"), RequestCache(tmp_path / "b" / "requests.sqlite")
    first.put_many(rows(["q1", "q2", "q3"], -1.0))
    second.put_many(rows(["q4", "q5"], -2.0))
    first.close()
    second.close()
    assert finished_requests(tmp_path / "a" / "requests.sqlite") == 3
    assert finished_requests(tmp_path / "missing.sqlite") == 0

    user = tmp_path / "user" / "requests.sqlite"
    existing = RequestCache(user)
    existing.put_many(rows(["q1"], -9.0))  # an answer the user already had stays as it was
    existing.close()
    assert merge_shard(user, tmp_path / "a" / "requests.sqlite") == 2
    assert merge_shard(user, tmp_path / "b" / "requests.sqlite") == 2
    assert merge_shard(user, tmp_path / "b" / "requests.sqlite") == 0  # merging again adds nothing

    cache = RequestCache(user)
    keys = [r[0] for r in rows(["q1", "q2", "q3", "q4", "q5"], 0.0)]
    found = cache.get_many(keys)
    assert cache.count() == 5
    assert [found[k].logprob for k in keys] == [-9.0, -1.0, -1.0, -2.0, -2.0]
    cache.close()
