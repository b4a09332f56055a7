"""Parts: the rows read from one file (or a run of files), mapped onto the Incidents columns.

Each reader turns its file into a :class:`Part`: the Incidents columns (``incident_id``,
``month``, ``date``, ``category``, ``location``, ``lsoa_code``, ``outcome``, ``source``,
then the extra source columns) and the raw coordinates in the file's CRS, before any row is
checked. :func:`build_part` finds the attribute columns by their usual names
(``_ALIASES``) and parses month and date text in the formats of ``_DATE_FORMATS``.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyproj

from .._text import text_column
from .._threads import in_order, workers
from ..columns import INCIDENT_COLUMNS
from ..crime_types import CRIME_TYPE_SLUGS
from ..crs import WGS84
from .report import Notes
from .text_categories import PARALLEL_TEXT_ROWS, stripped_categories

__all__ = [
    "FloatArray",
    "Part",
    "build_part",
    "category_names",
    "find_column",
    "one_source",
    "row_ids",
    "to_float",
    "wgs84_crs",
]

# Attribute columns of the Incidents frame, found by name (after _norm_name); first match wins.
_ALIASES: dict[str, tuple[str, ...]] = {
    "incident_id": (
        "crimeid",
        "incidentid",
        "id",
        "persistentid",
        "caseid",
        "crimereference",
        "crimeref",
        "reference",
        "ref",
        "eventid",
        "occurrenceid",
    ),
    "month": ("month", "yearmonth", "period"),
    "date": (
        "date",
        "datetime",
        "incidentdate",
        "dateoccurred",
        "occurreddate",
        "occurred",
        "offencedate",
        "crimedate",
        "reporteddate",
        "datereported",
        "timestamp",
    ),
    "category": (
        "crimetype",
        "category",
        "offence",
        "offense",
        "offencetype",
        "offensetype",
        "offencecategory",
        "crimecategory",
        "offencegroup",
        "crime",
        "type",
    ),
    "location": ("location", "street", "streetname", "address", "place", "locationdescription"),
    "lsoa_code": ("lsoacode", "lsoa", "lsoa11cd", "lsoa21cd", "lsoa11code", "lsoa21code"),
    "outcome": (
        "lastoutcomecategory",
        "outcome",
        "lastoutcome",
        "outcomecategory",
        "outcometype",
        "status",
    ),
}

# Formats tried on month/date text, in order, with whether each carries a day. Numeric
# dates are read day first (05/11/2019 is 5 November), as in the UK.
_DATE_FORMATS: tuple[tuple[str, bool], ...] = (
    *[(f, False) for f in ("%Y-%m",)],
    *[(f, True) for f in ("%Y-%m-%d", "%d/%m/%Y", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M")],
    *[(f, True) for f in ("%d/%m/%Y %H:%M", "%d/%m/%Y %H:%M:%S", "%Y/%m/%d", "%d-%m-%Y")],
    *[(f, True) for f in ("%d.%m.%Y",)],
    *[(f, False) for f in ("%Y/%m", "%m/%Y", "%m-%Y", "%b %Y", "%B %Y", "%b-%Y", "%Y%m")],
    ("ISO8601", True),
)

FloatArray = npt.NDArray[np.float64]


@dataclass
class Part:
    """Rows read from one file (or a run of API JSON files) in a common CRS.

    ``frame`` holds incident_id, month, date, category, location, lsoa_code, outcome,
    source and extra columns; ``x``/``y`` are the raw coordinates in ``crs``.
    """

    frame: pd.DataFrame
    x: FloatArray
    y: FloatArray
    crs: pyproj.CRS
    rows: npt.NDArray[np.int64]
    word: str
    has_id: npt.NDArray[np.bool_]
    month_ok: npt.NDArray[np.bool_]
    repeat_ids_ok: bool
    name: str


def _norm_name(name: object) -> str:
    """Lower-case column name without units in brackets or punctuation.

    >>> _norm_name(" Longitude (WGS84) "), _norm_name("Crime_Type")
    ('longitude', 'crimetype')
    """
    text = re.sub(r"[\(\[].*?[\)\]]", "", str(name).lower())
    return re.sub(r"[^a-z0-9]", "", text)


def find_column(columns: Sequence[str], names: Sequence[str], used: set[str]) -> str | None:
    """The first column (not in ``used``) whose normalised name is in ``names``, in their order.

    >>> find_column(["Crime ID", "Longitude (WGS84)"], ("lon", "longitude"), set())
    'Longitude (WGS84)'
    """
    normed = {c: _norm_name(c) for c in columns if c not in used}
    for alias in names:
        for col, norm in normed.items():
            if norm == alias:
                return col
    return None


#: Digits grouped in thousands by commas ("532,705", "1,234,567.5").
_GROUPED = r"^[+-]?[1-9]\d{0,2}(?:,\d{3})+(?:\.\d+)?$"
#: ... and only one way of reading them: several groups, or a decimal point after them.
_SURELY_GROUPED = r"^[+-]?[1-9]\d{0,2}(?:(?:,\d{3}){2,}(?:\.\d+)?|,\d{3}\.\d+)$"


def to_float(s: pd.Series, *, metres: bool = False) -> FloatArray:
    """Numbers from text; empty or not a number -> NaN.

    A comma is a decimal comma ("51,5" is 51.5), unless it groups digits in thousands:
    "1,234,567" and "532,705.5" always, and "532,705" (one group) when the column holds
    ``metres`` (eastings and northings: 532705, not 532.705 m; degrees read it as 532.705,
    out of range, rather than guess)."""
    if pd.api.types.is_numeric_dtype(s.dtype):
        return s.to_numpy(dtype=float, na_value=np.nan)
    fast = _arrow_floats(s)
    if fast is not None:
        return fast
    vals = np.array(pd.to_numeric(s, errors="coerce").to_numpy(dtype=float, na_value=np.nan))
    retry = np.isnan(vals) & (s.astype("str").fillna("").to_numpy() != "")
    if retry.any():
        text = s[retry].astype("str").str.strip()
        grouped = text.str.match(_GROUPED if metres else _SURELY_GROUPED)
        fixed = text.where(grouped, text.str.replace(",", ".", regex=False))
        fixed = fixed.where(~grouped, text.str.replace(",", "", regex=False))
        vals[retry] = pd.to_numeric(fixed, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    return vals


def _arrow_floats(s: pd.Series) -> FloatArray | None:
    """Numbers from arrow-backed text in one pyarrow cast (empty -> NaN), or None when some
    value is not a plain number (the lenient path then reads it)."""
    if s.dtype == object:
        return None
    try:
        arr = pa.array(s.array)  # the column's own arrow data, not copied
        if not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
            return None
        blank = pc.equal(arr, "")
        numbers = pc.cast(pc.if_else(blank, pa.scalar(None, arr.type), arr), pa.float64())
        return np.asarray(numbers.to_numpy(zero_copy_only=False), dtype=float)
    except (pa.ArrowException, TypeError, ValueError):
        return None


def _parse_dates(s: pd.Series) -> tuple[pd.Series, pd.Series, npt.NDArray[np.bool_]]:
    """Timestamps (datetime64[ns], NaT if unparseable), the first day of their months, and
    whether each carried a day (text: each distinct value parsed and floored once)."""
    if pd.api.types.is_datetime64_any_dtype(s.dtype):
        ts = s
        if getattr(ts.dt, "tz", None) is not None:
            ts = ts.dt.tz_localize(None)
        ts = ts.astype("datetime64[ns]").reset_index(drop=True)
        return ts, _month_floor(ts.to_numpy()), ts.notna().to_numpy()
    text = text_column(s)
    codes, uniq = pd.factorize(text)
    values = np.full(len(uniq), np.datetime64("NaT"), dtype="datetime64[ns]")
    has_day = np.zeros(len(uniq), dtype=bool)
    todo = np.flatnonzero(np.asarray(uniq, dtype=object) != "")
    formats = _DATE_FORMATS
    if _month_first(pd.Index(np.asarray(uniq, dtype=object)[todo])):
        formats = tuple((f.replace("%d/%m", "%m/%d"), day) for f, day in _DATE_FORMATS)
    for fmt, day in formats:
        if todo.size == 0:
            break
        if fmt == "ISO8601":  # full dates only: ISO8601 would read "2019" as 2019-01-01
            todo = todo[np.array([len(str(u)) >= 10 for u in np.asarray(uniq)[todo]], dtype=bool)]
            if todo.size == 0:
                break
        cand = pd.Index(np.asarray(uniq, dtype=object)[todo])
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                got = pd.to_datetime(cand, format=fmt, errors="coerce", utc=fmt == "ISO8601")
        except (ValueError, TypeError, OverflowError):
            continue
        if got.tz is not None:
            got = got.tz_localize(None)
        ok = ~np.asarray(got.isna())
        values[todo[ok]] = got[ok].to_numpy(dtype="datetime64[ns]")
        has_day[todo[ok]] = day
        todo = todo[~ok]
    # the missing (code -1) take the last value: NaT, no day
    values = np.append(values, np.datetime64("NaT", "ns"))
    has_day = np.append(has_day, False)
    months = _month_floor(values).to_numpy()
    return pd.Series(values[codes]), pd.Series(months[codes]), has_day[codes]


#: A date with slashes: day and month in either order, then the year (and maybe a time).
_SLASHED = r"^\s*(\d{1,2})/(\d{1,2})/\d{4}\b"


def _month_first(values: pd.Index) -> bool:
    """Whether a column's slashed dates are month first (US: 01/31/2024): some value's second
    number is over 12 and none's first is. Otherwise they are read day first (UK), one order
    for the whole column: never some rows one way and some the other."""
    parts = values.astype(str).str.extract(_SLASHED).dropna()
    if parts.empty:
        return False
    first, second = parts[0].astype(int), parts[1].astype(int)
    return bool((second > 12).any() and not (first > 12).any())


def _where_day(ts: pd.Series, has_day: npt.NDArray[np.bool_]) -> pd.Series:
    """``ts`` where it carried a day, else NaT (none did: a month column)."""
    if not has_day.any():
        return pd.Series(np.full(len(ts), np.datetime64("NaT"), dtype="datetime64[ns]"))
    return ts.where(has_day)


def _month_floor(ts: npt.NDArray[np.datetime64]) -> pd.Series:
    """The first day of each timestamp's month (NaT stays NaT)."""
    arr = np.asarray(ts, dtype="datetime64[ns]")
    return pd.Series(arr.astype("datetime64[M]").astype("datetime64[ns]"))


