"""The sandbox pool: parallel runs, the result cache, bwrap failures and the refusal without bwrap."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import threading
import time
from pathlib import Path

import pytest

from conftest import require
from hyoka.cache import RequestCache
from hyoka.sandbox import SandboxPool, SandboxSettings, SandboxUnavailable, bwrap, unavailable_reason
from hyoka.sandbox.pool import CACHE_KIND

FAST = SandboxSettings(timeout_s=5, cpu_s=5)


@pytest.fixture()
def need_bwrap() -> None:
    require(unavailable_reason() is None, f"bubblewrap cannot run here: {unavailable_reason()}")


def test_programs_run_in_parallel_and_keep_their_order(need_bwrap) -> None:
    programs = [f"import time\ntime.sleep(1)\nprint({i})\n" for i in range(4)]
    start = time.monotonic()
    results = SandboxPool(FAST, workers=4).run(programs)
    assert time.monotonic() - start < 3.5  # four 1-second programs at once, not one after another
    assert [r.stdout_tail for r in results] == ["0\n", "1\n", "2\n", "3\n"]


def test_results_are_cached_by_program_and_settings(need_bwrap, tmp_path: Path) -> None:
    cache = RequestCache(tmp_path / "requests.sqlite")
    programs = ["assert 1 + 1 == 2\n", "assert 1 + 1 == 3\n"]
    first = SandboxPool(FAST, workers=2, cache=cache).run(programs)
    assert [r.outcome for r in first] == ["passed", "failed"] and not any(r.cached for r in first)
    again = SandboxPool(FAST, workers=2, cache=cache).run(programs)
    assert [r.outcome for r in again] == ["passed", "failed"] and all(r.cached for r in again)
    assert [r.duration_s for r in again] == [r.duration_s for r in first]  # the stored runs, not new ones
    other = SandboxPool(SandboxSettings(timeout_s=4, cpu_s=5), workers=2, cache=cache).run(programs[:1])
    assert not other[0].cached  # other limits: another key
    rows = cache._db.execute("SELECT kind, COUNT(*) FROM responses GROUP BY kind").fetchall()
    assert rows == [(CACHE_KIND, 3)]


def test_a_failing_bwrap_is_a_sandbox_error_and_not_cached(need_bwrap, tmp_path: Path, monkeypatch) -> None:
    real = bwrap.command
    monkeypatch.setattr(bwrap, "command", lambda *a, **k: [real(*a, **k)[0], "--no-such-option", *real(*a, **k)[1:]])
    cache = RequestCache(tmp_path / "requests.sqlite")
    results = SandboxPool(FAST, workers=2, cache=cache).run(["print(1)\n", "print(2)\n"])
    assert [r.outcome for r in results] == ["sandbox_error", "sandbox_error"]
    assert "did not start" in results[0].message and "no-such-option" in results[0].message
    assert cache.count() == 0


def test_without_bwrap_hyoka_refuses_unless_unsafe(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no bwrap on the PATH
    monkeypatch.setenv("HYOKA_TEST_API_KEY", "sk-unsafe-secret")
    unavailable_reason.cache_clear()
    try:
        with pytest.raises(SandboxUnavailable, match="refusing to execute model-written code.*--unsafe-exec"):
            SandboxPool(FAST).run(["print(1)\n"])
        results = SandboxPool(SandboxSettings(timeout_s=2, cpu_s=5), workers=2, unsafe=True).run(
            ["import os\nprint(os.environ.get('HYOKA_TEST_API_KEY'))\n", "import time\ntime.sleep(60)\n"]
        )
    finally:
        unavailable_reason.cache_clear()
    # unsafe still runs the harness with an empty environment, rlimits and a timeout
    assert results[0].outcome == "passed" and results[0].stdout_tail == "None\n"
    assert results[1].outcome == "timeout"


def test_settings_are_checked() -> None:
    with pytest.raises(ValueError, match="timeout_s"):
        SandboxSettings(timeout_s=0)


NOBODY_SCRIPT = """
import json
from hyoka.sandbox import SandboxPool, SandboxSettings
programs = ["import os\\nprint(os.getuid())", "import os\\nwhile True:\\n    os.fork()", "open('/usr/x', 'w')",
            "import socket\\nsocket.create_connection(('1.1.1.1', 80), timeout=1)", "assert 1 == 2"]
