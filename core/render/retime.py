"""Decode a video at a target size and frame rate on a background thread.

:class:`RetimedVideo` yields the source's pictures as RGB uint8 arrays for an
output of ``size`` at ``rate``: output frame ``k`` (time ``k / rate``) shows
the source frame on screen at that time, i.e. source index
``floor(k * src_rate / rate)`` — 60 -> 30 fps keeps every other frame, 25 ->
30 fps shows some frames twice. Each item is one source picture with the
output frames it fills (``index`` .. ``index + repeat - 1``), so a repeated
frame is scaled (and drawn on) once.

Speed: the decoder runs with FFmpeg's frame/slice threads; a source frame no
output frame needs is dropped *before* scaling (H.264 must still decode it:
later frames reference it); kept frames are scaled (in YUV, area averaging)
and converted to RGB by swscale in the decoding thread (:func:`scale_to_rgb`;
swscale releases the GIL),
so the consumer (drawing, encoding) runs in parallel on the other core. The
queue between them is short (a few frames) to bound memory at 4K.

Source indices come from presentation timestamps (counted from the first
decoded frame), never from counting packets, so B-frame reordering cannot
shift them; a gap in the source (a missing frame) is filled with the next
frame. The display rotation is not applied (frames as stored, like
:class:`~core.media.reader.FrameReader`).
"""

from __future__ import annotations

import math
import queue
import threading
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from core.errors import MediaError
from core.media._av import PathLike, av_errors, decode_packets, display_name, open_input
from core.media.probe import MediaInfo, probe
from core.render.profiles import retimed_count

_END = object()


def scale_to_rgb(frame, width: int, height: int, interpolation: str = "AREA") -> np.ndarray:
    """RGB uint8 [height, width, 3] of a decoded frame. A YUV frame is scaled in YUV first
    (swscale's per-plane path, 2-3x faster than scaling and converting in one step at 4K ->
    720p), then converted at the small size; the frame's colorspace carries over."""
    if (frame.width, frame.height) != (width, height):
        name = frame.format.name
        if name.startswith(("yuv", "nv", "gray")):
            frame = frame.reformat(width, height, interpolation=interpolation)
        else:
            return frame.reformat(width, height, "rgb24", interpolation=interpolation).to_ndarray()
    return frame.to_ndarray(format="rgb24")


def fit_size(width: int, height: int, box_w: int, box_h: int) -> tuple[int, int]:
    """Even size of a ``width`` x ``height`` picture scaled to fit in ``box_w`` x ``box_h``."""
    scale = min(box_w / width, box_h / height)
    w = min(box_w, max(2, int(round(width * scale / 2)) * 2))
    h = min(box_h, max(2, int(round(height * scale / 2)) * 2))
    return w, h


@dataclass
class RetimedFrame:
    index: int  # first output frame this picture fills
    repeat: int  # how many output frames it fills (>= 1)
    source: int  # source frame index
    rgb: np.ndarray  # uint8 [h, w, 3], C-contiguous, writable (yours to draw on)


class RetimedVideo:
    """Iterate a video file's pictures at ``size`` (w, h) and ``rate`` (None = source values).

    Use as a context manager (or call :meth:`close`): the decoding thread stops
    when the consumer stops. Errors of the decoding thread are raised from the
    iteration as MediaError.
    """

    def __init__(self, path: PathLike, size: tuple[int, int] | None = None, rate: Fraction | None = None,
                 *, info: MediaInfo | None = None, queue_size: int = 4, interpolation: str = "AREA",
                 letterbox: bool = False, decode_options: dict | None = None):
        self.path = path
        self.info = info if info is not None else probe(path)
        v = self.info.video
        if v is None:
            raise MediaError(f"{display_name(path)}: no video stream")
        self.source_rate = Fraction(v.rate)
        self.size = (int(size[0]), int(size[1])) if size else (v.width, v.height)
        self.rate = Fraction(rate) if rate else self.source_rate
        self.interpolation = interpolation
        self.decode_options = dict(decode_options or {})
        # letterbox: keep the source aspect, scaled to fit inside ``size``, black bars around
        self._scaled = fit_size(v.width, v.height, *self.size) if letterbox else self.size
        self.expected_frames = retimed_count(v.frame_count, self.source_rate, self.rate)
        self._queue: queue.Queue = queue.Queue(maxsize=max(1, queue_size))
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # ----------------------------------------------------------- mapping

    def output_end(self, source_index: int) -> int:
        """One past the last output frame that shows source frame ``source_index``."""
        return math.ceil(Fraction(source_index + 1) * self.rate / self.source_rate)

    # ------------------------------------------------------------ thread

    def _put(self, item) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _run(self) -> None:
        try:
            self._decode()
            self._put(_END)
        except BaseException as exc:  # handed to the consumer, raised there
            self._put(exc)

    def _decode(self) -> None:
        w, h = self._scaled
        cw, ch = self.size
        container = open_input(self.path)
        try:
            with av_errors(self.path, "cannot decode the video"):
                stream = container.streams.video[0]
                stream.thread_type = "AUTO"
                if self.decode_options:
                    stream.codec_context.options = dict(self.decode_options)
                tb = Fraction(stream.time_base) if stream.time_base else None
                first_pts = None
                last = -1
                next_k = 0
                for frame in decode_packets(container, stream, self.path):
                    if self._stop.is_set():
                        return
                    if frame.pts is None or tb is None:
                        i = last + 1
                    else:
                        if first_pts is None:
                            first_pts = frame.pts
                        i = int(round((frame.pts - first_pts) * tb * self.source_rate))
                    if i <= last:
                        continue  # duplicate timestamp
                    last = i
                    end = self.output_end(i)
                    if end <= next_k:
                        continue  # no output frame shows this one: not scaled
                    rgb = scale_to_rgb(frame, w, h, self.interpolation)
                    if (w, h) != (cw, ch):
                        canvas = np.zeros((ch, cw, 3), np.uint8)
                        x0, y0 = (cw - w) // 2, (ch - h) // 2
                        canvas[y0:y0 + h, x0:x0 + w] = rgb
                        rgb = canvas
                    elif not rgb.flags.c_contiguous or not rgb.flags.writeable:
                        rgb = np.array(rgb, order="C")
                    if not self._put(RetimedFrame(next_k, end - next_k, i, rgb)):
                        return
                    next_k = end
        finally:
            container.close()

    # ----------------------------------------------------------- consume

    def __iter__(self):
        if self._thread is not None:
            raise RuntimeError("RetimedVideo can be iterated once")
        self._thread = threading.Thread(target=self._run, name="luma-decode", daemon=True)
        self._thread.start()
        while True:
            item = self._queue.get()
            if item is _END:
                return
            if isinstance(item, BaseException):
                raise item
            yield item

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            while self._thread.is_alive():
                try:  # unblock a producer waiting on a full queue
                    self._queue.get_nowait()
                except queue.Empty:
                    pass
                self._thread.join(timeout=0.05)

    def __enter__(self) -> "RetimedVideo":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
