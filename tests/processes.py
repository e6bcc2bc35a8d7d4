"""Real `flask --app wsgi ...` processes for tests: started as CI starts them, always killed afterwards.

A pytest-xdist worker runs with SIGINT ignored, and a child inherits that; `ignore_sigint` makes
every run look like that one, so a command that only stops on Python's default KeyboardInterrupt fails here.
Waits are bounded and poll for an event (a line in the log, a file), never for a length of time.
"""
from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _ignore_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def start(env: dict[str, str], log: Path, *args: str, ignore_sigint: bool = True) -> subprocess.Popen:
    out = log.open("ab")
    return subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", *args], cwd=ROOT, env=env,
                            stdout=out, stderr=subprocess.STDOUT, preexec_fn=_ignore_sigint if ignore_sigint else None)


def wait_until(condition: Callable[[], object], timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def wait_for_line(log: Path, text: str, timeout: float = 60, process: subprocess.Popen | None = None) -> None:
    def seen() -> bool:
        if process is not None and process.poll() is not None:
            raise AssertionError(f"process exited ({process.returncode}) before {text!r}:\n{log.read_text()}")
        return log.exists() and text in log.read_text()
    wait_until(seen, timeout, f"{text!r} in {log.name}")


def kill(*processes: subprocess.Popen) -> None:
    """For a `finally`: whatever happened, no process outlives its test."""
    for process in processes:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=30)
