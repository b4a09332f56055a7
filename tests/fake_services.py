"""A real local HTTP server that answers like data.police.uk and an ONS ArcGIS FeatureServer.

Written from the published documentation, not from our client:

- data.police.uk ``/api/crimes-street/all-crime`` (https://data.police.uk/docs/method/crime-street/):
  GET with ``poly=lat,lng:lat,lng:...&date=YYYY-MM``, or POST with the same form body; the
  answer is the JSON list of crimes in the polygon that month; a custom area holding more
  than the cap (10,000 on the real service) answers HTTP 503; a GET URL over 4094
  characters answers 400. Call limits (https://data.police.uk/docs/api-call-limits/): a
  leaky bucket, 15 requests a second with a burst of 30; over it, HTTP 429.
- ArcGIS REST "Query (Feature Service/Layer)": ``.../FeatureServer/0/query`` with ``where``,
  ``outFields``, ``outSR``, ``f=geojson``, ``resultOffset`` and ``resultRecordCount``; a page
  that stops short of the matches says ``"properties": {"exceededTransferLimit": true}``;
  bad parameters answer HTTP 200 with an ``{"error": {...}}`` object.

Use it as a context manager::

    with FakeServices(crimes=crimes, cap=50) as fake:
        fetch_police(poly, start="2024-01", end="2024-01", base_url=fake.police_url, ...)
        fake.log  # every request: method, path, params, status, time
"""

from __future__ import annotations

import json
import re
import socket
import threading
import time
import urllib.parse
from collections.abc import Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import shapely
from shapely.geometry import Polygon

__all__ = [
    "FAILURES",
    "WARDS_PATH",
    "FakeServices",
    "Logged",
    "closed_port_url",
    "crime",
    "parse_poly",
    "ward_feature",
]

WARDS_PATH = "/arcgis/rest/services/Wards_December_2024_Boundaries_UK_BGC/FeatureServer/0"
#: Failures that can be injected into police API answers, in order, one per request.
#: "slow" sends a byte every 0.1 s (of a long answer); "big" announces a 1 TB answer.
FAILURES = ("malformed", "html", "notlist", "drop", "500", "502", "504", "429", "slow", "big")


@dataclass
class Logged:
    """One request the server saw."""

    time: float  # time.monotonic() on arrival
    method: str
    path: str
    params: dict[str, str]
    status: int = 0  # 0: connection dropped without an answer
    note: str = ""
    url_length: int = 0


@dataclass
class _Bucket:
    """A leaky bucket: ``level`` drains at ``rate`` a second; a request adds 1 up to ``burst``."""

    rate: float
    burst: float
    level: float = 0.0
    stamp: float = field(default_factory=time.monotonic)

    def admit(self, now: float) -> bool:
        self.level = max(0.0, self.level - (now - self.stamp) * self.rate)
        self.stamp = now
        if self.level + 1.0 > self.burst + 1e-9:
            return False
        self.level += 1.0
        return True


def parse_poly(text: str) -> Polygon:
    """The API's ``poly`` (``lat,lng:lat,lng:...``) as a shapely polygon in (lon, lat)."""
    pairs = [p.split(",") for p in text.strip().strip(":").split(":")]
    coords = [(float(lng), float(lat)) for lat, lng in pairs]
    if len(coords) < 3:
        raise ValueError("a polygon needs at least 3 points")
    return Polygon(coords)


