"""The segment worker of a sequence render: composite output frames and encode them, GOP by GOP.

:func:`render_segment` is a top-level picklable function run in a worker process
(core.render.executor) or in the calling process; see
:mod:`core.render.sequence_render` for the pipeline. It composites every output
frame with a :class:`~core.render.compositor.Compositor` **at the output size**
(positions, blur radii and grain sizes scale with it; a picture is resampled
once, straight to its place in the output) and encodes it with
:class:`SegmentWriter`: video only, **one fresh encoder per GOP** (forced
keyframe, closed GOP, a fixed thread count), so a GOP's bytes depend on its
frames alone. Encoding runs on a second thread while the next frames are
composited (PyAV and OpenCV release the GIL); the frames are encoded in order,
so the bytes are the same. ``threads``: OpenCV's thread count in this process
(a pool of N workers on C cores gives each C // N), and decoders on one thread
each when it is 1.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
import time
import uuid
from fractions import Fraction
from pathlib import Path
from typing import Callable

import av
import cv2
import numpy as np

from core.errors import JobCancelled, LumaError, MediaError
from core.jobs import CancelledFn
from core.media._av import av_errors
from core.render import render_cache as rc
from core.render.profiles import RenderProfile, get_profile
from core.render.render_plan import sequence_frame

__all__ = ["scale_frame", "open_compositor", "SegmentWriter", "render_segment"]

log = logging.getLogger(__name__)

_READER_CACHE = 8  # decoded pictures per reader in a render
_READ_AHEAD = 2  # source frames each reader decodes ahead in its own thread (speeds up to 2 read on)


def scale_frame(rgb: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """A picture scaled to ``size`` (w, h): area averaging when shrinking, bicubic when
    enlarging; the same array when the size already matches. (Renders composite at the output
    size, so this is the identity there; benchmarks scale their reference with it.)"""
    w, h = size
    if rgb.shape[1] == w and rgb.shape[0] == h:
        return rgb
    shrink = w <= rgb.shape[1] and h <= rgb.shape[0]
    return cv2.resize(rgb, (w, h), interpolation=cv2.INTER_AREA if shrink else cv2.INTER_CUBIC)


def open_compositor(project_path, sequence_id: int, profile: str | dict | RenderProfile | None = None,
                    decoder_threads: str = "AUTO"):
    """The compositor a worker renders with: at the ``profile``'s output size for the sequence
    (:meth:`RenderProfile.sequence_size`; the sequence size without a profile), its readers
    keeping a few decoded pictures (a render reads forward)."""
    from core.render.compositor import Compositor

    comp = Compositor.open(project_path, sequence_id, decoder_threads=decoder_threads, cache_frames=_READER_CACHE,
                           read_ahead=_READ_AHEAD)
    if profile is not None:
        seq = comp.timeline.sequence
        comp.set_output_size(get_profile(profile).sequence_size(seq.width, seq.height))
    return comp


def _configure(cc, prof: RenderProfile, size: tuple[int, int], rate: Fraction, gop: int) -> None:
    cc.width, cc.height = size
    cc.pix_fmt = prof.pix_fmt
    cc.time_base = 1 / rate
    cc.framerate = rate
    cc.gop_size = max(1, gop)
    if prof.bit_rate:
        cc.bit_rate = int(prof.bit_rate)
    cc.thread_count = max(1, int(prof.threads))


class SegmentWriter:
    """Encodes one segment: video only, one fresh encoder per GOP (see the module doc)."""

    def __init__(self, path: Path, prof: RenderProfile, size: tuple[int, int], rate: Fraction, gop: int):
        self.path, self.prof, self.size, self.rate, self.gop = path, prof, size, Fraction(rate), gop
        self.part = path.with_name(f"{path.stem}.part-{uuid.uuid4().hex[:8]}{path.suffix}")
        self.frames = 0
        self._enc = None
        self._extradata: bytes | None = None
        self._picture: av.VideoFrame | None = None  # reused RGB frame (the encoder gets a converted copy)
        self._picture_rgb: np.ndarray | None = None  # its pixels as an array
        with av_errors(path, "cannot write the segment"):
            self.out = av.open(str(self.part), mode="w")
        try:
            with av_errors(path, f"cannot encode with {prof.video_codec}"):
                self.stream = self.out.add_stream(prof.video_codec, rate=self.rate, options=dict(prof.options))
                _configure(self.stream.codec_context, prof, size, self.rate, gop)
        except BaseException:
            self.abort()
            raise

    def _new_encoder(self):
        cc = av.CodecContext.create(self.prof.video_codec, "w")
        _configure(cc, self.prof, self.size, self.rate, self.gop)
        cc.flags = self.stream.codec_context.flags  # global header as the container wants it
        cc.options = dict(self.prof.options)
        return cc

    def _mux(self, packets) -> None:
        for p in packets:
            p.stream = self.stream
            p.time_base = 1 / self.rate
            self.out.mux(p)

    def _flush(self) -> None:
        if self._enc is not None:
            self._mux(self._enc.encode(None))
            extradata = bytes(self._enc.extradata or b"")
            if self._extradata is None:
                self._extradata = extradata
            elif extradata != self._extradata:
                raise MediaError(f"{self.path.name}: the encoder set-up changed between GOPs")
            self._enc = None

    def write(self, rgb: np.ndarray) -> None:
        with av_errors(self.path, f"cannot encode frame {self.frames}"):
            new_gop = self.frames % self.gop == 0 if not self.prof.intra_only else self._enc is None
            if new_gop:
                self._flush()
                self._enc = self._new_encoder()
            frame = self._frame(rgb)
            frame.pts = self.frames
            frame.time_base = 1 / self.rate
            first = self.frames % self.gop == 0
            frame.pict_type = av.video.frame.PictureType.I if first else av.video.frame.PictureType.NONE
            self._mux(self._enc.encode(frame))
            self.frames += 1

    def _frame(self, rgb: np.ndarray) -> av.VideoFrame:
        """``rgb`` as a VideoFrame. Unless the codec takes RGB itself (and might keep the frame),
        the encoder converts it to a new frame, so one frame is reused: a copy, no allocation."""
        w, h = self.size
        if rgb.shape != (h, w, 3) or rgb.dtype != np.uint8:
            raise LumaError(f"{self.path.name}: a {w}x{h} RGB picture was expected, not {rgb.shape} {rgb.dtype}")
        if self.prof.pix_fmt == "rgb24":
            return av.VideoFrame.from_ndarray(rgb, format="rgb24")
        if self._picture is None:
            self._picture = av.VideoFrame(w, h, "rgb24")
            plane = self._picture.planes[0]
            rows = np.frombuffer(plane, np.uint8).reshape(h, plane.line_size)
            self._picture_rgb = rows[:, :w * 3].reshape(h, w, 3)
        np.copyto(self._picture_rgb, rgb)
        return self._picture

    def close(self) -> Path:
        try:
            with av_errors(self.path, "cannot finish the segment"):
                self._flush()
                if self._extradata is not None and bytes(self.stream.codec_context.extradata or b"") != \
                        self._extradata:
                    raise MediaError(f"{self.path.name}: the stream set-up differs from its encoders'")
                self.out.close()
            os.replace(self.part, self.path)
        except BaseException:
            self.abort()
            raise
        return self.path

    def abort(self) -> None:
        try:
            self.out.close()
        except (av.FFmpegError, ValueError, OSError) as exc:
            log.debug("%s: closing an aborted segment: %s", self.path.name, exc)
        self.part.unlink(missing_ok=True)


class _EncodeThread:
    """Hands frames to a :class:`SegmentWriter` in order on a thread of its own, so the next
    frame composites while one encodes (PyAV releases the GIL converting and encoding)."""

    def __init__(self, writer: SegmentWriter, depth: int = 2):
        self.writer = writer
        self._queue: queue.Queue = queue.Queue(maxsize=depth)
        self._error: BaseException | None = None
        self._stopped = False
        self._thread = threading.Thread(target=self._run, name="render-encode", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            rgb = self._queue.get()
            if rgb is None:
                return
            if self._error is None and not self._stopped:
                try:
                    self.writer.write(rgb)
                except BaseException as exc:  # re-raised in the rendering thread
                    self._error = exc

    def _check(self) -> None:
        if self._error is not None:
            raise self._error

    def put(self, rgb: np.ndarray) -> None:
        self._check()
        self._queue.put(rgb)

    def finish(self) -> None:
        """Wait until every frame is encoded (the encoder's error raised here)."""
        self._queue.put(None)
        self._thread.join()
        self._check()

    def stop(self) -> None:
        """Drop the frames not encoded yet and wait for the thread."""
        self._stopped = True
        if self._thread.is_alive():
            self._queue.put(None)
            self._thread.join()


def render_segment(project_path, sequence_id: int, profile: str | dict | RenderProfile, start: int, end: int,
                   out_path, *, cancel_path=None, expect_key: str | None = None, engine: str | None = None,
                   versions: str | None = None, progress: Callable[[int], None] | None = None,
                   cancelled: CancelledFn | None = None, threads: int | None = None) -> dict:
    """Render output frames [start, end) of a sequence to ``out_path`` (video only); a top-level
    function for worker processes: it opens the project and a compositor itself.

    ``start``/``end`` count output frames (= sequence frames when the profile keeps the sequence
    rate; see the module doc), and must start a GOP of the render (the plan's segment bounds).
    ``cancel_path``: stop (JobCancelled, partial file removed) once that file exists.
    ``expect_key``/``engine``: the segment's cache key from the plan and the engine fingerprint
    (core.render.render_cache) it was computed with; LumaError if the project changed since, or
    if this worker's rendering code differs (its pictures could differ from the other
    segments'). ``versions``: the caller's ``runtime_versions()``, for a clearer message when a
    remote worker runs another release. ``progress(frames_done)`` / ``cancelled()``: for
    in-process use. ``threads``: OpenCV threads for this process (None: leave as it is; 1:
    decoders on one thread too) - for pool workers sharing the CPU. Returns stats.

    The frames are the compositor's at the output size (:func:`open_compositor`)."""
    t0, c0 = time.perf_counter(), time.process_time()
    if versions is not None and versions != rc.runtime_versions():
        raise LumaError(f"render worker on {_host()} runs {rc.runtime_versions()}, but the render was "
                        f"planned with {versions}: install the same Luma Studio on every worker")
    if engine is not None and engine != rc.engine_fingerprint():
        raise LumaError(f"render worker on {_host()} runs other rendering code than the render was planned "
                        "with (Luma Studio was updated or changed meanwhile); render again")
    prof = get_profile(profile)
    out_path = Path(out_path)
    if threads is not None:
        cv2.setNumThreads(max(1, int(threads)))
    comp = open_compositor(project_path, sequence_id, prof, decoder_threads="NONE" if threads == 1 else "AUTO")
    try:
        tl = comp.timeline
        seq = tl.sequence
        out_rate = prof.output_rate(seq.rate)
        size = prof.sequence_size(seq.width, seq.height)
        gop = prof.gop_frames(out_rate)
        if expect_key:
            s0 = sequence_frame(start, seq.rate, out_rate)
            s1 = sequence_frame(end - 1, seq.rate, out_rate) + 1
            clips, _ = rc.range_items(tl, s0, s1)
            state = rc.segment_state(tl, s0, s1, rc.media_stamps(tl, {c.media_id for c in clips}), engine)
            if rc.segment_key(state, prof.to_dict(), start, end, out_rate) != expect_key:
                raise LumaError(f"{seq.name} changed while it was being rendered (frames {s0}-{s1 - 1}); "
                                "render again")
        if comp.output_size != size:
            raise LumaError(f"the compositor draws {comp.output_size}, the render is {size}")
        writer = SegmentWriter(out_path, prof, size, out_rate, gop)
        encoder = None
        try:
            encoder = _EncodeThread(writer)
            last_index, last_rgb = None, None
            for k in range(start, end):
                if (cancel_path is not None and os.path.exists(cancel_path)) or (cancelled and cancelled()):
                    raise JobCancelled("render cancelled")
                f = sequence_frame(k, seq.rate, out_rate)
                if f != last_index:
                    last_rgb = comp.frame(f)
                    last_index = f
                    if comp.errors:  # the compositor leaves a picture it cannot decode out: not in a render
                        raise MediaError(next(iter(comp.errors.values())))
                encoder.put(last_rgb)
                if progress is not None:
                    progress(k - start + 1)
            encoder.finish()
            writer.close()
        except BaseException:
            if encoder is not None:
                encoder.stop()
            writer.abort()
            raise
    finally:
        comp.close()
    return {"path": str(out_path), "start": start, "end": end, "frames": end - start,
            "bytes": out_path.stat().st_size, "seconds": time.perf_counter() - t0,
            "cpu_seconds": time.process_time() - c0, "pid": os.getpid(), "host": _host()}


def _host() -> str:
    import socket

    return socket.gethostname()
