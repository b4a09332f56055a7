"""Atomic file writes: a reader sees the old file or the whole new one, never half of one.

Every file the project writes (exported tables and maps, printable pages, installed map assets,
downloaded answers) goes through here. A temporary file is written beside the target (same
folder, so same file system), then moved onto it with :func:`os.replace`, which is atomic. When
the writing fails, the temporary file is removed and the target is left as it was (absent, or the
old content). Parent folders are created.

Permissions: the file gets ``0o666`` less the process's umask, as :func:`open` would create it
(typically ``0o644``), not the ``0o600`` that :func:`tempfile.mkstemp` gives its files; a file
replaced keeps no permissions of the old one. The umask is read once, when this module is
imported. One rule for every writer, so that a file written by
the CLI, the dashboard or the downloader can be read by the same people.

>>> import tempfile
>>> from pathlib import Path
>>> folder = Path(tempfile.mkdtemp())
>>> with atomic_write(folder / "sub" / "a.txt") as f:
...     _ = f.write("one line\\n")
>>> (folder / "sub" / "a.txt").read_text(encoding="utf-8")
'one line\\n'
>>> atomic_write_bytes(folder / "b.bin", b"\\x00\\x01").read_bytes()
b'\\x00\\x01'
>>> sorted(p.name for p in folder.rglob("*"))
['a.txt', 'b.bin', 'sub']
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

__all__ = ["atomic_write", "atomic_write_bytes", "write_via"]


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


# Read once, at import: os.umask can only be read by setting it, which is not safe while other
# threads (the dashboard's) create files.
_FILE_MODE = 0o666 & ~_umask()


@contextmanager
def atomic_write(path: str | os.PathLike[str], *, binary: bool = False) -> Iterator[IO[Any]]:
    """Open a temporary file beside ``path``; move it onto ``path`` when the block succeeds.

    Parameters
    ----------
    path
        The file to write (its folder is created when missing).
    binary
        ``False``: a text file, UTF-8, newlines written as given (``newline=""``);
        ``True``: a binary file.

    Yields
    ------
    IO
        The open temporary file. If the block raises, the temporary file is removed, ``path`` is
        left untouched and the exception propagates.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        handle: IO[Any] = (
            os.fdopen(fd, "wb") if binary else os.fdopen(fd, "w", encoding="utf-8", newline="")
        )
        with handle:
            os.chmod(tmp, _FILE_MODE)
            yield handle
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (:func:`atomic_write`); return the path."""
    with atomic_write(path, binary=True) as f:
        f.write(data)
    return Path(path)


def write_via(path: str | os.PathLike[str], writer: Callable[[Path], None], suffix: str) -> Path:
    """Let ``writer`` (a library that wants a path, e.g. a GDAL driver) write ``path`` atomically.

    ``writer`` is called with a path beside ``path`` that does not exist yet, named
    ``.<stem>.<random><suffix>`` (drivers pick the format from the suffix); when it returns, the
    file is given the permissions above and moved onto ``path``. If it raises, the temporary file is
    removed and ``path`` is left untouched.

    Returns
    -------
    Path
        ``path``.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.stem}.", suffix=suffix, dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    tmp.unlink()
    try:
        writer(tmp)
        os.chmod(tmp, _FILE_MODE)
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return target
