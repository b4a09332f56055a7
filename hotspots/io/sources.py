"""Sources: the files to read, from paths, folder trees and zip members.

:func:`expand_inputs` turns the ``inputs`` of :func:`hotspots.io.read_incidents` into a list
of :class:`Source` records in a stable order, checking zip archives before anything is read
from them and setting aside files that are not incident data (with a note).
"""

from __future__ import annotations

import hashlib
import os
import stat
import threading
import zipfile
import zlib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .._files import check_readable, walk_files
from .._text import list_some
from ..archive import HEAD_BYTES, MAX_ARCHIVE_BYTES, check_zip, hidden_member
from ..errors import InputError, InputFileError, ParameterError
from .report import Notes

__all__ = ["INCIDENT_SUFFIXES", "Source", "as_paths", "expand_inputs", "other_dataset"]

_KINDS = {".csv": "csv", ".tsv": "csv", ".txt": "csv", ".json": "json", ".geojson": "geojson"}
_KINDS |= {".gpkg": "gpkg", ".shp": "shp", ".parquet": "parquet", ".geoparquet": "parquet"}
_KINDS |= {".zip": "zip"}
_FOLDER_SKIP_KINDS = {".txt"}  # only read when named explicitly
#: The file endings :func:`hotspots.read_incidents` reads (lower case; ``.txt`` only when the
#: file is named, not found in a folder).
INCIDENT_SUFFIXES = frozenset(_KINDS)
_SIDECARS = {
    ".shx",
    ".dbf",
    ".prj",
    ".cpg",
    ".qix",
    ".sbn",
    ".sbx",
    ".xml",
    ".qmd",
    ".qpj",
    ".fix",
}
_ACCEPTED_EXT = ".csv, .json, .geojson, .gpkg, .shp, .parquet or .zip"
# data.police.uk downloads hold these beside the street CSVs: other datasets, skipped.
_OTHER_DATASETS = {"-outcomes.csv": "outcomes", "-stop-and-search.csv": "stop-and-search"}


# Each thread's archive last opened: a member is read without listing the whole archive
# again (a zip of 2,000 small files took 48 s, every member reopening it; now 2,000 times
# faster), reopened when the file on disk changes. One per thread: a ZipFile is not read
# from two threads at once.
_ZIPS = threading.local()


def _open_zip(path: Path) -> zipfile.ZipFile:
    """The archive at ``path``, kept open for this thread while it is the one asked for."""
    stat_ = path.stat()
    key = (str(path.resolve()), stat_.st_mtime_ns, stat_.st_size)
    kept = getattr(_ZIPS, "kept", None)
    if kept is not None and kept[0] == key:
        return kept[1]  # type: ignore[no-any-return]
    zf = zipfile.ZipFile(path)
    if kept is not None:
        kept[1].close()
    _ZIPS.kept = (key, zf)
    return zf


@dataclass(frozen=True)
class Source:
    """One file to read: a file on disk, or a member of a zip archive on disk."""

    sort_key: tuple[str, str]
    display: str
    kind: str
    path: Path
    member: str | None = None
    in_folder: bool = False  # found in a folder or archive (not named by the user)
    max_bytes: int = MAX_ARCHIVE_BYTES  # the largest file read into memory

    def size(self) -> int:
        """The file's size in bytes (a zip member's, unpacked), without reading it."""
        if self.member is None:
            return self.path.stat().st_size
        return _open_zip(self.path).getinfo(self.member).file_size

    def read_bytes(self) -> bytes:
        """The file's bytes (a zip member's, unpacked).

        Raises
        ------
        InputFileError
            A zip member that cannot be unpacked (damaged data, a bad CRC), or a file that
            cannot be read (its name and the reason).
        """
        if self.member is None:
            size = check_readable(self.path, what="incident file").st_size
            if size > self.max_bytes:
                raise InputFileError(
                    f"{self.display}: {size:,} bytes, more than the limit of {self.max_bytes:,} "
                    "(max_archive_bytes); split it, or raise the limit if it really is data."
                )
            try:
                return self.path.read_bytes()
            except MemoryError:
                raise InputFileError(
                    f"{self.display}: not enough memory to read its {size:,} bytes; read fewer "
                    "or smaller files at a time."
                ) from None
            except OSError as exc:
                raise InputFileError(
                    f"{self.display}: cannot be read ({exc.strerror or exc}); check the file and "
                    "its permissions."
                ) from None
        try:
            return _open_zip(self.path).read(self.member)
        except MemoryError:
            raise InputFileError(
                f"{self.display}: not enough memory to unpack it ({self.size():,} bytes); read "
                "fewer or smaller files at a time."
            ) from None
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError) as exc:
            raise InputFileError(
                f"{self.display}: damaged inside the archive ({str(exc)[:80]}); download the "
                "archive again."
            ) from None

    def head(self, n: int = HEAD_BYTES) -> bytes:
        """The file's first ``n`` bytes (a zip member's, unpacked), without reading the rest."""
        try:
            if self.member is None:
                with open(self.path, "rb") as f:
                    return f.read(n)
            with _open_zip(self.path).open(self.member) as f:
                return f.read(n)
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError) as exc:
            raise InputFileError(
                f"{self.display}: cannot be read ({str(exc)[:80]}); check the file."
            ) from None

    def ogr_path(self) -> str:
        """The path GDAL opens (``/vsizip/...`` for a zip member)."""
        if self.member is None:
            return str(self.path)
        return f"/vsizip/{self.path.resolve().as_posix()}/{self.member}"