def category_names(s: pd.Series) -> pd.Series:
    """Published crime type names for API slugs; other values kept as given (as sorted
    categories, each distinct value named once)."""
    names = stripped_categories(s, lambda u: CRIME_TYPE_SLUGS.get(u.lower(), u))
    return names.reset_index(drop=True)


def row_ids(sources: pd.Series, rows: npt.NDArray[np.int64]) -> pd.Series:
    """Ids for rows without one: ``"<file>:row-<n>"``.

    >>> row_ids(pd.Series(["a.csv", "b.csv"]), np.array([2, 10])).tolist()
    ['a.csv:row-2', 'b.csv:row-10']
    """
    return pd.Series(_row_id_text(sources, rows), dtype="str")


def _row_id_text(sources: pd.Series, rows: npt.NDArray[np.int64]) -> pa.Array:
    """:func:`row_ids` as Arrow text, joined in Arrow (a city's file: a million such ids);
    each file's name made text once when ``sources`` are categories."""
    if isinstance(sources.dtype, pd.CategoricalDtype):
        names = pa.array(sources.cat.categories.astype("str").to_numpy(dtype=object))
        files = names.cast(pa.large_string()).take(pa.array(sources.cat.codes.to_numpy()))
    else:
        files = pa.array(sources.astype("str").to_numpy(dtype=object), type=pa.large_string())
    text = pa.large_string()
    return pc.binary_join_element_wise(
        files,
        pa.scalar(":row-", text),
        pc.cast(pa.array(np.asarray(rows, dtype=np.int64)), text),
        pa.scalar("", text),
    )


