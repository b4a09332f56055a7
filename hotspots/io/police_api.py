"""data.police.uk API JSON: ``crimes-street`` lists (one JSON list of crimes per file).

:func:`load_json` parses any JSON file (GeoJSON goes on to :mod:`hotspots.io.vector`);
:func:`api_columns` takes the columns out of one crime list and :func:`read_api_run` builds
one part from a run of such files. API category slugs become the published crime type names.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from ..errors import InputFileError
from .parts import FloatArray, Part, category_names, row_ids, wgs84_crs
from .report import Notes
from .sources import Source

__all__ = ["api_columns", "load_json", "read_api_run"]

_API_TEXT = ("month", "category", "persistent_id", "location_type", "location_subtype", "context")


def api_columns(records: list[Any], display: str) -> dict[str, list[Any]]:
    """Column lists from one crimes-street JSON list (comprehensions: ~10x a loop)."""
    if records and not any(
        isinstance(r, dict) and ("category" in r or "location" in r) for r in records[:50]
    ):
        raise InputFileError(
            f"{display}: a JSON list, but not data.police.uk street crimes (no 'category' or "
            "'location' in its items); give crimes-street JSON or GeoJSON."
        )
    for i, r in enumerate(records):
        if not isinstance(r, dict):
            raise InputFileError(
                f"{display}: item {i + 1} is not a crime record (a JSON object); give "
                "data.police.uk crimes-street JSON."
            )
    empty: dict[str, Any] = {}
    locs = [r.get("location") for r in records]
    locs = [loc if isinstance(loc, dict) else empty for loc in locs]
    streets = [loc.get("street") for loc in locs]
    outcomes = [r.get("outcome_status") for r in records]
    cols: dict[str, list[Any]] = {k: [r.get(k) or "" for r in records] for k in _API_TEXT}
    cols["id"] = [("" if v is None else str(v)) for v in (r.get("id") for r in records)]
    cols["street"] = [(st.get("name") or "") if isinstance(st, dict) else "" for st in streets]
    cols["outcome"] = [(o.get("category") or "") if isinstance(o, dict) else "" for o in outcomes]
    cols["lon"] = [loc.get("longitude") for loc in locs]
    cols["lat"] = [loc.get("latitude") for loc in locs]
    return cols


def _strs(values: list[Any]) -> pd.Series:
    """A ``str`` Series from a list of Python values ('' for None)."""
    try:
        arr = pd.array(values, dtype="str")
    except (TypeError, ValueError):
        arr = pd.array(["" if v is None else str(v) for v in values], dtype="str")
    return pd.Series(arr).fillna("")


def _floats(values: list[Any]) -> FloatArray:
    """Floats from a list of numbers-as-text (NaN for None or not a number)."""
    try:
        arr = pa.array(values, type=pa.string()).cast(pa.float64())
        return np.array(arr.to_numpy(zero_copy_only=False), dtype=float)
    except (pa.ArrowException, TypeError, ValueError):
        num = pd.to_numeric(pd.Series(values, dtype=object), errors="coerce")
        return np.array(num.to_numpy(dtype=float, na_value=np.nan), dtype=float)


def read_api_run(run: list[tuple[Source, dict[str, list[Any]]]], notes: Notes) -> Part:
    """One part from consecutive API JSON files (columns built once, not per file)."""
    lists: dict[str, list[Any]] = {key: [] for key in (*_API_TEXT, "id", "street", "outcome")}
    lists |= {"lon": [], "lat": []}
    lengths: list[int] = []
    for _, cols in run:
        lengths.append(len(cols["id"]))
        for key, v in cols.items():
            lists[key].extend(v)
    n = sum(lengths)
    row_arr = np.concatenate([np.arange(1, k + 1, dtype=np.int64) for k in lengths])
    source = pd.Series(
        pd.array(
            np.repeat(np.array([s.display for s, _ in run], dtype=object), lengths), dtype="str"
        )
    )
    ids = _strs(lists["id"])
    has_id = (ids != "").to_numpy()
    if not has_id.all():
        ids = ids.where(has_id, row_ids(source, row_arr))
    month_ts = pd.to_datetime(_strs(lists["month"]), format="%Y-%m", errors="coerce")
    frame = pd.DataFrame(
        {
            "incident_id": ids,
            "month": month_ts.astype("datetime64[ns]"),
            "date": pd.Series(np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]")),
            "category": category_names(_strs(lists["category"])),
            "location": _strs(lists["street"]),
            "lsoa_code": _strs([""] * n),
            "outcome": _strs(lists["outcome"]),
            "source": source,
        }
    )
    for extra in ("persistent_id", "location_type", "location_subtype", "context"):
        frame[extra] = _strs(lists[extra])
    return Part(
        frame=frame,
        x=_floats(lists["lon"]),
        y=_floats(lists["lat"]),
        crs=wgs84_crs(),
        rows=row_arr,
        word="record",
        has_id=has_id,
        month_ok=month_ts.notna().to_numpy(),
        repeat_ids_ok=False,
        name=run[0][0].display if len(run) == 1 else f"{run[0][0].display} and others",
    )


def load_json(src: Source) -> tuple[Any, bytes]:
    """The parsed JSON of a file, and its bytes (GeoJSON is then read from them by GDAL)."""
    data = src.read_bytes()
    if not data.strip():
        raise InputFileError(
            f"{src.display}: the file is empty; download it again or leave it out."
        )
    try:
        return json.loads(data), data
    except json.JSONDecodeError as exc:
        where = f" at line {exc.lineno} column {exc.colno}"
    except UnicodeDecodeError:
        where = " (not UTF-8 text)"
    except RecursionError:
        raise InputFileError(
            f"{src.display}: JSON nested too deeply to be crime records or GeoJSON; check the "
            "file (it is not a data.police.uk download)."
        ) from None
    except MemoryError:
        raise InputFileError(
            f"{src.display}: not enough memory to parse its {len(data):,} bytes of JSON; read "
            "fewer or smaller files at a time."
        ) from None
    raise InputFileError(
        f"{src.display}: not valid JSON{where}; download it again (the file may be cut short)."
    )
