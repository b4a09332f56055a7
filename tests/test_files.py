"""hotspots._files: atomic writes (whole file or none, one permission rule, no leftovers)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from hotspots._files import atomic_write, atomic_write_bytes, write_via


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_text_is_utf8_with_newlines_as_given(tmp_path: Path) -> None:
    target = tmp_path / "a" / "b" / "t.csv"
    with atomic_write(target) as f:
        f.write("Café\r\nx\n")
    assert target.read_bytes() == "Café\r\nx\n".encode()
    assert _names(target.parent) == ["t.csv"]


def test_binary(tmp_path: Path) -> None:
    out = atomic_write_bytes(tmp_path / "x.bin", b"\x00\xff")
    assert out == tmp_path / "x.bin"
    assert out.read_bytes() == b"\x00\xff"


@pytest.mark.parametrize("binary", [False, True])
def test_permissions_are_those_open_gives(tmp_path: Path, binary: bool) -> None:
    target = tmp_path / "p"
    with atomic_write(target, binary=binary) as f:
        f.write(b"x" if binary else "x")
    assert _mode(target) == 0o666 & ~_umask()


def test_a_replaced_file_gets_the_same_permissions(tmp_path: Path) -> None:
    target = tmp_path / "p.txt"
    target.write_text("old", encoding="utf-8")
    target.chmod(0o600)
    atomic_write_bytes(target, b"new")
    assert target.read_bytes() == b"new"
    assert _mode(target) == 0o666 & ~_umask()


def test_an_error_leaves_no_file_and_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "t.txt"
    with pytest.raises(RuntimeError), atomic_write(target) as f:
        f.write("half")
        raise RuntimeError("boom")
    assert _names(tmp_path) == []


def test_an_error_keeps_the_old_content(tmp_path: Path) -> None:
    target = tmp_path / "t.txt"
    target.write_text("old", encoding="utf-8")
    with pytest.raises(KeyboardInterrupt), atomic_write(target) as f:
        f.write("new, half")
        raise KeyboardInterrupt
    assert target.read_text(encoding="utf-8") == "old"
    assert _names(tmp_path) == ["t.txt"]


def test_write_via_gives_the_writer_a_fresh_path_with_the_suffix(tmp_path: Path) -> None:
    seen: list[Path] = []

    def writer(tmp: Path) -> None:
        seen.append(tmp)
        assert not tmp.exists()
        assert tmp.parent == tmp_path / "out" and tmp.suffix == ".gpkg"
        tmp.write_bytes(b"layer")

    out = write_via(tmp_path / "out" / "h.gpkg", writer, ".gpkg")
    assert out == tmp_path / "out" / "h.gpkg"
    assert out.read_bytes() == b"layer"
    assert _mode(out) == 0o666 & ~_umask()
    assert _names(out.parent) == ["h.gpkg"] and not seen[0].exists()


def test_write_via_failure_leaves_nothing(tmp_path: Path) -> None:
    target = tmp_path / "h.gpkg"
    target.write_bytes(b"old")

    def writer(tmp: Path) -> None:
        tmp.write_bytes(b"half")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        write_via(target, writer, ".gpkg")
    assert target.read_bytes() == b"old"
    assert _names(tmp_path) == ["h.gpkg"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_a_read_only_folder_is_named_not_the_hidden_temporary_file(tmp_path: Path) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        with pytest.raises(PermissionError) as info, atomic_write(folder / "a.csv"):
            pass
        assert info.value.filename == str(folder / "a.csv")
        with pytest.raises(PermissionError) as info:
            write_via(folder / "b.gpkg", lambda p: None, ".gpkg")
        assert info.value.filename == str(folder / "b.gpkg")
    finally:
        folder.chmod(0o755)