results = SandboxPool(SandboxSettings(timeout_s=5, cpu_s=3, max_procs=16), workers=4).run(programs)
print(json.dumps([[r.outcome, r.message] for r in results]))
"""


def test_unprivileged_users_get_the_user_namespace_sandbox(need_bwrap) -> None:
    """hyoka run by an ordinary user: bwrap without privileges, in a user namespace."""
    import os
    import shutil
    import subprocess

    if os.geteuid() != 0 or not shutil.which("setpriv") or not Path("/usr/bin/python3").exists():
        pytest.skip("needs root (to become nobody), setpriv and /usr/bin/python3")
    src = Path(__file__).resolve().parent.parent / "src"
    done = subprocess.run(
        ["setpriv", "--reuid", "65534", "--regid", "65534", "--clear-groups", "/usr/bin/python3", "-c", NOBODY_SCRIPT],
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(src)}, cwd="/", capture_output=True, text=True, timeout=60,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    outcomes = json.loads(done.stdout)
    assert [o for o, _ in outcomes] == ["passed", "error", "error", "error", "failed"]
    assert "BlockingIOError" in outcomes[1][1] and "Read-only" in outcomes[2][1] and "unreachable" in outcomes[3][1]


def test_a_run_that_says_nothing_about_the_program_is_run_once_more() -> None:
    # --unsafe-exec shares the host's files, so a program can tell its first run from its
    # second: the first exits 0 before its end report (what a lost report looks like).
    # A folder the harness's unprivileged uid may write to (as root it drops to one).
    folder = Path(tempfile.mkdtemp(prefix="hyoka-retry-"))
    folder.chmod(0o777)
    flag = folder / "ran-once"
    program = f"import os\nif not os.path.exists({str(flag)!r}):\n    open({str(flag)!r}, 'w').close()\n    os._exit(0)\n"
    [result] = SandboxPool(FAST, workers=1, unsafe=True).run([program])
    assert result.passed and result.attempts == 2
    assert result.first_attempt.startswith("error: exited with code 0 before the tests finished")
    shutil.rmtree(folder)
    [steady] = SandboxPool(FAST, workers=1, unsafe=True).run(["assert True\n"])
    assert steady.passed and steady.attempts == 1 and steady.first_attempt == ""


def test_a_report_pipe_closed_under_hyoka_is_a_sandbox_error_not_a_verdict(need_bwrap, monkeypatch) -> None:
    # another part of the process closes the parent's end of the report pipe and the number
    # is reused (a stray os.close): the missing end report must not count against the program
    from hyoka.sandbox import process

    created: list[int] = []
    real_pipe = os.pipe

    def recording_pipe() -> tuple[int, int]:
        pair = real_pipe()
        created.append(pair[0])
        return pair

    monkeypatch.setattr(process.os, "pipe", recording_pipe)
    results: list = []
    worker = threading.Thread(
        target=lambda: results.append(process.run_program("import time\ntime.sleep(1.5)\n", SandboxSettings(timeout_s=3, cpu_s=5)))
    )
    worker.start()
    deadline = time.monotonic() + 5
    while not created and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.5)
    status_r = created[0]
    os.close(status_r)
    r, w = real_pipe()  # takes the freed number (the lowest free one): the program's report goes nowhere we read
    worker.join()
    os.close(w)
    if r != status_r:
        os.close(r)  # run_program closed status_r's number, which is ours only when it was reused
    [result] = results
    assert result.outcome == "sandbox_error"
    assert "report pipe" in result.message
