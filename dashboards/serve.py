"""``coprod dashboard``: serve the workshop dashboard with ``solara run`` on this machine.

The server is a process of its own, started as ``python -m coprod.dashboards.serve --memory-ceiling-mb N run
app.py ...``: run as a module, this file caps the process's address space at N MiB (``RLIMIT_AS``), puts
the websocket frame guard (``dashboards/guard.py``) in place before Solara's server module is imported, and
hands the rest of the command line to Solara's own ``solara run``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

APP = Path(__file__).resolve().with_name("app.py")

# The dashboard server's address-space ceiling, in MiB. Measured here (2 cores): 0.62 GiB just started,
# 1.6 GiB (0.44 GiB resident) with 8 browser sessions each playing the largest city the page allows
# (20,000 residents); each session adds about 0.1 GiB, mostly the malloc arena that glibc reserves for
# its thread (64 MiB each, up to 8 per core). 8 GiB leaves five times that, and more cores, while a
# request that asks for more (the 15 GB that one 1000-byte websocket frame used to cost) fails with a
# MemoryError inside the server instead of taking the machine's memory.
MEMORY_CEILING_MB = 8 * 1024
# Another ceiling, in MiB, or 0 for none; below MEMORY_FLOOR_MB the server cannot start.
MEMORY_VARIABLE = "COPROD_DASHBOARD_MEMORY_MB"
MEMORY_FLOOR_MB = 1024
CEILING_OPTION = "--memory-ceiling-mb"


def memory_ceiling_mb(environ=os.environ) -> int:
    """The ceiling in MiB (0: none) from ``COPROD_DASHBOARD_MEMORY_MB``, else the default; ValueError
    with a message for a value that is not a whole number, 0, or at least MEMORY_FLOOR_MB."""
    given = environ.get(MEMORY_VARIABLE, "").strip()
    if not given:
        return MEMORY_CEILING_MB
    try:
        mb = int(given)
    except ValueError:
        mb = -1
    if mb != 0 and mb < MEMORY_FLOOR_MB:
        raise ValueError(
            f"{MEMORY_VARIABLE} must be a whole number of MiB, at least {MEMORY_FLOOR_MB}, or 0 for no "
            f"ceiling (got {given!r})"
        )
    return mb


def command(host: str, port: int, ceiling_mb: int = MEMORY_CEILING_MB) -> list[str]:
    """The server's command line (this module, then ``solara run``'s arguments): the app found next to
    this file, whatever the current folder."""
    return [
        sys.executable,
        "-m",
        "coprod.dashboards.serve",
        CEILING_OPTION,
        str(ceiling_mb),
        "run",
        str(APP),
        "--host",
        host,
        "--port",
        str(port),
        "--no-open",
        "--production",
    ]


def _describe(ceiling_mb: int) -> str:
    return "no memory ceiling" if ceiling_mb == 0 else f"memory ceiling {ceiling_mb / 1024:g} GiB"


def main_dashboard(args) -> int:
    host, port = getattr(args, "host", "127.0.0.1"), int(args.port)
    if not 0 < port < 65536:
        print(f"dashboard: --port must be from 1 to 65535 (got {port})", file=sys.stderr)
        return 2
    try:
        ceiling_mb = memory_ceiling_mb()
    except ValueError as problem:
        print(f"dashboard: {problem}", file=sys.stderr)
        return 2
    print(
        f"Serving the workshop dashboard at http://{host}:{port}/ ({_describe(ceiling_mb)}; Ctrl+C stops it)",
        flush=True,
    )
    try:
        return subprocess.call(command(host, port, ceiling_mb))
    except KeyboardInterrupt:
        return 130


def limit_memory(ceiling_mb: int) -> None:
    """Cap this process's address space (soft and hard limit) at ``ceiling_mb`` MiB; 0 leaves it alone."""
    if ceiling_mb == 0:
        return
    try:
        import resource
    except ImportError:  # not a POSIX system: no ceiling to set
        print("dashboard: this system cannot cap the server's memory; serving without a ceiling", flush=True)
        return
    ceiling = ceiling_mb * 1024 * 1024
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        ceiling = min(ceiling, hard)
    resource.setrlimit(resource.RLIMIT_AS, (ceiling, ceiling))


def _serve(argv: list[str]) -> None:
    """The server process: the ceiling, the guard, then ``solara`` with the rest of ``argv``."""
    if len(argv) < 2 or argv[0] != CEILING_OPTION:
        sys.exit(
            f"usage: python -m coprod.dashboards.serve {CEILING_OPTION} MIB run APP [solara run options]"
        )
    limit_memory(int(argv[1]))
    from coprod.dashboards import guard
    from solara.__main__ import main as solara_main

    guard.install()
    sys.argv = ["solara", *argv[2:]]
    solara_main()


if __name__ == "__main__":
    _serve(sys.argv[1:])