def _with_row_ids(
    ids: pd.Series, has_id: npt.NDArray[np.bool_], sources: pd.Series, rows: npt.NDArray[np.int64]
) -> pd.Series:
    """``ids`` (text) with :func:`row_ids` in the rows without one (not ``has_id``)."""
    missing = np.flatnonzero(~has_id)
    made = _row_id_text(sources.iloc[missing], rows[missing])
    if not (isinstance(ids.dtype, pd.StringDtype) and ids.dtype.storage == "pyarrow"):
        ids = ids.copy()
        ids.iloc[missing] = made.to_numpy(zero_copy_only=False)
        return ids
    column = pa.chunked_array(pa.array(ids.array)).cast(pa.large_string())
    filled = pc.replace_with_mask(column, pa.array(~has_id), made)
    return pd.Series(filled, dtype=ids.dtype, index=ids.index, name=ids.name)


def one_source(display: str, n: int) -> pd.Series:
    """The ``source`` column of ``n`` rows of one file."""
    return pd.Series(np.full(n, display, dtype=object), dtype="str")


def _text_columns(found: dict[str, pd.Series | None], n: int) -> dict[str, pd.Series]:
    """The id as stripped text and the category, location, LSOA and outcome columns as
    categories, from the input columns ``found`` for them (None: missing, ``""`` in each of
    the ``n`` rows). Independent columns: from :data:`PARALLEL_TEXT_ROWS` rows on, two are
    made at a time (Arrow's hashing and stripping release the GIL)."""

    def make(target: str) -> pd.Series:
        column = found[target]
        if column is None:
            return pd.Series([""] * n, dtype="str")
        if target == "incident_id":
            return text_column(column)
        if target == "category":
            return category_names(column)
        return stripped_categories(column)  # text_column's text, as categories at once

    targets = ["incident_id", "category", "location", "lsoa_code", "outcome"]
    done = in_order(make, targets, workers(len(targets), n, PARALLEL_TEXT_ROWS))
    return dict(zip(targets, done, strict=True))


