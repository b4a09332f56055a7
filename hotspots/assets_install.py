"""Install the maps' local assets: copy them out of npm's ``node_modules`` (set-up's command).

``make setup`` installs the packages the maps need from the npm registry
(``assets/package.json``, pinned by ``assets/package-lock.json``) and runs::

    python -m hotspots.assets_install install assets/node_modules static/vendor

which copies exactly the files :data:`hotspots.assets.ASSET_FILES` lists (plus the weighted-heat
patch) into ``static/vendor/`` and writes its ``manifest.json`` last. ``check [FOLDER]`` says where
the installed assets are (``static/vendor`` in the repository unless FOLDER is given), or what is
missing. Using the installed files in maps is
:mod:`hotspots.assets`.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from ._files import atomic_write_bytes
from .assets import (
    ASSET_FILES,
    HEAT_PATCH,
    HEAT_PATCH_JS,
    INSTALL_HINT,
    MANIFEST,
    asset_dir,
    read_manifest,
)
from .errors import InputError

__all__ = ["install", "main"]

log = logging.getLogger(__name__)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _package_version(node_modules: Path, package: str) -> str:
    meta = node_modules / package / "package.json"
    try:
        return str(json.loads(meta.read_text(encoding="utf-8"))["version"])
    except (OSError, ValueError, KeyError):
        raise InputError(f"{meta} is missing or unreadable: {INSTALL_HINT}.") from None


def install(node_modules: str | os.PathLike[str], dest: str | os.PathLike[str]) -> Path:
    """Copy the map assets from an npm ``node_modules`` folder into ``dest``.

    Copies exactly the files the maps load (Leaflet's script, stylesheet and images,
    Leaflet.heat, Leaflet.fullscreen and the packages' licences), writes the weighted-heat patch
    for Leaflet.heat, removes files a previous install listed that are no longer needed, and
    writes ``dest/manifest.json`` last (package versions, and each file's size and SHA-256).

    Parameters
    ----------
    node_modules
        The folder ``npm ci`` filled (``assets/node_modules``).
    dest
        Where the files go (``static/vendor``); created when missing.

    Returns
    -------
    Path
        The manifest written.

    Raises
    ------
    InputError
        When a package or file is missing from ``node_modules``.
    """
    src_root = Path(node_modules)
    dest_root = Path(dest)
    if not src_root.is_dir():
        raise InputError(f"{src_root} is not a folder: {INSTALL_HINT}.")
    missing = [
        f"{f.package}/{f.source}"
        for f in ASSET_FILES
        if not (src_root / f.package / f.source).is_file()
    ]
    if missing:
        raise InputError(f"{src_root} lacks {', '.join(missing)}: {INSTALL_HINT}.")
    versions = {
        package: _package_version(src_root, package)
        for package in sorted({f.package for f in ASSET_FILES})
    }
    old = read_manifest(dest_root) if (dest_root / MANIFEST).is_file() else {}

    files: dict[str, dict[str, object]] = {}
    for f in ASSET_FILES:
        target = dest_root / f.dest
        atomic_write_bytes(target, (src_root / f.package / f.source).read_bytes())
        files[f.dest] = {
            "package": f.package,
            "version": versions[f.package],
            "source": f"{f.package}/{f.source}",
        }
    patch = dest_root / HEAT_PATCH
    atomic_write_bytes(patch, HEAT_PATCH_JS.encode("utf-8"))
    files[HEAT_PATCH] = {"package": "hotspots", "version": "", "source": "hotspots.assets"}
    for rel, entry in files.items():
        path = dest_root / rel
        entry["bytes"] = path.stat().st_size
        entry["sha256"] = _sha256(path)

    for rel in set(old.get("files", {})) - set(files):
        stale = (dest_root / rel).resolve()
        if stale.is_file() and dest_root.resolve() in stale.parents:
            stale.unlink()

    manifest = {"packages": versions, "files": dict(sorted(files.items()))}
    out = dest_root / MANIFEST
    atomic_write_bytes(out, (json.dumps(manifest, indent=2) + "\n").encode("utf-8"))
    log.info(
        "installed %d map asset files (%s) into %s",
        len(files),
        ", ".join(f"{k} {v}" for k, v in versions.items()),
        dest_root,
    )
    return out


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m hotspots.assets_install install NODE_MODULES DEST`` (and ``check [FOLDER]``)."""
    parser = argparse.ArgumentParser(
        prog="python -m hotspots.assets_install",
        description="Install or check the maps' local assets.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    p_install = sub.add_parser("install", help="copy the map assets out of node_modules")
    p_install.add_argument("node_modules", help="the folder npm ci filled (assets/node_modules)")
    p_install.add_argument("dest", help="where the files go (static/vendor)")
    p_check = sub.add_parser("check", help="say where the installed assets are, or what is missing")
    p_check.add_argument(
        "folder", nargs="?", default=None, help="the installed folder (default: static/vendor)"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        if args.command == "install":
            out = install(args.node_modules, args.dest)
            print(f"map assets installed: {out}", file=sys.stderr)
        else:
            print(asset_dir(args.folder))
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
