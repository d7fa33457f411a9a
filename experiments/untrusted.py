"""A results file from a stranger, treated as untrusted: its text escaped wherever it is shown, and
every file made from it written inside the output folder, never through a link.

``coprod analyze`` (:mod:`experiments.report`) reads a results database that may come from someone
else, so nothing in it is trusted:

- every stored text (experiment, run, scenario, design and factor names, the definition, status texts)
  is escaped where it is written: with :func:`html.escape` in ``report.html``; in the Markdown tables
  (and on the terminal) HTML, ``|``, ``[``, ``]``, backquotes and backslashes are escaped and every
  non-printable character (control sequences, bidirectional overrides) is written as its Python escape;
  a CSV text cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a leading
  ``'`` so that a spreadsheet does not run it as a formula; in the plots ``$`` is escaped (no mathtext).
- every file is written inside the output folder (``--out``, or ``results/``; one folder per experiment
  when there are several). A folder named after an experiment, and a plot named after a base scenario,
  get a safe name (:func:`safe_name`: letters, digits, ``-``, ``_``, ``.``, starting with a letter or a
  digit, at most 80 characters, plus a hash of the whole name wherever that changed it, so that two names
  never share a file); the folder must resolve inside the output folder; an existing entry that is a
  symbolic link (or not a regular file) is refused, exit 2, before anything is written; each file is
  written under a temporary name and renamed into place, so a hard link is replaced, never written
  through.

The values the analysis computes with are checked where they are read, in :mod:`experiments.stored_runs`.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import html
import math
import os
import re
import secrets
import stat
from pathlib import Path
from typing import Any

from coprod.experiments.store import StoreError

NAME_LIMIT = 80  # characters of a file or folder name made from a stored name, before its hash
SAFE_FILE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]{0,127}")
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_HASHED = re.compile(r"-[0-9a-f]{10}\Z")
_FORMULA = ("=", "+", "-", "@", "\t", "\r")
# errno values that are the machine's state, not the user's choice of --out (the command line says whose)
_MACHINE_ERRNOS = {errno.ENOSPC, errno.EIO, errno.EDQUOT, errno.ENOMEM, errno.EROFS}


# -------------------------------------------------------------------------------- untrusted text


def text(value: Any) -> str:
    """A stored value as text: bytes (a BLOB) decoded with bad bytes replaced, None as ``""``."""
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


def plain(value: Any, limit: int = 200) -> str:
    """Text safe for a terminal or a message: every non-printable character (a control sequence, a
    bidirectional override) written as its Python escape, at most about ``limit`` characters."""
    s = text(value)
    if len(s) > limit:
        s = s[: limit - 3] + "..."
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in s)


def shown(value: Any) -> str:
    """A stored value quoted for a one-line message: its repr (non-printables escaped), shortened."""
    r = repr(value)
    return r if len(r) <= 80 else r[:76] + "...'"


def safe_name(name: str) -> str:
    """A file or folder name for the stored ``name``: letters, digits, ``-``, ``_`` and ``.``, starting
    with a letter or digit, at most 80 characters; where that changed anything (or where the name already
    ends like a hash) ``-`` and 10 hex digits of the name's SHA-256 follow, so that no two names share a
    file: an unchanged name never ends like a hash, a changed one always does."""
    slug = _UNSAFE.sub("_", name).lstrip("._-")[:NAME_LIMIT]
    if slug and slug == name and not _HASHED.search(name):
        return slug
    digest = hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()[:10]
    return f"{slug or 'x'}-{digest}"


def markdown_cell(value: Any) -> str:
    """One Markdown table cell: no HTML, no cell break, no link, no control character."""
    return re.sub(r"([\\|\[\]`])", r"\\\1", html.escape(plain(value), quote=False))


def csv_cell(value: Any) -> Any:
    """A CSV cell: NaN left empty; a text that a spreadsheet would run as a formula gets a leading ``'``."""
    if isinstance(value, float) and math.isnan(value):
        return ""
    if isinstance(value, str) and value.startswith(_FORMULA):
        return "'" + value
    return value


def plot_label(value: Any) -> str:
    """A plot label: printable, shortened, ``$`` escaped so that matplotlib does not parse it as maths."""
    return plain(value, 60).replace("$", r"\$")


# ------------------------------------------------------------------------------------ writing files


def _dir_fd_supported() -> bool:
    return (
        hasattr(os, "O_DIRECTORY")
        and hasattr(os, "O_NOFOLLOW")
        and all(f in os.supports_dir_fd for f in (os.open, os.stat, os.rename, os.unlink))
    )


def _target(out: Path, root: Path) -> None:
    """``out`` must be ``root`` or a folder with a safe name right inside it (a programming error else)."""
    if out != root and (out.parent != root or not SAFE_FILE.fullmatch(out.name)):
        raise ValueError(f"{out}: not {root} nor a safely named folder right inside it")


