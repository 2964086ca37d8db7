"""Getting a pinned dataset file: local mirror first, then the pinned upstream URL.

Mirror: `HYOKA_DATA_DIR` (laid out like shared/data: `jglue/jcommonsenseqa-v1.3/...`).
Download cache: `HYOKA_CACHE_DIR/data` (default ~/.cache/hyoka/data), same layout.
Every file with a sha256 is verified wherever it came from.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from hyoka.errors import DatasetError
from hyoka.tasks.config import DataFile

BUILTIN_DATA_DIR = Path(__file__).resolve().parent.parent / "tasks" / "builtin"


def cache_dir() -> Path:
    return Path(os.environ.get("HYOKA_CACHE_DIR", Path.home() / ".cache" / "hyoka"))


def data_dirs() -> list[Path]:
    """Mirror folders, in order: HYOKA_DATA_DIR (os.pathsep-separated), then the download cache."""
    dirs = [Path(p) for p in os.environ.get("HYOKA_DATA_DIR", "").split(os.pathsep) if p]
    return [*dirs, cache_dir() / "data"]


@dataclass(frozen=True)
class ResolvedFile:
    path: Path
    sha256: str
    origin: str  # "mirror:<dir>", "download:<url>" or "package"


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def resolve_file(spec: DataFile, *, task: str) -> ResolvedFile:
    if spec.package_resource:
        path = BUILTIN_DATA_DIR / spec.mirror_path
        return ResolvedFile(path, _verified(path, spec, task), "package")
    for folder in data_dirs():
        path = folder / spec.mirror_path
        if path.is_file():
            return ResolvedFile(path, _verified(path, spec, task), f"mirror:{folder}")
    if spec.url is None:
        raise DatasetError(
            f"task '{task}': {spec.mirror_path} not found in {_dirs_text()} and it has no download url; "
            "set HYOKA_DATA_DIR to a folder that holds it"
        )
    target = cache_dir() / "data" / spec.mirror_path
    if spec.url.startswith("hf://"):  # a file of a hub dataset at a pinned commit (hyoka.data.hub)
        from hyoka.data import hub

        hub.download_hub_file(
            hub.parse_hub_url(spec.url, task=task), target, expected_sha256=spec.sha256, task=task, mirrors=_dirs_text()
        )
        return ResolvedFile(target, spec.sha256 or sha256_file(target), f"download:{spec.url}")
    download(spec.url, target, expected_sha256=spec.sha256, task=task)
    return ResolvedFile(target, spec.sha256 or sha256_file(target), f"download:{spec.url}")


def _verified(path: Path, spec: DataFile, task: str) -> str:
    digest = sha256_file(path)
    if spec.sha256 is not None and digest != spec.sha256:
        raise DatasetError(
            f"task '{task}': {path} has sha256 {digest[:12]}…, expected {spec.sha256[:12]}… "
            "(a different revision of the file); replace it with the pinned one or delete it to re-download"
        )
    return digest


def _dirs_text() -> str:
    return ", ".join(str(d) for d in data_dirs())


def download(url: str, target: Path, *, expected_sha256: str | None, task: str, timeout: float = 60) -> None:
    """Fetch `url` to `target` atomically; the file appears only once its checksum is right."""
    if os.environ.get("HYOKA_OFFLINE") == "1" or os.environ.get("HF_HUB_OFFLINE") == "1":
        raise DatasetError(
            f"task '{task}': offline and {target.name} is not in {_dirs_text()}; "
            "set HYOKA_DATA_DIR to a local mirror (laid out like shared/data)"
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=".part-")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as resp:  # noqa: S310
            shutil.copyfileobj(resp, out)
        digest = sha256_file(tmp)
        if expected_sha256 is not None and digest != expected_sha256:
            raise DatasetError(
                f"task '{task}': {url} has sha256 {digest[:12]}…, expected {expected_sha256[:12]}…; "
                "upstream changed — pin a new revision in the task file"
            )
        os.replace(tmp, target)
    except (urllib.error.URLError, OSError, TimeoutError) as exc:
        reason = getattr(exc, "reason", exc)
        raise DatasetError(
            f"task '{task}': cannot download {url} ({reason}) and {target.name} is not in {_dirs_text()}; "
            "set HYOKA_DATA_DIR to a local mirror (laid out like shared/data)"
        ) from None
    finally:
        tmp.unlink(missing_ok=True)
