"""Frame-accurate video decoding with a small frame cache.

:class:`FrameReader` turns a frame index into the RGB picture of exactly that
frame, whatever the codec's GOP structure:

* the index of every decoded frame comes from its presentation timestamp
  (:func:`core.time.pts_to_frame`, counted from the first frame's pts), never
  from counting packets, so B-frame reordering cannot shift it;
* a random access seeks (backward) to the keyframe before the target and
  decodes forward. Demuxers index keyframes by *decode* time, so with
  B-frames a seek can land on a keyframe that is *after* the target; the
  reader notices (first frame after the seek is past the target) and seeks
  again further back, doubling the distance, until it starts at or before it;
* every frame decoded on the way goes into an LRU cache (as the decoded
  YUV frame; it is converted to RGB the first time somebody asks for it);
* a target a little ahead of the decoder's position is reached by decoding
  on, not by seeking, so sequential playback never seeks.

Out-of-range indices clamp to ``[0, frame_count - 1]`` (handy for playback);
``strict=True`` raises :class:`~core.errors.MediaError` instead. The same
applies when the file ends early (truncated file, or a header that promised
more frames than there are): the reader learns the real frame count, lowers
:attr:`FrameReader.frame_count`, and then clamps or raises.

Returned arrays are shared with the cache and read-only: copy before you
modify one. The reader is thread-safe (one lock around the decoder and the
cache); :meth:`FrameReader.read_ahead` decodes into the cache on a background
thread. The display rotation in :attr:`MediaInfo.video.rotation` is *not*
applied: frames come out as stored.
"""

from __future__ import annotations

import logging
import operator
import queue
import threading
from collections import OrderedDict
from fractions import Fraction
from pathlib import Path
from typing import Optional, Union

import av
import numpy as np

from core.errors import MediaError
from core.media._av import PathLike, av_errors, decode_packets, display_name, open_input, reason
from core.media.probe import MediaInfo, probe_container
from core.time import frame_to_pts, pts_to_frame, seconds_to_frames

__all__ = ["FrameReader"]

log = logging.getLogger(__name__)

_MIN_FORWARD = 16  # decode on (instead of seeking) to targets at most this far ahead
_MAX_FORWARD = 300
_SYNC_LIMIT = 300  # after a seek, wait at most this many frames for a keyframe


