"""Which rows share an id, without a hash table of every id's text.

The duplicate checks (:mod:`hotspots.io.checks`) compare ids as integer codes. A city's file
holds millions of distinct Crime IDs (64 hexadecimal characters each); factorizing them as
text is the slowest step of a read (1.2 s at 3M rows). Almost none repeat, so
:func:`equal_id_codes` hashes each id's bytes to 64 bits straight from the Arrow text (eight
words a Crime ID), finds the repeated hashes with a sort, and factorizes as text only the
rows whose hash repeats (and ids shorter than a word): the answer is exact, the hash only
chooses which rows to compare.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
from numpy.lib.stride_tricks import sliding_window_view

__all__ = ["codes_from_hashes", "equal_id_codes", "id_hashes"]

_MULTIPLIER = np.uint64(0x9E3779B97F4A7C15)  # odd, its bits spread: a Fibonacci hash
_WORD = 8
_BLOCK = 1 << 16  # ids hashed at a time: their words (4 MB for Crime IDs) stay in the cache


def equal_id_codes(ids: pd.Series, has_id: npt.NDArray[np.bool_]) -> npt.NDArray[np.intp]:
    """A code per row: two rows with an id (``has_id``) share a code exactly when their ids
    are equal; each row without an id has a code of its own.

    >>> ids = pd.Series(["a-long-id-1", "x", "a-long-id-1", "another-id", "x", ""], dtype="str")
    >>> codes = equal_id_codes(ids, np.array([True, True, True, True, True, False]))
    >>> bool(codes[0] == codes[2]), bool(codes[1] == codes[4]), len(set(codes[[0, 1, 3, 5]]))
    (True, True, 4)
    """
    hashed = id_hashes(ids, has_id)
    if hashed is None:  # not Arrow text: every id compared as text
        none = np.zeros(len(ids), dtype=bool)
        return codes_from_hashes(ids, has_id, none.astype(np.uint64), none)
    return codes_from_hashes(ids, has_id, *hashed)


def codes_from_hashes(
    ids: pd.Series,
    has_id: npt.NDArray[np.bool_],
    hashes: npt.NDArray[np.uint64],
    hashed: npt.NDArray[np.bool_],
) -> npt.NDArray[np.intp]:
    """:func:`equal_id_codes` given each row's ``hashes`` (equal ids: equal hashes) where
    ``hashed``: the rows with an id whose hash repeats, or that has none, are compared as
    text; every other row gets a code of its own.

    >>> ids = pd.Series(["a", "b", "a", "c"])
    >>> codes_from_hashes(ids, np.ones(4, bool), np.zeros(4, np.uint64), np.ones(4, bool))
    array([4, 5, 4, 6])
    """
    n = len(ids)
    compare = has_id & ~hashed
    rows = np.flatnonzero(has_id & hashed)
    if rows.size > 1:
        ordered = np.sort(hashes[rows])  # a few hundredths of a second for millions
        again = ordered[1:][ordered[1:] == ordered[:-1]]
        if again.size:
            compare[rows[np.isin(hashes[rows], again)]] = True
    codes = np.arange(n, dtype=np.intp)  # a code of its own: below n
    same = np.flatnonzero(compare)
    if same.size:
        codes[same] = n + pd.factorize(ids.iloc[same])[0]  # equal ids, equal codes: from n
    return codes


def id_hashes(
    ids: pd.Series, among: npt.NDArray[np.bool_] | None = None
) -> tuple[npt.NDArray[np.uint64], npt.NDArray[np.bool_]] | None:
    """A 64-bit hash of each id's UTF-8 bytes (of the rows ``among``, default all) and
    whether it was hashed (ids of at least 8 bytes); None unless ``ids`` is Arrow text
    without nulls. Equal ids always get equal hashes.

    >>> h, ok = id_hashes(pd.Series(["0123456789", "short", "0123456789", "0123456788"]))
    >>> bool(h[0] == h[2]), bool(h[0] == h[3]), ok.tolist()
    (True, False, [True, False, True, True])
    """
    dtype = ids.dtype
    if not (isinstance(dtype, pd.StringDtype) and dtype.storage == "pyarrow"):
        return None
    chunked = pa.chunked_array(pa.array(ids.array))  # the column's own Arrow data
    if chunked.null_count or not pa.types.is_large_string(chunked.type):
        return None
    hashes = np.zeros(len(ids), dtype=np.uint64)
    ok = np.zeros(len(ids), dtype=bool)
    first = 0
    for chunk in chunked.chunks:
        n = len(chunk)
        _, offsets_buf, data = chunk.buffers()
        if n and data is not None and data.size >= _WORD:
            offsets = np.frombuffer(offsets_buf, np.int64, count=n + 1, offset=chunk.offset * 8)
            lengths = np.diff(offsets)
            wanted = lengths >= _WORD
            if among is not None:
                wanted &= among[first : first + n]
            rows = np.flatnonzero(wanted)
            for group in _same_lengths(rows, lengths[rows]):
                for block in range(0, group.size, _BLOCK):
                    part = group[block : block + _BLOCK]
                    length = int(lengths[part[0]])
                    hashes[first + part] = _hash_words(data, offsets[part], length)
            ok[first + rows] = True
        first += n
    return hashes, ok


def _same_lengths(
    rows: npt.NDArray[np.intp], lengths: npt.NDArray[np.int64]
) -> list[npt.NDArray[np.intp]]:
    """``rows`` in groups of one length each (one group when all are alike, as Crime IDs)."""
    if rows.size == 0 or (lengths == lengths[0]).all():
        return [rows] if rows.size else []
    order = np.argsort(lengths, kind="stable")
    return np.split(rows[order], np.flatnonzero(np.diff(lengths[order])) + 1)


def _hash_words(
    data: pa.Buffer, starts: npt.NDArray[np.int64], length: int
) -> npt.NDArray[np.uint64]:
    """The hash of the ``length``-byte ids at ``starts`` in ``data``: each 8-byte word (the
    last overlapping the one before it when ``length`` is not a multiple of 8) mixed in turn.

    The words are read from an aligned view of the buffer per start's offset from a word
    boundary (a window of ``length // 8`` words per id, gathered at once: unaligned reads
    of a million rows are several times slower).
    """
    full = length // _WORD
    h = np.full(starts.size, length, dtype=np.uint64)
    align = starts % _WORD
    for shift in range(_WORD):
        sel = np.flatnonzero(align == shift)
        if sel.size == 0:
            continue
        view = np.frombuffer(data, np.uint64, count=(data.size - shift) // _WORD, offset=shift)
        words = sliding_window_view(view, full)[(starts[sel] - shift) // _WORD]
        part = h[sel]
        for j in range(full):
            part ^= words[:, j]
            part *= _MULTIPLIER
        h[sel] = part
    if length % _WORD:  # the tail: 8 bytes ending at the id's end, read unaligned
        tail = np.ndarray((data.size - _WORD + 1,), np.uint64, buffer=data, strides=(1,))
        h ^= tail[starts + length - _WORD]
        h *= _MULTIPLIER
    return h ^ (h >> np.uint64(31))
