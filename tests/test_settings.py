"""Tests for geodata.settings: every path and service address from explicit environments."""

from __future__ import annotations

import doctest
from pathlib import Path

import pytest

from geodata import settings
from geodata.settings import ONS_WARDS_URL, POLICE_API, Settings


@pytest.mark.parametrize(
    ("environ", "platform", "expected"),
    [
        ({"HOTSPOTS_STORE": "/srv/team.gpkg", "HOME": "/h"}, "linux", "/srv/team.gpkg"),
        ({"HOTSPOTS_STORE": "~/x.gpkg", "HOME": "/h"}, "linux", "/h/x.gpkg"),
        ({"HOTSPOTS_STORE": "  ", "HOME": "/h"}, "linux", "/h/.local/share/hotspots/store.gpkg"),
        ({"HOME": "/h"}, "linux", "/h/.local/share/hotspots/store.gpkg"),
        ({"HOME": "/h", "XDG_DATA_HOME": "/data"}, "linux", "/data/hotspots/store.gpkg"),
        ({"HOME": "/h", "XDG_DATA_HOME": "rel"}, "linux", "/h/.local/share/hotspots/store.gpkg"),
        (
            {"HOME": "/Users/a"},
            "darwin",
            "/Users/a/Library/Application Support/hotspots/store.gpkg",
        ),
        ({"APPDATA": "/c/AppData/Roaming"}, "win32", "/c/AppData/Roaming/hotspots/store.gpkg"),
        ({"USERPROFILE": "/c/Users/a"}, "win32", "/c/Users/a/AppData/Roaming/hotspots/store.gpkg"),
    ],
)
def test_store_path(environ: dict[str, str], platform: str, expected: str) -> None:
    got = Settings.from_environment(environ, platform=platform)
    assert got.store_path.as_posix() == expected


def test_defaults_beside_the_store() -> None:
    """Downloads, the one cache and the data folder sit beside the store; the services are
    the public ones."""
    got = Settings.from_environment({"HOME": "/h"}, platform="linux")
    root = Path("/h/.local/share/hotspots")
    assert got == Settings(
        store_path=root / "store.gpkg",
        downloads_dir=root / "downloads",
        cache_dir=root / "downloads" / "cache",
        data_dir=root / "data",
        police_api=POLICE_API,
        ons_wards_url=ONS_WARDS_URL,
        debug=False,
    )


def test_downloads_follow_the_store() -> None:
    got = Settings.from_environment({"HOTSPOTS_STORE": "/srv/team/store.gpkg"}, platform="linux")
    assert got.downloads_dir == Path("/srv/team/downloads")
    assert got.cache_dir == Path("/srv/team/downloads/cache")


def test_every_variable() -> None:
    environ = {
        "HOME": "/h",
        "HOTSPOTS_STORE": "/s/store.gpkg",
        "HOTSPOTS_CACHE": "~/cache",
        "HOTSPOTS_POLICE_API": " http://127.0.0.1:8000/api ",
        "HOTSPOTS_ONS_WARDS_URL": "http://127.0.0.1:8001/FeatureServer/0",
        "HOTSPOTS_DEBUG": "1",
        "HOTSPOTS_DATA": "~/police data",
    }
    got = Settings.from_environment(environ, platform="linux")
    assert got.cache_dir == Path("/h/cache")
    assert got.data_dir == Path("/h/police data")
    assert got.downloads_dir == Path("/s/downloads")
    assert got.police_api == "http://127.0.0.1:8000/api"
    assert got.ons_wards_url == "http://127.0.0.1:8001/FeatureServer/0"
    assert got.debug is True


def test_blank_variables_are_unset() -> None:
    blank = {
        "HOME": "/h",
        "HOTSPOTS_CACHE": " ",
        "HOTSPOTS_DATA": "  ",
        "HOTSPOTS_POLICE_API": "",
        "HOTSPOTS_DEBUG": "",
    }
    got = Settings.from_environment(blank, platform="linux")
    assert got.cache_dir == Path("/h/.local/share/hotspots/downloads/cache")
    assert got.data_dir == Path("/h/.local/share/hotspots/data")
    assert got.police_api == POLICE_API
    assert got.debug is False


def test_settings_are_frozen() -> None:
    got = Settings.from_environment({"HOME": "/h"}, platform="linux")
    with pytest.raises(AttributeError):
        got.debug = True  # type: ignore[misc]


def test_doctests() -> None:
    assert doctest.testmod(settings).failed == 0
