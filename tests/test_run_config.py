"""`hyoka run --config run.yaml`: options from a file, flags override, the resolved config
saved in the run folder reruns the same run (mock: backend, no model)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import yaml

from conftest import hyoka_cmd


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(hyoka_cmd("run", *args), capture_output=True, text=True, timeout=120)


def test_config_file_flags_override_and_saved_config_reruns(tmp_path: Path) -> None:
    config = tmp_path / "run.yaml"
    config.write_text(yaml.safe_dump({
        "model": "mock:", "tasks": ["demo_ja"], "limit": 5, "num-fewshot": 0, "quiet": True,
        "model_args": {"reply": "東京"}, "gen": {"max_tokens": 8}, "output": str(tmp_path / "from-file"),
    }, allow_unicode=True), encoding="utf-8")  # fmt: skip
    done = _run("--config", str(config), "--limit", "3")  # the flag wins over the file's limit 5
    assert done.returncode == 0, done.stderr
    run = tmp_path / "from-file"
    assert json.loads((run / "metrics.json").read_text())["tasks"]["demo_ja"]["metrics"]["accuracy"]["n"] == 3
    saved = yaml.safe_load((run / "run_config.yaml").read_text(encoding="utf-8"))
    assert saved["model"] == "mock:" and saved["tasks"] == "demo_ja" and saved["limit"] == 3
    assert saved["model_args"] == "reply=東京" and saved["gen"] == ["max_tokens=8"]
    # the saved config alone reruns the run (into another folder): the same scores
    again = _run("--config", str(run / "run_config.yaml"), "--output", str(tmp_path / "rerun"))
    assert again.returncode == 0, again.stderr
    first, second = (json.loads((p / "metrics.json").read_text()) for p in (run, tmp_path / "rerun"))
    assert first["tasks"] == second["tasks"]


def test_bad_config_is_one_line(tmp_path: Path) -> None:
    config = tmp_path / "run.yaml"
    config.write_text("model: 'mock:'\ntasks: demo_ja\nlimt: 3\n", encoding="utf-8")
    done = _run("--config", str(config))
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1
    assert "unknown key 'limt'" in done.stderr and str(config) in done.stderr
    config.write_text("model: 'mock:'\nlimit: three\ntasks: demo_ja\n", encoding="utf-8")
    done = _run("--config", str(config))
    assert done.returncode == 2 and "limit: expected int" in done.stderr
    done = _run("mock:")  # neither --tasks nor a config
    assert done.returncode == 2 and "--tasks" in done.stderr


def _main(*args: str) -> tuple[int, str]:
    """The CLI in process (the error cases stop before any model; no interpreter start-up)."""
    import contextlib
    import io

    from hyoka.cli import main

    err = io.StringIO()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
        code = main(list(args))
    return code, err.getvalue()


def test_docs_range_saved_as_written_and_read_back(tmp_path: Path) -> None:
    first = tmp_path / "first"
    code, err = _main("run", "mock:", "--tasks", "demo_ja", "--docs", "1:3", "--quiet", "--output", str(first))
    assert code == 0, err
    saved = (first / "run_config.yaml").read_text(encoding="utf-8")
    assert yaml.safe_load(saved)["docs"] == "1:3"  # was a list, which --config turned into '1,3' and a traceback
    code, err = _main("run", "--config", str(first / "run_config.yaml"), "--output", str(tmp_path / "again"))
    assert code == 0, err
    ids = [json.loads(line)["doc_id"] for line in (tmp_path / "again" / "samples_demo_ja.jsonl").read_text().splitlines()]
    assert ids == [1, 2]
    # written by hand, 1:30 is documents 1..29, not YAML 1.1's base-60 number 90
    config = tmp_path / "hand.yaml"
    config.write_text(f"model: 'mock:'\ntasks: demo_ja\ndocs: 1:30\noutput: {tmp_path / 'hand'}\nquiet: true\n", encoding="utf-8")
    code, err = _main("run", "--config", str(config))
    assert code == 0, err
    assert json.loads((tmp_path / "hand" / "summary.json").read_text())["docs"] == [1, 30]


def test_config_values_of_the_wrong_shape_are_one_line(tmp_path: Path) -> None:
    config = tmp_path / "run.yaml"
    cases = {
        "limit: 1.5\n": "limit: expected int, got 1.5",  # int(1.5) ran 1 document
        "limit: true\n": "limit: expected int, got True",
        "model: ['mock:', other]\n": "model: expected one value, got a list",  # ran model 'mock:,other'
        "suite: jaster\n": "'suite' and 'tasks' are the same option",  # the later key won
        "limit: 2\nlimit: 3\n": "key 'limit' given twice",  # the later one won
    }
    for text, message in cases.items():
        body = text if text.startswith("model") else "model: 'mock:'\n" + text
        config.write_text(body + "tasks: demo_ja\n", encoding="utf-8")
        code, err = _main("run", "--config", str(config), "--output", str(tmp_path / "never"))
        assert code == 2 and message in err and len(err.strip().splitlines()) == 1, (text, err)
        assert str(config) in err
    assert not (tmp_path / "never").exists()


def test_saved_config_reruns_from_another_folder(tmp_path: Path) -> None:
    # relative paths on the command line (output, include path, settings) are saved absolute
    work, elsewhere = tmp_path / "work", tmp_path / "elsewhere"
    (work / "my_tasks").mkdir(parents=True)
    elsewhere.mkdir()
    demo = Path(__file__).resolve().parents[1] / "src" / "hyoka" / "tasks" / "builtin" / "demo" / "demo_ja.yaml"
    task = yaml.safe_load(demo.read_text(encoding="utf-8"))
    task["name"] = "demo_ja_mine"
    task.pop("groups", None)
    (work / "my_tasks" / "demo_ja_mine.yaml").write_text(yaml.safe_dump(task, allow_unicode=True), encoding="utf-8")
    (work / "settings.yaml").write_text("system_message: 日本語で答えてください。\n", encoding="utf-8")
    args = ["mock:", "--tasks", "demo_ja_mine", "--include-path", "my_tasks", "--settings", "settings.yaml",
            "--limit", "2", "--quiet", "--output", "out"]  # fmt: skip
    done = subprocess.run(hyoka_cmd("run", *args), capture_output=True, text=True, timeout=120, cwd=work)
    assert done.returncode == 0, done.stderr
    saved = yaml.safe_load((work / "out" / "run_config.yaml").read_text(encoding="utf-8"))
    assert saved["include_path"] == [str(work / "my_tasks")] and saved["settings"] == str(work / "settings.yaml")
    assert saved["output"] == str(work / "out")
    again = subprocess.run(
        hyoka_cmd("run", "--config", str(work / "out" / "run_config.yaml"), "--output", "rerun"),
        capture_output=True, text=True, timeout=120, cwd=elsewhere,
    )  # fmt: skip
    assert again.returncode == 0, again.stderr
    first, second = (json.loads((p / "metrics.json").read_text()) for p in (work / "out", elsewhere / "rerun"))
    assert first["tasks"] == second["tasks"]
    summary = json.loads((elsewhere / "rerun" / "summary.json").read_text())
    assert summary["system_prompt"] == "日本語で答えてください。"


def test_a_local_model_path_is_saved_absolute_and_a_hub_id_as_given(tmp_path: Path, monkeypatch) -> None:
    from hyoka.reporting.resolved_config import _as_written

    monkeypatch.chdir(tmp_path)
    (tmp_path / "m.gguf").write_bytes(b"GGUF")
    assert _as_written("model", "llamacpp:m.gguf") == f"llamacpp:{tmp_path / 'm.gguf'}"
    assert _as_written("model", "hf:google/gemma-3-270m") == "hf:google/gemma-3-270m"  # no such folder here
    assert _as_written("model", "openai:gpt-4o-mini") == "openai:gpt-4o-mini"
