"""`python -m hyoka.models.server_guard ARGV...`: run a managed server so that it dies with hyoka.

hyoka starts this guard as the leader of a new process group, holding the write end of the
guard's stdin. When hyoka exits in any way — `kill -9` included — the kernel closes that pipe,
the guard reads EOF and SIGKILLs its whole group: the server and every worker the server
started (vLLM's engine processes), within milliseconds. The server itself also gets
PR_SET_PDEATHSIG(SIGKILL) against the guard, in case the guard is killed first.

A normal stop is hyoka's SIGTERM to the group: the guard ignores it and waits for the server's
own graceful exit, so the stop grace period still applies.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading


def die_with_parent(sig: int = signal.SIGKILL) -> None:
    """In a child before exec: the kernel sends `sig` when the parent dies (Linux only).
    Also gives back the default SIGTERM/SIGINT handling the guard switched off for itself."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, int(sig))  # PR_SET_PDEATHSIG
    except OSError:
        pass


def _kill_group_on_eof() -> None:
    # the raw descriptor, not sys.stdin: a daemon thread inside a buffered read makes the
    # interpreter abort at exit
    try:
        while os.read(0, 4096):
            pass
    except OSError:
        pass
    os.killpg(os.getpgrp(), signal.SIGKILL)  # hyoka is gone: the server and its workers go too


def main(argv: list[str]) -> int:
    if not argv:
        print("usage: python -m hyoka.models.server_guard COMMAND [ARGS...]", file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # the group's SIGTERM is for the server
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    child = subprocess.Popen(argv, stdin=subprocess.DEVNULL, preexec_fn=die_with_parent)
    threading.Thread(target=_kill_group_on_eof, daemon=True).start()
    code = child.wait()
    return code if code >= 0 else 128 - code


if __name__ == "__main__":
    status = main(sys.argv[1:])
    sys.stdout.flush()
    os._exit(status)  # no interpreter teardown while the watcher thread blocks in read()