def as_paths(inputs: str | Path | Sequence[str | Path]) -> list[Path]:
    """The paths given (one or a list), checked to be paths."""
    if isinstance(inputs, (str, os.PathLike)):
        items: list[Any] = [inputs]
    elif isinstance(inputs, Sequence):
        items = list(inputs)
    else:
        raise ParameterError(
            f"inputs: expected a path or a list of paths, got {type(inputs).__name__}."
        )
    if not items:
        raise ParameterError("inputs: no files given; give at least one file or folder.")
    paths = []
    for item in items:
        if not isinstance(item, (str, os.PathLike)) or str(item).strip() == "":
            raise ParameterError(f"inputs: {item!r} is not a path; give file or folder paths.")
        paths.append(Path(item).expanduser())
    return paths


def _walk(folder: Path, notes: Notes) -> list[Path]:
    """The files of a folder tree; links out of it or in a loop noted, special files refused."""
    found = walk_files(folder, hidden_member)
    if found.special:
        path, kind = found.special[0]
        more = f" (and {len(found.special) - 1:,} more)" if len(found.special) > 1 else ""
        raise InputFileError(
            f"{path}: is {kind}, not a regular file{more}; remove it from the folder or give "
            "the files themselves."
        )
    if found.unreadable:
        raise InputFileError(
            f"{found.unreadable[0]}: the folder cannot be read (permission denied?); check its "
            "permissions, or give the files themselves."
        )
    shown = [p.relative_to(folder).as_posix() for p in found.outside + found.loops]
    notes.not_followed.extend(shown)
    return found.files


def other_dataset(name: str) -> str | None:
    """The data.police.uk dataset a file name says is not street crimes, if any.

    >>> other_dataset("2019-01-met-outcomes.csv"), other_dataset("2019-01-met-street.csv")
    ('outcomes', None)
    """
    lower = name.lower()
    for suffix, kind in _OTHER_DATASETS.items():
        if lower.endswith(suffix):
            return kind
    return None


def expand_inputs(
    inputs: str | Path | Sequence[str | Path],
    *,
    max_ratio: float,
    max_bytes: int,
    notes: Notes,
) -> list[Source]:
    """Every file to read, in a stable order (sorted by path; zip members by name)."""
    sources: list[Source] = []
    seen: set[Path] = set()

    def add(path: Path, display: str, *, explicit: bool) -> bool:
        """Queue one file; False if it is not a kind of file incidents come in."""
        ext = path.suffix.lower()
        kind = _KINDS.get(ext)
        if kind is None or (not explicit and ext in _FOLDER_SKIP_KINDS):
            if ext not in _SIDECARS:
                notes.ignored.append(display)
            return False
        resolved = path.resolve()
        if resolved in seen:
            notes.twice.append(display)
            return True
        seen.add(resolved)
        other = other_dataset(path.name)
        if other:
            notes.skipped.setdefault(other, []).append(display)
            return True
        key = (resolved.as_posix(), "")
        if kind == "zip":
            sources.extend(_zip_members(path, display, key, max_ratio, max_bytes, notes))
        else:
            sources.append(
                Source(key, display, kind, path, in_folder=not explicit, max_bytes=max_bytes)
            )
        return True

    for path in as_paths(inputs):
        st = check_readable(path, what="incident file", folder=True)
        if stat.S_ISDIR(st.st_mode):
            found = [
                add(f, f.relative_to(path).as_posix(), explicit=False) for f in _walk(path, notes)
            ]
            if not any(found):
                raise InputFileError(
                    f"{path}: the folder holds no incident files ({_ACCEPTED_EXT}); give a "
                    "folder of data.police.uk CSV or JSON files, or the files themselves."
                )
        else:
            if path.suffix.lower() not in _KINDS:
                raise InputFileError(
                    f"{path.name}: unknown file type '{path.suffix or '(none)'}'; give a "
                    f"{_ACCEPTED_EXT} file."
                )
            add(path, path.name, explicit=True)

    out = _without_copies(_distinct_displays(sources), notes)
    if not out:
        raise InputFileError(
            f"{list_some([str(p) for p in as_paths(inputs)])}: nothing to read: only "
            "data.police.uk outcomes or stop-and-search files, or files given twice; give the "
            "street-level crime files (*-street.csv)."
        )
    return out


