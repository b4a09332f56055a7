"""Zip archives checked before anything in them is read (the uploads and downloads users give).

One guard for every reader of zips (incident downloads, zipped Shapefiles): it looks only at the
archive's directory, so a hostile archive is refused before a byte of it is unpacked; and one rule
for the members (and the files of a folder) that are not data (:func:`hidden_member`).
"""

from __future__ import annotations

import re
import zipfile

from .errors import InputFileError

__all__ = [
    "HEAD_BYTES",
    "MAX_ARCHIVE_BYTES",
    "MAX_ARCHIVE_MEMBERS",
    "MAX_ARCHIVE_RATIO",
    "check_contents",
    "check_zip",
    "hidden_member",
    "unsafe_member",
]

#: Largest total uncompressed size accepted (bytes).
MAX_ARCHIVE_BYTES = 2_000_000_000
#: Largest compression ratio accepted (a zip bomb compresses zeros 1,000 to 1 or more).
MAX_ARCHIVE_RATIO = 100.0
#: Most members accepted in one archive (data.police.uk's whole archive, every force since
#: 2010, holds about 20,000; 200,000 one-row files would take hours to read).
MAX_ARCHIVE_MEMBERS = 25_000
#: Bytes of a file's start :func:`check_contents` reads.
HEAD_BYTES = 4096
# Ratios are judged only from this size up: a small text file can compress very well.
_RATIO_MIN_BYTES = 1_000_000


def hidden_member(name: str) -> bool:
    """Whether a zip member (or a file or folder name) is not data to read: anything in macOS's
    ``__MACOSX`` folder, a dot-file or anything in a dot-folder.

    >>> names = ("2024-01/a.csv", "__MACOSX/2024-01/._a.csv", ".DS_Store", "a/.git/b.csv")
    >>> [hidden_member(n) for n in names]
    [False, True, True, True]
    """
    return any(p.startswith(".") or p == "__MACOSX" for p in name.split("/"))


def unsafe_member(name: str) -> bool:
    """Whether a member name would land outside the folder it is unpacked into.

    >>> [unsafe_member(n) for n in ("2024-01/a.csv", "../a.csv", "/etc/a", "C:x", "a/../../b")]
    [False, True, True, True, True]
    """
    parts = re.split(r"[\\/]", name)
    return name.startswith(("/", "\\")) or bool(re.match(r"^[A-Za-z]:", name)) or ".." in parts


def check_zip(
    zf: zipfile.ZipFile,
    display: str,
    *,
    max_ratio: float = MAX_ARCHIVE_RATIO,
    max_bytes: int = MAX_ARCHIVE_BYTES,
    too_big_fix: str = "split the data or give the unzipped files",
) -> None:
    """Refuse an unsafe archive from its directory alone, before any member is read.

    Refused: members whose names escape the archive (absolute, drive letters, ``..``),
    password-protected members, a total uncompressed size over ``max_bytes``, and a
    compression ratio (of the whole, or of any member of 1 MB or more) over ``max_ratio``.

    Parameters
    ----------
    zf
        The open archive.
    display
        How the archive is named in messages (its file name).
    max_ratio, max_bytes
        The limits.
    too_big_fix
        What the message tells the user to do when the archive is too big.

    Raises
    ------
    InputFileError
        One line naming the archive, the member and the fix.
    """
    infos = zf.infolist()
    if len(infos) > MAX_ARCHIVE_MEMBERS:
        raise InputFileError(
            f"{display}: refused: it holds {len(infos):,} files, more than the limit of "
            f"{MAX_ARCHIVE_MEMBERS:,}; give fewer files at a time (e.g. a year's download)."
        )
    for info in infos:
        if unsafe_member(info.filename):
            raise InputFileError(
                f"{display}: refused: the member '{info.filename}' has a path that escapes the "
                "archive (absolute or with '..'); use an archive from a trusted source."
            )
        if info.flag_bits & 0x1:
            raise InputFileError(
                f"{display}: the member '{info.filename}' is password-protected; unzip it "
                "yourself and give the folder."
            )
    total = sum(i.file_size for i in infos)
    packed = sum(i.compress_size for i in infos)
    if total > max_bytes:
        raise InputFileError(
            f"{display}: refused: it would unpack to {total:,} bytes, more than the limit of "
            f"{max_bytes:,}; {too_big_fix}."
        )
    if total >= _RATIO_MIN_BYTES:
        ratios = [total / max(packed, 1)]
        ratios += [
            i.file_size / max(i.compress_size, 1) for i in infos if i.file_size >= _RATIO_MIN_BYTES
        ]
        if max(ratios) > max_ratio:
            raise InputFileError(
                f"{display}: refused: it is compressed {max(ratios):,.0f} to 1, more than "
                f"{max_ratio:g} to 1, which marks a zip bomb; use an archive from a trusted source."
            )


# What a file of each kind begins with. GDAL chooses its reader from a file's contents, not its
# name: a ".geojson" holding GDAL's virtual-layer XML would read other files on the server and
# fetch web addresses. So a file is opened only when it begins as its kind does.
_SQLITE = b"SQLite format 3\x00"
_BEGINS = {
    "gpkg": (_SQLITE,),
    "geopackage": (_SQLITE,),
    "shp": (b"\x00\x00\x27\x0a",),
    "shapefile": (b"\x00\x00\x27\x0a",),
    "parquet": (b"PAR1",),
    "kmz": (b"PK\x03\x04",),
}
_NAMES = {"geojson": "GeoJSON", "json": "JSON", "gpkg": "GeoPackage", "geopackage": "GeoPackage"}
_NAMES |= {"shp": "Shapefile", "shapefile": "Shapefile", "parquet": "Parquet", "kml": "KML"}
_NAMES |= {"kmz": "KMZ"}


def check_contents(head: bytes, kind: str, display: str) -> None:
    """Refuse a file whose first bytes (``head``, :data:`HEAD_BYTES` of them) are not those of
    its ``kind`` ("geojson", "json", "gpkg", "shp", "parquet", "kml", "kmz"; as the readers
    name them, any case): JSON begins with ``{`` or ``[``, KML is XML whose root is ``kml``,
    the others have their format's signature.

    >>> check_contents(b' {"type": "FeatureCollection"', "GeoJSON", "a.geojson")
    >>> check_contents(b"<OGRVRTDataSource>", "geojson", "a.geojson")
    Traceback (most recent call last):
    ...
    hotspots.errors.InputFileError: a.geojson: its contents are not GeoJSON, whatever its name \
says; give the file itself.
    """
    if not head:
        raise InputFileError(f"{display}: the file is empty (0 bytes); give the file itself.")
    key = kind.lower()
    text = head.removeprefix(b"\xef\xbb\xbf").lstrip()
    if key in ("geojson", "json"):
        ok = text[:1] in (b"{", b"[")
    elif key == "kml":  # XML whose first element (after declarations and comments) is kml
        body = re.sub(rb"<\?.*?\?>|<!--.*?-->|<!DOCTYPE[^>]*>", b"", text, flags=re.S).lstrip()
        ok = re.match(rb"<(?:\w+:)?kml[\s>/]", body) is not None
    elif key in _BEGINS:
        ok = head.startswith(_BEGINS[key])
    else:
        return
    if not ok:
        raise InputFileError(
            f"{display}: its contents are not {_NAMES.get(key, kind)}, whatever its name says; "
            "give the file itself."
        )
