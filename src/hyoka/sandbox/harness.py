# hyoka-sandbox-harness
"""Runs INSIDE the sandbox (`python -I -S -c <this file> key=value,...`); imports nothing from hyoka.

It reads "<nonce>\\n<program>" from stdin, drops privileges when it starts as root, sets
the rlimits, executes the program in this process and reports on the status fd, one Python
dict literal per line: {'event': 'start'} once set up, then {'event': 'end', 'outcome': ...,
'nonce': ...}. The parent trusts only an end report carrying the nonce from the harness's own
pid, so a program that exits early (os._exit(0), sys.exit) or a forked child is never
counted as passed.

Start-up time is most of a short program's cost, so the harness imports only os, sys and
resource up front (no json, re or traceback unless the program fails).
"""

import os
import resource
import sys

PROGRAM = "program.py"


def _write(fd, event):
    event["pid"] = os.getpid()  # a forked child of the program reports with another pid: ignored
    try:
        os.write(fd, (repr(event) + "\n").encode("utf-8", "backslashreplace"))
    except OSError:
        pass


def _drop_root(uid, gid):
    # root with CAP_SETUID only (bwrap --cap-drop ALL --cap-add ...): become an unprivileged
    # uid of our own, so RLIMIT_NPROC applies (root is exempt) and no capability is left.
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(38, 1, 0, 0, 0) != 0:  # PR_SET_NO_NEW_PRIVS: setuid binaries cannot give root back
        raise OSError("prctl(PR_SET_NO_NEW_PRIVS) failed")
    os.setgroups([])
    os.setgid(gid)
    os.setuid(uid)
    with open("/proc/self/status") as f:
        caps = [line.split()[1] for line in f if line.startswith(("CapEff", "CapPrm"))]
    if any(int(c, 16) for c in caps) or os.getuid() == 0:
        raise OSError(f"capabilities left after dropping root: {caps}")


def _limits(cfg):
    mib = 1024 * 1024
    for name, soft, hard in (
        ("RLIMIT_CPU", cfg["cpu_s"], cfg["cpu_s"] + 1),
        ("RLIMIT_AS", cfg["memory_mb"] * mib, cfg["memory_mb"] * mib),
        ("RLIMIT_NPROC", cfg["max_procs"], cfg["max_procs"]),
        ("RLIMIT_FSIZE", cfg["max_file_mb"] * mib, cfg["max_file_mb"] * mib),
        ("RLIMIT_NOFILE", cfg["max_open_files"], cfg["max_open_files"]),
        ("RLIMIT_CORE", 0, 0),
    ):
        resource.setrlimit(getattr(resource, name), (soft, hard))


def _where(exc, source):
    """(line number, source line) of the innermost frame in the program."""
    import linecache
    import traceback

    linecache.cache[PROGRAM] = (len(source), None, source.splitlines(True), PROGRAM)
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename == PROGRAM]
    if isinstance(exc, SyntaxError) and exc.filename == PROGRAM:
        return exc.lineno, (exc.text or "").strip()
    if not frames:
        return None, ""
    return frames[-1].lineno, (frames[-1].line or "").strip()


def _describe(exc):
    text = str(exc).strip().splitlines()
    name = type(exc).__name__
    return f"{name}: {text[0][:300]}" if text else name


def _config(text):
    cfg = {}
    for item in text.split(","):
        if item:
            key, _, value = item.partition("=")
            cfg[key] = int(value)
    return cfg


def main():
    cfg = _config(sys.argv[1])
    fd = cfg["status_fd"]
    data = sys.stdin.buffer.read()
    nonce, _, source = data.partition(b"\n")
    nonce = nonce.decode()
    source = source.decode("utf-8", "replace")
    try:
        if os.getuid() == 0 and cfg.get("uid") is not None:
            _drop_root(cfg["uid"], cfg["gid"])
        _limits(cfg)
        os.chdir("/tmp")
        sys.stdin = open(os.devnull)
    except BaseException as exc:  # the sandbox is not as promised: never run the program
        _write(fd, {"event": "setup_failed", "message": _describe(exc)})
        os._exit(3)
    _write(fd, {"event": "start"})
    namespace = {"__name__": "__main__", "__builtins__": __builtins__}
    del data, cfg
    try:
        exec(compile(source, PROGRAM, "exec"), namespace)
    except BaseException as exc:  # noqa: BLE001 - every way out of the program is an outcome
        namespace.clear()  # give back what the program held (a memory bomb) before reporting
        outcome = "failed" if isinstance(exc, AssertionError) else "error"
        try:
            message = _describe(exc)
        except BaseException:  # noqa: BLE001 - an exception whose str() fails
            message = type(exc).__name__
        try:
            lineno, line = _where(exc, source)
        except BaseException:  # noqa: BLE001 - the report matters more than the line
            lineno, line = None, ""
        _write(fd, {"event": "end", "outcome": outcome, "message": message, "line": line,
                    "line_number": lineno, "nonce": nonce})
        try:
            import traceback

            traceback.print_exc()
            sys.stdout.flush()
            sys.stderr.flush()
        except BaseException:  # noqa: BLE001
            pass
        os._exit(1)
    try:
        sys.stdout.flush()
    except BaseException:  # noqa: BLE001
        pass
    _write(fd, {"event": "end", "outcome": "passed", "nonce": nonce})
    os._exit(0)


main()
