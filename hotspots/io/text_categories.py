"""The Incidents frame's repeated text as categories: each name held once, a small code a row.

A city-year repeats a few crime types, force and file names, and tens of thousands of
locations a million times; as categories of ``str`` (sorted, so sorting by a column sorts by
its text) they take a tenth of the memory. Each part of a read is categorised as soon as it
is checked (:func:`categorise_text`), the parts are put together keeping their categories
(:func:`concat_parts`), and the finished frame's categories are sorted and only the used
ones kept (:func:`finish_text`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from .._text import text_column
from .._threads import in_order, workers
from ..columns import INCIDENT_COLUMNS

__all__ = [
    "PARALLEL_TEXT_ROWS",
    "TEXT_COLUMNS",
    "as_text_categories",
    "categorise_text",
    "concat_parts",
    "finish_text",
    "is_text",
]

#: The contract's text columns held as categories (incident_id, one per row, stays str).
TEXT_COLUMNS = ("category", "location", "lsoa_code", "outcome", "source")
#: From this many rows on, columns are made categories two at a time (Arrow's hashing
#: releases the GIL).
PARALLEL_TEXT_ROWS = 100_000


def is_text(s: pd.Series) -> bool:
    """Whether a column holds text (str, categories of text, or Python strings)."""
    if isinstance(s.dtype, pd.StringDtype):
        return True
    if isinstance(s.dtype, pd.CategoricalDtype):
        return pd.api.types.is_string_dtype(s.cat.categories.dtype)
    return s.dtype == object and pd.api.types.infer_dtype(s, skipna=True) in ("string", "empty")


def as_text_categories(s: pd.Series, *, unless_unique: bool = False) -> pd.Series:
    """A text column as sorted categories of ``str`` (``""`` for missing; only the values
    used). With ``unless_unique``, a column with more distinct values than half its rows
    (free text, ids) stays ``str``: categories would save nothing.

    >>> as_text_categories(pd.Series(["b", None, "a", "b"])).tolist()
    ['b', '', 'a', 'b']
    >>> list(as_text_categories(pd.Series(["b", None, "a", "b"])).cat.categories)
    ['', 'a', 'b']
    """
    dtype = s.dtype
    if (
        isinstance(dtype, pd.CategoricalDtype)
        and dtype.categories.inferred_type in ("string", "empty")
        and s.notna().all()
    ):  # categories of text already: the used ones, sorted
        codes, uniques = s.cat.codes.to_numpy(), pd.Index(dtype.categories, dtype="str")
        used = np.bincount(codes, minlength=len(uniques)) > 0
        if not used.all():
            codes = (np.cumsum(used) - 1).astype(codes.dtype)[codes]
            uniques = uniques[used]
    else:
        if isinstance(dtype, pd.CategoricalDtype):
            s = s.astype("str")  # categories of another kind, or with NaN: as text first
        elif s.dtype == object:
            s = s.astype(object).where(s.notna(), "")
        s = s.fillna("").astype("str")
        codes, uniques = pd.factorize(s)
        if unless_unique and 2 * len(uniques) > len(s):
            return s
    codes, uniques = _without_controls(codes, uniques)
    order = np.argsort(uniques.to_numpy(dtype=object), kind="stable")
    rank = np.empty(len(order), dtype=codes.dtype)
    rank[order] = np.arange(len(order), dtype=codes.dtype)
    categories = pd.CategoricalDtype(pd.Index(uniques[order], dtype="str"))
    return pd.Series(
        pd.Categorical.from_codes(rank[codes], dtype=categories), index=s.index, name=s.name
    )


#: Characters taken out of the data's text: C0 and C1 controls but tab and line breaks (a
#: terminal's colour and title escapes), and the bidirectional overrides and isolates that
#: reorder what a reader sees ("\u202eGNP.exe" shows as "exe.PNG").
CONTROLS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def _without_controls(codes: Any, uniques: pd.Index) -> tuple[Any, pd.Index]:
    """The distinct values without :data:`CONTROLS`, the codes remapped where two values
    became one; unchanged (and uncopied) when none has any."""
    # one scan of them all, joined by a line break (not a control taken out)
    if not len(uniques) or CONTROLS.search("\n".join(uniques.to_numpy(dtype=object))) is None:
        return codes, uniques
    cleaned = uniques.str.replace(CONTROLS, "", regex=True)
    again, merged = pd.factorize(pd.Index(cleaned, dtype="str"))
    return again.astype(codes.dtype)[codes], pd.Index(merged, dtype="str")


def stripped_categories(s: pd.Series, rename: Callable[[str], str] | None = None) -> pd.Series:
    """``as_text_categories(text_column(s))``, each distinct value made text, stripped (and
    ``rename``-d) once instead of each row: a city's column is hashed once, not copied,
    stripped and hashed.

    >>> out = stripped_categories(pd.Series([" b", None, "a", "b "]), str.upper)
    >>> out.tolist(), list(out.cat.categories)
    (['B', '', 'A', 'B'], ['', 'A', 'B'])
    """
    codes, uniques = pd.factorize(s)  # missing: -1
    values = text_column(pd.Series(uniques)).to_numpy(dtype=object)
    if rename is not None:
        values = np.array([rename(v) for v in values], dtype=object)
    if (codes < 0).any():
        values = np.append(values, "")
        codes = np.where(codes < 0, len(values) - 1, codes)
    distinct = as_text_categories(pd.Series(values, dtype="str"))  # a row per value, sorted
    per_row = distinct.cat.codes.to_numpy()[codes]
    categories = pd.CategoricalDtype(distinct.cat.categories)
    return pd.Series(
        pd.Categorical.from_codes(per_row, dtype=categories), index=s.index, name=s.name
    )


def categorise_text(frame: pd.DataFrame) -> None:
    """Every text column of ``frame`` but ``incident_id`` as categories, in place (one
    column at a time, each column's text freed as its categories replace it; from
    :data:`PARALLEL_TEXT_ROWS` rows on, two made at a time, and the frame's columns replaced
    once all are made: their categories are small beside the text); an extra column mostly
    of distinct values stays text."""
    # (column, an extra one): only names held here, so that one at a time frees each text
    todo = [
        (col, col not in TEXT_COLUMNS)
        for col in list(frame.columns)
        if col in TEXT_COLUMNS or (col not in INCIDENT_COLUMNS and is_text(frame[col]))
    ]
    n_workers = workers(len(todo), len(frame), PARALLEL_TEXT_ROWS)
    if n_workers == 1:
        for col, extra in todo:
            frame[col] = as_text_categories(frame[col], unless_unique=extra)
        return
    jobs = [(frame[col], extra) for col, extra in todo]  # taken out here, made in the threads
    made = in_order(lambda job: as_text_categories(job[0], unless_unique=job[1]), jobs, n_workers)
    del jobs
    for (col, _), column in zip(todo, made, strict=True):
        frame[col] = column


def finish_text(frame: pd.DataFrame) -> None:
    """The finished frame's text columns, in place, after :func:`categorise_text` and the
    rows taken: categories sorted and only the used ones kept; an extra column left as text
    (mostly distinct) only gets ``""`` for missing, never factorized a second time."""
    for col in list(frame.columns):
        s = frame[col]
        if col in TEXT_COLUMNS or isinstance(s.dtype, pd.CategoricalDtype):
            frame[col] = as_text_categories(s)
        elif col in INCIDENT_COLUMNS or not is_text(s):
            continue
        elif isinstance(s.dtype, pd.StringDtype):
            frame[col] = s.fillna("").astype("str")
        else:  # objects: a column some parts lacked
            frame[col] = as_text_categories(s, unless_unique=True)


def concat_parts(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """The frames one after another (a new index); a column that is categorical in every
    frame stays categorical (pandas makes objects of categoricals whose categories differ).
    """
    if len(frames) == 1:
        return frames[0]
    for col in dict.fromkeys(c for f in frames for c in f.columns):
        columns = [f[col] for f in frames if col in f.columns]
        if len(columns) == len(frames) and all(
            isinstance(c.dtype, pd.CategoricalDtype) for c in columns
        ):
            names = pd.Index(sorted(set().union(*(c.cat.categories for c in columns))), dtype="str")
            for f in frames:
                f[col] = f[col].cat.set_categories(names)
    return pd.concat(frames, ignore_index=True)
