"""Pinned dataset files (`DataFile`) and getting one: a file beside the task, the local
mirror, then the pinned upstream URL.

Beside the task: `path:` (relative to the task file's folder, or absolute) — a user's own data,
no mirror layout needed; the summary records it as `local:<absolute path>`.
Mirror: `HYOKA_DATA_DIR` (laid out like shared/data: `jglue/jcommonsenseqa-v1.3/...`).
Download cache: `HYOKA_CACHE_DIR/data` (default ~/.cache/hyoka/data), same layout.
Every file with a sha256 is verified wherever it came from.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from hyoka.core.types import sha256_file  # noqa: F401  (re-exported: callers read it from here)
from hyoka.errors import DatasetError


class DataUnavailable(DatasetError):
    """The file is neither here nor downloadable now (offline, no url): a set-up problem, not
    a problem of the task file (`hyoka validate` skips the data checks then)."""


class DataFile(BaseModel):
    """One dataset file: beside the task (`path`) or pinned in a mirror (`mirror_path`, with
    an upstream `url` and the checksum)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    mirror_path: str | None = Field(default=None, description="path under HYOKA_DATA_DIR, laid out like shared/data")
    path: str | None = Field(default=None, description="a file of yours: relative to the task file's folder, or absolute")
    url: str | None = Field(default=None, description="pinned upstream URL (a commit, not a branch)")
    sha256: str | None = Field(default=None, description="hex sha256 of the file")
    package_resource: bool = Field(
        default=False, description="the file ships inside hyoka (demo data); mirror_path is relative to tasks/builtin"
    )

    @field_validator("sha256")
    @classmethod
    def _hex(cls, v: str | None) -> str | None:
        if v is not None and (len(v) != 64 or any(c not in "0123456789abcdef" for c in v)):
            raise ValueError("sha256 must be 64 lowercase hex characters")
        return v

    @field_validator("url")
    @classmethod
    def _hub_form(cls, v: str | None) -> str | None:
        # a hub file must name its commit: checked here so `hyoka validate` points at the line
        if v is not None and v.startswith("hf://"):
            from hyoka.data.hub import hub_url_problem

            problem = hub_url_problem(v)
            if problem is not None:
                raise ValueError(problem)
        return v

    @field_validator("mirror_path")
    @classmethod
    def _relative(cls, v: str | None) -> str | None:
        if v is not None and Path(v).is_absolute():
            raise ValueError("mirror_path is a path under HYOKA_DATA_DIR; for a file of yours write path: (absolute or beside the task file)")
        return v

    @model_validator(mode="after")
    def _pinned(self) -> "DataFile":
        if (self.mirror_path is None) == (self.path is None):
            raise ValueError("give either path: (a file beside the task file) or mirror_path: (a file in HYOKA_DATA_DIR)")
        # a hub URL names its commit, which fixes the bytes; its sha256 is pinned when a source
        # shows it, and otherwise the checksum of the file read is what the run records
        if self.url is not None and self.sha256 is None and not self.url.startswith("hf://"):
            raise ValueError("a file with a url needs its sha256 (pin what is downloaded)")
        return self

    @property
    def name(self) -> str:
        return str(self.mirror_path or self.path)

BUILTIN_DATA_DIR = Path(__file__).resolve().parent.parent / "tasks" / "builtin"


def cache_dir() -> Path:
    return Path(os.environ.get("HYOKA_CACHE_DIR", Path.home() / ".cache" / "hyoka"))


def data_dirs() -> list[Path]:
    """Mirror folders, in order: HYOKA_DATA_DIR (os.pathsep-separated), then the download cache."""
    dirs = [Path(p) for p in os.environ.get("HYOKA_DATA_DIR", "").split(os.pathsep) if p]
    return [*dirs, cache_dir() / "data"]


def read_manifest(path: Path) -> dict[str, DataFile]:
    """A data manifest: JSON lines, one pinned file each (`{mirror_path, url, sha256}`, and
    optionally a `name` to look it up by; the default name is the file's stem). The one form
    for pinned files that are not a task's splits (a reader's many files, judge prompts)."""
    from hyoka.data.readers import read_jsonl_objects

    out: dict[str, DataFile] = {}
    for line, row in read_jsonl_objects(path, expected="one pinned file per line: {mirror_path, url, sha256}"):
        name = row.pop("name", None)
        try:
            spec = DataFile.model_validate(row)
        except ValueError as exc:
            reason = " ".join(str(exc).split())  # pydantic's message spans lines: keep one
            raise DatasetError(f"{path}:{line}: bad manifest entry ({reason})") from None
        key = str(name) if name is not None else Path(spec.name).stem
        if key in out:
            raise DatasetError(f"{path}:{line}: a second entry named '{key}'; give each a distinct name")
        out[key] = spec
    return out


