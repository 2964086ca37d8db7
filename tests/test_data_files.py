"""Pinned dataset files: mirror first, checksums verified, real HTTP download for users online."""

from __future__ import annotations

import hashlib
import http.server
import threading
from pathlib import Path
from typing import Iterator

import pytest

from hyoka.data.files import resolve_file
from hyoka.errors import DatasetError
from hyoka.tasks.config import DataFile


@pytest.fixture()
def http_root(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A real HTTP server on loopback serving a folder (a stand-in for raw.githubusercontent.com)."""
    root = tmp_path / "upstream"
    root.mkdir()

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
            super().__init__(*args, directory=str(root), **kwargs)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", root
    server.shutdown()


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_mirror_file_is_found_and_verified(shared_data: Path) -> None:
    path = shared_data / "jglue/jcommonsenseqa-v1.3/valid-v1.3.json"
    spec = DataFile(mirror_path="jglue/jcommonsenseqa-v1.3/valid-v1.3.json", sha256=sha(path.read_bytes()))
    resolved = resolve_file(spec, task="t")
    assert resolved.path == path
    assert resolved.origin == f"mirror:{shared_data}"


def test_mirror_file_with_wrong_checksum_is_refused(shared_data: Path) -> None:
    spec = DataFile(mirror_path="jglue/jcommonsenseqa-v1.3/valid-v1.3.json", sha256="0" * 64)
    with pytest.raises(DatasetError, match="expected 000000000000"):
        resolve_file(spec, task="t")


def test_download_when_not_mirrored(http_root: tuple[str, Path], monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    base, root = http_root
    body = '{"q": "日本の首都は？"}\n'.encode()
    (root / "data.jsonl").write_bytes(body)
    monkeypatch.setenv("HYOKA_OFFLINE", "0")
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    monkeypatch.setenv("HYOKA_DATA_DIR", str(tmp_path / "empty-mirror"))
    spec = DataFile(mirror_path="set/data.jsonl", url=f"{base}/data.jsonl", sha256=sha(body))
    first = resolve_file(spec, task="t")
    assert first.origin.startswith("download:")
    assert first.path.read_bytes() == body
    # the second time it comes from the download cache, not the network
    (root / "data.jsonl").unlink()
    second = resolve_file(spec, task="t")
    assert second.path == first.path and second.origin.startswith("mirror:")


def test_download_with_changed_upstream_is_refused_and_leaves_nothing(
    http_root: tuple[str, Path], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    base, root = http_root
    (root / "data.jsonl").write_bytes(b"changed upstream\n")
    monkeypatch.setenv("HYOKA_OFFLINE", "0")
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    monkeypatch.setenv("HYOKA_DATA_DIR", str(tmp_path / "empty-mirror"))
    spec = DataFile(mirror_path="set/data.jsonl", url=f"{base}/data.jsonl", sha256=sha(b"original\n"))
    with pytest.raises(DatasetError, match="upstream changed"):
        resolve_file(spec, task="t")
    assert not list((tmp_path).rglob("set/data.jsonl"))


def test_offline_without_mirror_says_what_to_set(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HYOKA_DATA_DIR", str(tmp_path))
    spec = DataFile(mirror_path="x/y.json", url="https://example.invalid/y.json", sha256="a" * 64)
    with pytest.raises(DatasetError, match="offline and x/y.json is not in .*set HYOKA_DATA_DIR"):
        resolve_file(spec, task="t")


def test_unreachable_upstream_is_one_clear_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HYOKA_OFFLINE", "0")
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    monkeypatch.setenv("HYOKA_DATA_DIR", str(tmp_path))
    spec = DataFile(mirror_path="x/y.json", url="http://127.0.0.1:9/y.json", sha256="a" * 64)
    with pytest.raises(DatasetError, match=r"cannot download .* and x/y.json is not in .*set HYOKA_DATA_DIR"):
        resolve_file(spec, task="t")


def test_url_without_checksum_is_rejected() -> None:
    with pytest.raises(ValueError, match="needs its sha256"):
        DataFile(mirror_path="a", url="https://x/y")
