"""What a run of an API model records: two models served at one OpenAI-compatible endpoint
are two models in the reports, and a key inside the endpoint's URL is in no file.

An API backend's weights hash is `api:ENDPOINT` (the weights are not visible), so the
leaderboard, `hyoka blend` and `hyoka compare` must tell API models apart by name. The
endpoint is a real HTTP server on 127.0.0.1 that answers the OpenAI completions protocol with
one fixed text; what is checked is how hyoka records and groups the runs, not the answers.
"""

from __future__ import annotations

import http.server
import json
import threading
from pathlib import Path
from typing import Iterator

import pytest

from hyoka.cli import main


class _Completions(http.server.BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        usage = {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4}
        if self.path.endswith("/chat/completions"):
            choice = {"index": 0, "message": {"role": "assistant", "content": "entailment"}, "finish_reason": "stop"}
        else:
            choice = {"index": 0, "text": "entailment", "finish_reason": "stop", "logprobs": None}
        data = json.dumps({"id": "x", "model": body["model"], "choices": [choice], "usage": usage}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def endpoint() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Completions)
    threading.Thread(target=lambda: server.serve_forever(poll_interval=0.05), daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()
        server.server_close()


def test_two_models_at_one_endpoint_are_two_leaderboard_rows(endpoint: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    runs = tmp_path / "runs"
    for model in ("model-a", "model-b"):
        code = main(["run", f"openai:{model}", "--model-args", f"base_url={endpoint}", "--tasks", "jaster_jnli",
                     "--limit", "2", "--output", str(runs / model), "--quiet"])  # fmt: skip
        assert code == 0, capsys.readouterr().err
    assert main(["leaderboard", str(runs), "--output", str(tmp_path / "board")]) == 0
    rows = json.loads((tmp_path / "board" / "leaderboard_tasks.json").read_text(encoding="utf-8"))["rows"]
    # was one row "model-a" holding model-b's score (the newer run of "the same model")
    assert sorted((r["model"], len(r["runs"])) for r in rows) == [("model-a", 1), ("model-b", 1)]
    capsys.readouterr()
    code = main(["blend", "--output", str(tmp_path / "blend"), f"{runs / 'model-a'}:jaster_jnli", f"{runs / 'model-b'}:jaster_jnli"])
    assert code == 2 and "is a different model (model-b" in capsys.readouterr().err


def test_a_key_inside_base_url_reaches_no_file_of_the_run(endpoint: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    secret = "sk-qa-in-the-url-0123456789"
    with_key = endpoint.replace("http://", f"http://user:{secret}@")
    out = tmp_path / "run"
    code = main(["run", "openai:model-a", "--model-args", f"base_url={with_key}", "--tasks", "jaster_jnli",
                 "--limit", "1", "--output", str(out), "--quiet"])  # fmt: skip
    assert code == 0, capsys.readouterr().err
    leaked = [p.name for p in out.rglob("*") if p.is_file() and secret in p.read_text(encoding="utf-8", errors="replace")]
    assert leaked == []  # run_config.yaml kept it (summary.json records the endpoint without it)
    assert "base_url=http://***@127.0.0.1:" in (out / "run_config.yaml").read_text(encoding="utf-8")


def test_mocks_that_answer_differently_are_two_models(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # a mock's "weights" are its answers: reply=A and reply=B are two rows; the same reply, one
    runs = tmp_path / "runs"
    for folder, reply in (("a", "東京"), ("b", "大阪"), ("a-again", "東京")):
        code = main(["run", "mock:", "--model-args", f"reply={reply}", "--tasks", "demo_ja", "--limit", "2",
                     "--output", str(runs / folder), "--quiet", "--no-cache"])  # fmt: skip
        assert code == 0, capsys.readouterr().err
    assert main(["leaderboard", str(runs), "--output", str(tmp_path / "board")]) == 0
    rows = json.loads((tmp_path / "board" / "leaderboard_tasks.json").read_text(encoding="utf-8"))["rows"]
    assert len(rows) == 2
