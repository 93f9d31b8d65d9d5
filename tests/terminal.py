"""Run the command line in a real pseudo-terminal of a given size, as a user's terminal runs it."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import struct
import subprocess
import sys
import termios
import time

ESCAPE = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07")
BOX_DRAWING = re.compile(r"[\u2500-\u257f]")  # ─ │ ┃ ━ ╭ ╰ ... (rich's tables and panels)


def run_in_terminal(args: list[str], columns: int, env: dict[str, str] | None = None, timeout: float = 60) -> str:
    """stdout and stderr of `python -m cnncalc ARGS` in a pseudo-terminal `columns` wide, escapes kept."""
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 50, columns, 0, 0))
    environment = {key: value for key, value in os.environ.items() if key not in ("COLUMNS", "LINES", "NO_COLOR")}
    environment.update({"TERM": "xterm-256color", "PYTHONDONTWRITEBYTECODE": "1"})
    environment.pop("FORCE_COLOR", None)
    environment.update(env or {})
    process = subprocess.Popen(
        [sys.executable, "-m", "cnncalc", *args],
        stdin=follower,
        stdout=follower,
        stderr=follower,
        env=environment,
        close_fds=True,
    )
    os.close(follower)
    output = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([leader], [], [], 0.1)
        if ready:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # the follower side closed: the process has ended
                break
            if not chunk:
                break
            output += chunk
        elif process.poll() is not None:
            break
    else:
        process.kill()
        raise TimeoutError(f"cnncalc {' '.join(args)} did not end within {timeout} s")
    process.wait()
    os.close(leader)
    return output.decode("utf-8", errors="replace").replace("\r\n", "\n")


def without_escapes(text: str) -> str:
    return ESCAPE.sub("", text)
