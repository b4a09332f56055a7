"""Atomic file writes, and the one check every file is given before it is read.

Writes: a reader sees the old file or the whole new one, never half of one.

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

Reads: :func:`check_readable` is called on every file argument (incidents, wards, patrol areas,
harm weights, populations) before it is opened. Only a regular file (or, where folders are
accepted, a folder) passes: a named pipe (FIFO), a device or a socket would block a reader or
never end, so each is refused at once, by name, as is a symbolic link that loops.
:func:`walk_files` lists a folder's files without following a link out of the folder or around
a loop (those are returned aside, for a note).
"""

from __future__ import annotations

import errno
import os
import stat
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from .errors import InputFileError

__all__ = [
    "FolderFiles",
    "atomic_write",
    "atomic_write_bytes",
    "check_readable",
    "special_kind",
    "walk_files",
    "write_via",
]


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


# Read once, at import: os.umask can only be read by setting it, which is not safe while other
# threads (the dashboard's) create files.
_FILE_MODE = 0o666 & ~_umask()


def _temporary(target: Path, prefix: str, suffix: str) -> tuple[int, str]:
    """A new temporary file beside ``target``; a failure names ``target``, not the hidden file."""
    try:
        return tempfile.mkstemp(prefix=prefix, suffix=suffix, dir=target.parent)
    except OSError as exc:
        raise OSError(exc.errno, exc.strerror, str(target)) from None


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
    fd, tmp = _temporary(target, f".{target.name}.", ".tmp")
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
    fd, tmp_name = _temporary(target, f".{target.stem}.", suffix)
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


# ------------------------------------------------------------------------------------ reads


def special_kind(mode: int) -> str | None:
    """What a file that is neither a regular file nor a folder is, in words (None if it is one).

    >>> special_kind(stat.S_IFIFO), special_kind(stat.S_IFREG), special_kind(stat.S_IFDIR)
    ('a named pipe (FIFO)', None, None)
    """
    if stat.S_ISREG(mode) or stat.S_ISDIR(mode):
        return None
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def check_readable(
    path: str | os.PathLike[str], *, what: str = "file", folder: bool = False
) -> os.stat_result:
    """The status of ``path`` if it may be read: a regular file (or a folder, with ``folder``).

    Never opens the file, so a named pipe cannot block: its kind is read with :func:`os.stat`
    (which follows symbolic links, and fails on one that loops).

    Parameters
    ----------
    path
        The file given.
    what
        What the file should be, for the message ("harm weights file", "ward boundaries").
    folder
        Whether a folder is accepted too.

    Raises
    ------
    InputFileError
        No such file; a symbolic link that loops; a named pipe, device or socket; a folder
        where a file is wanted; a file that cannot be inspected. One line naming ``path``.

    Examples
    --------
    >>> check_readable("/dev/null", what="harm weights file")
    Traceback (most recent call last):
    ...
    hotspots.errors.InputFileError: /dev/null: is a device, not a regular file; give the harm \
weights file saved on disk.
    """
    try:
        st = os.stat(path)
    except FileNotFoundError:
        where = " or folder; check the path (and that the download finished)" if folder else ""
        raise InputFileError(f"{path}: no such file{where or '; check the path'}.") from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise InputFileError(
                f"{path}: a symbolic link that loops (points back to itself); give the {what} "
                "itself."
            ) from None
        raise InputFileError(
            f"{path}: cannot be read ({exc.strerror or exc}); check the path and its permissions."
        ) from None
    kind = special_kind(st.st_mode)
    if kind is not None:
        raise InputFileError(
            f"{path}: is {kind}, not a regular file; give the {what} saved on disk."
        )
    if stat.S_ISDIR(st.st_mode) and not folder:
        raise InputFileError(f"{path}: is a folder; give the {what} itself.")
    return st


class FolderFiles:
    """What :func:`walk_files` found: the files to read, and the links it did not follow.

    ``files`` are sorted paths; ``outside`` the links leading out of the folder; ``loops`` the
    links that loop or lead nowhere; ``special`` the named pipes, devices and sockets (each
    with its kind in words); ``unreadable`` the sub-folders that could not be listed.
    """

    def __init__(self) -> None:
        self.files: list[Path] = []
        self.outside: list[Path] = []
        self.loops: list[Path] = []
        self.special: list[tuple[Path, str]] = []
        self.unreadable: list[Path] = []


def _inside(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def walk_files(folder: Path, skip: Callable[[str], bool] = lambda name: False) -> FolderFiles:
    """Every file under ``folder`` (recursively, sorted), following no link out of it or in a loop.

    A link to a file is followed when its target lies inside ``folder``; links to folders
    are never followed (so no loop can form). Names for which ``skip`` is true (hidden
    files and folders) are left out.
    """
    root = folder.resolve()
    out = FolderFiles()

    def on_error(exc: OSError) -> None:
        out.unreadable.append(Path(exc.filename) if exc.filename else folder)

    for here, dirs, names in os.walk(folder, onerror=on_error):
        base = Path(here)
        linked = [d for d in dirs if (base / d).is_symlink()]
        for d in linked:  # a link to a folder inside is walked where it lies; never followed
            try:
                if not _inside((base / d).resolve(strict=True), root):
                    out.outside.append(base / d)
            except (OSError, RuntimeError):
                out.loops.append(base / d)
        dirs[:] = sorted(d for d in dirs if not skip(d) and d not in linked)
        for name in sorted(names):
            if skip(name):
                continue
            path = base / name
            try:
                st = os.stat(path)
                target = path.resolve(strict=True) if path.is_symlink() else None
            except (OSError, RuntimeError):
                out.loops.append(path)
                continue
            if target is not None and not _inside(target, root):
                out.outside.append(path)
                continue
            kind = special_kind(st.st_mode)
            if kind is not None:
                out.special.append((path, kind))
            elif stat.S_ISREG(st.st_mode):
                out.files.append(path)
    out.files.sort()
    return out
