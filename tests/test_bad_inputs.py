"""Every bad input of issue 9: one line on stderr naming what is wrong, exit 2, no traceback,
and nothing asked of a model first.

The bad task fixtures (tests/fixtures/bad_tasks/*.yaml) each say the task to run (`# run:`)
and a part of the message (`# expect:`); `hyoka validate` must reject every file that
`hyoka run` rejects.
"""

from __future__ import annotations

import os
import resource
import shutil
import socket
import sqlite3
import subprocess
from pathlib import Path

import pytest

from conftest import hyoka_cmd
from hyoka.cli import main

FIXTURES = Path(__file__).parent / "fixtures"
BAD = FIXTURES / "bad_tasks"
LOCAL = FIXTURES / "local_task"
SUPPORT = ("data", "hooks.py", "broken_hook.py")


def run_cli(*args: str, env: dict[str, str] | None = None, **kwargs: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        hyoka_cmd(*args), capture_output=True, text=True, timeout=180, env={**os.environ, **(env or {})}, **kwargs
    )  # type: ignore[call-overload]


def one_line(result: subprocess.CompletedProcess[str], *needles: str, code: int = 2) -> str:
    assert "Traceback" not in result.stderr, result.stderr
    # llama.cpp prints its own notices on stderr (not hyoka's lines)
    lines = [line for line in result.stderr.splitlines() if line.strip() and not line.startswith("llama_")]
    assert len(lines) == 1, result.stderr
    assert result.returncode == code, result.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


# -- the bad task fixtures: validate rejects what run rejects ------------------------------------


def _cases() -> list[Path]:
    return sorted(p for p in BAD.glob("*.yaml") if not p.name.endswith(".twin.yaml"))


def _header(path: Path, key: str) -> str:
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith(f"# {key}:"):
            return line.split(":", 1)[1].strip()
    raise AssertionError(f"{path} has no '# {key}:' line")


def _isolated(case: Path, folder: Path) -> Path:
    """The case file (and its twin) with the data and hooks, alone in a folder."""
    folder.mkdir()
    for name in SUPPORT:
        source = BAD / name
        (shutil.copytree if source.is_dir() else shutil.copy)(source, folder / name)
    for path in (case, case.with_name(case.stem + ".twin.yaml")):
        if path.is_file():
            shutil.copy(path, folder / path.name)
    return folder


@pytest.mark.parametrize("case", _cases(), ids=lambda p: p.stem)
def test_validate_rejects_what_run_rejects(case: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = _isolated(case, tmp_path / "tasks")
    expect = _header(case, "expect")
    out = tmp_path / "out"
    code = main(["run", "mock:", "--tasks", _header(case, "run"), "--include-path", str(folder),
                 "--output", str(out), "--quiet"])  # fmt: skip
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert code == 2 and len(err) == 1 and expect in err[0], err
    assert not list(out.glob("samples_*")), "the run must stop before any model call"
    code = main(["validate", str(folder)])
    problems = capsys.readouterr().err
    assert code == 1 and expect in problems, problems


@pytest.mark.parametrize("name", ["raising_doc_to_text", "group_cycle"])
def test_task_file_problems_through_the_real_command(name: str, tmp_path: Path) -> None:
    """The same cases as above, as a user meets them: a separate `hyoka` process."""
    case = BAD / f"{name}.yaml"
    folder = _isolated(case, tmp_path / "tasks")
    result = run_cli("run", "mock:", "--tasks", _header(case, "run"), "--include-path", str(folder), "--output", str(tmp_path / "o"))
    one_line(result, _header(case, "expect"))
    result = run_cli("validate", str(folder))
    assert result.returncode == 1 and "Traceback" not in result.stderr and _header(case, "expect") in result.stderr


def test_validate_a_folder_and_a_good_task_with_data_beside_it(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(LOCAL)]) == 0
    assert "local_qa.yaml: ok (1 entry)" in capsys.readouterr().out
    assert main(["validate", str(BAD)]) == 1
    problems = capsys.readouterr().err.splitlines()
    for case in _cases():
        assert any(case.name in p or _header(case, "expect") in p for p in problems), case.name


# -- the command line: one line, exit 2, before the model -------------------------------------------
# In-process `main()` where the process boundary adds nothing (an escaping exception fails the
# test as a traceback would); a separate process where it matters (rlimits, environment, exit).


def _local_args(model: Path | str, *extra: str, tasks: str = "local_qa") -> list[str]:
    """`hyoka run` of the local task; a Path is a GGUF for llamacpp:, a str a model spec."""
    spec = f"llamacpp:{model}" if isinstance(model, Path) else model
    return ["run", spec, "--tasks", tasks, "--include-path", str(LOCAL), "--quiet", *extra]


def _local_run(model: Path | str, *extra: str, tasks: str = "local_qa", env: dict[str, str] | None = None, **kwargs: object) -> subprocess.CompletedProcess[str]:
    return run_cli(*_local_args(model, *extra, tasks=tasks), env=env, **kwargs)


def main_line(capsys: pytest.CaptureFixture[str], args: list[str], *needles: str, code: int = 2) -> str:
    """Run the CLI in this process: its exit status and its one stderr line."""
    status = main(args)
    lines = [line for line in capsys.readouterr().err.splitlines() if line.strip() and not line.startswith("llama_")]
    assert status == code and len(lines) == 1, lines
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


