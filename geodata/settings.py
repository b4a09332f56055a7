"""Where things are: the store, the downloads and their cache, the services' addresses.

The one owner of paths and service URLs. Only the applications (the ``hotspots`` command, the
dashboard) read the environment, through :meth:`Settings.from_environment`; library functions
take the paths and URLs as parameters.

========================== ==================================================================
variable                   setting
========================== ==================================================================
``HOTSPOTS_STORE``         :attr:`Settings.store_path` (default ``store.gpkg`` in the
                           per-user data folder: ``%APPDATA%\\hotspots`` on Windows,
                           ``~/Library/Application Support/hotspots`` on macOS,
                           ``$XDG_DATA_HOME/hotspots`` or ``~/.local/share/hotspots``
                           elsewhere)
``HOTSPOTS_CACHE``         :attr:`Settings.cache_dir` (default ``downloads/cache`` beside the
                           store): one cache of downloaded answers for the CLI and dashboard
``HOTSPOTS_DATA``          :attr:`Settings.data_dir` (default ``data/`` beside the store):
                           the dashboard's data folder, whose files it opens where they lie
``HOTSPOTS_POLICE_API``    :attr:`Settings.police_api` (default :data:`POLICE_API`)
``HOTSPOTS_ONS_WARDS_URL`` :attr:`Settings.ons_wards_url` (default :data:`ONS_WARDS_URL`)
``HOTSPOTS_DEBUG``         :attr:`Settings.debug`: tracebacks and the library's log lines
========================== ==================================================================

Fetched data go to :attr:`Settings.downloads_dir`, ``downloads/`` beside the store.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "FETCH_DEADLINE",
    "FETCH_TIMEOUT",
    "MAX_ANSWER_BYTES",
    "MAX_RETRY_AFTER",
    "ONS_WARDS_URL",
    "POLICE_API",
    "Settings",
]

#: The data.police.uk API root (https://data.police.uk/docs/).
POLICE_API = "https://data.police.uk/api"

#: ONS Open Geography Portal: "Wards (December 2024) Boundaries UK BGC" (generalised to
#: 20 m, clipped to the coastline), layer 0 of its ArcGIS FeatureServer. ONS publishes a new
#: service each year under a new name (fields WD24CD, LAD24CD, ... change with it), so the
#: URL is a parameter of :func:`geodata.fetch.ons.fetch_wards`.
ONS_WARDS_URL = (
    "https://services1.arcgis.com/ESMARspQHYMw9BZ9/arcgis/rest/services/"
    "Wards_December_2024_Boundaries_UK_BGC/FeatureServer/0"
)


#: Seconds one request may take, from connecting to the last byte of the answer (a server
#: sending a byte at a time is cut off here); ``hotspots fetch --timeout``.
FETCH_TIMEOUT = 60.0
#: Seconds a whole download may take, waits and retries included; ``hotspots fetch --deadline``.
#: A police download stopped by it resumes where it stopped when run again.
FETCH_DEADLINE = 3600.0
#: Longest wait a server may ask for with HTTP 429 ``Retry-After`` (seconds); a longer one ends
#: the download at once, saying when to try again.
MAX_RETRY_AFTER = 120.0
#: Largest answer read from a service (bytes): a data.police.uk month of 10,000 crimes is ~7 MB.
MAX_ANSWER_BYTES = 200_000_000


@dataclass(frozen=True)
class Settings:
    """The paths and service addresses an application works with.

    Attributes
    ----------
    store_path
        The patrol-area store (a GeoPackage).
    downloads_dir
        Where fetched data are kept: ``police/<LAD>-<from>-<to>/`` and ``wards/<LAD>.gpkg``.
    cache_dir
        The cache of downloaded answers, shared by ``hotspots fetch`` and the dashboard.
    data_dir
        The dashboard's data folder: incident files put there are opened where they lie, with
        no upload (a city's year is larger than an upload may be; a file may be up to 2 GB).
    police_api
        The data.police.uk API root (or an organisation's mirror).
    ons_wards_url
        The ONS ward boundaries FeatureServer layer.
    debug
        Show tracebacks and the library's own log lines.

    Examples
    --------
    >>> s = Settings.from_environment({"HOME": "/home/ann"}, platform="linux")
    >>> s.store_path.as_posix()
    '/home/ann/.local/share/hotspots/store.gpkg'
    >>> s.cache_dir.as_posix()
    '/home/ann/.local/share/hotspots/downloads/cache'
    >>> s.data_dir.as_posix()
    '/home/ann/.local/share/hotspots/data'
    >>> s.police_api == POLICE_API, s.debug
    (True, False)
    """

    store_path: Path
    downloads_dir: Path
    cache_dir: Path
    data_dir: Path
    police_api: str = POLICE_API
    ons_wards_url: str = ONS_WARDS_URL
    debug: bool = False

    @classmethod
    def from_environment(
        cls, environ: Mapping[str, str] = os.environ, platform: str = sys.platform
    ) -> Settings:
        """The settings the environment variables give (see the module's table).

        Parameters
        ----------
        environ
            Environment variables to read (default :data:`os.environ`).
        platform
            ``sys.platform`` value to decide the per-user folder for (default: this machine's).

        Examples
        --------
        >>> env = {"HOTSPOTS_STORE": "/srv/team.gpkg", "HOTSPOTS_CACHE": "/tmp/c",
        ...        "HOTSPOTS_POLICE_API": " https://mirror.example/api ", "HOTSPOTS_DEBUG": "1"}
        >>> s = Settings.from_environment(env, platform="linux")
        >>> s.downloads_dir.as_posix(), s.cache_dir.as_posix(), s.police_api, s.debug
        ('/srv/downloads', '/tmp/c', 'https://mirror.example/api', True)
        """
        store = _store_path(environ, platform)
        downloads = store.parent / "downloads"
        cache = _text(environ, "HOTSPOTS_CACHE")
        data = _text(environ, "HOTSPOTS_DATA")
        return cls(
            store_path=store,
            downloads_dir=downloads,
            cache_dir=_expand_home(cache, environ) if cache else downloads / "cache",
            data_dir=_expand_home(data, environ) if data else store.parent / "data",
            police_api=_text(environ, "HOTSPOTS_POLICE_API") or POLICE_API,
            ons_wards_url=_text(environ, "HOTSPOTS_ONS_WARDS_URL") or ONS_WARDS_URL,
            debug=bool(environ.get("HOTSPOTS_DEBUG")),
        )


def _text(environ: Mapping[str, str], name: str) -> str:
    return environ.get(name, "").strip()


def _store_path(env: Mapping[str, str], platform: str) -> Path:
    """``$HOTSPOTS_STORE`` when set, else ``store.gpkg`` in the per-user data folder.

    The folder is ``%APPDATA%\\hotspots`` on Windows, ``~/Library/Application Support/hotspots``
    on macOS and ``$XDG_DATA_HOME/hotspots`` (default ``~/.local/share/hotspots``) elsewhere.

    >>> _store_path({"HOTSPOTS_STORE": "/srv/team.gpkg"}, "linux").as_posix()
    '/srv/team.gpkg'
    >>> _store_path({"HOME": "/home/ann"}, "linux").as_posix()
    '/home/ann/.local/share/hotspots/store.gpkg'
    """
    explicit = env.get("HOTSPOTS_STORE", "").strip()
    if explicit:
        return _expand_home(explicit, env)
    home = env.get("HOME") or env.get("USERPROFILE") or str(Path.home())
    if platform.startswith("win"):
        base = env.get("APPDATA") or str(Path(home) / "AppData" / "Roaming")
        folder = Path(base) / "hotspots"
    elif platform == "darwin":
        folder = Path(home) / "Library" / "Application Support" / "hotspots"
    else:
        xdg = env.get("XDG_DATA_HOME", "").strip()
        base_dir = Path(xdg) if xdg and Path(xdg).is_absolute() else Path(home) / ".local" / "share"
        folder = base_dir / "hotspots"
    return folder / "store.gpkg"


def _expand_home(path: str, env: Mapping[str, str]) -> Path:
    home = env.get("HOME") or env.get("USERPROFILE")
    if home and (path == "~" or path.startswith(("~/", "~\\"))):
        return Path(home) / path[2:]
    return Path(path).expanduser()
