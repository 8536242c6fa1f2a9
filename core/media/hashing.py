"""Fast content hash of a media file, for relinking media that moved.

Hashing a whole multi-gigabyte camera file takes too long on ingest, so the
hash covers the file size and three 1 MiB samples (start, middle, end); a
file of 3 MiB or less is hashed whole. Two different files of the same size
that agree in all three samples would collide; for camera media (headers and
indexes at both ends, unique frame data in the middle) that does not happen
in practice. The ``sha256p:`` prefix ("partial") keeps these hashes apart
from full-file hashes.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from core.errors import MediaError
from core.media._av import PathLike, display_name

__all__ = ["CHUNK", "PREFIX", "content_hash"]

CHUNK = 1 << 20
PREFIX = "sha256p:"


def content_hash(path: PathLike) -> str:
    """``"sha256p:<hex>"`` over the size and the first, middle and last MiB."""
    p = Path(path)
    name = display_name(p)
    h = hashlib.sha256()
    try:
        with p.open("rb") as f:
            size = f.seek(0, 2)
            h.update(size.to_bytes(8, "little"))
            if size <= 3 * CHUNK:
                f.seek(0)
                h.update(f.read())
            else:
                for offset in (0, (size - CHUNK) // 2, size - CHUNK):
                    f.seek(offset)
                    h.update(f.read(CHUNK))
    except FileNotFoundError:
        raise MediaError(f"{name}: file not found") from None
    except IsADirectoryError:
        raise MediaError(f"{name}: is a folder, not a media file") from None
    except OSError as exc:
        raise MediaError(f"{name}: cannot read the file ({exc.strerror or exc})") from exc
    return PREFIX + h.hexdigest()
