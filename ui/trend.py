"""The dashboard's trend: the chosen months against the months just before them.

Words and charts only; the counts and the exact test are
:func:`hotspots.period_change.period_change`.
An arrow is shown only for a clear change (the 95% interval leaves out no change).
"""

from __future__ import annotations

import math

import altair as alt
import pandas as pd

from hotspots.period_change import TREND_COLUMNS, PeriodChange
from hotspots.report.wording import month_words, signed_percent
from hotspots.trend import change_words

__all__ = ["TREND_HELP", "change_text", "monthly_chart", "span_name", "total_delta", "with_change"]

TREND_HELP = (
    "Incidents inside the hotspot's outline in the months chosen against the same number of "
    "months just before them. An arrow only when the change is clear: when its 95% range "
    "(exact test for counts) leaves out 'no change'; otherwise 'no clear change'."
)
#: The trend columns of the hotspot table, replaced here by the period change in words.
_OLD_TREND = [*TREND_COLUMNS, "trend_against"]


def span_name(span: tuple[str, str] | None) -> str:
    """("2024-07", "2024-09") -> "Jul–Sep 2024"; across years "Nov 2023–Jan 2024"; one month
    once; "" for None."""
    if span is None:
        return ""
    a, b = month_words(span[0], short=True), month_words(span[1], short=True)
    if a == b:
        return a
    if a[-4:] == b[-4:]:
        return f"{a[:-5]}–{b}"
    return f"{a}–{b}"


def change_text(change: float, low: float, high: float, clear: bool) -> str:
    """ "▲ up 40% (95% interval ...)", "▼ down ...", or "no clear change (...)" (no arrow)."""
    if math.isnan(change):
        return "none in either span"
    words = change_words(change, low, high)
    if not clear:
        return words
    return ("▲ " if change > 0 else "▼ ") + words


def total_delta(change: PeriodChange) -> tuple[str, str] | None:
    """The headline's delta: the change alone for its badge ("−12%", "no clear change",
    "new") and in words with the months compared ("−12% on Jul 2024 – Sep 2024", "no clear
    change compared with ..."); None without a previous span."""
    _, before, counted = change.total
    if change.previous is None or counted is None or before is None:
        return None
    span = span_name(change.previous)
    c, low, high = float(counted.change[0]), float(counted.low[0]), float(counted.high[0])
    if math.isnan(c) or math.isnan(low) or low <= 0 <= high:
        return "no clear change", f"no clear change compared with {span}"
    if math.isinf(c):
        return "new", f"new: none in {span}"
    badge = signed_percent(100 * c)
    return badge, f"{badge} on {span}"


def with_change(table: pd.DataFrame, change: PeriodChange | None) -> pd.DataFrame:
    """The ranked table with the period change next to the incidents (the within-period
    trend columns dropped): ``outline_now`` and ``previous`` the incidents inside its outline
    in each span, ``change_label`` the change in words."""
    out = table.drop(columns=[c for c in _OLD_TREND if c in table.columns])
    if change is None or change.previous is None:
        return out
    t = change.table
    words = {
        str(h): change_text(float(c), float(lo), float(hi), bool(ok))
        for h, c, lo, hi, ok in zip(
            t["hotspot_id"], t["change"], t["low"], t["high"], t["clear"], strict=True
        )
    }
    now = dict(zip(t["hotspot_id"], t["now"], strict=True))
    before = dict(zip(t["hotspot_id"], t["before"], strict=True))
    columns = list(out.columns)
    at = columns.index("incidents") + 1 if "incidents" in columns else len(columns)
    out.insert(at, "outline_now", out["hotspot_id"].map(now))
    out.insert(at + 1, "previous", out["hotspot_id"].map(before))
    out.insert(at + 2, "change_label", out["hotspot_id"].map(words).fillna(""))
    return out


def monthly_chart(monthly: pd.DataFrame, overall: pd.DataFrame, hotspot: str) -> alt.LayerChart:
    """The hotspot's incidents per month on its own axis (left), all incidents on theirs
    (right, grey), one tick per month."""
    order = sorted(set(monthly["month"]) | set(overall["month"]))
    labels = [pd.Timestamp(m).strftime("%b %Y") for m in order]
    mine = monthly[monthly["hotspot_id"] == hotspot].assign(
        label=lambda f: pd.to_datetime(f["month"]).dt.strftime("%b %Y")
    )
    every = overall.assign(label=lambda f: pd.to_datetime(f["month"]).dt.strftime("%b %Y"))
    x = alt.X("label:O", sort=labels, title=None, axis=alt.Axis(labelAngle=-45, labelOverlap=False))
    own = (
        alt.Chart(mine)
        .mark_line(point=alt.OverlayMarkDef(color="#b10026"), color="#b10026")
        .encode(
            x=x,
            y=alt.Y(
                "incidents:Q", title=f"{hotspot} incidents", axis=alt.Axis(titleColor="#b10026")
            ),
            tooltip=[
                alt.Tooltip("label:N", title="month"),
                alt.Tooltip("incidents:Q", title=hotspot),
            ],
        )
    )
    area = (
        alt.Chart(every)
        .mark_line(strokeDash=[4, 3], color="#888888")
        .encode(
            x=x,
            y=alt.Y("incidents:Q", title="all incidents", axis=alt.Axis(orient="right")),
            tooltip=[
                alt.Tooltip("label:N", title="month"),
                alt.Tooltip("incidents:Q", title="all"),
            ],
        )
    )
    return alt.layer(area, own).resolve_scale(y="independent").properties(height=260)
