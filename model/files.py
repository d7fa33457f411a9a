"""Reading a user's file safely: a regular file of sane size, never a FIFO, a device or a folder.

Every file a command reads as input (scenarios, experiment files, and the base scenarios they name) goes
through :func:`read_input`. It looks at what the path is *before* reading: a FIFO would block the read for
ever, a character device (``/dev/zero``) would be read until memory runs out, and a file far larger than
any scenario is a mistake (a results database or a data file given by accident). Problems come back as
one plain reason, which the caller turns into its own ``FILE: file: reason`` line.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

# The largest input file read: the shipped scenarios and experiments are under 4 KB, so 1 MB leaves room
# for any hand-written file while refusing a database or a log given by mistake (assumption).
MAX_INPUT_BYTES = 1_000_000


class InputFileError(Exception):
    """The path cannot be read as an input file; ``str(err)`` is the reason in plain words."""


def kind_of(mode: int) -> str:
    """What a file of this ``st_mode`` is, in plain words (for a message)."""
    for test, name in (
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISFIFO, "a named pipe (FIFO)"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    ):
        if test(mode):
            return name
    return "not a regular file"


def read_input(path: str | Path, limit: int = MAX_INPUT_BYTES) -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes; raise :class:`InputFileError` otherwise."""
    try:
        # O_NONBLOCK: opening a FIFO with no writer returns at once instead of waiting for ever
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise InputFileError("no such file") from None
    except IsADirectoryError:
        raise InputFileError("is a directory, not a TOML file") from None
    except OSError as err:
        raise InputFileError(f"cannot be read ({err.strerror})") from None
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise InputFileError("is a directory, not a TOML file")
        if not stat.S_ISREG(info.st_mode):
            raise InputFileError(f"is {kind_of(info.st_mode)}, not a regular file")
        if info.st_size > limit:
            raise InputFileError(f"is {info.st_size:_} bytes; an input file may have at most {limit:_}")
        with os.fdopen(os.dup(fd), "rb") as handle:
            data = handle.read(limit + 1)  # a file that grew after the check is still bounded
    except OSError as err:
        raise InputFileError(f"cannot be read ({err.strerror})") from None
    finally:
        os.close(fd)
    if len(data) > limit:
        raise InputFileError(f"is more than {limit:_} bytes; an input file may have at most {limit:_}")
    return data
