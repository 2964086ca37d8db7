"""Dataset files on the Hugging Face hub, pinned to a commit: ``hf://datasets/REPO@REVISION/PATH``.

A task file names a hub file like any other pinned file (a `DataFile` with `url`, and its
`sha256` when a source shows it: the commit already fixes the bytes, and the run records the
checksum of the file it read either way); only the URL's scheme differs::

    splits:
      test: {mirror_path: hub/LLaMAX/BenchMAX_Science/ja/test.parquet,
             url: "hf://datasets/LLaMAX/BenchMAX_Science@<40-hex commit>/ja/test.parquet",
             sha256: <hex>}

`hyoka.data.files.resolve_file` looks in `HYOKA_DATA_DIR` and the download cache first, as
for every source; only when neither holds the file does it call `download_hub_file`, which
fetches it with `huggingface_hub.hf_hub_download` at the pinned revision (endpoint from
`HF_ENDPOINT`, token from `HF_TOKEN` for gated repositories; the token is passed to the
library and never stored by hyoka), checks its sha256 (when pinned) and moves it into the cache.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable
from urllib.parse import urlparse

from hyoka.core.logs import quiet_logger
from hyoka.errors import DatasetError

SCHEME = "hf://datasets/"
#: a revision must name a commit (40 hex digits): a branch or tag would move under the pin
_COMMIT = re.compile(r"^[0-9a-f]{40}$")
_REPO = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*(?:/[A-Za-z0-9][A-Za-z0-9_.\-]*)?$")


@dataclass(frozen=True)
class HubFile:
    repo: str
    revision: str
    path: str

    @property
    def url(self) -> str:
        return f"{SCHEME}{self.repo}@{self.revision}/{self.path}"


def is_hub_url(url: str | None) -> bool:
    return url is not None and url.startswith("hf://")


_FORM = "hf://datasets/ORG/NAME@COMMIT/PATH (COMMIT: the 40-hex commit the file is pinned to)"


def hub_url_problem(url: str) -> str | None:
    """What is wrong with a hub URL, in words, or None when it is well formed."""
    if not url.startswith(SCHEME):
        return f"hub files are written {_FORM}"
    repo, at, tail = url[len(SCHEME) :].partition("@")
    revision, slash, path = tail.partition("/")
    if not at or not slash or not path or not _REPO.match(repo):
        return f"expected {_FORM}"
    if not _COMMIT.match(revision):
        return f"revision '{revision}' is not a commit; pin {_FORM}"
    return None


def parse_hub_url(url: str, *, task: str) -> HubFile:
    """``hf://datasets/ORG/NAME@COMMIT/path/in/repo`` → HubFile, or one line saying the form."""
    problem = hub_url_problem(url)
    if problem is not None:
        raise DatasetError(f"task '{task}': url {url}: {problem}")
    repo, _, tail = url[len(SCHEME) :].partition("@")
    revision, _, path = tail.partition("/")
    return HubFile(repo, revision, path)


def placement_hint(hub: HubFile, target: Path) -> str:
    """Where to put the file by hand (the one line shown when it cannot be downloaded)."""
    return (
        f"place {hub.path} of dataset {hub.repo} at revision {hub.revision} at {target} "
        f"(e.g. `huggingface-cli download --repo-type dataset {hub.repo} {hub.path} --revision {hub.revision}`)"
    )


_PROXY_VARIABLES = ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy")


def _unresolvable(endpoint: str) -> str | None:
    """Why the hub's host cannot be looked up (no network, no DNS), or None. Behind a proxy
    the proxy resolves it, so nothing is checked here."""
    host = urlparse(endpoint).hostname
    if not host or any(os.environ.get(v) for v in _PROXY_VARIABLES):
        return None
    try:
        socket.getaddrinfo(host, None)
    except (socket.gaierror, UnicodeError) as exc:
        return f"cannot resolve {host}: {getattr(exc, 'strerror', None) or exc}"
    return None


def download_hub_file(
    hub: HubFile, target: Path, *, expected_sha256: str | None, task: str, mirrors: str, digest: Callable[[Path], str]
) -> None:
    """Fetch one pinned hub file to `target`; it appears there only once its checksum
    (`digest`, hyoka.data.files.sha256_file) is right."""
    hint = f"{placement_hint(hub, target)}, or set HYOKA_DATA_DIR to a mirror holding it"
    if os.environ.get("HYOKA_OFFLINE") == "1" or os.environ.get("HF_HUB_OFFLINE") == "1":
        raise DatasetError(f"task '{task}': offline and {hub.url} is not in {mirrors}; {hint}")
    endpoint = os.environ.get("HF_ENDPOINT") or "https://huggingface.co"
    unreachable = _unresolvable(endpoint)
    if unreachable is not None:  # at once, not after huggingface_hub's half-minute of retries
        raise DatasetError(f"task '{task}': offline ({unreachable}) and {hub.url} is not in {mirrors}; {hint}")
    try:
        from huggingface_hub import hf_hub_download
        from huggingface_hub import errors as hub_errors
    except ImportError:
        raise DatasetError(
            f"task '{task}': {hub.url} needs huggingface_hub (pip install 'hyoka[hub]'), or {hint}"
        ) from None
    # huggingface_hub reads HF_HUB_OFFLINE once, at import; hyoka decides from the environment now
    from huggingface_hub import constants as hub_constants

    hub_constants.HF_HUB_OFFLINE = False
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=target.parent, prefix=".hub-"))
    try:
        try:
            with quiet_logger("huggingface_hub"):  # its retry warnings are not hyoka's one line
                fetched = Path(
                    hf_hub_download(
                    hub.repo,
                    hub.path,
                        repo_type="dataset",
                        revision=hub.revision,
                        local_dir=staging,
                        # read at call time (huggingface_hub reads HF_ENDPOINT once, at import)
                        endpoint=endpoint,
                        token=os.environ.get("HF_TOKEN") or None,
                    )
                )
        except hub_errors.GatedRepoError:
            raise DatasetError(
                f"task '{task}': dataset {hub.repo} is gated: accept its terms on the hub and set HF_TOKEN "
                f"to a token that may read it{'' if os.environ.get('HF_TOKEN') else ' (HF_TOKEN is not set)'}; or {hint}"
            ) from None
        except hub_errors.RepositoryNotFoundError:
            raise DatasetError(
                f"task '{task}': dataset {hub.repo} not found on the hub (or private: set HF_TOKEN); or {hint}"
            ) from None
        except hub_errors.RevisionNotFoundError:
            raise DatasetError(f"task '{task}': dataset {hub.repo} has no revision {hub.revision}; fix the task's url") from None
        except hub_errors.LocalEntryNotFoundError as exc:  # no connection (a subclass of the next one)
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise DatasetError(f"task '{task}': cannot reach the hub at {endpoint} ({reason}); {hint}") from None
        except hub_errors.EntryNotFoundError:
            raise DatasetError(
                f"task '{task}': dataset {hub.repo}@{hub.revision} has no file {hub.path}; fix the task's url"
            ) from None
        except (hub_errors.HfHubHTTPError, OSError, ValueError) as exc:
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise DatasetError(f"task '{task}': cannot download {hub.url} ({reason}); {hint}") from None
        got = digest(fetched)
        if expected_sha256 is not None and got != expected_sha256:
            raise DatasetError(
                f"task '{task}': {hub.url} has sha256 {got[:12]}…, expected {expected_sha256[:12]}…; "
                "the pinned file differs from the task's checksum: fix the task's sha256 or url"
            )
        os.replace(fetched, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