class FrameReader:
    """Decode frames of a video file by index. See the module docstring.

    ``size=(width, height)`` scales the output (done by FFmpeg while
    converting to RGB). ``thread_type`` is PyAV's decoder threading
    (``"AUTO"``, ``"FRAME"``, ``"SLICE"`` or ``"NONE"``). The cache holds at
    most ``cache_size`` frames and at most ``cache_bytes`` of RGB output
    (64 frames of 4K would be 1.6 GB), but always at least one frame.
    """

    def __init__(
        self,
        path: PathLike,
        cache_size: int = 64,
        thread_type: str = "AUTO",
        size: Optional[tuple[int, int]] = None,
        strict: bool = False,
        cache_bytes: int = 512 << 20,
    ):
        if int(cache_size) < 1:
            raise ValueError("cache_size must be at least 1")
        self.path = Path(path)
        self.name = display_name(self.path)
        self.strict = bool(strict)
        self._out_size = _check_size(size)
        self._cache_size = int(cache_size)
        self._cache: OrderedDict[int, Union[np.ndarray, av.VideoFrame]] = OrderedDict()
        self._lock = threading.RLock()
        self._closed = False
        #: counters for tests and benchmarks
        self.seeks = 0
        self.decoded = 0

        container = open_input(self.path)
        try:
            probed = probe_container(container, self.path, self.path.stat().st_size, thread_type)
            if probed.info.video is None:
                raise MediaError(f"{self.name}: no video stream")
        except BaseException:
            with av_errors(self.path, "cannot close the file"):
                container.close()
            raise
        self._container = container
        self.info: MediaInfo = probed.info
        self._stream = probed.video_stream
        video = probed.info.video
        self._rate: Fraction = video.rate
        self._tb: Fraction = video.time_base
        self._frame_count = video.frame_count
        out_w, out_h = self._out_size or (video.width, video.height)
        self._cache_size = max(1, min(self._cache_size, int(cache_bytes) // (out_w * out_h * 3)))
        first = probed.first_frame
        # AVI stores no presentation times: with B-frames FFmpeg's guessed ones
        # come out of the decoder scrambled, so count frames instead
        reorders = bool(self._stream.codec_context.has_b_frames)
        self._has_pts = first.pts is not None and not (reorders and probed.info.format_name == "avi")
        self._start_pts = int(first.pts) if self._has_pts else 0
        self._synced = True
        self._skipped = 0
        self._frames = probed.frames  # decode iterator, positioned after `first`
        self._next: Optional[int] = 0  # index of the next frame the iterator yields
        self._gop = 0  # largest keyframe distance seen
        self._last_key: Optional[int] = None
        self.decoded += 1
        self._accept(first)

        # read-ahead worker (started on first use)
        self._queue: "queue.Queue[Optional[tuple[int, int, int]]]" = queue.Queue()
        self._worker: Optional[threading.Thread] = None
        self._generation = 0
        self._pending = 0
        self._pending_cv = threading.Condition()

    # ------------------------------------------------------------ properties

    @property
    def frame_count(self) -> int:
        """Frames in the video (lowered if decoding finds fewer than the header said)."""
        return self._frame_count

    @property
    def rate(self) -> Fraction:
        return self._rate

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) of the arrays :meth:`frame` returns."""
        if self._out_size is not None:
            return self._out_size
        return (self.info.video.width, self.info.video.height)

    @property
    def cache_size(self) -> int:
        """Frames the cache holds (``cache_size``, lowered to fit ``cache_bytes``)."""
        return self._cache_size

    @property
    def closed(self) -> bool:
        return self._closed

    def is_cached(self, index: int) -> bool:
        with self._lock:
            return int(index) in self._cache

    # ---------------------------------------------------------------- access

    def frame(self, index: int) -> np.ndarray:
        """RGB uint8 ``(height, width, 3)`` picture of frame ``index`` (read-only)."""
        index = operator.index(index)
        with self._lock:
            self._check_open()
            return self._get(self._resolve(index))

    def frame_at(self, seconds) -> np.ndarray:
        """The frame showing at ``seconds`` (floor: the frame that started last)."""
        return self.frame(seconds_to_frames(seconds, self._rate, "floor"))

    def __getitem__(self, index: int) -> np.ndarray:
        return self.frame(index)

    def __len__(self) -> int:
        return self._frame_count

    # ------------------------------------------------------------ read-ahead

    def read_ahead(self, start: int, count: int) -> None:
        """Decode frames ``start .. start+count-1`` into the cache in the background.

        A new request supersedes the one in progress (playback moved on).
        ``count`` is capped at the cache size.
        """
        start, count = operator.index(start), min(operator.index(count), self._cache_size)
        if count <= 0:
            return
        with self._lock:
            self._check_open()
            if self._worker is None:
                self._worker = threading.Thread(target=self._work, name=f"read-ahead {self.name}", daemon=True)
                self._worker.start()
            self._generation += 1
            generation = self._generation
        with self._pending_cv:
            self._pending += 1
        self._queue.put((generation, start, count))

    def wait_read_ahead(self, timeout: Optional[float] = None) -> bool:
        """Block until the read-ahead queue is empty; False on timeout."""
        with self._pending_cv:
            return self._pending_cv.wait_for(lambda: self._pending == 0, timeout)

    def _work(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            generation, start, count = item
            try:
                for i in range(start, start + count):
                    with self._lock:
                        if self._closed or generation != self._generation:
                            break
                        if not 0 <= i < self._frame_count:
                            break
                        self._get(i)
            except MediaError as exc:
                log.warning("read-ahead stopped: %s", exc)
            except Exception:  # keep the worker alive; the foreground read will raise it again
                log.exception("read-ahead of %s failed", self.name)
            finally:
                with self._pending_cv:
                    self._pending -= 1
                    self._pending_cv.notify_all()

    # ---------------------------------------------------------------- closing

    def close(self) -> None:
        """Stop the read-ahead thread and close the file. Safe to call twice."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            worker = self._worker
        if worker is not None:
            self._queue.put(None)
            worker.join(timeout=5)
        with self._lock:
            self._frames = None
            self._cache.clear()
            with av_errors(self.path, "cannot close the file"):
                self._container.close()

    def __enter__(self) -> "FrameReader":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self._closed else f"{self._frame_count} frames @ {self._rate}"
        return f"<FrameReader {self.name}: {state}>"

    # --------------------------------------------------------------- internals

    def _check_open(self) -> None:
        if self._closed:
            raise MediaError(f"{self.name}: the reader is closed")

    def _resolve(self, index: int) -> int:
        last = self._frame_count - 1
        if 0 <= index <= last:
            return index
        if self.strict:
            raise MediaError(f"{self.name}: frame {index} is out of range (the clip has frames 0-{last})")
        return min(max(index, 0), last)

    def _get(self, index: int) -> np.ndarray:
        hit = self._cache.get(index)
        if hit is None:
            actual, hit = self._decode_to(index)
            if actual != index:  # clamped at the real end, or a gap in the timestamps
                self._store(actual, hit)
            self._store(index, hit)
        else:
            self._cache.move_to_end(index)
        if isinstance(hit, np.ndarray):
            return hit
        rgb = self._to_rgb(hit, index)
        self._cache[index] = rgb
        return rgb

    def _to_rgb(self, frame: av.VideoFrame, index: int) -> np.ndarray:
        with av_errors(self.path, f"cannot convert frame {index} to RGB"):
            if self._out_size is None:
                rgb = frame.to_ndarray(format="rgb24")
            else:
                rgb = frame.to_ndarray(format="rgb24", width=self._out_size[0], height=self._out_size[1])
        rgb.setflags(write=False)
        return rgb

    def _store(self, index: int, frame) -> None:
        cache = self._cache
        if index in cache:
            cache.move_to_end(index)
            return
        cache[index] = frame
        while len(cache) > self._cache_size:
            cache.popitem(last=False)

    def _index_of(self, frame: av.VideoFrame) -> int:
        if frame.pts is None or not self._has_pts:
            if self._next is None:
                raise MediaError(f"{self.name}: a frame without a timestamp after a seek; cannot place it")
            return self._next
        return pts_to_frame(frame.pts, self._tb, self._rate, self._start_pts)

    def _accept(self, frame: av.VideoFrame) -> tuple[int, av.VideoFrame]:
        """Bookkeeping for a freshly decoded, usable frame; returns (index, frame)."""
        index = self._index_of(frame)
        self._next = index + 1
        if frame.key_frame:
            if self._last_key is not None and index > self._last_key:
                self._gop = max(self._gop, index - self._last_key)
            self._last_key = index
        self._store(index, frame)
        return index, frame

    def _decode_next(self, target: int) -> Optional[tuple[int, av.VideoFrame]]:
        """The next usable decoded frame, or None at the end of the stream.

        Right after a seek, frames before the first keyframe are dropped: they
        were predicted from pictures the decoder never saw (a demuxer that
        lands mid-GOP, or an open GOP's leading B-frames) and are garbage.
        """
        while self._frames is not None:
            try:
                frame = next(self._frames)
            except StopIteration:
                self._frames = None
                self._next = None
                return None
            except av.FFmpegError as exc:
                self._frames = None
                self._next = None
                raise MediaError(f"{self.name}: corrupt data while decoding frame {target}: {reason(exc)}") from exc
            self.decoded += 1
            if not self._synced:
                if not frame.key_frame and self._skipped < _SYNC_LIMIT:
                    self._skipped += 1
                    if not self._has_pts and self._next is not None:
                        self._next += 1
                    continue
                self._synced = True
            return self._accept(frame)
        return None

    def _seek(self, index: int) -> None:
        self.seeks += 1
        self._frames = None
        self._next = None
        self._last_key = None
        self._synced = False
        self._skipped = 0
        if not self._has_pts:
            index = 0  # no usable timestamps: the only place we can find is the start
        with av_errors(self.path, f"cannot seek to frame {index}"):
            if index == 0:
                # the container's own time 0 is at or before the first frame in
                # every demuxer; a stream-time seek to the first pts is not
                # (MPEG-TS lands on the next keyframe)
                self._container.seek(0, backward=True, any_frame=False)
            else:
                pts = frame_to_pts(index, self._tb, self._rate, self._start_pts)
                self._container.seek(pts, stream=self._stream, backward=True, any_frame=False)
        self._frames = decode_packets(self._container, self._stream, self.path)
        if not self._has_pts:
            self._next = 0

    def _seek_before(self, target: int) -> tuple[int, av.VideoFrame]:
        """Seek so that the first usable frame is at or before ``target``; return it."""
        back = 0
        while True:
            start = max(0, target - back)
            self._seek(start)
            got = self._decode_next(target)
            if got is not None and (got[0] <= target or start == 0):
                return got
            if got is None and start == 0:
                raise MediaError(f"{self.name}: no frame can be decoded (the file may be corrupt)")
            # the keyframe the demuxer chose is after the target (many demuxers
            # index keyframes by decode time, which B-frames put earlier than
            # presentation time) or beyond the decodable data: go further back
            back = max(2 * back, self._gop, 8)

    def _decode_to(self, target: int) -> tuple[int, Union[np.ndarray, av.VideoFrame]]:
        """Decode until ``target``; returns (index actually found, frame)."""
        if not self._has_pts:  # seeking means starting over: always decode on
            limit = target
        else:
            limit = min(self._gop or _MIN_FORWARD, _MAX_FORWARD)
        ahead = self._next is not None and self._frames is not None and self._next <= target <= self._next + limit
        start_next = self._next if ahead else None
        pending = None if ahead else self._seek_before(target)
        prev: Optional[tuple[int, av.VideoFrame]] = None
        if ahead and start_next > 0 and (start_next - 1) in self._cache:
            prev = (start_next - 1, self._cache[start_next - 1])  # the frame showing before
        while True:
            if pending is not None:
                got, pending = pending, None
            else:
                got = self._decode_next(target)
            if got is None:
                break
            index, frame = got
            if index == target:
                return got
            if index > target:
                # a gap in the timestamps: the frame showing at `target` is the one before
                return prev if prev is not None else got
            prev = got
        # the stream ended before the target: learn the real frame count
        if prev is not None:
            last = prev[0]
        elif start_next:
            last = start_next - 1  # decoding on hit the end at once: the last frame was before
        else:
            raise MediaError(f"{self.name}: no frame can be decoded (the file may be corrupt)")
        self._frame_count = min(self._frame_count, last + 1)
        if self.strict:
            raise MediaError(
                f"{self.name}: frame {target} cannot be decoded: the video ends at frame {last} "
                "(the file may be truncated)"
            )
        cached = self._cache.get(last)
        if cached is not None:
            return last, cached
        if prev is not None:
            return prev
        return self._decode_to(last)


def _check_size(size) -> Optional[tuple[int, int]]:
    if size is None:
        return None
    try:
        w, h = (operator.index(v) for v in size)
    except (TypeError, ValueError):
        raise ValueError(f"size must be (width, height) integers, not {size!r}") from None
    if w <= 0 or h <= 0:
        raise ValueError(f"size must be positive, not {size!r}")
    return (w, h)
