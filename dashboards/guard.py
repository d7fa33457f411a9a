"""Guard Solara's binary websocket decoder against frames whose header lies about their size.

A browser sends kernel messages over the websocket ``/jupyter/api/kernels/<id>/channels`` either as text
(JSON) or as one binary frame in the Jupyter layout that Solara 1.64.1 decodes in
``solara.server.kernel.deserialize_binary_message``::

    4 bytes      n, the number of parts (signed 32-bit, big-endian): the JSON message, then its buffers
    4 * n bytes  the offset of each part from the start of the frame (unsigned 32-bit, big-endian)
    the parts    part i runs from offset i to offset i + 1 (the last one to the end of the frame)

Solara reads n and then calls ``struct.unpack("!" + "I" * n, ...)`` without checking n against the frame:
Python compiles that format into one 32-byte code per letter and keeps the compiled format in its struct
cache (up to 100 of them) even when the unpack then fails. So the 4-byte frame ``04 00 00 00`` (n = 64 Mi)
left the server holding 2.3 GB for good, and a random 1000-byte frame (n up to 2 Gi) tried for up to 64 GB.
No login is needed to open that websocket.

:func:`check_frame` reads the header with constant-size formats and refuses a frame unless n is from 1 to
:data:`MAX_BUFFERS`, the n offsets fit in the frame, and they run in order from the end of the header to
the end of the frame. :func:`install` puts :func:`guarded_decode` (the check, then Solara's own decoder)
in Solara's place. A refused frame is never decoded: it is logged in one line and the connection is closed
(the decoder raises :class:`BadFrame`, which ends Solara's receive loop as any undecodable message does;
uvicorn's traceback for it is left out of the log, the one line says it all).

``coprod dashboard`` installs the guard before Solara's server module is imported (``dashboards/serve.py``
runs as the server process), and ``dashboards/app.py`` installs it again, so that ``solara run
dashboards/app.py`` started by hand is guarded too: Solara runs the app at start-up, before it listens.
"""

from __future__ import annotations

import logging
import struct
import sys

import solara
import solara.server.kernel as solara_kernel

# The exact function this module guards: importing the guard fails loudly (and so do the tests) if a
# Solara upgrade renames or moves it; then read the new decoder before moving the guard along.
SOLARA_DECODER = "solara.server.kernel.deserialize_binary_message"
# The module whose receive loop calls the decoder by a name bound at its import (``from .kernel import``).
SOLARA_SERVER = "solara.server.server"
_original = getattr(solara_kernel, "deserialize_binary_message", None)
if not callable(_original):
    raise ImportError(
        f"solara {solara.__version__} has no {SOLARA_DECODER}: the dashboard's websocket guard "
        "(dashboards/guard.py) was written for solara 1.64.1; read the new decoder and update the guard"
    )
DECODE = getattr(_original, "__wrapped__", _original)  # Solara's own decoder, even if installed already

# At most this many parts in one frame. The browser sends a message and a few binary buffers (widget
# state); 4096 is far above that. Solara compiles a 32-byte code per part, and Python keeps up to 100 formats,
# so a frame that is consistent but claims millions of empty parts (the websocket allows 16 MiB frames,
# so up to 4 Mi parts, 130 MB each) would still fill memory; at 4096 the whole cache stays under 14 MB.
MAX_BUFFERS = 4096
_COUNT = struct.Struct("!i")

logger = logging.getLogger("coprod.dashboard.guard")


class BadFrame(ValueError):
    """A binary websocket frame whose header does not fit the frame: refused, never decoded."""


def check_frame(frame: bytes | bytearray | memoryview) -> None:
    """Raise :class:`BadFrame` unless ``frame``'s header (part count, then offsets) fits the frame."""
    size = len(frame)
    if size < _COUNT.size:
        raise BadFrame(f"{size} bytes, shorter than the 4-byte part count")
    (count,) = _COUNT.unpack_from(frame)
    if count < 1:
        raise BadFrame(f"part count {count}: a message has at least its JSON part")
    if count > MAX_BUFFERS:
        raise BadFrame(f"part count {count} is over the {MAX_BUFFERS} allowed")
    header = 4 * (count + 1)
    if header > size:
        raise BadFrame(f"part count {count} needs a {header}-byte header, the frame has {size} bytes")
    previous = header
    # one code with a repeat count: its size does not grow with ``count``
    for i, offset in enumerate(struct.unpack_from(f"!{count}I", frame, 4)):
        if not previous <= offset <= size:
            raise BadFrame(f"offset {i} is {offset}, outside {previous}..{size} (in order, within the frame)")
        previous = offset


def guarded_decode(frame):
    """Solara's binary message decoder, after :func:`check_frame`; a refused frame is logged in one line."""
    try:
        check_frame(frame)
    except BadFrame as refused:
        logger.warning("dashboard: refused a binary websocket frame and closed its connection: %s", refused)
        raise
    return DECODE(frame)


guarded_decode.__wrapped__ = DECODE  # Solara's decoder, found again by a second import of this module


def _has_bad_frame(error: BaseException | None, seen: set[int] | None = None) -> bool:
    """Whether ``error``, the exceptions it groups or its causes include a :class:`BadFrame`."""
    seen = set() if seen is None else seen
    if error is None or id(error) in seen:
        return False
    seen.add(id(error))
    if isinstance(error, BadFrame):
        return True
    grouped = error.exceptions if isinstance(error, BaseExceptionGroup) else ()
    return any(_has_bad_frame(e, seen) for e in (*grouped, error.__cause__, error.__context__))


class _QuietBadFrames(logging.Filter):
    """Leave out uvicorn's "Exception in ASGI application" traceback for a refused frame (already logged)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and _has_bad_frame(record.exc_info[1]))


_QUIET = _QuietBadFrames()


def install() -> None:
    """Put :func:`guarded_decode` in Solara's place; safe to call more than once.

    Before ``solara.server.server`` is imported, patching the kernel module is enough (the server module
    binds the name at its import); after, its bound name is replaced as well.
    """
    solara_kernel.deserialize_binary_message = guarded_decode
    server = sys.modules.get(SOLARA_SERVER)
    if server is not None:
        if not hasattr(server, "deserialize_binary_message"):
            raise RuntimeError(
                f"solara {solara.__version__}: {SOLARA_SERVER} no longer calls deserialize_binary_message; "
                "read its receive loop and update dashboards/guard.py"
            )
        server.deserialize_binary_message = guarded_decode
    uvicorn_errors = logging.getLogger("uvicorn.error")
    if _QUIET not in uvicorn_errors.filters:
        uvicorn_errors.addFilter(_QUIET)


def installed() -> bool:
    """Whether Solara's receive loop (and the kernel module) decode binary frames through the guard."""
    server = sys.modules.get(SOLARA_SERVER)
    return solara_kernel.deserialize_binary_message is guarded_decode and (
        server is None or server.deserialize_binary_message is guarded_decode
    )
