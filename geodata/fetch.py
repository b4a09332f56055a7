"""Download reference layers: data.police.uk street crimes and ONS ward boundaries.

:func:`fetch_police` asks the data.police.uk API (``crimes-street/all-crime``) for every
month of a period inside a boundary and writes the answers as the API JSON that
:func:`hotspots.incidents.read_incidents` reads: ``out_dir/YYYY-MM/crimes_<part>.json``.
It keeps to the published call limits (15 requests a second, a burst of 30, HTTP 429 past
them), splits an area into quarters when the API refuses it for holding more than 10,000
crimes (HTTP 503), retries transient failures, and resumes an interrupted download.

:func:`fetch_wards` pages through an ArcGIS FeatureServer layer of the ONS Open Geography
Portal and saves the wards of one local authority district as a GeoPackage (EPSG:27700).

Both use the standard library for HTTP (:mod:`urllib.request`) and can cache every answer
on disk by request (method, URL and body), so a second run asks nothing it already has.
"""

from __future__ import annotations

import contextlib
import email.utils
import hashlib
import http.client
import json
import logging
import math
import os
import re
import socket
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import geopandas as gpd
import shapely
from shapely.geometry import MultiPolygon, Polygon, box
from shapely.geometry.base import BaseGeometry

from hotspots._files import atomic_write_bytes
from hotspots.errors import InputError, ParameterError

__all__ = [
    "ONS_WARDS_URL",
    "POLICE_API",
    "FetchError",
    "FetchResult",
    "fetch_police",
    "fetch_wards",
    "ward_boundary",
]

log = logging.getLogger(__name__)

#: The data.police.uk API root (https://data.police.uk/docs/).
POLICE_API = "https://data.police.uk/api"

#: ONS Open Geography Portal: "Wards (December 2024) Boundaries UK BGC" (generalised to
#: 20 m, clipped to the coastline), layer 0 of its ArcGIS FeatureServer. ONS publishes a new
#: service each year under a new name (fields WD24CD, LAD24CD, ... change with it), so the
#: URL is a parameter of :func:`fetch_wards`.
ONS_WARDS_URL = (
    "https://services1.arcgis.com/ESMARspQHYMw9BZ9/arcgis/rest/services/"
    "Wards_December_2024_Boundaries_UK_BGC/FeatureServer/0"
)

_POLICE_MANUAL = (
    "download the street CSVs by hand from https://data.police.uk/data/ and give the zip to "
    "`hotspots analyse`"
)
_ONS_MANUAL = (
    "download the ward boundaries by hand from the ONS Open Geography Portal "
    "(https://geoportal.statistics.gov.uk/, Boundaries > Administrative Boundaries > Wards) "
    "and give the file to --wards"
)
_USER_AGENT = "hotspots-fetch/0.1 (+https://data.police.uk/docs/)"
# The API answers HTTP 400 to a GET URL longer than 4094 characters: POST above this.
_MAX_GET_URL = 4000
# Boundaries with more vertices are simplified (about 20 characters each in the poly string).
_MAX_VERTICES = 400
# Splitting an area in quarters this many times (4**6 pieces) and still 503: give up.
_MAX_DEPTH = 6
_MAX_WAIT = 120.0  # seconds: longest single wait (Retry-After or back-off)
_MAX_PAGES = 1000
_MONTH_RE = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
_LAD_RE = re.compile(r"^(E06|E07|E08|E09|W06|S12)\d{6}$")
_MANIFEST = ".fetch-manifest.json"  # hidden: read_incidents skips dot files in folders
_RETRY_STATUS = frozenset({408, 500, 502, 503, 504})

_T = TypeVar("_T")
Progress = Callable[[int, int, str], None]


class FetchError(InputError):
    """A download that failed: names what failed and what to do (often: download by hand)."""


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


# ==========================================================================================
# HTTP: rate limit, retries, cache
# ==========================================================================================
class _Malformed(Exception):
    """An answer with status 200 that is not what the service sends (retried)."""


class _TokenBucket:
    """At most ``rate`` requests a second on average, bursts of at most ``capacity``."""

    def __init__(self, rate: float, capacity: float) -> None:
        self.rate = rate
        self.capacity = capacity
        self.tokens = capacity
        self.stamp = time.monotonic()

    def acquire(self) -> None:
        while True:  # at most two turns: the sleep makes the token
            now = time.monotonic()
            self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
            self.stamp = now
            if self.tokens >= 1.0:
                self.tokens -= 1.0
                return
            time.sleep((1.0 - self.tokens) / self.rate)

    def drain(self) -> None:
        """Forget saved-up tokens (after HTTP 429: the server thinks we are too fast)."""
        self.tokens = 0.0
        self.stamp = time.monotonic()


