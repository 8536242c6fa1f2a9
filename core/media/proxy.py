"""Proxy media: small, seek-friendly H.264 copies for smooth editing.

A proxy has the source's frame rate and frame numbering (each output frame
gets the index its source frame has, so proxy frame N is source frame N),
is scaled to a fixed height with the aspect kept (even width), has no
B-frames and a short GOP (every frame a keyframe with ``intra_only``), and
the audio re-encoded to AAC. ``tune=fastdecode`` keeps decoding cheap.

The job writes to a hidden temporary file beside the target and renames it
into place when complete, so a crash or a cancel never leaves a half proxy
under the real name. It does not touch the project database: :meth:`run`
returns a dict that the project layer records as lineage.
"""

from __future__ import annotations

import logging
import os
import uuid
from fractions import Fraction
from pathlib import Path
from typing import Any

import av

from core.errors import JobCancelled, MediaError
from core.jobs import CancelledFn, ProgressFn
from core.media._av import PathLike, av_errors, display_name, open_input, reason
from core.media.probe import probe
from core.time import pts_to_frame

__all__ = ["PROXY_VERSION", "ProxyJob", "proxy_params", "proxy_size"]

log = logging.getLogger(__name__)

PROXY_VERSION = 1
_GOP = 12
_MUXERS = {".mp4": "mp4", ".m4v": "mp4", ".mov": "mov", ".mkv": "matroska"}


def proxy_params(height: int = 720, intra_only: bool = False) -> dict[str, Any]:
    """Every setting a proxy is made with (recorded as lineage; equal params = same proxy)."""
    height = int(height)
    if height < 2:
        raise ValueError(f"proxy height must be at least 2, not {height}")
    return {
        "version": PROXY_VERSION,
        "codec": "h264",
        "encoder": "libx264",
        "height": height,
        "intra_only": bool(intra_only),
        "gop": 1 if intra_only else _GOP,
        "bframes": 0,
        "crf": 23 if not intra_only else 20,
        "preset": "veryfast",
        "tune": "fastdecode",
        "pix_fmt": "yuv420p",
        "audio_codec": "aac",
        "audio_bit_rate": 128000,
    }


def proxy_size(width: int, height: int, target_height: int) -> tuple[int, int]:
    """(w, h) of a proxy: ``target_height`` (never above the source), even, aspect kept."""
    h = min(int(target_height), int(height))
    h -= h % 2
    h = max(h, 2)
    w = max(2, int(round(width * h / height / 2)) * 2)
    return w, h


