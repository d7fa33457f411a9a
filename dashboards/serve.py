"""``coprod dashboard``: serve the workshop dashboard with ``solara run`` on this machine."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

APP = Path(__file__).resolve().with_name("app.py")


def command(host: str, port: int) -> list[str]:
    """The ``solara run`` command line: the app found next to this file, whatever the current folder."""
    return [
        sys.executable,
        "-m",
        "solara",
        "run",
        str(APP),
        "--host",
        host,
        "--port",
        str(port),
        "--no-open",
        "--production",
    ]


def main_dashboard(args) -> int:
    host, port = getattr(args, "host", "127.0.0.1"), int(args.port)
    if not 0 < port < 65536:
        print(f"dashboard: --port must be from 1 to 65535 (got {port})", file=sys.stderr)
        return 2
    print(f"Serving the workshop dashboard at http://{host}:{port}/ (Ctrl+C stops it)", flush=True)
    try:
        return subprocess.call(command(host, port))
    except KeyboardInterrupt:
        return 130