def _retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delay-seconds or an HTTP date), or None.

    >>> _retry_after("2"), _retry_after("soon"), _retry_after(None)
    (2.0, None, None)
    """
    if not value:
        return None
    text = value.strip()
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _describe(exc: BaseException) -> str:
    """A short reason for a network failure, e.g. ``connection refused``."""
    reason: Any = exc.reason if isinstance(exc, urllib.error.URLError) else exc
    if isinstance(reason, ConnectionRefusedError):
        return "connection refused"
    if isinstance(reason, socket.gaierror):
        return f"host name lookup failed: {reason.strerror or reason}"
    if isinstance(reason, TimeoutError | socket.timeout):
        return "timed out"
    if isinstance(reason, http.client.RemoteDisconnected):
        return "connection closed without an answer"
    if isinstance(reason, ConnectionResetError):
        return "connection reset"
    if isinstance(reason, http.client.IncompleteRead):
        return "answer cut short"
    text = str(reason).strip() or type(reason).__name__
    return " ".join(text.split())


def _is_offline(exc: BaseException) -> bool:
    reason: Any = exc.reason if isinstance(exc, urllib.error.URLError) else exc
    return isinstance(reason, ConnectionRefusedError | socket.gaierror)


class _Http:
    """Requests to one service: rate limit, retries with back-off, an optional disk cache."""

    def __init__(
        self,
        *,
        service: str,
        manual: str,
        rate: float | None,
        retries: int,
        backoff: float,
        timeout: float,
        cache_dir: Path | None,
    ) -> None:
        self.service = service
        self.manual = manual
        self.bucket = _TokenBucket(rate, max(1.0, rate)) if rate is not None else None
        self.retries = retries
        self.backoff = backoff
        self.timeout = timeout
        self.cache_dir = cache_dir
        self.sent = 0
        self.resent = 0
        self.cache_hits = 0

    # --- cache -----------------------------------------------------------------------------
    def _cache_path(self, method: str, url: str, body: bytes | None) -> Path | None:
        if self.cache_dir is None:
            return None
        digest = hashlib.sha256(f"{method}\n{url}\n".encode() + (body or b"")).hexdigest()
        return self.cache_dir / digest[:2] / f"{digest}.cache"

    # --- one exchange ------------------------------------------------------------------------
    def _send(
        self, method: str, url: str, body: bytes | None
    ) -> tuple[int, str, bytes, str | None]:
        headers = {"User-Agent": _USER_AGENT, "Accept": "application/json"}
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        req = urllib.request.Request(url, data=body, method=method, headers=headers)
        if self.bucket is not None:
            self.bucket.acquire()
        self.sent += 1
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                return int(resp.status), str(resp.reason), resp.read(), None
        except urllib.error.HTTPError as err:
            try:
                data = err.read()
            except (OSError, http.client.HTTPException):
                data = b""
            return int(err.code), str(err.reason), data, err.headers.get("Retry-After")

    def call(
        self,
        method: str,
        url: str,
        body: bytes | None,
        *,
        what: str,
        parse: Callable[[bytes], _T],
        passthrough: frozenset[int] = frozenset(),
        resume_hint: str = "",
        cache_if: Callable[[_T], bool] | None = None,
    ) -> tuple[int, _T | None]:
        """Send a request until it succeeds; ``(200, parsed)`` or ``(status, None)``.

        Statuses in ``passthrough`` go back to the caller at once. Transient failures
        (resets, timeouts, 408/500/502/503/504, malformed answers) and HTTP 429 are tried
        ``retries`` more times; refused connections and failed look-ups are not (offline).
        Parsed answers are cached when ``cache_if`` (default: always) says so.
        """
        cache = self._cache_path(method, url, body)
        if cache is not None and cache.is_file():
            try:
                parsed = parse(cache.read_bytes())
            except (_Malformed, OSError):
                log.warning("ignoring an unreadable cache file %s", cache)
            else:
                self.cache_hits += 1
                return 200, parsed
        last = ""
        for attempt in range(self.retries + 1):
            if attempt:
                self.resent += 1
            wait = min(_MAX_WAIT, self.backoff * 2.0**attempt)
            try:
                status, phrase, data, retry_after = self._send(method, url, body)
            except (OSError, http.client.HTTPException) as exc:
                if _is_offline(exc):
                    raise FetchError(
                        f"could not reach {self.service} ({_describe(exc)} at "
                        f"{urllib.parse.urlsplit(url).netloc}); {self.manual}"
                    ) from None
                last = _describe(exc)
                log.info("%s: %s (attempt %d), retrying", what, last, attempt + 1)
            else:
                if status == 200:
                    try:
                        parsed = parse(data)
                    except _Malformed as exc:
                        last = str(exc)
                        log.info("%s: %s (attempt %d), retrying", what, last, attempt + 1)
                    else:
                        if cache is not None and (cache_if is None or cache_if(parsed)):
                            atomic_write_bytes(cache, data)
                        return 200, parsed
                elif status in passthrough:
                    return status, None
                elif status == 429:
                    last = "HTTP 429 Too Many Requests"
                    given = _retry_after(retry_after)
                    if given is not None:
                        wait = min(_MAX_WAIT, given)
                    if self.bucket is not None:
                        self.bucket.drain()
                    log.info("%s: HTTP 429, waiting %.2f s", what, wait)
                elif status in _RETRY_STATUS:
                    last = f"HTTP {status} {phrase}".strip()
                    log.info("%s: %s (attempt %d), retrying", what, last, attempt + 1)
                else:
                    raise FetchError(
                        f"{what}: {self.service} answered HTTP {status} {phrase}".strip()
                        + f" to {method} {_short(url)}; check the request (base_url, dates), "
                        f"or {self.manual}"
                    )
            if attempt < self.retries:
                time.sleep(wait)
        if last.startswith("HTTP 429"):
            raise FetchError(
                f"{what}: {self.service} kept answering HTTP 429 Too Many Requests "
                f"({self.retries + 1} tries); lower max_requests_per_second and run again"
                f"{resume_hint}, or {self.manual}"
            )
        raise FetchError(
            f"{what}: {self.service} failed {self.retries + 1} times (last: {last}); try again "
            f"later{resume_hint}, or {self.manual}"
        )


def _short(url: str, limit: int = 120) -> str:
    return url if len(url) <= limit else url[: limit - 3] + "..."


def _check_common(retries: int, backoff: float, timeout: float, rate: float | None = None) -> None:
    if not isinstance(retries, int) or isinstance(retries, bool) or retries < 0:
        raise ParameterError(f"retries: expected a whole number >= 0, got {retries!r}.")
    if not (isinstance(backoff, int | float) and math.isfinite(backoff) and backoff >= 0):
        raise ParameterError(f"backoff: expected seconds >= 0, got {backoff!r}.")
    if not (isinstance(timeout, int | float) and math.isfinite(timeout) and timeout > 0):
        raise ParameterError(f"timeout: expected seconds > 0, got {timeout!r}.")
    if rate is not None and not (
        isinstance(rate, int | float) and math.isfinite(rate) and rate > 0
    ):
        raise ParameterError(
            f"max_requests_per_second: expected a number > 0 (data.police.uk allows 15), "
            f"got {rate!r}."
        )


def _check_url(base_url: str) -> None:
    parts = urllib.parse.urlsplit(str(base_url))
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ParameterError(
            f"base_url {base_url!r}: not a web address; give one starting https://."
        )


# ==========================================================================================
# data.police.uk
# ==========================================================================================
def _months(start: str, end: str) -> list[str]:
    """The months from ``start`` to ``end`` inclusive.

    >>> _months("2023-11", "2024-02")
    ['2023-11', '2023-12', '2024-01', '2024-02']
    """
    parsed = []
    for name, value in (("start", start), ("end", end)):
        m = _MONTH_RE.match(str(value).strip())
        if not m:
            raise ParameterError(f"{name} {value!r}: not a month; use YYYY-MM, e.g. 2024-01.")
        parsed.append(int(m.group(1)) * 12 + int(m.group(2)) - 1)
    first, last = parsed
    if first > last:
        raise ParameterError(f"start {start} is after end {end}; swap them.")
    return [f"{k // 12:04d}-{k % 12 + 1:02d}" for k in range(first, last + 1)]


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
    """The crimes of an API answer; :class:`_Malformed` when it is not a JSON list."""
    head = data.lstrip()[:200]
    if head[:1] == b"<":
        raise _Malformed("an HTML page instead of JSON")
    try:
        obj = json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError):
        snippet = " ".join(head[:40].decode("utf-8", "replace").split())
        raise _Malformed(f"not JSON (starts {snippet!r})") from None
    if not isinstance(obj, list):
        raise _Malformed(f"JSON {type(obj).__name__}, not a list of crimes")
    if not all(isinstance(r, dict) for r in obj):
        raise _Malformed("a JSON list whose items are not crime records")
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
    except (_Malformed, OSError):
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
    def __init__(self, http: _Http, base_url: str, result: FetchResult, max_depth: int) -> None:
        self.http = http
        self.base_url = base_url.rstrip("/")
        self.result = result
        self.max_depth = max_depth

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
    timeout: float = 60.0,
    max_depth: int = _MAX_DEPTH,
    progress: Progress | None = None,
) -> FetchResult:
    """Download data.police.uk street-level crimes inside a boundary, month by month.

    Each month of ``start``..``end`` is one ``crimes-street/all-crime`` query per polygon of
    the boundary (``poly`` and ``date``; POST instead of GET when the URL would pass 4,000
    characters). An area the API refuses for holding more than 10,000 crimes (HTTP 503) is
    cut into the quarters of its bounding box, recursively; a crime on a cut line comes back
    twice and is written once. The answers are written as
    ``out_dir/YYYY-MM/crimes_<part>.json`` (the API's JSON list), ready for
    :func:`hotspots.incidents.read_incidents`.

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
        for its Retry-After header when it has one. ``timeout`` is per request, in seconds.
    max_depth
        How many times an area may be cut into quarters before giving up.
    progress
        Called as ``progress(done, total, message)`` after each month/part.

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
    _check_common(retries, backoff, timeout, max_requests_per_second)
    _check_url(base_url)
    if not isinstance(max_depth, int) or max_depth < 0:
        raise ParameterError(f"max_depth: expected a whole number >= 0, got {max_depth!r}.")
    parts = _boundary_parts(boundary)
    out = Path(out_dir).expanduser()
    out.mkdir(parents=True, exist_ok=True)
    http = _Http(
        service="data.police.uk",
        manual=_POLICE_MANUAL,
        rate=float(max_requests_per_second),
        retries=retries,
        backoff=float(backoff),
        timeout=float(timeout),
        cache_dir=Path(cache_dir).expanduser() if cache_dir is not None else None,
    )
    result = FetchResult(out_dir=out, months=months)
    run = _PoliceRun(http, base_url, result, max_depth)
    manifest_path = out / _MANIFEST
    pieces = _read_manifest(manifest_path)
    polys = [_poly_param(p) for p in parts]
    total = len(months) * len(parts)
    done = 0
    log.info("fetching %d months x %d polygon(s) from %s", len(months), len(parts), base_url)
    try:
        for month in months:
            _drop_stale_parts(out, month, len(parts), pieces)
            seen: set[str] = set()
            for k, poly in enumerate(parts):
                rel = f"{month}/crimes_{k}.json"
                path = out / rel
                what = month if len(parts) == 1 else f"{month} part {k + 1}/{len(parts)}"
                fingerprint = hashlib.sha256(
                    f"{run.base_url}\n{month}\n{polys[k]}".encode()
                ).hexdigest()[:20]
                entry = pieces.get(rel)
                done += 1
                kept = _kept_piece(path, entry, fingerprint, need_ids=len(parts) > 1)
                if kept is not None and isinstance(entry, dict):
                    result.skipped += 1
                    result.crimes += int(entry.get("crimes", 0))
                    result.duplicates += int(entry.get("duplicates", 0))
                    result.files.append(path)
                    seen.update(kept)
                    if progress is not None:
                        progress(done, total, f"{what}: already downloaded, skipped")
                    continue
                requests_before, splits_before = http.sent, result.splits
                crimes = run.area(poly, month, what)
                unique: list[dict[str, Any]] = []
                for crime in crimes:
                    key = _crime_key(crime)
                    if key not in seen:
                        seen.add(key)
                        unique.append(crime)
                dups = len(crimes) - len(unique)
                atomic_write_bytes(path, json.dumps(unique, separators=(",", ":")).encode("utf-8"))
                pieces[rel] = {
                    "fingerprint": fingerprint,
                    "crimes": len(unique),
                    "duplicates": dups,
                }
                atomic_write_bytes(
                    manifest_path,
                    json.dumps({"base_url": run.base_url, "pieces": pieces}, indent=1).encode(),
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


# ==========================================================================================
# ONS Open Geography Portal (ArcGIS FeatureServer)
# ==========================================================================================
def _parse_arcgis(data: bytes) -> dict[str, Any]:
    """A GeoJSON FeatureCollection or an ArcGIS ``error`` object; else :class:`_Malformed`."""
    if data.lstrip()[:1] == b"<":
        raise _Malformed("an HTML page instead of JSON")
    try:
        obj = json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise _Malformed("not JSON") from None
    if not isinstance(obj, dict):
        raise _Malformed(f"JSON {type(obj).__name__}, not a GeoJSON FeatureCollection")
    if "error" in obj:
        err = obj["error"] if isinstance(obj["error"], dict) else {"message": obj["error"]}
        code = err.get("code")
        if isinstance(code, int) and code >= 500:  # the service's own transient failure
            raise _Malformed(f"ArcGIS error {code} {err.get('message', '')}".strip())
        return obj
    if not isinstance(obj.get("features"), list):
        raise _Malformed("JSON without a 'features' list")
    return obj


def _not_error(answer: dict[str, Any] | None) -> bool:
    return answer is not None and "error" not in answer


def _field_like(props: dict[str, Any], pattern: str) -> str | None:
    for key in props:
        if re.fullmatch(pattern, str(key), flags=re.IGNORECASE):
            return str(key)
    return None


def fetch_wards(
    lad_code: str,
    *,
    out_file: str | Path,
    base_url: str = ONS_WARDS_URL,
    page_size: int = 1000,
    code_field: str | None = None,
    lad_field: str | None = None,
    cache_dir: str | Path | None = None,
    retries: int = 4,
    backoff: float = 1.0,
    timeout: float = 60.0,
    progress: Progress | None = None,
) -> gpd.GeoDataFrame:
    """Download the wards of one local authority district from the ONS Open Geography Portal.

    Pages through the ArcGIS FeatureServer ``query`` (``where=<lad_field>='<code>'``,
    ``outSR=4326``, ``f=geojson``, ``resultOffset``/``resultRecordCount``) while the answer
    says ``exceededTransferLimit``, and saves the wards as a GeoPackage in EPSG:27700.

    Parameters
    ----------
    lad_code
        The district's GSS code: E06/E07/E08/E09, W06 or S12 and 6 digits, e.g.
        ``"E09000031"`` (Waltham Forest). Checked before any request.
    out_file
        The GeoPackage to write (replaced atomically).
    base_url
        The FeatureServer layer. The default is "Wards (December 2024) Boundaries UK BGC";
        ONS publishes a new service (and new field names) every year, so pass the newest
        layer's URL when there is one.
    page_size
        Features asked per page (``resultRecordCount``; the service caps it at its
        ``maxRecordCount``, 2,000 on ONS services).
    code_field, lad_field
        The ward code and district code fields, e.g. ``"WD24CD"`` and ``"LAD24CD"``. By
        default ``lad_field`` is ``LADyyCD`` with the year in ``base_url`` and ``code_field``
        the ``WDyyCD`` field of the answer.
    cache_dir, retries, backoff, timeout, progress
        As in :func:`fetch_police`; ``progress(pages_done, pages_known, message)``.

    Returns
    -------
    GeoDataFrame
        ``ward_code``, ``ward_name``, ``lad_code``, ``geometry`` (EPSG:27700), then the
        service's own fields.

    Raises
    ------
    ParameterError
        A malformed LAD code or option (no request is made).
    FetchError
        Offline, an ``error`` answer from the service, or no wards for the code.
    """
    code = str(lad_code).strip().upper()
    if not _LAD_RE.match(code):
        raise ParameterError(
            f"lad_code {lad_code!r}: not a local authority district code; use E06, E07, E08, "
            "E09, W06 or S12 and 6 digits, e.g. E09000031 (Waltham Forest)."
        )
    _check_common(retries, backoff, timeout)
    _check_url(base_url)
    if not isinstance(page_size, int) or isinstance(page_size, bool) or page_size < 1:
        raise ParameterError(f"page_size: expected a whole number >= 1, got {page_size!r}.")
    if lad_field is None:
        # the year in the service name, e.g. Wards_December_2024_Boundaries_UK_BGC
        year = re.search(r"(?<!\d)20(\d\d)(?!\d)", urllib.parse.urlsplit(base_url).path)
        if year is None:
            raise ParameterError(
                f"lad_field: cannot tell the district code field from {base_url!r}; give it, "
                "e.g. lad_field='LAD24CD'."
            )
        lad_field = f"LAD{year.group(1)}CD"
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", lad_field):
        raise ParameterError(f"lad_field {lad_field!r}: not a field name, e.g. LAD24CD.")
    http = _Http(
        service="the ONS Open Geography Portal",
        manual=_ONS_MANUAL,
        rate=None,
        retries=retries,
        backoff=float(backoff),
        timeout=float(timeout),
        cache_dir=Path(cache_dir).expanduser() if cache_dir is not None else None,
    )
    features: list[dict[str, Any]] = []
    offset = 0
    for page in range(1, _MAX_PAGES + 1):
        params = {
            "where": f"{lad_field}='{code}'",
            "outFields": "*",
            "outSR": "4326",
            "returnGeometry": "true",
            "f": "geojson",
            "resultOffset": str(offset),
            "resultRecordCount": str(page_size),
        }
        url = f"{base_url.rstrip('/')}/query?{urllib.parse.urlencode(params)}"
        what = f"wards of {code} (page {page})"
        _, answer = http.call("GET", url, None, what=what, parse=_parse_arcgis, cache_if=_not_error)
        assert answer is not None
        if "error" in answer:
            err = answer["error"] if isinstance(answer["error"], dict) else {}
            details = "; ".join(str(d) for d in err.get("details") or [] if d)
            text = " ".join(f"{err.get('message', '')} {details}".split())
            raise FetchError(
                f"{what}: the ONS Open Geography Portal answered error {err.get('code', '?')}"
                f" ({text or 'no message'}); check base_url (the service is renamed every "
                f"year) and lad_field ({lad_field}), or {_ONS_MANUAL}"
            )
        got = [f for f in answer["features"] if isinstance(f, dict)]
        features.extend(got)
        props = answer.get("properties")
        more = bool(
            answer.get("exceededTransferLimit")
            or (isinstance(props, dict) and props.get("exceededTransferLimit"))
        )
        more = more and bool(got)
        if progress is not None:
            progress(page, page + int(more), f"{what}: {len(features):,} wards so far")
        if not more:
            break
        offset += len(got)
    else:
        raise FetchError(
            f"wards of {code}: still more pages after {_MAX_PAGES}; check base_url, or "
            f"{_ONS_MANUAL}"
        )
    if not features:
        raise FetchError(
            f"no wards for LAD code {code}: check the code, e.g. E09000031 is Waltham Forest"
        )
    frame = gpd.GeoDataFrame.from_features(features, crs="EPSG:4326")
    props0 = features[0].get("properties") or {}
    code_col = code_field or _field_like(props0, r"WD\d\dCD")
    if code_col is None or code_col not in frame.columns:
        raise FetchError(
            f"wards of {code}: no ward code field ({code_field or 'WDyyCD'}) in the answer; "
            f"give code_field (fields: {', '.join(map(str, props0))})."
        )
    name_col = _field_like(props0, re.sub(r"CD$", "NM", code_col, flags=re.IGNORECASE))
    lad_col = lad_field if lad_field in frame.columns else None
    source = [c for c in frame.columns if c != "geometry"]
    frame = frame.drop_duplicates(subset=[code_col]).reset_index(drop=True)
    out = gpd.GeoDataFrame(
        {
            "ward_code": frame[code_col].astype("str"),
            "ward_name": frame[name_col].astype("str")
            if name_col
            else frame[code_col].astype("str"),
            "lad_code": frame[lad_col].astype("str") if lad_col else code,
            **{c: frame[c] for c in source},
        },
        geometry=frame.geometry.to_crs("EPSG:27700").to_numpy(),
        crs="EPSG:27700",
    )
    out = out[["ward_code", "ward_name", "lad_code", "geometry", *source]]
    assert isinstance(out, gpd.GeoDataFrame)
    target = Path(out_file).expanduser()
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.stem}.", suffix=".gpkg")
    os.close(fd)
    os.unlink(tmp)  # the driver creates the file
    try:
        out.to_file(tmp, driver="GPKG", layer="wards")
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    log.info("wrote %d wards of %s to %s", len(out), code, target)
    return out
