"""W&B logging in offline mode: the offline run files are read back (the .wandb record log
and the media files) and must hold the config without any secret, the metrics, the
leaderboard and sample tables, the radar chart and the run-folder artifact."""

from __future__ import annotations

import json
import struct
import subprocess
from pathlib import Path
from typing import Any

import pytest

from conftest import hyoka_cmd, import_or_require
from hyoka.reporting.runs import load_run
from hyoka.reporting.wandb_log import REDACTED, _artifact_copy, redact
from reporting_runs import LIMIT, TASKS, GemmaRuns  # the gemma_runs fixture is registered in conftest.py

ENV_SECRET = "sk-env-secret-0123456789abcdef"
WANDB_SECRET = "wandb-key-0123456789abcdef0123456789"


def read_wandb_records(path: Path) -> list[Any]:
    """The records of a .wandb file (LevelDB log format: 32 KiB blocks of CRC-framed chunks
    after a 7-byte header), parsed with wandb's own protobuf classes."""
    from wandb.proto import wandb_internal_pb2 as pb

    data, block, pos = path.read_bytes(), 32768, 7
    assert data[:4] == b":W&B"
    chunks, partial = [], b""
    while pos + 7 <= len(data):
        left = block - pos % block
        if left < 7:  # the rest of a block too small for a header is padding
            pos += left
            continue
        _crc, length, kind = struct.unpack("<IHB", data[pos : pos + 7])
        if kind == 0 and length == 0:
            pos += left
            continue
        chunk, pos = data[pos + 7 : pos + 7 + length], pos + 7 + length
        if kind == 1:
            chunks.append(chunk)
        elif kind == 2:
            partial = chunk
        elif kind == 3:
            partial += chunk
        elif kind == 4:
            chunks.append(partial + chunk)
    records = []
    for chunk in chunks:
        record = pb.Record()
        record.ParseFromString(chunk)
        records.append(record)
    return records


@pytest.mark.slow
def test_run_logged_to_wandb_offline(gemma_runs: GemmaRuns, gemma_gguf: Path, tmp_path: Path) -> None:
    import_or_require("wandb", "pip install 'hyoka[wandb]'")
    env = {**gemma_runs.env, "WANDB_MODE": "offline", "WANDB_DIR": str(tmp_path), "WANDB_SILENT": "true",
           "OPENAI_API_KEY": ENV_SECRET, "WANDB_API_KEY": WANDB_SECRET}  # fmt: skip
    out = tmp_path / "run"
    # the same run as the fixture's 0-shot one: every request comes from the cache
    cmd = hyoka_cmd("run", f"llamacpp:{gemma_gguf}", "--tasks", TASKS, "--limit", LIMIT, "--num-fewshot", "0",
                    "--output", str(out), "--quiet", "--wandb", "hyoka-test/gemma-0shot")  # fmt: skip
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    [run_dir] = list((tmp_path / "wandb").glob("offline-run-*"))
    [log] = list(run_dir.glob("*.wandb"))
    records = read_wandb_records(log)
    kinds = [r.WhichOneof("record_type") for r in records]

    # config: the run's provenance, and no secret anywhere in the offline files
    [run_record] = [r.run for r in records if r.WhichOneof("record_type") == "run"]
    assert run_record.project == "hyoka-test" and run_record.display_name == "gemma-0shot"
    config = {u.key: json.loads(u.value_json) for u in run_record.config.update}
    summary = load_run(out).summary
    assert config["hyoka"]["model"]["weights_hash"] == summary["model"]["weights_hash"]
    assert config["hyoka"]["tasks"]["jcommonsenseqa"]["num_fewshot"] == 0
    for path in run_dir.rglob("*"):
        if path.is_file():
            blob = path.read_bytes()
            assert ENV_SECRET.encode() not in blob and WANDB_SECRET.encode() not in blob, path

    # metrics, the leaderboard and sample tables, the chart
    history = {}
    for r in records:
        if r.WhichOneof("record_type") == "history":
            for item in r.history.item:
                history[item.key or "/".join(item.nested_key)] = json.loads(item.value_json)
    metrics = load_run(out).metrics["tasks"]
    assert history["jcommonsenseqa/accuracy"] == pytest.approx(metrics["jcommonsenseqa"]["metrics"]["accuracy"]["value"])
    assert history["leaderboard_table/_type"] == "table-file" and history["radar_table/_type"] == "table-file"
    assert history["radar_chart/_type"] == "html-file"
    for task in ("jcommonsenseqa", "jaster_jcommonsenseqa"):
        assert history[f"samples/{task}/nrows"] == int(LIMIT)
    board = json.loads(next((run_dir / "files").rglob("leaderboard_table_*.table.json")).read_text())
    assert board["columns"][0] == "model" and board["data"][0][0].startswith("gemma-3-270m")
    assert "<svg" in next((run_dir / "files").rglob("radar_chart_*.html")).read_text()

    # the run folder as an artifact
    artifacts = [r.artifact for r in records if r.WhichOneof("record_type") == "artifact" and r.artifact.type == "hyoka-run"]
    assert len(artifacts) == 1
    files = {c.path for c in artifacts[0].manifest.contents}
    assert {"metrics.json", "summary.json", "samples_jcommonsenseqa.jsonl"} <= files
    assert "exit" in kinds


def test_secrets_are_redacted_from_config_and_artifact(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MY_SERVICE_TOKEN", ENV_SECRET)
    settings = {"model_args": {"api_key": "sk-planted-in-settings-000", "base_url": f"http://x/?k={ENV_SECRET}"},
                "headers": {"Authorization": "Bearer abc"}, "max_tokens": 8}  # fmt: skip
    cleaned = redact(settings)
    assert cleaned["model_args"]["api_key"] == REDACTED and cleaned["headers"]["Authorization"] == REDACTED
    assert ENV_SECRET not in json.dumps(cleaned) and cleaned["max_tokens"] == 8
    run = tmp_path / "run"
    run.mkdir()
    (run / "metrics.json").write_text(json.dumps({"tasks": {}, "groups": {}}))
    (run / "summary.json").write_text(json.dumps({"model": {"name": "m"}, "settings": settings}))
    copy = _artifact_copy(load_run(run), tmp_path / "upload")
    text = (copy / "summary.json").read_text()
    assert "sk-planted-in-settings-000" not in text and ENV_SECRET not in text