def _refused(path: Path, mode: int, root: Path, *, folder: bool = False, before: bool = True) -> StoreError:
    """``PATH: is a symbolic link; ...``: one line; ``before`` anything was written, it says so."""
    what = "a symbolic link" if stat.S_ISLNK(mode) else ("not a folder" if folder else "not a regular file")
    return StoreError(
        f"{path}: is {what}; analyze writes only plain files inside {root}, never through a link "
        f"(remove it, or choose another --out){'; nothing was written' if before else ''}"
    )


def check_targets(out: Path, names: list[str], root: Path | None = None) -> None:
    """Refuse, before anything is written, an existing ``out`` (below ``root``) that is a link, or an
    existing entry in it named like a file to write that is not a regular file (a link above all)."""
    root = out if root is None else root
    _target(out, root)
    try:
        if out != root:
            mode = out.lstat().st_mode
            if not stat.S_ISDIR(mode):
                raise _refused(out, mode, root, folder=True)
        for name in names:
            mode = (out / name).lstat().st_mode
            if not stat.S_ISREG(mode):
                raise _refused(out / name, mode, root)
    except (FileNotFoundError, NotADirectoryError):
        return  # what is not there yet is made by write_files, inside out


def write_files(out: Path, contents: dict[str, bytes], root: Path | None = None) -> list[Path]:
    """Write ``contents`` (plain file name to bytes) into the folder ``out``, confined to ``root``.

    ``out`` is ``root`` (made if need be; the user named it) or a folder with a safe name right inside
    it, which must not be a symbolic link and must resolve inside ``root``. Every file name must be plain
    (:data:`SAFE_FILE`). An existing entry of that name that is not a regular file (a symbolic link above
    all) is refused with :class:`StoreError` before anything is written. Each file is written under a
    temporary name in ``out`` (opened without following links, relative to the folder opened once) and
    renamed over its name: a link or a hard link standing there is replaced, never written through, and
    a reader never sees half a file.
    """
    root = out if root is None else root
    _target(out, root)
    bad = [name for name in contents if not SAFE_FILE.fullmatch(name)]
    if bad:
        raise ValueError(f"not plain file names: {bad!r}")
    check_targets(out, list(contents), root)
    try:
        root.mkdir(parents=True, exist_ok=True)
        if out != root:
            out.mkdir(exist_ok=True)
        real_root, real_out = root.resolve(), out.resolve()
        if real_out != real_root and real_out.parent != real_root:  # a folder swapped for a link meanwhile
            raise StoreError(f"{out}: resolves to {real_out}, outside {root}; nothing was written")
        check_targets(out, list(contents), root)
        if _dir_fd_supported():
            flags = os.O_RDONLY | os.O_DIRECTORY | (os.O_NOFOLLOW if out != root else 0)
            fd = os.open(out, flags)
            try:
                return [_write_one(out, fd, name, data, root) for name, data in contents.items()]
            finally:
                os.close(fd)
        return [_write_one(out, None, name, data, root) for name, data in contents.items()]
    except OSError as err:
        where = err.filename if err.filename is not None else out
        if err.errno in _MACHINE_ERRNOS:
            raise OSError(err.errno, err.strerror, str(where)) from None
        if err.errno == errno.ELOOP:
            raise StoreError(f"{where}: is a symbolic link; analyze never writes through a link") from None
        reason = err.strerror or str(err)
        if err.errno in (errno.EEXIST, errno.ENOTDIR):
            reason += " (part of the path is a file, not a folder)"
        raise StoreError(f"{where}: analyze cannot write there: {reason}") from None


def _write_one(out: Path, fd: int | None, name: str, data: bytes, root: Path) -> Path:
    """Write one file under a temporary name in ``out`` (``fd`` where open), then rename it over ``name``;
    an error names ``out / name``."""
    try:
        return _write_at(out, fd, name, data, root)
    except OSError as err:
        raise OSError(err.errno, err.strerror, str(out / name)) from None


def _write_at(out: Path, fd: int | None, name: str, data: bytes, root: Path) -> Path:
    tmp = f".{name}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
    at = {"dir_fd": fd} if fd is not None else {}
    here = (lambda n: n) if fd is not None else (lambda n: str(out / n))
    try:
        mode = os.stat(here(name), follow_symlinks=False, **at).st_mode
        if not stat.S_ISREG(mode):  # put there since check_targets looked
            raise _refused(out / name, mode, root, before=False)
    except FileNotFoundError:
        pass
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    handle = os.open(here(tmp), flags, 0o666, **at)
    try:
        with os.fdopen(handle, "wb") as f:
            f.write(data)
        os.replace(here(tmp), here(name), **({"src_dir_fd": fd, "dst_dir_fd": fd} if fd is not None else {}))
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(here(tmp), **at)
        raise
    return out / name


__all__ = [
    "NAME_LIMIT",
    "SAFE_FILE",
    "check_targets",
    "csv_cell",
    "markdown_cell",
    "plain",
    "plot_label",
    "safe_name",
    "shown",
    "text",
    "write_files",
]
