"""A local stand-in for the Hugging Face hub's file endpoint, for tests.

It answers what `huggingface_hub.hf_hub_download` asks: ``HEAD`` and ``GET`` on
``/datasets/ORG/NAME/resolve/REVISION/PATH``, with the headers the library reads
(``X-Repo-Commit``, ``ETag``, ``Content-Length``) and the hub's error codes
(``X-Error-Code: EntryNotFound | RevisionNotFound | RepoNotFound | GatedRepo``).
Gated repositories want ``Authorization: Bearer TOKEN``.
"""

from __future__ import annotations

import hashlib
import http.server
import threading
from dataclasses import dataclass, field
from urllib.parse import unquote


@dataclass
class FakeHub:
    #: (repo, revision) → {path: bytes}
    files: dict[tuple[str, str], dict[str, bytes]] = field(default_factory=dict)
    #: repo → the token that may read it
    gated: dict[str, str] = field(default_factory=dict)
    requests: list[str] = field(default_factory=list)
    url: str = ""
    _server: http.server.ThreadingHTTPServer | None = None

    def add(self, repo: str, revision: str, path: str, data: bytes) -> str:
        """Serve `data`; returns its sha256."""
        self.files.setdefault((repo, revision), {})[path] = data
        return hashlib.sha256(data).hexdigest()

    def start(self) -> "FakeHub":
        hub = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_HEAD(self) -> None:  # noqa: N802
                self._answer(body=False)

            def do_GET(self) -> None:  # noqa: N802
                self._answer(body=True)

            def log_message(self, *args: object) -> None:
                pass

            def _error(self, status: int, code: str) -> None:
                self.send_response(status)
                self.send_header("X-Error-Code", code)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def _answer(self, *, body: bool) -> None:
                hub.requests.append(f"{self.command} {self.path}")
                parts = unquote(self.path.split("?")[0]).lstrip("/").split("/")
                # datasets / ORG / NAME / resolve / REVISION / PATH...
                if len(parts) < 6 or parts[0] != "datasets" or parts[3] != "resolve":
                    return self._error(404, "RepoNotFound")
                repo, revision, path = f"{parts[1]}/{parts[2]}", parts[4], "/".join(parts[5:])
                if not any(r == repo for r, _ in hub.files):
                    return self._error(401, "RepoNotFound")
                if repo in hub.gated and self.headers.get("Authorization") != f"Bearer {hub.gated[repo]}":
                    return self._error(401 if "Authorization" not in self.headers else 403, "GatedRepo")
                if (repo, revision) not in hub.files:
                    return self._error(404, "RevisionNotFound")
                data = hub.files[(repo, revision)].get(path)
                if data is None:
                    return self._error(404, "EntryNotFound")
                self.send_response(200)
                self.send_header("X-Repo-Commit", revision)
                self.send_header("ETag", f'"{hashlib.sha256(data).hexdigest()}"')
                self.send_header("Content-Length", str(len(data)))
                self.send_header("Content-Type", "application/octet-stream")
                self.end_headers()
                if body:
                    self.wfile.write(data)

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
