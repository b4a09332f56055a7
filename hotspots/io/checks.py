"""Row checks: the reason each row read is dropped, if any.

A row's code is 0 while it is usable, else the place of its reason in :data:`REASONS`: no
coordinates, coordinates out of range, at 0,0, an unparseable month (:func:`row_codes`, after
swapping back longitude and latitude given the wrong way round), a duplicate row (the same id
and every other field as an earlier row of the same file) and a duplicate id
(:func:`mark_duplicates`) and outside the study area (set by
:func:`hotspots.io.read.read_incidents`). Each row gets the first reason that applies.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd

from .._counts import rank_within
from .._text import list_some
from ..crs import in_great_britain
from .id_codes import equal_id_codes
from .parts import Part
from .report import (
    AT_ZERO,
    BAD_MONTH,
    DUPLICATE_ID,
    DUPLICATE_ROW,
    NO_COORDINATES,
    OUT_OF_RANGE,
    OUTSIDE_STUDY_AREA,
    Notes,
)

__all__ = ["CODES", "REASONS", "mark_duplicates", "row_codes"]

#: read_incidents assigns each dropped row the first reason that applies, in this order.
REASONS: tuple[str, ...] = (
    NO_COORDINATES,
    OUT_OF_RANGE,
    AT_ZERO,
    BAD_MONTH,
    DUPLICATE_ROW,
    DUPLICATE_ID,
    OUTSIDE_STUDY_AREA,
)
#: A row's code: its reason's place in :data:`REASONS`, from 1 (0: the row is used).
CODES: dict[str, int] = {reason: i for i, reason in enumerate(REASONS, start=1)}
_C_NOCOORD, _C_RANGE, _C_ZERO, _C_MONTH, _C_ROW, _C_DUP = (
    CODES[r]
    for r in (NO_COORDINATES, OUT_OF_RANGE, AT_ZERO, BAD_MONTH, DUPLICATE_ROW, DUPLICATE_ID)
)


def _check_swap(part: Part, notes: Notes) -> None:
    """Swap lon/lat back (in place) where the swapped reading is plainly the right one."""
    x, y = part.x, part.y
    ok = np.isfinite(x) & np.isfinite(y) & ~((x == 0) & (y == 0))
    n = int(ok.sum())
    if n == 0:
        return
    vx, vy = x[ok], y[ok]
    bad_given = (np.abs(vy) > 90) | (np.abs(vx) > 180)
    bad_swapped = (np.abs(vx) > 90) | (np.abs(vy) > 180)
    name = part.name
    if bad_given.sum() * 2 > n:
        if not bad_swapped.any():
            part.x, part.y = y.copy(), x.copy()
            notes.lines.append(
                f"Latitude and longitude look swapped in {name}: {int(bad_given.sum()):,} of "
                f"{n:,} latitudes are outside -90..90; they were swapped back."
            )
        else:
            notes.lines.append(
                f"Latitude and longitude look swapped in {name}: {int(bad_given.sum()):,} of "
                f"{n:,} latitudes are outside -90..90; they were not swapped back because "
                f"{int(bad_swapped.sum()):,} would still be out of range; fix the columns in "
                "the file."
            )
        return
    if bad_given.any():
        return
    gb_given = float(in_great_britain(vx, vy).mean())
    gb_swapped = float(in_great_britain(vy, vx).mean())
    if gb_given < 0.5 and gb_swapped >= 0.99:
        part.x, part.y = y.copy(), x.copy()
        notes.lines.append(
            f"Latitude and longitude look swapped in {name}: the points fall in Great Britain "
            "only when read the other way round; they were swapped back."
        )
    elif gb_given < 0.5 and gb_swapped >= 0.5:
        notes.lines.append(
            f"Latitude and longitude look swapped in {name} for {gb_swapped:.0%} of the "
            "points; they were not swapped back because the rest read correctly; fix the "
            "columns in the file."
        )


def row_codes(part: Part, notes: Notes) -> npt.NDArray[np.int8]:
    """Each row's drop reason code (0: usable so far), lon/lat swapped back first if need be.

    The codes for duplicate ids and the study area are set later, by :func:`mark_duplicates`
    and :func:`hotspots.io.read.read_incidents`.
    """
    geographic = part.crs.is_geographic
    if geographic:
        _check_swap(part, notes)
    x, y = part.x, part.y
    code = np.zeros(len(x), dtype=np.int8)
    nan = np.isnan(x) | np.isnan(y)
    code[nan] = _C_NOCOORD
    rng = ~nan & (np.isinf(x) | np.isinf(y))
    if geographic:
        with np.errstate(invalid="ignore"):
            rng |= ~nan & ((np.abs(y) > 90) | (np.abs(x) > 180))
    code[(code == 0) & rng] = _C_RANGE
    code[(code == 0) & (x == 0) & (y == 0)] = _C_ZERO
    code[(code == 0) & ~part.month_ok] = _C_MONTH
    return code


def _mark_repeated_rows(
    frame: pd.DataFrame,
    code: npt.NDArray[np.int8],
    has_id: npt.NDArray[np.bool_],
    x: npt.NDArray[np.float64],
    y: npt.NDArray[np.float64],
    keys: tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]],
) -> None:
    """Code as duplicate rows (in place) the rows with an id that repeat an earlier row of the
    same file in every field (a month pasted twice). Rows without an id are never compared:
    identical anti-social behaviour records are separate incidents.
    """
    source_code, id_code = keys  # factorized columns: integers compare fast
    cand = _repeated(np.flatnonzero((code == 0) & has_id), id_code)
    if cand.size < 2:
        return
    pairs = pd.DataFrame({"s": source_code[cand], "i": id_code[cand]})
    again = pairs.duplicated(keep=False).to_numpy()
    if not again.any():
        return
    rows = cand[again]  # only the few rows whose id repeats within a file are compared whole
    whole = {str(k): frame.iloc[rows, k].astype("str").to_numpy() for k in range(frame.shape[1])}
    whole |= {"_x": x[rows], "_y": y[rows]}
    code[rows[pd.DataFrame(whole).duplicated(keep="first").to_numpy()]] = _C_ROW


def mark_duplicates(
    frame: pd.DataFrame,
    code: npt.NDArray[np.int8],
    has_id: npt.NDArray[np.bool_],
    repeat_ok: npt.NDArray[np.bool_],
    notes: Notes,
    xy: tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]] | None = None,
) -> pd.DataFrame:
    """Code repeated rows and ids as duplicates (in place on ``code``); suffix allowed repeats.

    A row with an id that repeats an earlier row of the same file in every field (its raw
    coordinates ``xy`` included) is a duplicate row. Then, in a part with ``repeat_ok``
    (data.police.uk street CSVs) an id repeated within one file is kept, the repeats getting
    ``-2``, ``-3`` suffixes (and a note); any other repeat of an id already used is a
    duplicate id.
    """
    source_code = pd.factorize(frame["source"])[0]
    id_code = equal_id_codes(frame["incident_id"], has_id)  # hashed, not factorized as text
    if xy is not None:
        _mark_repeated_rows(frame, code, has_id, xy[0], xy[1], (source_code, id_code))
    # only rows whose id another row has can be a duplicate or get a suffix
    cand = _repeated(np.flatnonzero((code == 0) & has_id), id_code)
    if cand.size == 0:
        return frame
    key = pd.factorize(id_code[cand])[0]  # codes in order of first appearance
    src = pd.factorize(source_code[cand])[0]
    first_pos = np.unique(key, return_index=True)[1][key]
    first_src = src[first_pos]
    dup = np.where(repeat_ok[cand], src != first_src, first_pos != np.arange(cand.size))
    code[cand[dup]] = _C_DUP
    kept = cand[~dup]
    rank = rank_within(key[~dup])
    again = rank > 0
    if again.any():
        frame = frame.copy()
        ids = frame["incident_id"].astype("str")  # Arrow text, not a million Python strings
        idx: npt.NDArray[np.intp] = kept[again]
        ids.iloc[idx] = pd.Series(
            [f"{ids.iloc[i]}-{r + 1}" for i, r in zip(idx, rank[again], strict=True)], dtype="str"
        )
        frame["incident_id"] = ids
        n_ids = len(np.unique(key[~dup][again]))
        files = sorted(set(frame["source"].to_numpy()[idx]))
        notes.lines.append(
            f"{n_ids:,} Crime ID{'s appear' if n_ids != 1 else ' appears'} on more than one row "
            "of the "
            f"same file ({list_some(files)}); data.police.uk publishes these as separate records, "
            f"so all were kept, the repeats with ids ending -2, -3, ..."
        )
    return frame


def _repeated(rows: npt.NDArray[np.intp], id_code: npt.NDArray[np.intp]) -> npt.NDArray[np.intp]:
    """The ``rows`` whose id (factorized: ``id_code``) is on another of the ``rows`` too (a
    count per id, not a sort: most ids are on one row).

    >>> _repeated(np.array([0, 1, 2, 4]), np.array([7, 3, 7, 3, 5])).tolist()
    [0, 2]
    """
    if rows.size < 2:
        return rows[:0]
    ids = id_code[rows]
    return rows[np.bincount(ids)[ids] > 1]