@dataclass(frozen=True)
class ResolvedFile:
    path: Path
    #: the checksum of the file as read (verified against the pin when the task has one)
    sha256: str
    origin: str  # "mirror:<dir>", "download:<url>" or "package"
    #: the pinned upstream URL (e.g. hf://datasets/REPO@COMMIT/PATH), recorded wherever the copy came from
    url: str | None = None


def resolve_file(spec: DataFile, *, task: str, base_dir: Path | None = None) -> ResolvedFile:
    """Find the file. `base_dir`: the task file's folder (for `path:`)."""
    if spec.path is not None:
        path = (Path(base_dir or ".") / Path(spec.path).expanduser()).resolve()
        if not path.is_file():
            raise DatasetError(f"task '{task}': data file {path} (path: {spec.path}) does not exist; fix the task's splits")
        return ResolvedFile(path, _verified(path, spec, task), f"local:{path}")
    assert spec.mirror_path is not None
    if spec.package_resource:
        path = BUILTIN_DATA_DIR / spec.mirror_path
        return ResolvedFile(path, _verified(path, spec, task), "package")
    for folder in data_dirs():
        path = folder / spec.mirror_path
        if path.is_file():
            return ResolvedFile(path, _verified(path, spec, task), f"mirror:{folder}", spec.url)
    if spec.url is None:
        raise DataUnavailable(
            f"task '{task}': {spec.mirror_path} not found in {_dirs_text()} and it has no download url; "
            "set HYOKA_DATA_DIR to a folder that holds it"
        )
    target = cache_dir() / "data" / spec.mirror_path
    if spec.url.startswith("hf://"):  # a file of a hub dataset at a pinned commit (hyoka.data.hub)
        from hyoka.data import hub

        hub.download_hub_file(
            hub.parse_hub_url(spec.url, task=task), target, expected_sha256=spec.sha256, task=task,
            mirrors=_dirs_text(), digest=sha256_file,
        )
        return ResolvedFile(target, spec.sha256 or sha256_file(target), f"download:{spec.url}", spec.url)
    download(spec.url, target, expected_sha256=spec.sha256, task=task, mirror_path=spec.mirror_path)
    return ResolvedFile(target, spec.sha256 or sha256_file(target), f"download:{spec.url}", spec.url)


def local_path(spec: DataFile, *, base_dir: Path | None = None) -> Path | None:
    """Where the file is on this machine without downloading it (None: not here)."""
    if spec.path is not None:
        path = Path(base_dir or ".") / Path(spec.path).expanduser()
        return path if path.is_file() else None
    assert spec.mirror_path is not None
    if spec.package_resource:
        path = BUILTIN_DATA_DIR / spec.mirror_path
        return path if path.is_file() else None
    return next((d / spec.mirror_path for d in data_dirs() if (d / spec.mirror_path).is_file()), None)


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


def download(
    url: str, target: Path, *, expected_sha256: str | None, task: str, timeout: float = 60, mirror_path: str | None = None
) -> None:
    """Fetch `url` to `target` atomically; the file appears only once its checksum is right.
    `mirror_path`: where a mirror holds it, named when it cannot be fetched (the file's name
    alone does not say where to place it: wikipedia_annotated_corpus/knp/wiki0008/….knp)."""
    where = mirror_path or target.name
    if os.environ.get("HYOKA_OFFLINE") == "1" or os.environ.get("HF_HUB_OFFLINE") == "1":
        raise DataUnavailable(
            f"task '{task}': offline and {where} is not in {_dirs_text()}; "
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
        raise DataUnavailable(
            f"task '{task}': cannot download {url} ({reason}) and {where} is not in {_dirs_text()}; "
            "set HYOKA_DATA_DIR to a local mirror (laid out like shared/data)"
        ) from None
    finally:
        tmp.unlink(missing_ok=True)
