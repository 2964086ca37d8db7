"""Moved to hyoka.store.cache: metrics and the sandbox, below the engine, use the cache too.
This name stays only so that branches written before the move keep importing; new code
imports hyoka.store.cache."""

from hyoka.store.cache import SCHEMA, CacheError, CacheRow, NullCache, RequestCache, request_key

__all__ = ["SCHEMA", "CacheError", "CacheRow", "NullCache", "RequestCache", "request_key"]