def build_part(
    attrs: pd.DataFrame,
    x: FloatArray,
    y: FloatArray,
    crs: pyproj.CRS,
    *,
    sources: pd.Series,
    rows: npt.NDArray[np.int64],
    name: str,
    word: str,
    repeat_ids_ok: bool,
    notes: Notes,
) -> Part:
    """Map attribute columns by name onto the Incidents contract.

    ``sources`` and ``rows`` give each row's file and row number; ``name`` names the part
    in warnings.
    """
    n = len(attrs)
    attrs = attrs.reset_index(drop=True)
    sources = sources.reset_index(drop=True)
    used: set[str] = set()
    cols: dict[str, str | None] = {}
    for target, names in _ALIASES.items():
        col = find_column([str(c) for c in attrs.columns], names, used)
        cols[target] = col
        if col is not None:
            used.add(col)

    made = _text_columns({t: None if c is None else attrs[c] for t, c in cols.items()}, n)
    ids = made["incident_id"]
    has_id = (ids != "").to_numpy()
    if not has_id.all():
        ids = _with_row_ids(ids, has_id, sources, rows)

    month_col, date_col = cols["month"], cols["date"]
    if month_col is not None:
        month_ts, month, month_day = _parse_dates(attrs[month_col])
        month_ok = month_ts.notna().to_numpy()
        if date_col is not None:
            date_ts, _, date_day = _parse_dates(attrs[date_col])
            date = date_ts.where(date_day)
        else:
            date = _where_day(month_ts, month_day)
    elif date_col is not None:
        date_ts, month, date_day = _parse_dates(attrs[date_col])
        month_ok = date_ts.notna().to_numpy()
        date = _where_day(date_ts, date_day)
    else:
        month = pd.Series(np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]"))
        date = month.copy()
        month_ok = np.ones(n, dtype=bool)
        if n:
            notes.no_month.append(name)

    frame = pd.DataFrame(
        {
            "incident_id": ids,
            "month": month.astype("datetime64[ns]"),
            "date": date.astype("datetime64[ns]"),
            "category": made["category"],
            "location": made["location"],
            "lsoa_code": made["lsoa_code"],
            "outcome": made["outcome"],
            "source": sources,
        }
    )
    for col in attrs.columns:
        if col in used:
            continue
        label = str(col)
        if label in frame.columns or label in INCIDENT_COLUMNS or label.startswith("_"):
            label = f"input_{label}"
        frame[label] = attrs[col]  # same RangeIndex: no copy, dtype kept
    return Part(
        frame=frame,
        x=np.asarray(x, dtype=float),
        y=np.asarray(y, dtype=float),
        crs=crs,
        rows=rows,
        word=word,
        has_id=has_id,
        month_ok=month_ok,
        repeat_ids_ok=repeat_ids_ok,
        name=name,
    )


@lru_cache(maxsize=1)
def wgs84_crs() -> pyproj.CRS:
    """The CRS of longitude/latitude (EPSG:4326), built once."""
    return pyproj.CRS.from_user_input(WGS84)
