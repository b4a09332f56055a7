"""What the browser tests share: the real server (`streamlit run app.py`, as `make run` starts
it) on a free local port, and the map's frame once Leaflet has drawn in it.

Chromium is Debian's (`.ci/run` installs it); the tests skip with a message without it.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.request import urlopen

import pytest

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
MAP_FRAME = 'iframe[title="streamlit_folium.st_folium"]'
NO_CHROMIUM = pytest.mark.skipif(
    CHROMIUM is None, reason="no Chromium found: apt-get install chromium (CI installs it)"
)
#: where the walks save their screenshots (HOTSPOTS_SCREENSHOTS=folder; else not kept)
SCREENSHOTS = os.environ.get("HOTSPOTS_SCREENSHOTS")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def streamlit_server(
    store: Path, log: Path | None = None, env: dict[str, str] | None = None
) -> Iterator[str]:
    """`streamlit run app.py` on a free port with its own patrol-area store; yields its URL.

    ``log``: a file for the server's output (else it is dropped); ``env``: more variables."""
    port = free_port()
    env = {**os.environ, "HOTSPOTS_STORE": str(store), **(env or {})}
    out = open(log, "wb") if log is not None else subprocess.DEVNULL  # noqa: SIM115
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(REPO / "app.py"), "--server.port",
         str(port), "--server.address", "127.0.0.1", "--server.headless", "true"],
        cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                with urlopen(f"{url}/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                time.sleep(0.3)
        else:
            pytest.fail("streamlit did not start")
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        if log is not None:
            out.close()  # type: ignore[union-attr]


def map_frame(page: Any, timeout: int = 120_000) -> Any:
    """The streamlit-folium frame once Leaflet has drawn the hotspots in it."""
    el = page.locator(MAP_FRAME).first
    el.wait_for(timeout=timeout)
    frame = el.content_frame
    assert frame is not None
    frame.locator(".leaflet-container").wait_for(timeout=60_000)
    frame.locator("path.leaflet-interactive").first.wait_for(timeout=60_000)
    return frame


def shot(page: Any, name: str) -> None:
    """Keep a screenshot of this step when HOTSPOTS_SCREENSHOTS names a folder."""
    if SCREENSHOTS:
        Path(SCREENSHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SCREENSHOTS) / f"{name}.png"), full_page=False)


def text_after_change(locator: Any, before: str, timeout_s: float = 120) -> str:
    """The locator's text once it differs from ``before`` (a rerun has replaced it)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            now = str(locator.first.inner_text(timeout=2_000))
        except Exception:  # being replaced by the rerun
            now = before
        if now != before:
            return now
        time.sleep(0.3)
    raise AssertionError(f"no change from {before[:80]!r} in {timeout_s:.0f} s")