class FakeServices:
    """data.police.uk and ONS FeatureServer look-alikes on ``127.0.0.1`` (a free port).

    Parameters
    ----------
    crimes
        The crimes the police API holds, in the API's JSON form (``location.latitude`` and
        ``longitude`` as text, ``month``, ``id``, ...).
    cap
        A polygon query matching more crimes than this answers HTTP 503.
    rate, burst
        The leaky bucket limit (requests a second, burst); None: no limit.
    retry_after
        The Retry-After header sent with HTTP 429 (None: no header).
    failures
        Failures (see :data:`FAILURES`) answered to the first police requests, one each.
    wards
        GeoJSON features (WGS84) the ArcGIS layer holds.
    max_record_count
        The layer's maxRecordCount: the largest page it answers.
    arcgis_error
        When set, every ArcGIS query answers HTTP 200 with ``{"error": arcgis_error}``.
    """

    def __init__(
        self,
        *,
        crimes: Iterable[dict[str, Any]] = (),
        cap: int = 10_000,
        rate: float | None = None,
        burst: float = 30,
        retry_after: str | None = "1",
        failures: Iterable[str] = (),
        wards: Iterable[dict[str, Any]] = (),
        max_record_count: int = 2000,
        arcgis_error: dict[str, Any] | None = None,
    ) -> None:
        self.crimes = list(crimes)
        self._lon = [float(c["location"]["longitude"]) for c in self.crimes]
        self._lat = [float(c["location"]["latitude"]) for c in self.crimes]
        self._points = shapely.points(self._lon, self._lat) if self.crimes else None
        self.cap = cap
        self.bucket = _Bucket(rate, burst) if rate is not None else None
        self.retry_after = retry_after
        self.failures = list(failures)
        unknown = [f for f in self.failures if f not in FAILURES]
        if unknown:
            raise ValueError(f"unknown failures {unknown}; use {FAILURES}")
        self.wards = list(wards)
        self.max_record_count = max_record_count
        self.arcgis_error = arcgis_error
        self.log: list[Logged] = []
        self.lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle ---------------------------------------------------------------------------
    @property
    def url(self) -> str:
        assert self._server is not None, "start the server first"
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def police_url(self) -> str:
        """The API root to give as ``base_url`` (like ``https://data.police.uk/api``)."""
        return f"{self.url}/api"

    @property
    def wards_url(self) -> str:
        """The FeatureServer layer to give as ``base_url``."""
        return f"{self.url}{WARDS_PATH}"

    def start(self) -> FakeServices:
        handler = type("Handler", (_Handler,), {"fake": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> FakeServices:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- what the service holds ---------------------------------------------------------------
    def truth(self, poly: Polygon, month: str) -> list[dict[str, Any]]:
        """The crimes of ``month`` in ``poly`` (edge included), as the API answers them."""
        if self._points is None:
            return []
        inside = shapely.covers(poly, self._points)
        return [
            c for c, hit in zip(self.crimes, inside, strict=True) if hit and c["month"] == month
        ]

    def police_requests(self) -> list[Logged]:
        with self.lock:
            return [r for r in self.log if r.path.startswith("/api/")]

    def arcgis_requests(self) -> list[Logged]:
        with self.lock:
            return [r for r in self.log if r.path.startswith("/arcgis/")]


class _Handler(BaseHTTPRequestHandler):
    fake: FakeServices
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    # --- plumbing ----------------------------------------------------------------------------
    def _reply(
        self, status: int, body: bytes, ctype: str, headers: dict[str, str] | None = None
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)
        self.close_connection = True

    def _misbehave(self, failure: str) -> None:
        """A 200 answer that never ends in time ("slow") or announces 1 TB ("big")."""
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(10**12 if failure == "big" else 100_000))
        self.end_headers()
        self.close_connection = True
        if failure == "big":
            self.wfile.write(b"[" + b" " * 1000)
            return
        try:  # at most 60 s, or until the client hangs up
            for _ in range(600):
                self.wfile.write(b" ")
                self.wfile.flush()
                time.sleep(0.1)
        except OSError:
            pass

    def _json(self, status: int, obj: Any, headers: dict[str, str] | None = None) -> None:
        self._reply(status, json.dumps(obj).encode(), "application/json", headers)

    def _record(self, method: str) -> tuple[Logged, dict[str, str]]:
        parts = urllib.parse.urlsplit(self.path)
        params = dict(urllib.parse.parse_qsl(parts.query, keep_blank_values=True))
        if method == "POST":
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length).decode("utf-8", "replace")
            params.update(urllib.parse.parse_qsl(body, keep_blank_values=True))
        entry = Logged(time.monotonic(), method, parts.path, params, url_length=len(self.path))
        with self.fake.lock:
            self.fake.log.append(entry)
        return entry, params

    def do_GET(self) -> None:
        self._route("GET")

    def do_POST(self) -> None:
        self._route("POST")

    def _route(self, method: str) -> None:
        entry, params = self._record(method)
        path = entry.path.rstrip("/")
        if path == "/api/crimes-street/all-crime":
            self._police(entry, params)
        elif path == WARDS_PATH + "/query":
            self._arcgis(entry, params)
        else:
            entry.status = 404
            self._reply(404, b"<html><body>Not found</body></html>", "text/html")

    # --- data.police.uk -------------------------------------------------------------------------
    def _police(self, entry: Logged, params: dict[str, str]) -> None:
        fake = self.fake
        with fake.lock:
            failure = fake.failures.pop(0) if fake.failures else None
            admitted = fake.bucket.admit(entry.time) if fake.bucket is not None else True
        if failure == "429" or not admitted:
            entry.status, entry.note = 429, failure or "over the rate limit"
            headers = {"Retry-After": fake.retry_after} if fake.retry_after else {}
            self._reply(429, b"", "text/plain", headers)
            return
        if failure is not None:
            entry.note = failure
            if failure == "drop":
                entry.status = 0
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            if failure in ("slow", "big"):
                entry.status = 200
                self._misbehave(failure)
                return
            if failure in ("500", "502", "504"):
                entry.status = int(failure)
                self._reply(entry.status, b"<html><body>Bad gateway</body></html>", "text/html")
                return
            entry.status = 200
            body = {
                "malformed": b'[{"category": "burglary", "locat',
                "html": b"<!DOCTYPE html><html><body>Maintenance</body></html>",
                "notlist": b'{"error": "something went wrong"}',
            }[failure]
            self._reply(200, body, "application/json")
            return
        if entry.method == "GET" and entry.url_length > 4094:
            entry.status = 400
            self._reply(400, b"<html>Request-URI Too Long</html>", "text/html")
            return
        month = params.get("date", "")
        if not re.fullmatch(r"\d{4}-\d{2}", month):
            entry.status = 400
            self._json(400, {"error": "date must be YYYY-MM"})
            return
        try:
            poly = parse_poly(params["poly"])
        except (KeyError, ValueError):
            entry.status = 400
            self._json(400, {"error": "bad poly"})
            return
        found = fake.truth(poly, month)
        if len(found) > fake.cap:
            entry.status, entry.note = 503, f"{len(found)} crimes over the cap"
            self._reply(503, b"", "text/html")
            return
        entry.status, entry.note = 200, f"{len(found)} crimes"
        self._json(200, found)

    # --- ArcGIS FeatureServer ------------------------------------------------------------------
    def _arcgis(self, entry: Logged, params: dict[str, str]) -> None:
        fake = self.fake
        entry.status = 200
        if fake.arcgis_error is not None:
            self._json(200, {"error": fake.arcgis_error})
            return
        where = params.get("where", "")
        m = re.fullmatch(r"\s*(\w+)\s*=\s*'([^']*)'\s*", where)
        if where.strip() == "1=1":
            matches = list(fake.wards)
        elif m and fake.wards and m.group(1) in fake.wards[0]["properties"]:
            matches = [w for w in fake.wards if str(w["properties"][m.group(1)]) == m.group(2)]
        else:
            entry.note = "invalid where"
            self._json(
                200,
                {
                    "error": {
                        "code": 400,
                        "message": "Unable to complete operation.",
                        "details": ["Unable to perform query. Please check your parameters."],
                    }
                },
            )
            return
        if params.get("outSR", "4326") not in ("4326", ""):
            entry.note = "outSR not supported here"
            self._json(200, {"error": {"code": 400, "message": "Invalid outSR", "details": []}})
            return
        offset = int(params.get("resultOffset", "0") or 0)
        count = int(params.get("resultRecordCount", "0") or 0) or fake.max_record_count
        count = min(count, fake.max_record_count)
        page = matches[offset : offset + count]
        more = offset + len(page) < len(matches)
        entry.note = f"{len(page)} features, more={more}"
        body: dict[str, Any] = {"type": "FeatureCollection", "features": page}
        if more:
            body["properties"] = {"exceededTransferLimit": True}
        self._json(200, body)


