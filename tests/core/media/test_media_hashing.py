"""content_hash: stable, sensitive to content and size, fast on big files."""

from __future__ import annotations

import hashlib

import pytest

from core.errors import MediaError
from core.media import content_hash
from core.media.hashing import CHUNK


def test_small_file_hashes_whole(tmp_path):
    p = tmp_path / "a.bin"
    p.write_bytes(b"hello")
    h = content_hash(p)
    assert h.startswith("sha256p:")
    assert h == "sha256p:" + hashlib.sha256((5).to_bytes(8, "little") + b"hello").hexdigest()
    moved = tmp_path / "sub" / "renamed.mov"
    moved.parent.mkdir()
    moved.write_bytes(b"hello")
    assert content_hash(moved) == h  # relinking: same content, other path


def test_samples_start_middle_end(tmp_path):
    size = 5 * CHUNK + 123
    data = bytearray(size)
    p = tmp_path / "big.bin"
    p.write_bytes(bytes(data))
    base = content_hash(p)
    for offset, changes in [(10, True), ((size - CHUNK) // 2 + 5, True), (size - 1, True), (CHUNK + 10, False)]:
        changed = bytearray(data)
        changed[offset] = 1
        p.write_bytes(bytes(changed))
        assert (content_hash(p) != base) is changes, offset
    p.write_bytes(bytes(data) + b"\0")  # size is part of the hash
    assert content_hash(p) != base


def test_boundary_sizes(tmp_path):
    p = tmp_path / "x"
    seen = set()
    for n in (0, 1, 3 * CHUNK, 3 * CHUNK + 1):
        p.write_bytes(b"\x07" * n)
        seen.add(content_hash(p))
    assert len(seen) == 4


def test_errors(tmp_path):
    with pytest.raises(MediaError, match=r"^clip\.mp4: file not found$"):
        content_hash(tmp_path / "clip.mp4")
    with pytest.raises(MediaError, match="is a folder"):
        content_hash(tmp_path)
