"""The bubblewrap command line, and whether bubblewrap can run here at all.

Two modes, chosen by who runs hyoka:
- as root, bwrap is privileged: it builds the sandbox with every capability dropped except
  CAP_SETUID/CAP_SETGID, and the harness immediately becomes an unprivileged uid of its
  own (one per worker slot, so RLIMIT_NPROC counts each sandbox separately; root would
  be exempt from it) with no_new_privs set.
- as any other user, bwrap runs unprivileged in a new user namespace, where the
  process count of RLIMIT_NPROC is per namespace.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

#: first host uid used for sandboxed programs when hyoka runs as root (one per worker slot)
SANDBOX_UID_BASE = 1_000_000_000
#: system files a Python program may need; nothing else from /etc is visible
ETC_FILES = ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "localtime")


@dataclass(frozen=True)
class Interpreter:
    executable: str
    prefix: str  # bound read-only when it is outside /usr

    def argv(self) -> list[str]:
        # -I: no environment variables, no user site, no script folder on sys.path;
        # -S: no site-packages either (the standard library only, and half the start-up time)
        return [self.executable, "-I", "-S"]


def host_interpreter() -> Interpreter:
    """The interpreter hyoka runs on, without its virtualenv (the sandbox sees stdlib only)."""
    base = getattr(sys, "_base_executable", sys.executable)
    return Interpreter(os.path.realpath(base), os.path.realpath(sys.base_prefix))


def is_root() -> bool:
    return os.geteuid() == 0


def _system_binds() -> list[str]:
    args = ["--ro-bind", "/usr", "/usr"]
    for name in ("bin", "sbin", "lib", "lib64", "lib32", "libx32"):
        path = Path("/") / name
        if path.is_symlink():
            args += ["--symlink", os.readlink(path), str(path)]
        elif path.is_dir():
            args += ["--ro-bind", str(path), str(path)]
    args += ["--perms", "0755", "--dir", "/etc"]  # bwrap would create it 0700: unreadable after dropping root
    for name in ETC_FILES:
        args += ["--ro-bind-try", f"/etc/{name}", f"/etc/{name}"]
    return args


def command(interpreter: Interpreter, *, tmp_mb: int, harness: str, config: str, info_fd: int | None = None) -> list[str]:
    """argv for one sandboxed harness; bwrap writes the namespace init's pid to `info_fd`."""
    bwrap = shutil.which("bwrap") or "bwrap"
    args = [bwrap, *_system_binds()]
    if info_fd is not None:
        args += ["--info-fd", str(info_fd)]
    if not interpreter.prefix.startswith("/usr/"):
        # bwrap copies the host's modes for the parent folders (/root is 0700): open them up
        # so the unprivileged program can reach the interpreter's standard library
        for parent in reversed(Path(interpreter.prefix).parents[:-1]):
            args += ["--perms", "0755", "--dir", str(parent)]
        args += ["--ro-bind", interpreter.prefix, interpreter.prefix]
    args += [
        "--proc", "/proc",
        "--dev", "/dev",
        "--perms", "1777", "--size", str(tmp_mb * 1024 * 1024), "--tmpfs", "/tmp",
        "--remount-ro", "/",
        "--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try",
        "--hostname", "sandbox",
        "--die-with-parent", "--new-session",
        "--clearenv", "--setenv", "PATH", "/usr/bin:/bin", "--setenv", "LANG", "C.UTF-8",
        "--chdir", "/tmp",
    ]
    if is_root():
        args += ["--cap-drop", "ALL", "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
    else:
        args += ["--unshare-user", "--disable-userns"]
    args += ["--", *interpreter.argv(), "-c", harness, config]
    return args


def sandbox_uid(slot: int) -> tuple[int, int] | None:
    """(uid, gid) the harness switches to in root mode; None when hyoka is not root."""
    return (SANDBOX_UID_BASE + slot, SANDBOX_UID_BASE + slot) if is_root() else None


@functools.lru_cache(maxsize=1)
def unavailable_reason() -> str | None:
    """Why bubblewrap cannot run here (None when it can): checked once per process."""
    if shutil.which("bwrap") is None:
        return "bubblewrap (bwrap) is not installed (Debian/Ubuntu: apt-get install bubblewrap)"
    interp = host_interpreter()
    probe = command(interp, tmp_mb=1, harness="print('ok')", config="")
    try:
        done = subprocess.run(probe, capture_output=True, text=True, timeout=30, env={}, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"bubblewrap failed to start ({exc})"
    if done.returncode != 0 or done.stdout.strip() != "ok":
        detail = (done.stderr.strip().splitlines() or [f"exit code {done.returncode}"])[-1]
        return f"bubblewrap cannot create a sandbox here ({detail})"
    return None