def _without_copies(sources: list[Source], notes: Notes) -> list[Source]:
    """The sources less those whose bytes are another's (a file copied under another name, a
    download zip beside the files unpacked from it): read once, the first in path order,
    said in ``notes.copies`` (else their rows without a Crime ID, which no duplicate check
    can match, would count twice). Only files of one size are compared, by a hash of their
    bytes; two files of a name (a month downloaded twice) are said in ``notes.same_name``."""
    by_size: dict[int, list[int]] = {}
    for i, src in enumerate(sources):
        try:
            by_size.setdefault(src.size(), []).append(i)
        except OSError:
            continue  # unreadable: the reading says so
    copies: set[int] = set()
    for size, group in by_size.items():
        if len(group) < 2 or size == 0:  # (empty files are said as such)
            continue
        first: dict[bytes, int] = {}
        for i in group:
            try:
                key = hashlib.blake2b(sources[i].read_bytes(), digest_size=32).digest()
            except (OSError, InputError):
                continue
            if key in first:
                copies.add(i)
                same = sources[first[key]].display
                notes.copies.append(f"{sources[i].display}, the same as {same}")
            else:
                first[key] = i
    kept = [src for i, src in enumerate(sources) if i not in copies]
    names: dict[str, str] = {}
    for src in kept:
        name = src.display.rsplit("/", 1)[-1].rsplit("!", 1)[-1]
        if name in names:
            notes.same_name.append(f"{names[name]} and {src.display}")
        else:
            names[name] = src.display
    return kept


def _distinct_displays(sources: list[Source]) -> list[Source]:
    """The sources in path order, shown by full path where their names alone would clash.

    Display names must tell files apart (they prefix generated ids).
    """
    counts: dict[str, int] = {}
    for s in sources:
        counts[s.display] = counts.get(s.display, 0) + 1
    out = []
    for s in sources:
        if counts[s.display] > 1:
            full = s.path.as_posix() + (f"!{s.member}" if s.member else "")
            s = Source(s.sort_key, full, s.kind, s.path, s.member, s.in_folder, s.max_bytes)
        out.append(s)
    out.sort(key=lambda s: s.sort_key)
    return out


def _check_archive(zf: zipfile.ZipFile, display: str, max_ratio: float, max_bytes: int) -> None:
    check_zip(
        zf,
        display,
        max_ratio=max_ratio,
        max_bytes=max_bytes,
        too_big_fix="split the data or raise the limit (max_archive_bytes)",
    )


def _zip_members(
    path: Path,
    display: str,
    key: tuple[str, str],
    max_ratio: float,
    max_bytes: int,
    notes: Notes,
) -> list[Source]:
    try:
        with zipfile.ZipFile(path) as zf:
            _check_archive(zf, display, max_ratio, max_bytes)
            names = sorted(i.filename for i in zf.infolist() if not i.is_dir())
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError) as exc:
        raise InputFileError(
            f"{display}: not a readable zip archive ({exc}); download it again, or unzip it "
            "and give the folder."
        ) from exc
    twice = sorted(n for n, k in Counter(names).items() if k > 1)
    if twice:  # zipfile reads the last of them whichever is asked for: one would be lost
        raise InputFileError(
            f"{display}: holds two files named {twice[0]!r}; an archive holds each file once: "
            "download it again, or unzip it and give the folder."
        )
    out: list[Source] = []
    skipped = 0
    nested: list[str] = []
    for name in names:
        if hidden_member(name):
            continue
        ext = Path(name).suffix.lower()
        kind = _KINDS.get(ext)
        shown = f"{display}!{name}"
        if kind == "zip":
            nested.append(shown)
            continue
        if kind is None or ext in _FOLDER_SKIP_KINDS:
            if ext not in _SIDECARS:
                notes.ignored.append(shown)
            continue
        other = other_dataset(name)
        if other:
            notes.skipped.setdefault(other, []).append(shown)
            skipped += 1
            continue
        out.append(Source((key[0], name), shown, kind, path, name, in_folder=True))
    if nested:
        notes.lines.append(
            f"Not read: {list_some(nested)}, an archive inside an archive; unzip it and give "
            "what it holds."
        )
    if not out and not skipped:
        inner = f" (only {list_some(nested)}: unzip it and give what it holds)" if nested else ""
        raise InputFileError(
            f"{display}: the archive holds no incident files{inner}; check that it is the "
            "data.police.uk download."
        )
    return out
