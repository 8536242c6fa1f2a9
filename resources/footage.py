"""Synthetic test footage: clips whose every frame says which frame it is.

Used by the demo-project generator, the tests and the benchmarks. Each frame
carries

* a **barcode**: a strip of black/white blocks across the top of the frame
  that encodes the frame index in 16 bits, framed by fixed marker blocks, big
  enough to survive H.264/MPEG-4/MJPEG compression and rescaling, and read
  back by :func:`read_barcode`;
* the frame number burned in as text (for people looking at it);
* moving coloured shapes (so that the encoder has real motion to code).

The audio track is a click (a short 1 kHz beep) on every beat at
``click_bpm``, so beat detection and waveform code have known answers.

Layout of the barcode, in fractions of the frame so that it scales with the
picture: the top ``barcode_strip_height(h)`` rows are split into 20 equal
columns: ``white, black, b15 ... b0, black, white`` (most significant bit
first, white = 1).
"""

from __future__ import annotations

import math
from fractions import Fraction
from functools import lru_cache
from pathlib import Path
from typing import Union

import av
import cv2
import numpy as np

__all__ = [
    "BARCODE_BITS",
    "CODECS",
    "barcode_strip_height",
    "beat_times",
    "click_track",
    "draw_barcode",
    "read_barcode",
    "render_frame",
    "write_test_audio",
    "write_test_clip",
    "write_test_image",
]

BARCODE_BITS = 16
_COLUMNS = BARCODE_BITS + 4  # two marker blocks on each side
_LEFT_MARKS = (1, 0)
_RIGHT_MARKS = (0, 1)

#: codec name -> (PyAV encoder name, pixel format)
CODECS: dict[str, tuple[str, str]] = {
    "h264": ("libx264", "yuv420p"),
    "mpeg4": ("mpeg4", "yuv420p"),
    "mjpeg": ("mjpeg", "yuvj420p"),
}

_CLICK_HZ = 1000.0
_CLICK_SECONDS = 0.03
_CLICK_AMPLITUDE = 0.8

PathLike = Union[str, Path]


# ---------------------------------------------------------------- barcode


def barcode_strip_height(height: int) -> int:
    """Rows at the top of a ``height``-row frame that hold the barcode."""
    return max(8, int(round(height / 15)))


def _column_edges(width: int) -> np.ndarray:
    return np.round(np.arange(_COLUMNS + 1) * (width / _COLUMNS)).astype(np.int64)


def _bit_pattern(index: int) -> np.ndarray:
    if not 0 <= index < 2**BARCODE_BITS:
        raise ValueError(f"frame index {index} does not fit in a {BARCODE_BITS}-bit barcode")
    bits = (index >> np.arange(BARCODE_BITS - 1, -1, -1)) & 1
    return np.concatenate([_LEFT_MARKS, bits, _RIGHT_MARKS]).astype(np.uint8)


def draw_barcode(rgb: np.ndarray, index: int) -> None:
    """Draw the barcode of ``index`` into the top strip of ``rgb`` (in place)."""
    h, w = rgb.shape[:2]
    if w < _COLUMNS * 8:
        raise ValueError(f"a barcode needs a frame at least {_COLUMNS * 8} px wide, not {w}")
    edges = _column_edges(w)
    column_of_x = np.searchsorted(edges, np.arange(w), side="right") - 1
    row = _bit_pattern(index)[column_of_x] * np.uint8(255)
    rgb[: barcode_strip_height(h)] = row[None, :, None]