def closed_port_url() -> str:
    """``http://127.0.0.1:<port>`` where nothing listens (connection refused)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def ward_feature(
    code: str, name: str, lad: str, lon: float, lat: float, size: float = 0.01
) -> dict[str, Any]:
    """An ONS-like ward feature: a square at (lon, lat) with WD24CD/WD24NM/LAD24CD fields."""
    sq = Polygon([(lon, lat), (lon + size, lat), (lon + size, lat + size), (lon, lat + size)])
    return {
        "type": "Feature",
        "id": code,
        "geometry": json.loads(shapely.to_geojson(sq)),
        "properties": {
            "FID": int(code[-4:]),
            "WD24CD": code,
            "WD24NM": name,
            "LAD24CD": lad,
            "LAD24NM": "Waltham Forest" if lad == "E09000031" else "Elsewhere",
            "Shape__Area": 1.0,
        },
    }


def crime(
    cid: int, lon: float, lat: float, month: str, category: str = "burglary"
) -> dict[str, Any]:
    """A crime in the API's JSON form (coordinates as text, 6 decimals)."""
    return {
        "category": category,
        "location_type": "Force",
        "location": {
            "latitude": f"{lat:.6f}",
            "street": {"id": 900000 + cid % 1000, "name": "On or near Test Street"},
            "longitude": f"{lon:.6f}",
        },
        "context": "",
        "outcome_status": None,
        "persistent_id": f"{cid:064x}",
        "id": cid,
        "location_subtype": "",
        "month": month,
    }
