"""hotspots.assets_install: copying Leaflet and its plugins out of node_modules."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from hotspots.assets import MANIFEST, asset_dir
from hotspots.assets_install import install, main
from hotspots.errors import InputError

REPO = Path(__file__).resolve().parents[1]
NODE_MODULES = REPO / "assets" / "node_modules"


def _node_modules() -> Path:
    if not (NODE_MODULES / "leaflet" / "dist" / "leaflet.js").is_file():
        pytest.skip("assets/node_modules is not installed: run `cd assets && npm ci` first")
    return NODE_MODULES


def test_install_copies_exactly_the_map_files(tmp_path: Path) -> None:
    node_modules = _node_modules()
    dest = tmp_path / "static" / "vendor"
    manifest_path = install(node_modules, dest)
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    pins = json.loads((REPO / "assets" / "package.json").read_text())["dependencies"]
    assert manifest["packages"] == pins
    on_disk = {p.relative_to(dest).as_posix() for p in dest.rglob("*") if p.is_file()}
    assert on_disk == set(manifest["files"]) | {MANIFEST}
    for rel, entry in manifest["files"].items():
        data = (dest / rel).read_bytes()
        assert entry["bytes"] == len(data)
        assert entry["sha256"] == hashlib.sha256(data).hexdigest()
    expected = {
        "leaflet/leaflet.js",
        "leaflet/leaflet.css",
        "leaflet/images/layers.png",
        "leaflet.heat/leaflet-heat.js",
        "leaflet.fullscreen/Control.FullScreen.js",
        "hotspots/leaflet-heat-weights.js",
    }
    assert expected <= on_disk
    assert not any(p.endswith(".map") or "jquery" in p or "bootstrap" in p for p in on_disk)


def test_install_removes_files_an_earlier_install_listed(tmp_path: Path) -> None:
    node_modules = _node_modules()
    dest = tmp_path / "vendor"
    (dest / "old").mkdir(parents=True)
    (dest / "old" / "gone.js").write_text("old", encoding="utf-8")
    (dest / "keep.txt").write_text("not ours", encoding="utf-8")
    (dest / MANIFEST).write_text(json.dumps({"files": {"old/gone.js": {}}}), encoding="utf-8")
    install(node_modules, dest)
    assert not (dest / "old" / "gone.js").exists()
    assert (dest / "keep.txt").exists()


def test_install_from_an_empty_folder_says_how_to_fix(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="npm ci"):
        install(tmp_path, tmp_path / "dest")
    assert not (tmp_path / "dest" / MANIFEST).exists()


def test_command_line_exits_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["install", str(tmp_path / "nope"), str(tmp_path / "dest")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "\n" not in err and "make setup" in err


def test_command_line_check_names_the_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and str(tmp_path) in err


def test_asset_dir_notices_assets_from_an_older_hotspots(tmp_path: Path) -> None:
    dest = tmp_path / "vendor"
    install(_node_modules(), dest)
    manifest = json.loads((dest / MANIFEST).read_text(encoding="utf-8"))
    manifest["files"]["hotspots/leaflet-heat-weights.js"]["sha256"] = "0" * 64
    (dest / MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(InputError, match="out of date"):
        asset_dir(dest)