def read_barcode(rgb: np.ndarray) -> int:
    """Decode the frame index from a decoded frame (RGB, grey or RGBA; any size).

    Samples the centre of every block, thresholds half-way between the white
    and black marker blocks. Raises ``ValueError`` if the markers are not
    there (the frame has no barcode, or is too damaged to read).
    """
    img = np.asarray(rgb)
    if img.ndim not in (2, 3) or img.shape[0] < 8 or img.shape[1] < _COLUMNS:
        raise ValueError(f"not an image with a barcode: shape {img.shape}")
    h, w = img.shape[:2]
    strip_h = barcode_strip_height(h)
    y0 = int(strip_h * 0.2)
    y1 = max(int(strip_h * 0.6), y0 + 1)
    strip = img[y0:y1].astype(np.float64)
    if strip.ndim == 3:
        strip = strip[..., :3].mean(axis=2)
    profile = strip.mean(axis=0)
    edges = _column_edges(w)
    widths = np.diff(edges)
    a = edges[:-1] + widths // 4
    b = np.maximum(edges[1:] - widths // 4, a + 1)
    cumulative = np.concatenate([[0.0], np.cumsum(profile)])
    means = (cumulative[b] - cumulative[a]) / (b - a)
    white = means[[0, -1]]
    black = means[[1, -2]]
    threshold = (white.mean() + black.mean()) / 2
    if white.min() - black.max() < 64:
        raise ValueError("no barcode found in the frame (marker blocks missing)")
    bits = (means[2:-2] > threshold).astype(np.int64)
    return int(bits @ (1 << np.arange(BARCODE_BITS - 1, -1, -1)))


# ----------------------------------------------------------------- frames


@lru_cache(maxsize=8)
def _background(width: int, height: int) -> np.ndarray:
    y = np.linspace(0.0, 1.0, height, dtype=np.float32)[:, None]
    x = np.linspace(0.0, 1.0, width, dtype=np.float32)[None, :]
    r = 40 + 50 * x + 0 * y
    g = 45 + 40 * y + 0 * x
    b = 70 + 40 * (1 - x) * (1 - y)
    bg = np.stack([r, g, b], axis=2).astype(np.uint8)
    bg.setflags(write=False)
    return bg


def render_frame(
    index: int,
    size: tuple[int, int] = (320, 240),
    *,
    barcode: bool = True,
    shapes: bool = True,
    burn_in: bool = True,
) -> np.ndarray:
    """The RGB uint8 picture of frame ``index`` (depends only on index and size)."""
    w, h = int(size[0]), int(size[1])
    img = _background(w, h).copy()
    top = barcode_strip_height(h) if barcode else 0
    if shapes:
        area_h = h - top
        # a red disc sliding left-right, a green square bobbing up-down,
        # a yellow triangle spinning; periodic in the index.
        phase = 2 * math.pi * index / 96
        r = max(4, min(w, area_h) // 8)
        cx = int(r + (w - 2 * r) * (0.5 - 0.5 * math.cos(phase)))
        cv2.circle(img, (cx, top + area_h // 3), r, (230, 40, 40), -1, cv2.LINE_AA)
        s = r
        sy = int(top + s + (area_h - 3 * s) * (0.5 - 0.5 * math.sin(phase * 1.5)))
        cv2.rectangle(img, (w // 2 - s, sy), (w // 2 + s, sy + 2 * s), (40, 200, 60), -1)
        ang = math.radians(7.5 * index)
        tcx, tcy = int(w * 0.78), int(top + area_h * 0.6)
        pts = np.array(
            [[tcx + r * 1.3 * math.cos(ang + k * 2 * math.pi / 3), tcy + r * 1.3 * math.sin(ang + k * 2 * math.pi / 3)]
             for k in range(3)],
            dtype=np.int32,
        )
        cv2.fillPoly(img, [pts], (240, 220, 50), cv2.LINE_AA)
    if burn_in:
        scale = max(0.4, h / 240)
        thick = max(1, int(round(2 * scale)))
        org = (int(8 * scale), h - int(10 * scale))
        text = f"{index:04d}"
        cv2.putText(img, text, org, cv2.FONT_HERSHEY_SIMPLEX, scale, (0, 0, 0), thick + 2, cv2.LINE_AA)
        cv2.putText(img, text, org, cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255), thick, cv2.LINE_AA)
    if barcode:
        draw_barcode(img, index)
    return img


# ------------------------------------------------------------------ audio


def beat_times(duration: Union[Fraction, float], click_bpm: float = 120) -> list[Fraction]:
    """Exact times (seconds) of the clicks in a track of ``duration`` seconds."""
    period = Fraction(60) / Fraction(click_bpm).limit_denominator(1000)
    n = math.ceil(Fraction(duration) / period)
    return [k * period for k in range(n) if k * period < Fraction(duration)]


def click_track(
    duration: Union[Fraction, float],
    sample_rate: int = 48000,
    click_bpm: float = 120,
    channels: int = 2,
) -> np.ndarray:
    """float32 ``[channels, n]`` samples: a 1 kHz beep on every beat, silence between."""
    n = int(round(Fraction(duration) * sample_rate))
    out = np.zeros((channels, n), dtype=np.float32)
    length = int(round(_CLICK_SECONDS * sample_rate))
    t = np.arange(length, dtype=np.float64) / sample_rate
    ramp = max(1, int(0.002 * sample_rate))  # 2 ms fades keep the codec quiet
    env = np.ones(length)
    env[:ramp] = np.linspace(0, 1, ramp)
    env[-ramp:] = np.linspace(1, 0, ramp)
    beep = (_CLICK_AMPLITUDE * env * np.sin(2 * np.pi * _CLICK_HZ * t)).astype(np.float32)
    for bt in beat_times(duration, click_bpm):
        s = int(round(bt * sample_rate))
        e = min(n, s + length)
        out[:, s:e] = beep[: e - s]
    return out


def _audio_frame(samples: np.ndarray, codec: str, sample_rate: int, pts: int) -> av.AudioFrame:
    layout = "mono" if samples.shape[0] == 1 else "stereo"
    if codec == "pcm_s16le":
        packed = np.round(np.clip(samples.T, -1, 1) * 32767).astype(np.int16).reshape(1, -1)
        frame = av.AudioFrame.from_ndarray(packed, format="s16", layout=layout)
    else:
        frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(samples), format="fltp", layout=layout)
    frame.sample_rate = sample_rate
    frame.pts = pts
    frame.time_base = Fraction(1, sample_rate)
    return frame


def _audio_codec_for(path: Path) -> str:
    return "pcm_s16le" if path.suffix.lower() in (".avi", ".wav") else "aac"


# ----------------------------------------------------------------- writers


def write_test_clip(
    path: PathLike,
    frames: int = 48,
    size: tuple[int, int] = (320, 240),
    rate: Union[Fraction, int, str] = Fraction(25),
    codec: str = "h264",
    gop: int = 12,
    audio: bool = True,
    barcode: bool = True,
    shapes: bool = True,
    burn_in: bool = True,
    sample_rate: int = 48000,
    click_bpm: float = 120,
    *,
    bframes: int | None = None,
    rotation: int = 0,
    faststart: bool = False,
    audio_channels: int = 2,
) -> Path:
    """Write a synthetic clip and return its path.

    ``codec`` is ``"h264"`` (libx264 defaults, so B-frames and CRF 23),
    ``"mpeg4"`` or ``"mjpeg"``; the container follows the file suffix (.mp4,
    .mov, .mkv, .avi). ``gop`` is the keyframe interval, ``bframes`` overrides
    the encoder's B-frame count (None = codec default). Audio is AAC, or
    16-bit PCM in .avi. ``rotation`` writes a display matrix (degrees
    counter-clockwise); ``faststart`` puts the MP4 index at the front.
    """
    path = Path(path)
    if codec not in CODECS:
        raise ValueError(f"codec must be one of {sorted(CODECS)}, not {codec!r}")
    w, h = int(size[0]), int(size[1])
    if w % 2 or h % 2 or w <= 0 or h <= 0:
        raise ValueError(f"frame size must be positive and even, not {w}x{h}")
    if frames < 1:
        raise ValueError("a clip needs at least one frame")
    rate = Fraction(rate)
    encoder, pix_fmt = CODECS[codec]
    options = {"movflags": "+faststart"} if faststart and path.suffix.lower() in (".mp4", ".mov") else {}
    path.parent.mkdir(parents=True, exist_ok=True)

    with av.open(str(path), mode="w", options=options) as container:
        vs = container.add_stream(encoder, rate=rate)
        vs.width, vs.height, vs.pix_fmt = w, h, pix_fmt
        cc = vs.codec_context
        cc.time_base = 1 / rate
        cc.gop_size = int(gop)
        if bframes is not None:
            cc.max_b_frames = int(bframes)
        if codec == "mpeg4":
            cc.bit_rate = int(max(400_000, w * h * float(rate) * 0.3))
        elif codec == "mjpeg":
            cc.bit_rate = int(max(2_000_000, w * h * float(rate) * 1.0))
        if rotation:
            vs.set_display_rotation(int(rotation))

        astream = None
        samples = None
        acodec = _audio_codec_for(path)
        if audio:
            astream = container.add_stream(acodec, rate=sample_rate)
            astream.layout = "mono" if audio_channels == 1 else "stereo"
            samples = click_track(Fraction(frames) / rate, sample_rate, click_bpm, audio_channels)
        chunk = 1024
        audio_pos = 0

        for i in range(frames):
            frame = av.VideoFrame.from_ndarray(
                render_frame(i, (w, h), barcode=barcode, shapes=shapes, burn_in=burn_in), format="rgb24"
            )
            frame.pts = i
            frame.time_base = 1 / rate
            container.mux(vs.encode(frame))
            if astream is not None:
                until = int(round(Fraction(i + 1) / rate * sample_rate))
                while audio_pos < min(until, samples.shape[1]):
                    end = min(audio_pos + chunk, samples.shape[1])
                    af = _audio_frame(samples[:, audio_pos:end], acodec, sample_rate, audio_pos)
                    container.mux(astream.encode(af))
                    audio_pos = end
        container.mux(vs.encode(None))
        if astream is not None:
            container.mux(astream.encode(None))
    return path


def write_test_audio(
    path: PathLike,
    seconds: Union[Fraction, float] = 2,
    sample_rate: int = 48000,
    click_bpm: float = 120,
    channels: int = 2,
) -> Path:
    """Write an audio-only click track (.wav -> 16-bit PCM, .m4a/.mp4 -> AAC)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    samples = click_track(Fraction(seconds), sample_rate, click_bpm, channels)
    codec = _audio_codec_for(path)
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream(codec, rate=sample_rate)
        stream.layout = "mono" if channels == 1 else "stereo"
        for start in range(0, samples.shape[1], 1024):
            af = _audio_frame(samples[:, start : start + 1024], codec, sample_rate, start)
            container.mux(stream.encode(af))
        container.mux(stream.encode(None))
    return path


def write_test_image(path: PathLike, size: tuple[int, int] = (320, 240), index: int = 0) -> Path:
    """Write one test frame as a still image (format from the suffix: .png, .jpg ...)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    bgr = cv2.cvtColor(render_frame(index, size), cv2.COLOR_RGB2BGR)
    if not cv2.imwrite(str(path), bgr):
        raise ValueError(f"{path.name}: OpenCV cannot write this image format")
    return path
