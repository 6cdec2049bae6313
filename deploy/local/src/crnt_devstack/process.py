"""Detached background processes with pid files: start, find, stop."""

import contextlib
import os
import signal
import subprocess
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path

TAIL_LINES = 20


def tail(path: Path, lines: int = TAIL_LINES) -> str:
    """The last lines of a log file, or a note that it does not exist."""
    try:
        with path.open(encoding="utf-8", errors="replace") as log:
            return "".join(deque(log, maxlen=lines)).rstrip("\n")
    except FileNotFoundError:
        return f"({path} does not exist)"


def read_pid(pid_file: Path) -> int | None:
    try:
        text = pid_file.read_text(encoding="utf-8").split()
    except FileNotFoundError:
        return None
    return int(text[0]) if text and text[0].isdigit() else None


def pid_alive(pid: int, cmdline_marker: str | None = None) -> bool:
    """Whether ``pid`` runs (zombies count as dead) and, if given, its command line holds
    ``cmdline_marker``, so that a recycled pid is not taken for ours."""
    proc = Path(f"/proc/{pid}")
    try:
        stat = (proc / "stat").read_text(encoding="utf-8")
        cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except (FileNotFoundError, ProcessLookupError):
        return False
    state = stat.rsplit(")", 1)[-1].split()[0]
    if state in ("Z", "X"):
        return False
    return cmdline_marker is None or cmdline_marker in cmdline


def running_pid(pid_file: Path, cmdline_marker: str) -> int | None:
    """The pid recorded in ``pid_file`` if that process still runs, else None."""
    pid = read_pid(pid_file)
    if pid is not None and pid_alive(pid, cmdline_marker):
        return pid
    return None


def spawn_detached(
    argv: list[str],
    *,
    log_path: Path,
    pid_file: Path,
    cwd: Path,
    env: dict[str, str] | None = None,
) -> "subprocess.Popen[bytes]":
    """Start ``argv`` in a new session, with its output in ``log_path`` (emptied first, so that
    it tells about this run), so that it outlives this process and the terminal; record its pid
    in ``pid_file``."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("wb") as log:
        child = subprocess.Popen(  # noqa: S603 - argv is built by this package
            argv,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            close_fds=True,
        )
    pid_file.write_text(f"{child.pid}\n", encoding="utf-8")
    return child


def terminate(pid: int, timeout: float = 30.0) -> bool:
    """SIGTERM ``pid``, wait up to ``timeout`` seconds, then SIGKILL it.

    Returns True when it stopped on SIGTERM, False when it had to be killed.
    """
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return True
    if _wait_gone(pid, timeout):
        return True
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return True
    _wait_gone(pid, 10.0)
    return False


def stop_detached(name: str, pid: int | None, pid_file: Path, timeout: float) -> None:
    """Stop a component :func:`spawn_detached` started (SIGTERM, SIGKILL after ``timeout``)
    and forget its pid file, saying so on stdout."""
    if pid is None:
        print(f"{name}: not running")
    else:
        print(f"{name}: stopping pid {pid} ...", flush=True)
        clean = terminate(pid, timeout)
        print(f"{name}: stopped" if clean else f"{name}: killed after {timeout:.0f} s")
    pid_file.unlink(missing_ok=True)


def _wait_gone(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        _reap(pid)
        if not pid_alive(pid):
            return True
        time.sleep(0.1)
    return False


def _reap(pid: int) -> None:
    """Collect ``pid``'s exit status if it is our own child (as in a test that started it)."""
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


@dataclass(frozen=True)
class ComponentStatus:
    """One line of ``crnt-stack status``."""

    name: str
    pid: int | None
    address: str
    note: str = ""

    @property
    def running(self) -> bool:
        return self.pid is not None

    def line(self) -> str:
        state = f"running  pid {self.pid:<7}" if self.pid is not None else "stopped  " + " " * 11
        text = f"{self.name:<14} {state} {self.address}"
        return f"{text}  ({self.note})" if self.note else text
