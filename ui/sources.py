"""Where the dashboard's incidents come from, besides the demo borough: uploaded files, the data
folder, and fetches from data.police.uk (widgets only: the library reads).

Each source gives ``(key, incidents, report)``, or None while there is nothing of its own to
show (the sidebar then shows the demo borough). The key names the data for every cache
downstream, so it changes whenever the data may have.

The data folder (``$HOTSPOTS_DATA``, default ``data/`` beside the patrol-area store) is for
files too large to upload: a year of London is about 250 MB of street CSVs, over the upload
limit, and an upload is held in memory and copied before it is read. Files put there are read
where they lie, and read again only when they change.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import geopandas as gpd
import streamlit as st

from geodata.settings import Settings
from hotspots import InputError, LoadReport, read_incidents
from hotspots.io import INCIDENT_SUFFIXES
from ui.helpers import (
    UPLOAD_TYPES,
    Files,
    digest,
    fetch_borough,
    fetched_folders,
    no_links,
    read_uploaded_incidents,
    uploaded_files,
)

Source = tuple[str, gpd.GeoDataFrame, LoadReport]
#: A file's or folder's state when it was read (:func:`stamp`).
Stamp = str


@st.cache_resource(show_spinner="Reading the uploaded files ...", max_entries=4)
def _incidents_upload(key: str, _files: Files) -> tuple[gpd.GeoDataFrame, LoadReport]:
    return read_uploaded_incidents(_files)


@st.cache_resource(show_spinner="Reading the files ...", max_entries=4)
def _incidents_at(path: str, state: Stamp) -> tuple[gpd.GeoDataFrame, LoadReport]:
    """The incidents of a file or folder, read once for each ``stamp`` (its state)."""
    return read_incidents(Path(path))


#: Most bytes one upload of incident files may hold, all files together (the server's
#: ``maxUploadSize`` in .streamlit/config.toml is each file's).
MAX_UPLOAD_BYTES = 200 * 1024 * 1024


def uploaded_source() -> Source | None:
    """Uploaded incident files; the last ones that could be read while new ones cannot."""
    uploads = st.file_uploader(
        "police.uk street CSVs, the downloaded zip, API JSON or any point file",
        type=UPLOAD_TYPES,
        accept_multiple_files=True,
        key="incident_files",
    )
    st.caption(
        "A city's year is larger than an upload may be: upload the zip as downloaded, or put "
        "the files in the data folder (*Files in the data folder* above)."
    )
    files = uploaded_files(uploads)
    total = sum(len(data) for _, data in files)
    if total > MAX_UPLOAD_BYTES:  # the server's limit is a file's; this is the upload's
        st.error(
            f"These {len(files)} files hold {total / 1e6:,.0f} MB together, more than an upload "
            f"may ({MAX_UPLOAD_BYTES / 1e6:,.0f} MB): upload fewer, or put them in the data "
            "folder (*Files in the data folder* above)."
        )
        files = ()
    if files:
        files = _readable_uploads(files)
    if files:
        key = digest(files)
        try:
            incidents, report = _incidents_upload(key, files)
        except InputError as exc:
            st.error(no_links(str(exc)))
        else:
            st.session_state["good_upload"] = (key, files)
            return key, incidents, report
    good = st.session_state.get("good_upload")
    if good is not None:
        if files:
            st.caption("Showing the last files that could be read.")
        incidents, report = _incidents_upload(*good)
        return good[0], incidents, report
    st.info("Upload files to analyse them; the demo borough is shown until then.")
    return None


def _readable_uploads(files: Files) -> Files:
    """The uploaded files to read together: when they cannot be, each is tried alone, and
    each one that cannot be read is named with its reason and left out, saying how many of
    the others are read (one broken file among a year's months no longer stops the rest).
    Decided once per upload (kept in the session), said on every run."""
    if len(files) == 1:
        return files
    key = digest(files)
    kept = st.session_state.get("upload_split")
    if kept is None or kept[0] != key:
        kept = (key, *_split_uploads(files))
        st.session_state["upload_split"] = kept
    _, good, bad = kept
    others = f"the other {len(good):,} file{'s are' if len(good) != 1 else ' is'} read"
    for message in bad:
        st.error(f"{message} Left out: {others}.")
    return good  # type: ignore[no-any-return]


def _split_uploads(files: Files) -> tuple[Files, tuple[str, ...]]:
    """The files that can be read alone, and why each other cannot (all of them, and no
    reasons, when they can be read together, or when none can be alone)."""
    try:
        _incidents_upload(digest(files), files)
        return files, ()
    except InputError:
        pass
    good: list[tuple[str, bytes]] = []
    bad: list[str] = []
    for one in files:
        try:
            read_uploaded_incidents((one,))
        except InputError as exc:
            bad.append(str(exc))
        else:
            good.append(one)
    if not good or not bad:  # none readable alone (or only together): the error as it is
        return files, ()
    return tuple(good), tuple(bad)


def data_folder() -> Path:
    """The dashboard's data folder (``$HOTSPOTS_DATA``; ``data/`` beside the store)."""
    return Settings.from_environment().data_dir


def folder_entries(folder: Path) -> list[Path]:
    """The folders and incident files directly in ``folder`` (hidden ones and files of other
    types left out), by name; none when it is not a folder."""
    try:
        children = list(folder.iterdir()) if folder.is_dir() else []
    except OSError:
        return []
    shown = [
        p
        for p in children
        if not p.name.startswith(".")
        and (p.is_dir() or (p.is_file() and p.suffix.lower() in INCIDENT_SUFFIXES))
    ]
    return sorted(shown, key=lambda p: (p.name.lower(), p.name))


def stamp(path: Path) -> Stamp:
    """The state of a file, or of every file in a folder (hidden ones left out): a digest of
    each one's name, size, times of change and inode. A file replaced, added or removed
    changes it, even one copied over another with the same size and modification time (its
    change time is new); an editor's hidden swap file does not."""
    if path.is_file():
        files = [(path.name, path)]
    else:
        found = (p for p in path.rglob("*") if p.is_file())
        files = sorted(
            (str(p.relative_to(path)), p)
            for p in found
            if not any(part.startswith(".") for part in p.relative_to(path).parts)
        )
    h = hashlib.blake2b(digest_size=12)
    for name, p in files:
        try:
            info = p.stat()
        except OSError:  # gone since the listing, or a broken link: read_incidents says so
            continue
        times = f"{info.st_size}\0{info.st_mtime_ns}\0{info.st_ctime_ns}\0{info.st_ino}"
        h.update(f"{name}\0{times}\n".encode("utf-8", "surrogateescape"))
    return h.hexdigest()


def data_folder_source() -> Source | None:
    """A file or folder from the data folder, read where it lies (made when missing, so that
    the user can find it)."""
    folder = data_folder()
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        st.error(
            f"The data folder {folder} cannot be made ({exc.strerror or exc}); set "
            "HOTSPOTS_DATA to a folder you can write to and start the dashboard again."
        )
        return None
    st.caption(
        f"Files and folders in `{folder}`, read where they lie, without the upload limit (up "
        "to 2 GB a file): put a data.police.uk download there (the zip, or the folder unpacked "
        "from it), API JSON or any point file. HOTSPOTS_DATA chooses another folder."
    )
    st.button("Look in the folder again", key="data_folder_refresh")  # a rerun lists it again
    entries = folder_entries(folder)
    if not entries:
        st.info("The data folder is empty; the demo borough is shown until then.")
        return None
    names = {str(p): p.name + ("/" if p.is_dir() else "") for p in entries}
    pick = st.selectbox(
        "File or folder", list(names), key="data_pick", format_func=lambda p: names[p]
    )
    return None if pick is None else _read_picked("folder", pick)


def fetched_source() -> Source | None:
    """Fetch a borough-period from data.police.uk, or pick an earlier fetch."""
    with st.form("fetch"):
        st.caption(
            "Downloads the wards of a local authority (ONS) and its street crimes month by "
            "month. This is the only part of the dashboard that uses the internet."
        )
        lad = st.text_input("Local authority code", placeholder="E09000031", key="fetch_lad")
        left, right = st.columns(2)
        start = left.text_input("From (YYYY-MM)", key="fetch_from")
        end = right.text_input("To (YYYY-MM)", key="fetch_to")
        go = st.form_submit_button("Fetch")
    if go:
        bar = st.progress(0.0, text="Fetching ...")

        def progress(done: int, total: int, message: str) -> None:
            bar.progress(min(1.0, done / max(total, 1)), text=message[:80])

        try:
            folder, wards_file = fetch_borough(lad, start, end, progress=progress)
        except InputError as exc:
            st.error(no_links(str(exc)))
        else:
            st.session_state["fetched"] = str(folder)
            st.session_state["fetched_wards"] = str(wards_file)
            bar.progress(1.0, text="Done.")
    folders = [str(f) for f in fetched_folders()]
    if not folders:
        st.info("Nothing fetched yet; the demo borough is shown until then.")
        return None
    if st.session_state.get("fetched") in folders:
        st.session_state["fetched_pick"] = st.session_state.pop("fetched")
    pick = st.selectbox(
        "Fetched data", folders, key="fetched_pick", format_func=lambda f: Path(f).name
    )
    return _read_picked("fetched", pick)


def _read_picked(kind: str, pick: str) -> Source | None:
    """The file or folder picked, read (once for each state of it); its key is ``kind``, the
    path and the state (a file changed, or a fetch resumed or finished later, is other data);
    None, with the reason shown, when it cannot be read."""
    state = stamp(Path(pick))
    try:
        incidents, report = _incidents_at(pick, state)
    except InputError as exc:
        st.error(no_links(str(exc)))
        return None
    return f"{kind}:{pick}|{state}", incidents, report
