"""Equal-id codes by hashing (hotspots.io.id_codes): exact whatever the hash says."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from hotspots.io.id_codes import codes_from_hashes, equal_id_codes, id_hashes

# short and long ids, lengths either side of the 8-byte word and its multiples, some bytes
# beyond ASCII (the hash reads UTF-8 bytes, not characters)
_IDS = st.text(alphabet="ab0é", min_size=0, max_size=20)


def _as_built(ids: list[str], how: str) -> pd.Series:
    """The ids as a column the reader might hold: one Arrow chunk, several, a slice of a
    longer column (an offset into the buffers), or Python objects."""
    if how == "chunks" and len(ids) > 1:
        half = len(ids) // 2
        parts = [pd.Series(ids[:half], dtype="str"), pd.Series(ids[half:], dtype="str")]
        return pd.concat(parts, ignore_index=True)
    if how == "slice":
        longer = pd.Series(["padding-id-0", "p", *ids], dtype="str")
        return longer.iloc[2:].reset_index(drop=True)
    if how == "object":
        return pd.Series(ids, dtype=object)
    return pd.Series(ids, dtype="str")


def _check_exact(ids: list[str], has_id: np.ndarray, codes: np.ndarray) -> None:
    n = len(ids)
    for i in range(n):
        for j in range(n):
            if has_id[i] and has_id[j]:
                assert (codes[i] == codes[j]) == (ids[i] == ids[j]), (ids[i], ids[j])
            elif i != j:
                assert codes[i] != codes[j]  # a row without an id has a code of its own


@settings(max_examples=300, deadline=None)
@given(
    ids=st.lists(
        st.one_of(_IDS, st.sampled_from(["0123456789abcdef", "0123456789abcdeg"])), max_size=25
    ),
    has=st.lists(st.booleans(), min_size=25, max_size=25),
    how=st.sampled_from(["one", "chunks", "slice", "object"]),
)
def test_rows_share_a_code_exactly_when_their_ids_are_equal(
    ids: list[str], has: list[bool], how: str
) -> None:
    column = _as_built(ids, how)
    has_id = np.array(has[: len(ids)], dtype=bool)
    _check_exact(ids, has_id, equal_id_codes(column, has_id))


@settings(max_examples=200, deadline=None)
@given(ids=st.lists(_IDS, max_size=25), has=st.lists(st.booleans(), min_size=25, max_size=25))
def test_colliding_hashes_are_compared_as_text(ids: list[str], has: list[bool]) -> None:
    """Every hash the same (the worst collision): the codes are still exact."""
    n = len(ids)
    has_id = np.array(has[:n], dtype=bool)
    column = pd.Series(ids, dtype="str")
    same = np.full(n, 7, dtype=np.uint64)
    _check_exact(ids, has_id, codes_from_hashes(column, has_id, same, np.ones(n, dtype=bool)))


@settings(max_examples=200, deadline=None)
@given(ids=st.lists(_IDS, min_size=1, max_size=25), how=st.sampled_from(["one", "chunks", "slice"]))
def test_equal_ids_hash_alike_wherever_they_sit_in_the_buffers(ids: list[str], how: str) -> None:
    got = id_hashes(_as_built(ids, how))
    assert got is not None
    hashes, hashed = got
    assert hashed.tolist() == [len(i.encode()) >= 8 for i in ids]
    alone = {i: id_hashes(pd.Series([i], dtype="str")) for i in ids}
    for k, i in enumerate(ids):
        one = alone[i]
        assert one is not None
        if hashed[k]:
            assert hashes[k] == one[0][0]


def test_a_city_of_distinct_crime_ids_is_hashed_and_one_repeat_found() -> None:
    """200,000 distinct 64-character ids and one repeated: only the repeat shares a code, and
    no hash of a distinct id collided (none was compared as text by chance)."""
    rng = np.random.default_rng(5)
    ids = ["".join(f"{b:02x}" for b in rng.bytes(32)) for _ in range(200_000)]
    ids[150_000] = ids[20]
    column = pd.Series(ids, dtype="str")
    got = id_hashes(column)
    assert got is not None and got[1].all()
    assert len(np.unique(got[0])) == len(ids) - 1
    codes = equal_id_codes(column, np.ones(len(ids), dtype=bool))
    assert codes[150_000] == codes[20]
    assert len(np.unique(codes)) == len(ids) - 1


def test_ids_that_are_not_arrow_text_are_factorized() -> None:
    assert id_hashes(pd.Series(["a-long-id-1"], dtype=object)) is None
    nulls = pd.Series(pa.array(["a-long-id-1", None], pa.large_string()).to_pandas(), dtype="str")
    codes = equal_id_codes(nulls, np.array([True, True]))
    assert codes[0] != codes[1]
