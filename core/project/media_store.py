"""Media rows of the project: ingest, lineage (derived media), relinking.

A media row stores the file's path relative to the project file plus a content
hash. When the file is no longer at that path (the project or the footage was
moved), :func:`find_relinks` looks for files of the same name under folders the
user names and accepts them only when the content hash matches.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from core.errors import LumaError, MediaError
from core.media.hashing import content_hash
from core.media.probe import MediaInfo, probe
from core.media.thumbnails import encode_png, thumbnail
from core.project.project import Project, now_iso


@dataclass
class MediaRecord:
    id: int
    name: str
    path: str  # as stored (relative)
    content_hash: str
    size: int
    kind: str
    info: MediaInfo
    thumbnail_png: bytes | None = None
    derived: list[dict[str, Any]] = field(default_factory=list)


_COLUMNS = "id, name, path, content_hash, size, kind, probe, thumbnail"


def _record(row: tuple) -> MediaRecord:
    mid, name, path, chash, size, kind, probe_json, thumb = row
    return MediaRecord(mid, name, path, chash, size, kind, MediaInfo.from_dict(json.loads(probe_json)), thumb)


@dataclass
class Analysed:
    """What importing a file needs, computed off the GUI thread (no project access)."""

    path: Path
    info: MediaInfo
    content_hash: str
    size: int
    thumbnail_png: bytes | None


def analyse(path: str | os.PathLike, with_thumbnail: bool = True) -> Analysed:
    """Probe, hash and thumbnail a file. Raises MediaError for missing/corrupt/unsupported files."""
    path = Path(path).resolve()
    info = probe(path)
    chash = content_hash(path)
    png = None
    if with_thumbnail and info.has_video:
        try:
            png = encode_png(thumbnail(path))
        except MediaError:
            png = None  # a clip whose middle frame cannot be decoded still imports; the bin shows its name
    return Analysed(path, info, chash, path.stat().st_size, png)


def add_analysed(project: Project, item: Analysed) -> MediaRecord:
    """Record an analysed file in one transaction (or return the row it already has)."""
    rel = project.relative_path(item.path)
    existing = project.query(f"SELECT {_COLUMNS} FROM media WHERE path = ? AND content_hash = ?",
                             (rel, item.content_hash))
    if existing:
        return _record(existing[0])
    with project.transaction(f"import {item.path.name}"):
        cur = project.execute(
            "INSERT INTO media(name, path, content_hash, size, kind, probe, thumbnail, added_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (item.path.name, rel, item.content_hash, item.size, item.info.kind, json.dumps(item.info.to_dict()),
             item.thumbnail_png, now_iso()),
        )
        media_id = cur.lastrowid
    return get_media(project, media_id)


def ingest(project: Project, path: str | os.PathLike, with_thumbnail: bool = True) -> MediaRecord:
    """Probe a file and add it to the project in one transaction.

    Raises MediaError (and changes nothing) if the file is missing, corrupt
    or unsupported. A file already in the project is returned as is.
    """
    return add_analysed(project, analyse(path, with_thumbnail))


def get_media(project: Project, media_id: int) -> MediaRecord:
    rows = project.query(f"SELECT {_COLUMNS} FROM media WHERE id = ?", (media_id,))
    if not rows:
        raise LumaError(f"media #{media_id} is not in this project")
    record = _record(rows[0])
    record.derived = list_derived(project, media_id)
    return record


def list_media(project: Project) -> list[MediaRecord]:
    return [_record(r) for r in project.query(f"SELECT {_COLUMNS} FROM media ORDER BY id")]


def media_path(project: Project, media_id: int) -> Path:
    rows = project.query("SELECT path FROM media WHERE id = ?", (media_id,))
    if not rows:
        raise LumaError(f"media #{media_id} is not in this project")
    return project.absolute_path(rows[0][0])


def remove_media(project: Project, media_id: int) -> None:
    used = project.query("SELECT COUNT(*) FROM clips WHERE media_id = ?", (media_id,))[0][0]
    if used:
        raise LumaError(f"this media is used by {used} clip(s) on a timeline; remove them first")
    with project.transaction("remove media"):
        project.execute("DELETE FROM media WHERE id = ?", (media_id,))


# ------------------------------------------------------------------ lineage


def add_derived(project: Project, parent_id: int, kind: str, params: dict, path: str | os.PathLike,
                width: int | None = None, height: int | None = None) -> int:
    """Record a file made from a media row (a proxy, ...) with how it was made."""
    rel = project.relative_path(path)
    params_json = json.dumps(params, sort_keys=True)
    with project.transaction(f"record {kind}"):
        project.execute(
            "INSERT INTO derived_media(parent_id, kind, params, path, width, height, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(parent_id, kind, params) DO UPDATE SET "
            "path = excluded.path, width = excluded.width, height = excluded.height, created_at = excluded.created_at",
            (parent_id, kind, params_json, rel, width, height, now_iso()),
        )
        row = project.query(
            "SELECT id FROM derived_media WHERE parent_id = ? AND kind = ? AND params = ?",
            (parent_id, kind, params_json),
        )
    return int(row[0][0])


def list_derived(project: Project, parent_id: int, kind: str | None = None) -> list[dict[str, Any]]:
    sql = "SELECT id, kind, params, path, width, height, created_at FROM derived_media WHERE parent_id = ?"
    args: tuple = (parent_id,)
    if kind:
        sql += " AND kind = ?"
        args += (kind,)
    out = []
    for did, dkind, params, path, w, h, created in project.query(sql + " ORDER BY id", args):
        out.append({"id": did, "kind": dkind, "params": json.loads(params), "path": str(project.absolute_path(path)),
                    "width": w, "height": h, "created_at": created})
    return out


def best_proxy(project: Project, media_id: int, max_height: int) -> Path | None:
    """The largest existing proxy no taller than ``max_height``, if any."""
    best = None
    for d in list_derived(project, media_id, "proxy"):
        p = Path(d["path"])
        if d["height"] and d["height"] <= max_height and p.is_file():
            if best is None or d["height"] > best[0]:
                best = (d["height"], p)
    return best[1] if best else None


# ------------------------------------------------------------------ relinking


def missing_media(project: Project) -> list[MediaRecord]:
    return [m for m in list_media(project) if not project.absolute_path(m.path).is_file()]


def find_relinks(project: Project, search_dirs: Iterable[str | os.PathLike]) -> dict[int, Path]:
    """For each missing media row, a file under ``search_dirs`` with the same name and content hash."""
    missing = missing_media(project)
    if not missing:
        return {}
    wanted: dict[str, list[MediaRecord]] = {}
    for m in missing:
        wanted.setdefault(Path(m.path).name, []).append(m)
    found: dict[int, Path] = {}
    for root in search_dirs:
        for dirpath, _dirs, files in os.walk(root):
            for fname in files:
                for m in wanted.get(fname, []):
                    if m.id in found:
                        continue
                    candidate = Path(dirpath) / fname
                    try:
                        if content_hash(candidate) == m.content_hash:
                            found[m.id] = candidate.resolve()
                    except MediaError:
                        continue
    return found


def relink(project: Project, media_id: int, new_path: str | os.PathLike, check_hash: bool = True) -> None:
    """Point a media row at a new file (same content unless ``check_hash`` is False)."""
    new_path = Path(new_path)
    record = get_media(project, media_id)
    new_hash = content_hash(new_path)
    if check_hash and new_hash != record.content_hash:
        raise MediaError(f"{new_path.name} is not the same file as {record.name} (content differs)")
    with project.transaction(f"relink {record.name}"):
        project.execute(
            "UPDATE media SET path = ?, content_hash = ? WHERE id = ?",
            (project.relative_path(new_path), new_hash, media_id),
        )


def relink_all(project: Project, search_dirs: Iterable[str | os.PathLike]) -> dict[int, Path]:
    found = find_relinks(project, search_dirs)
    if found:
        with project.transaction("relink media"):
            for media_id, path in found.items():
                relink(project, media_id, path)
    return found
