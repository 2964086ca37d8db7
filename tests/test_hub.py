"""Hub data source (hf://datasets/REPO@COMMIT/PATH) against a local server in the hub's URL layout."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Iterator

import pytest

from hyoka.data.files import DataFile, resolve_file
from hyoka.data.hub import parse_hub_url
from hyoka.data.readers import read_format
from hyoka.errors import DatasetError

from hub_server import FakeHub

REV = "0123456789abcdef0123456789abcdef01234567"
OTHER_REV = "fedcba9876543210fedcba9876543210fedcba98"
ROWS = [{"question": "日本の首都は?", "answer": "東京"}, {"question": "1+1=?", "answer": "2"}]


def parquet_bytes(rows: list[dict[str, object]]) -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    buffer = io.BytesIO()
    pq.write_table(pa.Table.from_pylist(rows), buffer)
    return buffer.getvalue()


@pytest.fixture
def hub(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[FakeHub]:
    server = FakeHub().start()
    monkeypatch.setenv("HF_ENDPOINT", server.url)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))  # no stored token, no shared cache
    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("HYOKA_OFFLINE", raising=False)
    monkeypatch.setenv("HYOKA_DATA_DIR", str(tmp_path / "empty-mirror"))
    yield server
    server.stop()


def spec(repo: str, path: str, sha: str, revision: str = REV) -> DataFile:
    return DataFile(mirror_path=f"hub/{repo}/{path}", url=f"hf://datasets/{repo}@{revision}/{path}", sha256=sha)


@pytest.mark.parametrize(
    "fmt,path,data",
    [
        ("parquet", "ja/test-00000-of-00001.parquet", parquet_bytes(ROWS)),
        ("jsonl", "data/test.jsonl", "\n".join(json.dumps(r, ensure_ascii=False) for r in ROWS).encode()),
        ("json", "data/test.json", json.dumps(ROWS, ensure_ascii=False).encode()),
        ("csv", "data/test.csv", "question,answer\n日本の首都は?,東京\n1+1=?,2\n".encode()),
    ],
)
def test_download_verify_read_then_offline(hub: FakeHub, fmt: str, path: str, data: bytes) -> None:
    file = spec("org/data", path, hub.add("org/data", REV, path, data))
    resolved = resolve_file(file, task="t")
    assert resolved.origin == f"download:hf://datasets/org/data@{REV}/{path}"
    assert resolved.path.read_bytes() == data
    assert read_format(resolved.path, fmt, task="t") == ROWS
    assert any(r.startswith("GET ") for r in hub.requests)
    # the second load needs no network: the server is gone and the hub is declared offline
    hub.stop()
    seen = len(hub.requests)
    again = resolve_file(file, task="t")
    assert again.path == resolved.path and again.origin.startswith("mirror:")
    assert len(hub.requests) == seen
    # nothing but the file itself is left in the cache folder (no staging, no hub metadata)
    assert sorted(p.name for p in resolved.path.parent.iterdir()) == [Path(path).name]


def test_mirror_is_read_first(hub: FakeHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = parquet_bytes(ROWS)
    file = spec("org/data", "ja/test.parquet", hub.add("org/data", REV, "ja/test.parquet", data))
    mirror = tmp_path / "mirror"
    (mirror / file.mirror_path).parent.mkdir(parents=True)
    (mirror / file.mirror_path).write_bytes(data)
    monkeypatch.setenv("HYOKA_DATA_DIR", str(mirror))
    assert resolve_file(file, task="t").origin == f"mirror:{mirror}"
    assert hub.requests == []


def test_wrong_checksum_is_one_line_and_leaves_nothing(hub: FakeHub) -> None:
    hub.add("org/data", REV, "ja/test.parquet", parquet_bytes(ROWS))
    file = spec("org/data", "ja/test.parquet", "0" * 64)
    with pytest.raises(DatasetError) as err:
        resolve_file(file, task="t")
    message = str(err.value)
    assert "\n" not in message and "sha256" in message and "expected 000000000000" in message
    cached = Path(__import__("os").environ["HYOKA_CACHE_DIR"]) / "data" / file.mirror_path
    assert not cached.exists() and list(cached.parent.iterdir()) == []


def test_missing_file_is_one_line(hub: FakeHub) -> None:
    hub.add("org/data", REV, "ja/test.parquet", b"x")
    with pytest.raises(DatasetError) as err:
        resolve_file(spec("org/data", "ja/nope.parquet", "0" * 64), task="t")
    assert str(err.value) == f"task 't': dataset org/data@{REV} has no file ja/nope.parquet; fix the task's url"


def test_unknown_revision_is_one_line(hub: FakeHub) -> None:
    hub.add("org/data", REV, "a.jsonl", b"{}")
    with pytest.raises(DatasetError, match=f"has no revision {OTHER_REV}"):
        resolve_file(spec("org/data", "a.jsonl", "0" * 64, revision=OTHER_REV), task="t")


def test_gated_repo_needs_hf_token(hub: FakeHub, monkeypatch: pytest.MonkeyPatch) -> None:
    data = b'{"Question": "q"}\n'
    file = spec("gated/gpqa", "ja.jsonl", hub.add("gated/gpqa", REV, "ja.jsonl", data))
    hub.gated["gated/gpqa"] = "hf_secret_token"
    with pytest.raises(DatasetError) as err:
        resolve_file(file, task="gpqa_ja")
    message = str(err.value)
    assert "\n" not in message and "gated" in message and "HF_TOKEN is not set" in message
    monkeypatch.setenv("HF_TOKEN", "hf_wrong")
    with pytest.raises(DatasetError, match="gated"):
        resolve_file(file, task="gpqa_ja")
    monkeypatch.setenv("HF_TOKEN", "hf_secret_token")
    resolved = resolve_file(file, task="gpqa_ja")
    assert resolved.path.read_bytes() == data
    # the token is used, never stored
    cache_root = resolved.path.parents[len(Path(file.mirror_path).parts) - 1]
    assert not any(b"hf_secret_token" in p.read_bytes() for p in cache_root.rglob("*") if p.is_file())


def test_offline_without_a_copy_says_which_repo_and_revision_to_place_where(
    hub: FakeHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    file = spec("org/data", "ja/test.parquet", "a" * 64)
    with pytest.raises(DatasetError) as err:
        resolve_file(file, task="t")
    message = str(err.value)
    assert "\n" not in message
    assert f"place ja/test.parquet of dataset org/data at revision {REV} at " in message
    assert message.split(" at ")[2].split(" ")[0].endswith(file.mirror_path)
    assert hub.requests == []


@pytest.mark.parametrize(
    "url,problem",
    [
        ("hf://datasets/org/data/ja.jsonl", "expected hf://datasets/ORG/NAME@COMMIT/PATH"),
        ("hf://datasets/org/data@main/ja.jsonl", "revision 'main' is not a commit"),
        ("hf://models/org/m@" + REV + "/x", "hub files are written"),
    ],
)
def test_url_must_pin_a_commit(url: str, problem: str) -> None:
    with pytest.raises(DatasetError, match=problem):
        parse_hub_url(url, task="t")


def test_task_file_with_an_unpinned_hub_url_fails_validation_at_its_line(tmp_path: Path) -> None:
    from hyoka.tasks.registry import validate_file

    task = tmp_path / "t.yaml"
    task.write_text(
        "name: t\nlanguage: ja\nformulation: generate\n"
        "dataset:\n  format: parquet\n  eval_split: test\n  splits:\n    test:\n"
        "      mirror_path: hf/org/data/test.parquet\n"
        "      url: hf://datasets/org/data@main/test.parquet\n"
        "      sha256: " + "a" * 64 + "\n"
        "prompt: {doc_to_text: '{{ q }}', doc_to_target: '{{ a }}'}\n",
        encoding="utf-8",
    )
    _, problems = validate_file(task)
    assert [str(p) for p in problems] == [
        f"{task}:10: dataset.splits.test.url: revision 'main' is not a commit; pin "
        "hf://datasets/ORG/NAME@COMMIT/PATH (COMMIT: the 40-hex commit the file is pinned to)"
    ]


def test_pinned_revision_is_fetched_and_the_checksum_read_is_in_the_provenance(
    hub: FakeHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A task pinned to a commit without a known sha256 (as mmlu_prox_ja): hyoka asks the hub
    for resolve/COMMIT/PATH, and the run's summary records the sha256 of the file it read and
    the pin, for the download and for the later run that reads the cached copy."""
    import hashlib
    import subprocess

    from conftest import hyoka_cmd

    data = parquet_bytes(ROWS)
    hub.add("org/data", REV, "ja/test-00000-of-00001.parquet", data)
    hub.add("org/data", OTHER_REV, "ja/test-00000-of-00001.parquet", parquet_bytes(ROWS[:1]))  # another commit, other bytes
    url = f"hf://datasets/org/data@{REV}/ja/test-00000-of-00001.parquet"
    tasks = tmp_path / "tasks"
    tasks.mkdir()
    (tasks / "hub_task.yaml").write_text(
        "name: hub_task\nlanguage: ja\nformulation: generate\n"
        f"dataset:\n  source: hf:org/data\n  revision: {REV}\n  format: parquet\n  eval_split: test\n"
        f"  splits:\n    test: {{mirror_path: hf/org/data/ja/test.parquet, url: '{url}'}}\n"
        "prompt: {doc_to_text: '{{ question }}', doc_to_target: '{{ answer }}'}\n"
        "metrics: [{name: exact_match}]\n",
        encoding="utf-8",
    )
    for run in ("first", "second"):
        done = subprocess.run(
            hyoka_cmd("run", "mock:", "--model-args", "reply=東京", "--tasks", "hub_task", "--include-path", str(tasks),
                      "--output", str(tmp_path / run), "--quiet"),
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr[-2000:]
        files = json.loads((tmp_path / run / "summary.json").read_text())["tasks"]["hub_task"]["dataset"]["files"]
        assert files["test"]["sha256"] == hashlib.sha256(data).hexdigest()
        assert files["test"]["url"] == url
        # the file is fetched once, while the run is checked, and read from the download cache
        assert files["test"]["origin"] == f"mirror:{Path(__import__('os').environ['HYOKA_CACHE_DIR']) / 'data'}"
        gets = [r for r in hub.requests if r.startswith("GET /datasets/")]
        assert gets == [f"GET /datasets/org/data/resolve/{REV}/ja/test-00000-of-00001.parquet"]
    assert not any(OTHER_REV in r for r in hub.requests)
    metrics = json.loads((tmp_path / "first" / "metrics.json").read_text())
    assert metrics["tasks"]["hub_task"]["metrics"]["exact_match"]["value"] == pytest.approx(0.5)  # 東京 right, 2 wrong


def test_hub_url_must_match_the_datasets_source_and_revision(tmp_path: Path) -> None:
    from hyoka.tasks.registry import validate_file

    task = tmp_path / "t.yaml"
    task.write_text(
        "name: t\nlanguage: ja\nformulation: generate\n"
        f"dataset:\n  source: hf:org/data\n  revision: {REV}\n  format: parquet\n  eval_split: test\n  splits:\n    test:\n"
        "      mirror_path: hf/org/data/test.parquet\n"
        f"      url: hf://datasets/org/data@{OTHER_REV}/test.parquet\n"
        "prompt: {doc_to_text: '{{ q }}', doc_to_target: '{{ a }}'}\n",
        encoding="utf-8",
    )
    _, problems = validate_file(task)
    assert len(problems) == 1
    assert f"splits.test.url hf://datasets/org/data@{OTHER_REV}/test.parquet is not at source hf:org/data revision {REV}" in str(problems[0])


def test_no_network_is_one_line_at_once_not_a_missing_file(hub: FakeHub, monkeypatch: pytest.MonkeyPatch) -> None:
    # a host that cannot resolve (RFC 2606 .invalid): offline, said at once with where to place the file
    monkeypatch.setenv("HF_ENDPOINT", "http://hub.invalid")
    for proxy in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(proxy, raising=False)
    file = spec("org/data", "ja/test.parquet", "a" * 64)
    with pytest.raises(DatasetError) as err:
        resolve_file(file, task="t")
    message = str(err.value)
    assert "\n" not in message and "offline (cannot resolve hub.invalid" in message
    assert f"place ja/test.parquet of dataset org/data at revision {REV} at " in message


def test_a_hub_that_refuses_connections_is_not_reported_as_a_missing_file(
    hub: FakeHub, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    # the host resolves but nothing listens (the server is gone): huggingface_hub raises its
    # LocalEntryNotFoundError, a subclass of "no such file": hyoka must say it could not connect
    url = hub.url
    hub.stop()
    monkeypatch.setenv("HF_ENDPOINT", url)
    monkeypatch.setenv("HF_HUB_ETAG_TIMEOUT", "2")
    import huggingface_hub.utils._http as hub_http

    real_backoff = hub_http.http_backoff  # one retry, not five: its warning must stay off stderr
    monkeypatch.setattr(hub_http, "http_backoff", lambda *a, **k: real_backoff(*a, **{**k, "max_retries": 1}))
    file = spec("org/data", "ja/test.parquet", "a" * 64)
    with pytest.raises(DatasetError) as err:
        resolve_file(file, task="t")
    message = str(err.value)
    assert "\n" not in message and f"cannot reach the hub at {url}" in message and "has no file" not in message
    assert "Retrying in" not in capfd.readouterr().err