@pytest.mark.parametrize(
    "args,needle",
    [
        (["--model-args", "n_ctx=-1"], "--model-args n_ctx: must be > 0 (got '-1')"),
        (["--model-args", "n_cxt=512"], "n_cxt: unknown argument; known: n_ctx"),
        (["--num-fewshot", "-1"], "--num-fewshot -1: give 0 or more"),
        (["--gen", "max_tokens=-5"], "--gen max_tokens: must be > 0"),
        (["--gen", "temperature=-1"], "--gen temperature: must be >= 0"),
        (["--gen", "top_p=5"], "--gen top_p: must be <= 1"),
        (["--gen", "top_k=5"], "--gen top_k: not a generation setting this command uses"),
    ],
)
def test_bad_options(args: list[str], needle: str, gemma_gguf: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main_line(capsys, _local_args(gemma_gguf, "--output", str(tmp_path / "out"), *args), needle)
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())


def test_bad_model_args_through_the_real_command(gemma_gguf: Path, tmp_path: Path) -> None:
    one_line(_local_run(gemma_gguf, "--output", str(tmp_path / "out"), "--model-args", "n_ctx=big"),
             "--model-args n_ctx: must be an integer (got 'big')")  # fmt: skip


def test_second_task_fails_before_the_first_task_runs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # local_qa has a few-shot split, demo_ja has none: --num-fewshot 1 fails on the second task
    out = tmp_path / "out"
    main_line(capsys, _local_args("mock:", "--num-fewshot", "1", "--output", str(out), tasks="local_qa,demo_ja"),
              "task 'demo_ja' has no few-shot split")  # fmt: skip
    assert not list(out.glob("samples_*"))


def test_output_that_is_a_file_unwritable_or_full(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a_file = tmp_path / "results.txt"
    a_file.write_text("keep me")
    main_line(capsys, _local_args("mock:", "--output", str(a_file)), "is a file, not a folder")
    assert a_file.read_text() == "keep me"
    # /proc refuses new folders even for root (a chmod'ed folder would not stop root)
    main_line(capsys, _local_args("mock:", "--output", "/proc/hyoka-results"), "--output /proc/hyoka-results: cannot create the folder")
    # a full disk: the kernel refuses writes over 16 KiB in this process (EFBIG as ENOSPC would)
    out = tmp_path / "full"

    def small_files() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (16 * 1024, 16 * 1024))

    one_line(_local_run("mock:", "--output", str(out), preexec_fn=small_files), "cannot write there")
    assert list(out.iterdir()) == [], "no temporary files left behind"


def test_cache_folder_unusable(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HYOKA_CACHE_DIR", "/proc/hyoka-cache")
    main_line(capsys, _local_args("mock:", "--output", str(tmp_path / "o1")), "request cache", "HYOKA_CACHE_DIR", "--no-cache")
    a_file = tmp_path / "cache-file"
    a_file.write_text("")
    monkeypatch.setenv("HYOKA_CACHE_DIR", str(a_file))
    main_line(capsys, _local_args("mock:", "--output", str(tmp_path / "o2")), "request cache")


def test_corrupt_cache_is_moved_aside_and_the_run_goes_on(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "requests.sqlite").write_bytes(b"this is not a database" * 100)
    result = _local_run("mock:", "--output", str(tmp_path / "out"), env={"HYOKA_CACHE_DIR": str(cache)})
    line = one_line(result, "request cache", "moved it to", "requests.sqlite.corrupt-", code=0)
    backups = list(cache.glob("requests.sqlite.corrupt-*"))
    assert len(backups) == 1 and backups[0].read_bytes().startswith(b"this is not a database") and backups[0].name in line
    with sqlite3.connect(cache / "requests.sqlite") as db:  # the fresh cache holds this run's answers
        assert db.execute("SELECT COUNT(*) FROM responses").fetchone()[0] == 4


def test_user_task_reads_data_beside_it_and_records_the_origin(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import json

    out = tmp_path / "out"
    assert main(_local_args("mock:", "--output", str(out), "--no-cache")) == 0
    files = json.loads((out / "summary.json").read_text())["tasks"]["local_qa"]["dataset"]["files"]
    assert files["test"]["origin"] == f"local:{(LOCAL / 'local_qa.jsonl').resolve()}"


def test_api_at_a_closed_port_is_one_line(tmp_path: Path) -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    result = run_cli("run", "openai:any-model", "--model-args", f"base_url=http://127.0.0.1:{port}/v1,max_retries=1",
                     "--tasks", "local_qa", "--include-path", str(LOCAL), "--output", str(tmp_path / "out"), "--quiet")  # fmt: skip
    one_line(result, f"http://127.0.0.1:{port}/v1/completions: no connection after 2 attempts", "is the server running")


def test_backends_lists_every_argument(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["backends"]) == 0
    out = capsys.readouterr().out
    for backend, arg in (("llamacpp", "n_ctx"), ("hf", "batch_size"), ("openai", "base_url"), ("vllm", "max_model_len"), ("mock", "script")):
        assert f"{backend}:" in out and arg in out
    assert "int | 'auto'" in out and "context length in tokens" in out
