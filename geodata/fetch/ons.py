"""Ward boundaries from the ONS Open Geography Portal (an ArcGIS FeatureServer layer).

:func:`fetch_wards` pages through the layer and saves the wards of one local authority
district as a GeoPackage (EPSG:27700), for ``--wards`` and the dashboard.
"""

from __future__ import annotations

import json
import logging
import re
import urllib.parse
from pathlib import Path
from typing import Any

import geopandas as gpd

from hotspots._files import write_via
from hotspots._text import list_some
from hotspots.errors import ParameterError

from ..settings import FETCH_DEADLINE, FETCH_TIMEOUT, ONS_WARDS_URL
from .client import FetchError, MalformedAnswer, PoliteClient, Progress, check_options, check_url

__all__ = ["fetch_wards"]

log = logging.getLogger(__name__)

_ONS_MANUAL = (
    "download the wards by hand (geoportal.statistics.gov.uk, Boundaries > Wards) and give "
    "that file as the ward boundaries"
)
_MAX_PAGES = 1000
_LAD_RE = re.compile(r"^(E06|E07|E08|E09|W06|S12)\d{6}$")


def _parse_arcgis(data: bytes) -> dict[str, Any]:
    """A GeoJSON FeatureCollection or an ArcGIS ``error`` object; else :class:`MalformedAnswer`."""
    if data.lstrip()[:1] == b"<":
        raise MalformedAnswer("an HTML page instead of JSON")
    try:
        obj = json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise MalformedAnswer("not JSON") from None
    except RecursionError:  # nested deeper than any answer of the service
        raise MalformedAnswer("JSON nested too deeply to be a FeatureCollection") from None
    if not isinstance(obj, dict):
        raise MalformedAnswer(f"JSON {type(obj).__name__}, not a GeoJSON FeatureCollection")
    if "error" in obj:
        err = obj["error"] if isinstance(obj["error"], dict) else {"message": obj["error"]}
        code = err.get("code")
        if isinstance(code, int) and code >= 500:  # the service's own transient failure
            raise MalformedAnswer(f"ArcGIS error {code} {err.get('message', '')}".strip())
        return obj
    if not isinstance(obj.get("features"), list):
        raise MalformedAnswer("JSON without a 'features' list")
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
    timeout: float = FETCH_TIMEOUT,
    progress: Progress | None = None,
    deadline: float | None = FETCH_DEADLINE,
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
    cache_dir, retries, backoff, timeout, progress, deadline
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
        Offline, an ``error`` answer from the service, no wards for the code, or wards that
        are not areas (a ward without a boundary, or points or lines): nothing is written
        then.
    """
    code = str(lad_code).strip().upper()
    if not _LAD_RE.match(code):
        raise ParameterError(
            f"{lad_code!r} is not a local authority district code; use E06, E07, E08, "
            "E09, W06 or S12 and 6 digits, e.g. E09000031 (Waltham Forest)."
        )
    check_options(retries, backoff, timeout, deadline=deadline)
    check_url(base_url)
    if not isinstance(page_size, int) or isinstance(page_size, bool) or page_size < 1:
        raise ParameterError(f"page_size: expected a whole number >= 1, got {page_size!r}.")
    lad_field = _lad_field(base_url, lad_field)
    http = PoliteClient(
        service="the ONS Open Geography Portal",
        manual=_ONS_MANUAL,
        rate=None,
        retries=retries,
        backoff=float(backoff),
        timeout=float(timeout),
        cache_dir=Path(cache_dir).expanduser() if cache_dir is not None else None,
        deadline=None if deadline is None else float(deadline),
    )
    features = _features(http, base_url, code, lad_field, page_size, progress)
    out = _ward_frame(features, code, code_field, lad_field)
    target = Path(out_file).expanduser()
    _write_geopackage(out, target)
    log.info("wrote %d wards of %s to %s", len(out), code, target)
    return out


def _lad_field(base_url: str, lad_field: str | None) -> str:
    """The district code field: as given, else ``LADyyCD`` with the year in ``base_url``.

    >>> _lad_field("https://x.example/Wards_December_2024_Boundaries_UK_BGC/FeatureServer/0", None)
    'LAD24CD'
    """
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
    return lad_field


def _features(
    http: PoliteClient,
    base_url: str,
    code: str,
    lad_field: str,
    page_size: int,
    progress: Progress | None,
) -> list[dict[str, Any]]:
    """Every ward feature of district ``code``, page by page while the service says there are
    more (``exceededTransferLimit``)."""
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
            raise _service_error(answer, what, lad_field)
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
    return features


def _service_error(answer: dict[str, Any], what: str, lad_field: str) -> FetchError:
    """The error for an ArcGIS ``error`` answer, with its message and details."""
    err = answer["error"] if isinstance(answer["error"], dict) else {}
    details = "; ".join(str(d) for d in err.get("details") or [] if d)
    text = " ".join(f"{err.get('message', '')} {details}".split())
    return FetchError(
        f"{what}: the ONS Open Geography Portal answered error {err.get('code', '?')}"
        f" ({text or 'no message'}); check base_url (the service is renamed every "
        f"year) and lad_field ({lad_field}), or {_ONS_MANUAL}"
    )


def _ward_frame(
    features: list[dict[str, Any]], code: str, code_field: str | None, lad_field: str
) -> gpd.GeoDataFrame:
    """The wards as ``ward_code``, ``ward_name``, ``lad_code``, geometry (EPSG:27700), then
    the service's own fields; one row per ward code."""
    frame = gpd.GeoDataFrame.from_features(features, crs="EPSG:4326")
    props0 = features[0].get("properties") or {}
    code_col = code_field or _field_like(props0, r"WD\d\dCD")
    if code_col is None or code_col not in frame.columns:
        raise FetchError(
            f"wards of {code}: no ward code field ({code_field or 'WDyyCD'}) in the answer; "
            f"give code_field (fields: {list_some(list(map(str, props0)), 8)})."
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
    _check_areas(out, code)
    return out


def _check_areas(wards: gpd.GeoDataFrame, code: str) -> None:
    """Refuse wards that are not areas: no boundary, or points or lines (nothing is written)."""
    geom = wards.geometry
    missing = (geom.isna() | geom.is_empty).to_numpy()
    flat = ~missing & ~geom.geom_type.isin(["Polygon", "MultiPolygon"]).to_numpy()
    flat |= ~missing & ~flat & ~(geom.area > 0).to_numpy()
    for bad, what in ((missing, "no boundary"), (flat, "no area (points or lines)")):
        if bad.any():
            names = list(wards.loc[bad, "ward_code"].astype("str"))
            raise FetchError(
                f"wards of {code}: {len(names):,} of {len(wards):,} wards have {what} "
                f"({list_some(names)}); nothing was written: check the service address "
                f"(base_url), or {_ONS_MANUAL}"
            )


def _write_geopackage(wards: gpd.GeoDataFrame, target: Path) -> None:
    """``wards`` as layer ``wards`` of the GeoPackage ``target``, replaced atomically."""
    write_via(target, lambda tmp: wards.to_file(tmp, driver="GPKG", layer="wards"), ".gpkg")
