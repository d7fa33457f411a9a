"""A server subprocess on a free loopback port, for the browser benchmarks and the browser tests.

``serving(command, log_path)`` starts ``command`` (``{port}`` in it replaced by a free port) from the
repository root in its own process group (``coprod dashboard`` runs Solara as a child process, so stopping
only the first process would leave the server behind), writes its output to ``log_path``, waits until
``http://127.0.0.1:PORT/`` answers 200, and at the end stops the whole group (SIGTERM, then SIGKILL after
15 s). A server that exits or does not answer within ``start_seconds`` is stopped and reported through
``fail`` (RuntimeError by default; the tests pass ``pytest.fail``) with the end of its log.

``serving_workshop(db, workshop_id, log_path)`` does that for ``python -m coprod.workshop.serve`` (a workshop
stored in ``db``), and also reads the facilitator's address and the join code the server prints.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

from benchmarks.common import ROOT

START_SECONDS = 90
LOG_TAIL = 3000  # characters of the log a failure message quotes


def free_port() -> int:
    """A loopback port nobody listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    url: str  # http://127.0.0.1:PORT/
    process: subprocess.Popen
    log: Path

    @property
    def base(self) -> str:
        """The address without the trailing slash."""
        return self.url.rstrip("/")


def _raise(message: str) -> NoReturn:
    raise RuntimeError(message)


def stop(process: subprocess.Popen) -> None:
    """Stop ``process``'s whole process group: SIGTERM, then SIGKILL if it is still there after 15 s."""
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=15)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=15)


@contextlib.contextmanager
def serving(
    command: Sequence[str],
    log_path: Path,
    *,
    env: dict[str, str] | None = None,
    what: str = "the server",
    start_seconds: float = START_SECONDS,
    fail: Callable[[str], NoReturn] = _raise,
) -> Iterator[Server]:
    """``command`` (each ``{port}`` in it replaced by a free port) serving on that port until the block ends.

    ``env`` is added to this process's environment; ``what`` names the server in the failure message
    ("``what`` did not start:" and the end of the log)."""
    port = free_port()
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [part.replace("{port}", str(port)) for part in command],
            cwd=ROOT,
            env={**os.environ, **(env or {})},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, stopped as one
        )
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + start_seconds
        while True:
            try:
                with urllib.request.urlopen(url, timeout=5) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                fail(f"{what} did not start:\n{log_path.read_text(errors='replace')[-LOG_TAIL:]}")
            time.sleep(0.3)
        yield Server(url, process, log_path)
    finally:
        stop(process)


@contextlib.contextmanager
def serving_workshop(
    db: Path,
    workshop_id: str,
    log_path: Path,
    *,
    start_seconds: float = START_SECONDS,
    fail: Callable[[str], NoReturn] = _raise,
) -> Iterator[tuple[Server, str, str]]:
    """The stored workshop ``workshop_id`` of ``db`` served by ``python -m coprod.workshop.serve`` (as the
    browser tests and the workshop benchmark start it): (server, facilitator's address, join code)."""
    command = [sys.executable, "-m", "coprod.workshop.serve", "--db", str(db), "--workshop", workshop_id]
    with serving(
        [*command, "--port", "{port}"],
        log_path,
        what="the workshop server",
        start_seconds=start_seconds,
        fail=fail,
    ) as running:
        printed = log_path.read_text(errors="replace")
        facilitator = re.search(r"facilitator:\s+(\S+)", printed)
        code = re.search(r"join code (\w+)", printed)
        if facilitator is None or code is None:
            fail(f"the workshop server printed no facilitator address or join code:\n{printed[-LOG_TAIL:]}")
        yield running, facilitator.group(1), code.group(1)
