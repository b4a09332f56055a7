"""Tests for hotspots.report.wording: month, count and percent wording; never "−0%"."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hotspots.report.wording import (
    count_text,
    months_text,
    n_months,
    percent,
    signed_percent,
    span_words,
    suppress_small,
)

NEGATIVE_ZERO = re.compile(r"-0(\.0+)?%")


@given(st.floats(min_value=-1, max_value=1, exclude_min=True, exclude_max=True))
def test_signed_percent_never_negative_zero(value: float) -> None:
    text = signed_percent(value)
    assert not NEGATIVE_ZERO.search(text), (value, text)
    assert text == "0%" or text in ("+1%", "−1%")


@given(st.floats(min_value=-0.01, max_value=0.01, exclude_min=True, exclude_max=True))
def test_percent_never_negative_zero(share: float) -> None:
    """Shares of −1% .. 1% (percent-wise (-1, 1))."""
    text = percent(share)
    assert not NEGATIVE_ZERO.search(text), (share, text)


@pytest.mark.parametrize(
    ("value", "expected"),
    [(-0.4, "0%"), (0.4, "0%"), (-0.5, "0%"), (-0.6, "−1%"), (35.4, "+35%"), (-35.4, "−35%")],
)
def test_signed_percent(value: float, expected: str) -> None:
    assert signed_percent(value) == expected


def test_counts_months_and_spans() -> None:
    assert [suppress_small(v) for v in (0, 4, 5)] == ["0", "fewer than 5", "5"]
    assert count_text("x", 5) == "–"
    assert n_months(2) == "2 months"
    assert span_words("2024-01", "2024-02") == "January 2024 to February 2024"
    assert months_text("2024-01", "2024-01") == "Jan 2024"
