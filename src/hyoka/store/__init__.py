"""Durable storage: the one request cache (SQLite), used by the engine, the judge, and
metrics that cache their own work (code execution)."""
