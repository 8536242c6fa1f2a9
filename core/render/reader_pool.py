"""The compositor's source decoders: FrameReaders per media, bounded and reused in LRU order.

A sequential read stays on one reader (no seek per frame); a second reader of
the same media serves a transition between two parts of one file.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from pathlib import Path

from core.media.reader import FrameReader
from core.project import media_store

_FORWARD = 16  # a reader this close behind the wanted frame decodes on instead of seeking
_PROXY_RECHECK_S = 2.0  # look for a newly made proxy this often


class ReaderPool:
    """FrameReaders per media (at most ``per_media`` each, ``max_readers`` in all, LRU)."""

    def __init__(self, project, preview_height: int | None, max_readers: int = 8, per_media: int = 2,
                 thread_type: str = "AUTO", cache_frames: int | None = None):
        self.project = project
        self.preview_height = preview_height
        self.thread_type = thread_type
        self.cache_frames = cache_frames
        self.max_readers = max(1, int(max_readers))
        self.per_media = max(1, int(per_media))
        self._entries: OrderedDict[tuple[int, str, int], list] = OrderedDict()  # key -> [reader, last index]
        self._paths: dict[int, tuple[float, Path]] = {}
        self._sizes: dict[str, tuple[int, int]] = {}
        self._serial = 0

    def path_for(self, media_id: int) -> Path:
        now = time.monotonic()
        hit = self._paths.get(media_id)
        if hit is not None and (not self.preview_height or now - hit[0] < _PROXY_RECHECK_S):
            return hit[1]
        path = None
        if self.preview_height:
            path = media_store.best_proxy(self.project, media_id, self.preview_height)
        if path is None:
            path = media_store.media_path(self.project, media_id)
        self._paths[media_id] = (now, path)
        return path

    def _open(self, media_id: int, path: Path) -> list:
        if self.cache_frames is None:
            reader = FrameReader(path, thread_type=self.thread_type)
        else:
            reader = FrameReader(path, cache_size=self.cache_frames, thread_type=self.thread_type)
        self._serial += 1
        entry = [reader, None]
        self._entries[(media_id, str(path), self._serial)] = entry
        self._sizes[str(path)] = reader.size
        while len(self._entries) > self.max_readers:
            _, (old, _) = self._entries.popitem(last=False)
            old.close()
        return entry

    def get(self, media_id: int, index: int) -> FrameReader:
        """A reader for ``index`` of the media: one that has it cached or is just behind it if any."""
        path = self.path_for(media_id)
        mine = [(k, e) for k, e in self._entries.items() if k[0] == media_id and k[1] == str(path)]
        choice = None
        for k, e in mine:
            if e[0].is_cached(index):
                choice = k, e
                break
        if choice is None:
            for k, e in mine:
                if e[1] is not None and e[1] <= index <= e[1] + _FORWARD:
                    choice = k, e
                    break
        if choice is None:
            fresh = [(k, e) for k, e in mine if e[1] is None]
            if fresh:
                choice = fresh[0]
            elif len(mine) < self.per_media:
                entry = self._open(media_id, path)
                choice = next(((k, e) for k, e in self._entries.items() if e is entry))
            else:
                choice = mine[0]  # least recently used of this media's readers
        key, entry = choice
        entry[1] = index
        self._entries.move_to_end(key)
        return entry[0]

    def size(self, media_id: int) -> tuple[int, int]:
        """(width, height) of the pictures the media's readers give."""
        path = self.path_for(media_id)
        hit = self._sizes.get(str(path))
        if hit is None:
            self._open(media_id, path)
            hit = self._sizes[str(path)]
        return hit

    def stats(self) -> dict[int, dict]:
        out: dict[int, dict] = {}
        for (mid, _, _), (reader, _) in self._entries.items():
            d = out.setdefault(mid, {"readers": 0, "seeks": 0, "decoded": 0})
            d["readers"] += 1
            d["seeks"] += reader.seeks
            d["decoded"] += reader.decoded
        return out

    def close(self) -> None:
        """Close every reader and forget the media paths (a relink or new proxy is seen next time)."""
        for reader, _ in self._entries.values():
            reader.close()
        self._entries.clear()
        self._paths.clear()
        self._sizes.clear()