class ProxyJob:
    """Job that writes a proxy of ``source_path`` to ``out_path`` (see module docstring)."""

    def __init__(self, source_path: PathLike, out_path: PathLike, height: int = 720, intra_only: bool = False):
        self.source_path = Path(source_path)
        self.out_path = Path(out_path)
        self.params = proxy_params(height, intra_only)
        self.height = self.params["height"]
        self.intra_only = bool(intra_only)
        kind = "intra " if intra_only else ""
        self.title = f"Proxy {self.height}p {kind}of {display_name(self.source_path)}"

    def run(self, progress: ProgressFn, cancelled: CancelledFn) -> dict[str, Any]:
        if cancelled():
            raise JobCancelled(f"{self.title}: cancelled")
        info = probe(self.source_path)
        if info.video is None:
            raise MediaError(f"{info.name}: no video stream to make a proxy of")
        width, height = proxy_size(info.video.width, info.video.height, self.height)
        self.out_path.parent.mkdir(parents=True, exist_ok=True)
        suffix = self.out_path.suffix.lower()
        tmp = self.out_path.with_name(f".{self.out_path.stem}.{uuid.uuid4().hex[:8]}.partial{suffix}")
        progress(0.0, "starting")
        try:
            frames = self._encode(info, tmp, width, height, progress, cancelled)
            os.replace(tmp, self.out_path)
        except BaseException:
            try:
                tmp.unlink(missing_ok=True)
            except OSError as exc:
                log.warning("cannot delete the partial proxy %s: %s", tmp, exc)
            raise
        progress(1.0, "done")
        return {
            "path": str(self.out_path),
            "width": width,
            "height": height,
            "kind": "proxy",
            "frame_count": frames,
            "source": str(self.source_path),
            "params": dict(self.params),
        }

    def _encode(self, info, tmp: Path, width: int, height: int, progress: ProgressFn, cancelled: CancelledFn) -> int:
        src_name = display_name(self.source_path)
        rate: Fraction = info.video.rate
        total = max(1, info.video.frame_count)
        p = self.params
        src = open_input(self.source_path)
        dst = None
        try:
            with av_errors(self.out_path, "cannot write the proxy"):
                dst = av.open(str(tmp), mode="w", format=_MUXERS.get(tmp.suffix, "mp4"))
                vin = next(s for s in src.streams.video if (s.codec_context.width or 0) > 0)
                vin.thread_type = "AUTO"
                ain = next((s for s in src.streams.audio if (s.codec_context.sample_rate or 0) > 0), None)

                vout = dst.add_stream(p["encoder"], rate=rate)
                vout.width, vout.height, vout.pix_fmt = width, height, p["pix_fmt"]
                vcc = vout.codec_context
                vcc.time_base = 1 / rate
                vcc.gop_size = p["gop"]
                vcc.max_b_frames = p["bframes"]
                x264 = "scenecut=0:open-gop=0" + (":keyint=1:min-keyint=1" if self.intra_only else "")
                vcc.options = {"preset": p["preset"], "tune": p["tune"], "crf": str(p["crf"]), "x264-params": x264}

                aout = resampler = None
                if ain is not None:
                    sr = int(ain.codec_context.sample_rate)
                    layout = "mono" if ain.codec_context.channels == 1 else "stereo"
                    aout = dst.add_stream(p["audio_codec"], rate=sr)
                    aout.layout = layout
                    aout.codec_context.bit_rate = p["audio_bit_rate"]
                    resampler = av.AudioResampler(format="fltp", layout=layout, rate=sr)
            streams = [vin] + ([ain] if ain is not None else [])
            start_pts = None
            last_index = -1
            done = 0
            samples = 0

            def mux_audio(frames_in):
                nonlocal samples
                for af in frames_in:
                    af.pts = samples
                    af.time_base = Fraction(1, af.sample_rate)
                    samples += af.samples
                    dst.mux(aout.encode(af))

            packets = src.demux(*streams)
            while True:
                if cancelled():
                    raise JobCancelled(f"{self.title}: cancelled")
                try:
                    packet = next(packets)
                except StopIteration:
                    break
                except av.FFmpegError as exc:
                    raise MediaError(f"{src_name}: cannot read near frame {last_index + 1}: {reason(exc)}") from exc
                if packet.is_corrupt and packet.size:  # flagged by the demuxer: e.g. cut off by truncation
                    log.warning("%s: skipped a damaged packet near frame %d", src_name, last_index + 1)
                    continue
                try:
                    decoded = packet.decode()
                except av.FFmpegError as exc:
                    raise MediaError(f"{src_name}: corrupt data near frame {last_index + 1}: {reason(exc)}") from exc
                with av_errors(self.out_path, f"cannot encode the proxy at frame {last_index + 1}"):
                    for frame in decoded:
                        if packet.stream.type == "audio":
                            mux_audio(resampler.resample(frame))
                            continue
                        if frame.pts is None:
                            index = last_index + 1
                        else:
                            if start_pts is None:
                                start_pts = frame.pts
                            index = pts_to_frame(frame.pts, vin.time_base, rate, start_pts)
                        index = max(index, last_index + 1)  # keep timestamps strictly increasing
                        last_index = index
                        out = frame.reformat(width=width, height=height, format=p["pix_fmt"])
                        out.pts = index
                        out.pict_type = av.video.frame.PictureType.NONE  # let the GOP decide keyframes
                        out.time_base = 1 / rate
                        dst.mux(vout.encode(out))
                        done += 1
                        progress(min(done / total, 0.999), f"frame {done} of {total}")
                        if cancelled():
                            raise JobCancelled(f"{self.title}: cancelled")
            with av_errors(self.out_path, "cannot finish the proxy"):
                dst.mux(vout.encode(None))
                if aout is not None:
                    mux_audio(resampler.resample(None))
                    dst.mux(aout.encode(None))
                dst.close()
                dst = None
            if done == 0:
                raise MediaError(f"{src_name}: no video frame could be decoded")
            return done
        finally:
            for container in (dst, src):
                if container is not None:
                    try:
                        container.close()
                    except av.FFmpegError as exc:  # secondary to the error being raised
                        log.warning("closing %s after an error: %s", container.name, exc)
