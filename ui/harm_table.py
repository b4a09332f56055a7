"""The harm-weights table of the Analysis tab: view, edit, upload, reset and download it.

The table in use is ``st.session_state["harm_table"]`` ({crime type: weight}); every cached
analysis that weighs by harm is keyed on :func:`harm_key` of it.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping

import pandas as pd
import streamlit as st

from hotspots import InputError
from hotspots.errors import InputFileError, ParameterError
from hotspots.harm import DEFAULT_HARM_WEIGHTS, HARM_SOURCE, parse_harm_weights

from .helpers import digest, no_links, table_csv
from .helpers import uploaded_files as _uploaded

Weights = tuple[tuple[str, float], ...]


def harm_key(weights: Mapping[str, float]) -> str:
    """A short digest of a harm table, part of every cached analysis key when weighting."""
    items = sorted((str(k), float(v)) for k, v in weights.items())
    return hashlib.sha256(json.dumps(items).encode()).hexdigest()[:12]


# Harm weights: the table in use is st.session_state["harm_table"] ({crime type: weight}) and
# its source note "harm_source". The editor shows "harm_base" (the table in use when it was
# created) with the user's cell edits on top; its key "harm_editor_<n>" changes when a file or a
# reset replaces the table, so old edits do not apply to the new table.


def _set_harm_table(table: Mapping[str, float], source: str) -> None:
    st.session_state["harm_table"] = {str(k): float(v) for k, v in table.items()}
    st.session_state["harm_source"] = source
    st.session_state["harm_version"] = st.session_state.get("harm_version", 0) + 1


def _reset_harm_table() -> None:
    _set_harm_table(DEFAULT_HARM_WEIGHTS, HARM_SOURCE)


def read_harm_upload(files: tuple[tuple[str, bytes], ...]) -> tuple[dict[str, float], str]:
    """The harm table in an uploaded CSV (name, bytes) and the file's name.

    Raises InputError (one line naming the file) for a file that is not a valid table.
    """
    if not files:
        raise InputFileError("no harm weights file uploaded; choose a CSV.")
    name, data = files[0]
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputFileError(f"{name}: not a UTF-8 text file; save it as CSV (UTF-8).") from None
    return parse_harm_weights(text, name), name


def harm_frame(table: Mapping[str, float], source: str | None = None) -> pd.DataFrame:
    """The table as rows crime_type, weight (and source, for the download)."""
    frame = pd.DataFrame({"crime_type": list(table), "weight": [float(v) for v in table.values()]})
    if source is not None:
        frame["source"] = source
    return frame


def _edited_weights(frame: pd.DataFrame) -> dict[str, float]:
    """The editor's table as {crime type: weight}; ParameterError for a weight not >= 0."""
    out: dict[str, float] = {}
    bad: list[str] = []
    for name, value in zip(frame["crime_type"], frame["weight"], strict=True):
        try:
            w = float(value)
        except (TypeError, ValueError):
            w = math.nan
        if not math.isfinite(w) or w < 0:
            bad.append(str(name))
        out[str(name)] = w
    if bad:
        raise ParameterError(
            f"harm weights: the weight of {', '.join(bad)} must be a number >= 0; "
            "the previous table is still in use."
        )
    return out


def harm_table() -> dict[str, float]:
    """The harm-weights controls (table editor, upload, reset, download); the table in use."""
    state = st.session_state
    if "harm_table" not in state:
        _reset_harm_table()
    files = _uploaded(
        st.file_uploader(
            "Your own harm weights (CSV with columns crime_type, weight)",
            type=["csv", "txt"],
            key="harm_file",
            help="One row for each of the 14 data.police.uk crime types; other columns are "
            "ignored. Download the table below for a template.",
        )
    )
    if files:
        seen = digest(files)
        try:
            table, name = read_harm_upload(files)
        except InputError as exc:
            st.error(no_links(str(exc)))
        else:
            if state.get("harm_file_seen") != seen:  # a new file replaces the table once
                _set_harm_table(table, f"your file {name}")
        state["harm_file_seen"] = seen
    else:
        state.pop("harm_file_seen", None)
    editor = f"harm_editor_{state['harm_version']}"
    if editor not in state or "harm_base" not in state:  # a new editor, or harm re-ticked
        state["harm_base"] = dict(state["harm_table"])
        state["harm_base_source"] = state["harm_source"]
    edited = st.data_editor(
        harm_frame(state["harm_base"]),
        key=editor,
        num_rows="fixed",
        hide_index=True,
        disabled=["crime_type"],
        column_config={
            "crime_type": st.column_config.TextColumn("crime_type"),
            "weight": st.column_config.NumberColumn(
                "weight", min_value=0.0, required=True, format="%g"
            ),
        },
    )
    try:
        weights = _edited_weights(edited)
    except InputError as exc:
        st.error(no_links(str(exc)))
    else:
        edited_here = weights != state["harm_base"]
        state["harm_table"] = weights if edited_here else dict(state["harm_base"])
        state["harm_source"] = (
            "edited in the dashboard" if edited_here else state["harm_base_source"]
        )
    table = dict(state["harm_table"])
    source = str(state["harm_source"])
    c1, c2 = st.columns(2)
    c1.button("Reset to built-in", key="harm_reset", on_click=_reset_harm_table)
    c2.download_button(
        "Harm weights (CSV)",
        table_csv(harm_frame(table, source)),
        file_name="harm_weights.csv",
        mime="text/csv",
        on_click="ignore",
    )
    st.caption(f"Harm weights: {source}.")
    return table
