"""Street-level crimes from the data.police.uk API, month by month, inside a boundary.

:func:`fetch_police` asks the API (``crimes-street/all-crime``) for every month of a period
inside a boundary and writes the answers as the API JSON that
:func:`hotspots.io.read_incidents` reads: ``out_dir/YYYY-MM/crimes_<part>.json``.
It keeps to the published call limits (15 requests a second, a burst of 30, HTTP 429 past
them), splits an area into quarters when the API refuses it for holding more than 10,000
crimes (HTTP 503), retries transient failures, and resumes an interrupted download.
:func:`ward_boundary` picks one ward's polygon to fetch for.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import re
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import shapely
from shapely.geometry import MultiPolygon, Polygon, box
from shapely.geometry.base import BaseGeometry

from hotspots._files import atomic_write_bytes
from hotspots._validate import check_month, month_label, month_number
from hotspots.errors import ParameterError

from ..settings import FETCH_DEADLINE, FETCH_TIMEOUT, POLICE_API
from .client import (
    FetchError,
    MalformedAnswer,
    PoliteClient,
    Progress,
    check_options,
    check_url,
)

__all__ = ["FetchResult", "fetch_police", "ward_boundary"]

log = logging.getLogger(__name__)

_POLICE_MANUAL = (
    "download the street CSVs by hand from https://data.police.uk/data/ and give the zip to "
    "`hotspots analyse`"
)
# The API answers HTTP 400 to a GET URL longer than 4094 characters: POST above this.
_MAX_GET_URL = 4000
# Boundaries with more vertices are simplified (about 20 characters each in the poly string).
_MAX_VERTICES = 400
# Splitting an area in quarters this many times (4**6 pieces) and still 503: give up.
_MAX_DEPTH = 6
_MANIFEST = ".fetch-manifest.json"  # hidden: read_incidents skips dot files in folders


@dataclass
class FetchResult:
    """What :func:`fetch_police` wrote and did.

    Attributes
    ----------
    out_dir
        The folder holding ``YYYY-MM/crimes_<part>.json`` (give it to ``read_incidents``).
    months
        The months of the period, ``"YYYY-MM"``.
    files
        Every month/part file of the period (written now or resumed), in order.
    crimes
        Crimes in those files (unique by API id within a month).
    duplicates
        Crimes answered twice (on the edge of two split pieces or two parts) and written once.
    requests
        HTTP requests sent in this run (retries included, cache hits not).
    splits
        Areas split into quarters because the API refused them (over 10,000 crimes).
    retries
        Requests sent again after a transient failure, a malformed answer or HTTP 429.
    skipped
        Month/parts already complete on disk (resumed), not asked again.
    cache_hits
        Answers read from ``cache_dir`` instead of the network.
    """

    out_dir: Path
    months: list[str] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)
    crimes: int = 0
    duplicates: int = 0
    requests: int = 0
    splits: int = 0
    retries: int = 0
    skipped: int = 0
    cache_hits: int = 0


def _months(start: str, end: str) -> list[str]:
    """The months from ``start`` to ``end`` inclusive.

    >>> _months("2023-11", "2024-02")
    ['2023-11', '2023-12', '2024-01', '2024-02']
    """
    parsed = []
    for name, value in (("start", start), ("end", end)):
        parsed.append(month_number(check_month(str(value), name)))
    first, last = parsed
    if first > last:
        raise ParameterError(f"start {start} is after end {end}; swap them.", argument="start")
    return [month_label(k) for k in range(first, last + 1)]


def _polygons(geom: BaseGeometry) -> list[Polygon]:
    """The polygons with area in a geometry (Polygon, MultiPolygon or a collection)."""
    if isinstance(geom, Polygon):
        return [geom] if not geom.is_empty and geom.area > 0 else []
    if hasattr(geom, "geoms"):
        return [p for g in geom.geoms for p in _polygons(g)]
    return []


def _boundary_parts(
    boundary: gpd.GeoDataFrame | gpd.GeoSeries | Polygon | MultiPolygon,
) -> list[Polygon]:
    """The boundary as WGS84 polygons without holes, each simplified to few vertices."""
    if isinstance(boundary, gpd.GeoDataFrame | gpd.GeoSeries):
        if boundary.crs is None:
            raise ParameterError(
                "boundary: the layer has no CRS; set it (e.g. wards.set_crs('EPSG:27700'))."
            )
        if len(boundary) == 0:
            raise ParameterError("boundary: the layer has no features; give a polygon layer.")
        geom = shapely.make_valid(boundary.to_crs("EPSG:4326").union_all())
    elif isinstance(boundary, Polygon | MultiPolygon):
        geom = boundary if boundary.is_valid else shapely.make_valid(boundary)
    else:
        raise ParameterError(
            "boundary: expected a GeoDataFrame or a shapely Polygon/MultiPolygon in WGS84, "
            f"got {type(boundary).__name__}."
        )
    parts = _polygons(geom)
    if not parts:
        raise ParameterError("boundary: no polygon with an area; give ward or borough polygons.")
    minx, miny, maxx, maxy = geom.bounds
    if minx < -180 or maxx > 180 or miny < -90 or maxy > 90:
        raise ParameterError(
            f"boundary: coordinates like ({minx:.0f}, {miny:.0f}) are not longitude/latitude; "
            "pass a GeoDataFrame (it carries its CRS) or a geometry in WGS84 (EPSG:4326)."
        )
    return [_simplify(Polygon(p.exterior)) for p in parts]


def _simplify(poly: Polygon, max_vertices: int = _MAX_VERTICES) -> Polygon:
    """A polygon of at most ``max_vertices`` vertices that covers ``poly``.

    Douglas-Peucker moves the outline by at most its tolerance, so the outline is first
    pushed out by the same distance: crimes on the edge stay inside the query.
    """
    if len(poly.exterior.coords) - 1 <= max_vertices:
        return poly
    tol = 1e-5  # degrees, ~1 m
    for _ in range(40):
        grown = poly.buffer(tol, join_style="mitre")
        out = grown.simplify(tol, preserve_topology=True)
        parts = _polygons(out)
        if len(parts) == 1 and len(parts[0].exterior.coords) - 1 <= max_vertices:
            log.info(
                "boundary simplified to %d vertices (tolerance %.1e deg)",
                len(parts[0].exterior.coords) - 1,
                tol,
            )
            return Polygon(parts[0].exterior)
        tol *= 2
    return Polygon(poly.envelope.exterior)  # pragma: no cover - 40 doublings reach the bbox


def _poly_param(poly: Polygon) -> str:
    """The API's ``poly``: ``lat,lng:lat,lng:...`` (6 decimals, ring not closed).

    >>> _poly_param(box(-0.04, 51.56, 0.0, 51.6))
    '51.560000,0.000000:51.600000,0.000000:51.600000,-0.040000:51.560000,-0.040000'
    """
    coords = list(poly.exterior.coords)[:-1]
    return ":".join(f"{lat:.6f},{lon:.6f}" for lon, lat in coords)


def _quadrants(poly: Polygon) -> list[Polygon]:
    """``poly`` cut by the quarters of its bounding box (pieces with an area, no holes).

    >>> [p.bounds for p in _quadrants(box(0, 0, 4, 2))]
    [(0.0, 0.0, 2.0, 1.0), (2.0, 0.0, 4.0, 1.0), (0.0, 1.0, 2.0, 2.0), (2.0, 1.0, 4.0, 2.0)]
    """
    minx, miny, maxx, maxy = poly.bounds
    mx, my = (minx + maxx) / 2, (miny + maxy) / 2
    pieces: list[Polygon] = []
    for quarter in (
        box(minx, miny, mx, my),
        box(mx, miny, maxx, my),
        box(minx, my, mx, maxy),
        box(mx, my, maxx, maxy),
    ):
        for p in _polygons(poly.intersection(quarter)):
            pieces.append(Polygon(p.exterior))
    return pieces


def _parse_crimes(data: bytes) -> list[dict[str, Any]]:
    """The crimes of an API answer; :class:`MalformedAnswer` when it is not a JSON list."""
    head = data.lstrip()[:200]
    if head[:1] == b"<":
        raise MalformedAnswer("an HTML page instead of JSON")
    try:
        obj = json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError):
        snippet = " ".join(head[:40].decode("utf-8", "replace").split())
        raise MalformedAnswer(f"not JSON (starts {snippet!r})") from None
    except RecursionError:  # nested deeper than any answer of the service
        raise MalformedAnswer("JSON nested too deeply to be crime records") from None
    if not isinstance(obj, list):
        raise MalformedAnswer(f"JSON {type(obj).__name__}, not a list of crimes")
    if not all(isinstance(r, dict) for r in obj):
        raise MalformedAnswer("a JSON list whose items are not crime records")
    return obj


def _crime_key(crime: dict[str, Any]) -> str:
    """The API ``id`` (else persistent_id, else the whole record) for de-duplication."""
    cid = crime.get("id")
    if cid not in (None, ""):
        return f"id:{cid}"
    pid = crime.get("persistent_id")
    if pid:
        return f"pid:{pid}"
    return "rec:" + json.dumps(crime, sort_keys=True)


def _kept_piece(path: Path, entry: Any, fingerprint: str, *, need_ids: bool) -> set[str] | None:
    """The crime keys of a piece complete on disk for the same query (empty set when not
    needed), or None when it must be downloaded (absent, another polygon, unreadable)."""
    if not (isinstance(entry, dict) and entry.get("fingerprint") == fingerprint):
        return None
    if not path.is_file():
        return None
    if not need_ids:
        return set()
    try:
        return {_crime_key(c) for c in _parse_crimes(path.read_bytes())}
    except (MalformedAnswer, OSError):
        return None


def _drop_stale_parts(out: Path, month: str, n_parts: int, pieces: dict[str, Any]) -> None:
    """Remove files of parts a previous run (with more polygons) wrote for ``month``."""
    for rel in [r for r in pieces if r.startswith(f"{month}/crimes_")]:
        m = re.fullmatch(r"\d{4}-\d{2}/crimes_(\d+)\.json", rel)
        if m and int(m.group(1)) >= n_parts:
            with contextlib.suppress(FileNotFoundError):
                (out / rel).unlink()
            del pieces[rel]


def _read_manifest(path: Path) -> dict[str, Any]:
    try:
        obj = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    pieces = obj.get("pieces") if isinstance(obj, dict) else None
    return pieces if isinstance(pieces, dict) else {}


class _PoliceRun:
    """One download: the client, the polygons, what was written so far (``result``, the
    manifest's ``pieces``)."""

    def __init__(
        self,
        http: PoliteClient,
        base_url: str,
        result: FetchResult,
        max_depth: int,
        parts: list[Polygon],
    ) -> None:
        self.http = http
        self.base_url = base_url.rstrip("/")
        self.result = result
        self.max_depth = max_depth
        self.parts = parts
        self.polys = [_poly_param(p) for p in parts]
        self.manifest = result.out_dir / _MANIFEST
        self.pieces = _read_manifest(self.manifest)

    def piece(self, month: str, k: int, seen: set[str]) -> str:
        """Download part ``k`` of ``month`` unless it is complete on disk; the progress line.

        ``seen`` holds the crime keys of the month's earlier parts (a crime on the edge of two
        parts is written once) and gains this part's.
        """
        n_parts = len(self.parts)
        rel = f"{month}/crimes_{k}.json"
        path = self.result.out_dir / rel
        what = month if n_parts == 1 else f"{month} part {k + 1}/{n_parts}"
        fingerprint = hashlib.sha256(
            f"{self.base_url}\n{month}\n{self.polys[k]}".encode()
        ).hexdigest()[:20]
        entry = self.pieces.get(rel)
        kept = _kept_piece(path, entry, fingerprint, need_ids=n_parts > 1)
        if kept is not None and isinstance(entry, dict):
            self.result.skipped += 1
            self.result.crimes += int(entry.get("crimes", 0))
            self.result.duplicates += int(entry.get("duplicates", 0))
            self.result.files.append(path)
            seen.update(kept)
            return f"{what}: already downloaded, skipped"
        return self._download(month, k, what, fingerprint, seen)

    def _download(self, month: str, k: int, what: str, fingerprint: str, seen: set[str]) -> str:
        """Ask for part ``k`` of ``month``, write its new crimes and the manifest; the line."""
        http, result = self.http, self.result
        rel = f"{month}/crimes_{k}.json"
        path = result.out_dir / rel
        requests_before, splits_before = http.sent, result.splits
        crimes = self.area(self.parts[k], month, what)
        unique: list[dict[str, Any]] = []
        for crime in crimes:
            key = _crime_key(crime)
            if key not in seen:
                seen.add(key)
                unique.append(crime)
        dups = len(crimes) - len(unique)
        atomic_write_bytes(path, json.dumps(unique, separators=(",", ":")).encode("utf-8"))
        self.pieces[rel] = {"fingerprint": fingerprint, "crimes": len(unique), "duplicates": dups}
        atomic_write_bytes(
            self.manifest,
            json.dumps({"base_url": self.base_url, "pieces": self.pieces}, indent=1).encode(),
        )
        result.crimes += len(unique)
        result.duplicates += dups
        result.files.append(path)
        n_req, n_split = http.sent - requests_before, result.splits - splits_before
        message = (
            f"{what}: {len(unique):,} crimes ({n_req} request{'s' if n_req != 1 else ''}"
            + (f", {n_split} split{'s' if n_split != 1 else ''}" if n_split else "")
            + (f", {dups} duplicate{'s' if dups != 1 else ''} dropped" if dups else "")
            + ")"
        )
        log.info(message)
        return message

    def _request(self, poly: Polygon, month: str, what: str) -> list[dict[str, Any]] | None:
        """The crimes of one polygon, or None when the API refuses it as too big (503)."""
        endpoint = f"{self.base_url}/crimes-street/all-crime"
        query = urllib.parse.urlencode({"poly": _poly_param(poly), "date": month}, safe=",:")
        url = f"{endpoint}?{query}"
        if len(url) <= _MAX_GET_URL:
            method, body, target = "GET", None, url
        else:
            method, body, target = "POST", query.encode("ascii"), endpoint
        status, crimes = self.http.call(
            method,
            target,
            body,
            what=what,
            parse=_parse_crimes,
            passthrough=frozenset({503}),
            resume_hint=" (finished months are kept and skipped)",
        )
        return crimes if status == 200 else None

    def area(self, poly: Polygon, month: str, what: str, depth: int = 0) -> list[dict[str, Any]]:
        """All crimes of a polygon in a month, splitting it while the API says it is too big."""
        crimes = self._request(poly, month, what)
        if crimes is not None:
            return crimes
        if depth >= self.max_depth:
            raise FetchError(
                f"{what}: data.police.uk still answers 503 after splitting the area into "
                f"quarters {depth} times (over its 10,000-crime limit, or the service is down); "
                f"try again later with a smaller boundary, or {_POLICE_MANUAL}"
            )
        self.result.splits += 1
        log.info("%s: over the API limit, splitting (depth %d)", what, depth + 1)
        out: list[dict[str, Any]] = []
        for piece in _quadrants(poly):
            out.extend(self.area(piece, month, what, depth + 1))
        return out


def fetch_police(
    boundary: gpd.GeoDataFrame | gpd.GeoSeries | Polygon | MultiPolygon,
    *,
    start: str,
    end: str,
    out_dir: str | Path,
    base_url: str = POLICE_API,
    cache_dir: str | Path | None = None,
    max_requests_per_second: float = 15.0,
    retries: int = 4,
    backoff: float = 1.0,
    timeout: float = FETCH_TIMEOUT,
    max_depth: int = _MAX_DEPTH,
    progress: Progress | None = None,
    deadline: float | None = FETCH_DEADLINE,
) -> FetchResult:
    """Download data.police.uk street-level crimes inside a boundary, month by month.

    Each month of ``start``..``end`` is one ``crimes-street/all-crime`` query per polygon of
    the boundary (``poly`` and ``date``; POST instead of GET when the URL would pass 4,000
    characters). An area the API refuses for holding more than 10,000 crimes (HTTP 503) is
    cut into the quarters of its bounding box, recursively; a crime on a cut line comes back
    twice and is written once. The answers are written as
    ``out_dir/YYYY-MM/crimes_<part>.json`` (the API's JSON list), ready for
    :func:`hotspots.io.read_incidents`.

    Parameters
    ----------
    boundary
        The study area: a GeoDataFrame/GeoSeries in any CRS (its polygons are merged), or a
        shapely Polygon/MultiPolygon in WGS84 longitude/latitude. Holes are ignored and a
        boundary of more than 400 vertices is simplified so that it still covers the
        original: the files may hold a few crimes just outside it.
    start, end
        First and last month, inclusive, ``"YYYY-MM"``.
    out_dir
        Folder to write; created if needed. Month/parts already complete there (listed in
        its hidden ``.fetch-manifest.json`` for the same polygon) are skipped, so an
        interrupted download continues where it stopped.
    base_url
        The API root (``https://data.police.uk/api``).
    cache_dir
        Folder caching every successful answer by request; None for no cache.
    max_requests_per_second
        The client-side rate limit (the API allows 15 a second with bursts of 30).
    retries, backoff, timeout
        Transient failures (connection reset, timeout, HTTP 500/502/504, malformed answers)
        are retried ``retries`` times after ``backoff * 2**attempt`` seconds; HTTP 429 waits
        for its Retry-After header when it has one (up to
        :data:`geodata.settings.MAX_RETRY_AFTER` seconds; a longer wait ends the download).
        ``timeout`` bounds each request, in seconds, to the last byte of its answer.
    max_depth
        How many times an area may be cut into quarters before giving up.
    progress
        Called as ``progress(done, total, message)`` after each month/part.
    deadline
        Seconds the whole download may take (None: no limit); past it, a :class:`FetchError`
        says to run again, which resumes where it stopped.

    Returns
    -------
    FetchResult
        Files, counts of crimes, duplicates, requests, splits, retries and resumed pieces.
        ``crimes``, ``duplicates`` and ``files`` cover the whole period (resumed pieces
        included); ``requests``, ``splits``, ``retries`` count this run only.

    Raises
    ------
    FetchError
        The API cannot be reached (offline: download by hand), keeps failing or sends
        malformed answers for a month (the message names it), or refuses a request.
    ParameterError
        A bad month, boundary or option.
    """
    months = _months(start, end)
    check_options(retries, backoff, timeout, max_requests_per_second, deadline)
    check_url(base_url)
    if not isinstance(max_depth, int) or max_depth < 0:
        raise ParameterError(f"max_depth: expected a whole number >= 0, got {max_depth!r}.")
    parts = _boundary_parts(boundary)
    out = Path(out_dir).expanduser()
    out.mkdir(parents=True, exist_ok=True)
    http = PoliteClient(
        service="data.police.uk",
        manual=_POLICE_MANUAL,
        rate=float(max_requests_per_second),
        retries=retries,
        backoff=float(backoff),
        timeout=float(timeout),
        cache_dir=Path(cache_dir).expanduser() if cache_dir is not None else None,
        deadline=None if deadline is None else float(deadline),
    )
    result = FetchResult(out_dir=out, months=months)
    run = _PoliceRun(http, base_url, result, max_depth, parts)
    total = len(months) * len(parts)
    done = 0
    log.info("fetching %d months x %d polygon(s) from %s", len(months), len(parts), base_url)
    try:
        for month in months:
            _drop_stale_parts(out, month, len(parts), run.pieces)
            seen: set[str] = set()
            for k in range(len(parts)):
                done += 1
                message = run.piece(month, k, seen)
                if progress is not None:
                    progress(done, total, message)
    finally:
        result.requests = http.sent
        result.retries = http.resent
        result.cache_hits = http.cache_hits
    return result


def ward_boundary(wards: gpd.GeoDataFrame, code: str) -> Polygon | MultiPolygon:
    """The polygon of one ward, by its code, in WGS84 (ready for :func:`fetch_police`).

    Parameters
    ----------
    wards
        A ward layer with a CRS: the frame :func:`fetch_wards` returns (``ward_code``), or one
        with a ``GSS_CODE`` / ``WDyyCD`` column.
    code
        The ward's GSS code, e.g. ``"E05000599"``.

    Raises
    ------
    ParameterError
        No code column, no CRS, or no ward with that code (the message lists some valid ones).
    """
    if not isinstance(wards, gpd.GeoDataFrame):
        raise ParameterError(f"wards: expected a GeoDataFrame, got {type(wards).__name__}.")
    if wards.crs is None:
        raise ParameterError("wards: the layer has no CRS; set it (e.g. EPSG:27700).")
    candidates = [
        c
        for c in wards.columns
        if str(c).lower() in ("ward_code", "gss_code", "code")
        or re.fullmatch(r"wd\d\dcd", str(c).lower())
    ]
    if not candidates:
        raise ParameterError(
            "wards: no ward code column (ward_code, GSS_CODE or WDyyCD); give the layer "
            "fetch_wards wrote or an ONS ward boundary file."
        )
    col = candidates[0]
    values = wards[col].astype("str").str.strip()
    hit = wards.loc[(values == str(code).strip()).to_numpy()]
    if hit.empty:
        valid = sorted(values.unique())
        shown = ", ".join(valid[:5]) + (", ..." if len(valid) > 5 else "")
        raise ParameterError(
            f"ward code {code!r} is not in the wards layer ({len(valid)} wards); use one of its "
            f"{col} values, e.g. {shown}."
        )
    geom = shapely.make_valid(hit.to_crs("EPSG:4326").union_all())
    polys = _polygons(geom)
    if not polys:
        raise ParameterError(f"ward {code}: its geometry has no area; check the wards layer.")
    return polys[0] if len(polys) == 1 else MultiPolygon(polys)
