"""Serve one live workshop to the whole room: ``serve(workshop)`` runs Solara's server in this process.

One process holds the one :class:`~coprod.workshop.engine.Workshop`; it is put in
:mod:`coprod.workshop.pages.live` before the server loads the app (:mod:`coprod.workshop.pages.app`), so
every browser session of the server (each participant's, the facilitator's, the projector's) reads and
changes the same object. Nothing is shared through files while it runs; the engine writes its record to its
SQLite file as it goes.

As ``coprod dashboard`` does (``dashboards/serve.py``), the process's address space is capped
(``COPROD_DASHBOARD_MEMORY_MB``, default 8 GiB, 0 for none) and the websocket frame guard
(``dashboards/guard.py``) is installed before Solara's server module is imported.

``python -m coprod.workshop.serve --db FILE [--workshop ID] [--host H] [--port P]`` resumes a stored workshop
(``Workshop.resume``) and serves it; it prints the facilitator's address (a resumed workshop gets a new
facilitator token) and the join code. The browser tests start the server this way.
"""

from __future__ import annotations

import argparse
import sys
import threading

# The Solara app, named from this package whatever it is imported as (coprod.workshop or workshop).
APP = f"{__package__ or 'coprod.workshop'}.pages.app"


def solara_arguments(host: str, port: int) -> list[str]:
    """``solara run``'s command line for the workshop app."""
    return ["run", APP, "--host", host, "--port", str(port), "--no-open", "--production"]


def addresses(workshop, host: str, port: int) -> dict[str, str]:
    """The pages' addresses: join, facilitator (with its token: keep it to yourself) and projector."""
    base = f"http://{host}:{port}"
    return {
        "join": f"{base}/",
        "facilitator": f"{base}/facilitator?token={workshop.facilitator_token}",
        "projector": f"{base}/projector",
    }


def serve(workshop, host: str = "127.0.0.1", port: int = 8765, *, ceiling_mb: int | None = None) -> None:
    """Serve ``workshop`` at ``http://host:port/`` until interrupted (Ctrl+C); blocks.

    ``ceiling_mb``: the address-space ceiling in MiB (0: none); None reads ``COPROD_DASHBOARD_MEMORY_MB``
    (default 8 GiB); a bad value there raises ValueError before anything starts."""
    from coprod.dashboards import guard
    from coprod.dashboards.serve import limit_memory, memory_ceiling_mb

    from .pages import live

    if not 0 < int(port) < 65536:
        raise ValueError(f"the port must be from 1 to 65535 (got {port})")
    ceiling = memory_ceiling_mb() if ceiling_mb is None else ceiling_mb
    live.set_workshop(workshop)
    where = addresses(workshop, host, port)
    print(
        f"Workshop {workshop.id}: join code {workshop.join_code}\n"
        f"  participants: {where['join']}\n"
        f"  projector:    {where['projector']}\n"
        f"  facilitator:  {where['facilitator']}  (keep this address to yourself)",
        flush=True,
    )
    limit_memory(ceiling)
    guard.install()
    from solara.__main__ import cli

    stop = threading.Event()
    live.keep_time(stop)  # rounds close at their time limit with or without a facilitator's page open
    try:
        cli.main(args=solara_arguments(host, int(port)), prog_name="solara", standalone_mode=False)
    finally:
        stop.set()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m coprod.workshop.serve", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--db", required=True, help="the workshop's SQLite file")
    parser.add_argument("--workshop", default=None, help="the workshop's id (default: the file's only one)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args(argv)
    from .engine import Workshop, WorkshopError

    try:
        workshop = Workshop.resume(args.db, args.workshop)
    except WorkshopError as problem:
        print(f"workshop: {problem}", file=sys.stderr)
        return 2
    try:
        serve(workshop, args.host, args.port)
    except ValueError as problem:
        print(f"workshop: {problem}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
