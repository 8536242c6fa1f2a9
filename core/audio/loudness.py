"""Loudness: integrated loudness (EBU R128 / ITU-R BS.1770-4), true peak, normalisation.

* :func:`integrated_loudness`: gated K-weighted loudness in LUFS, measured with
  pyloudnorm (the BS.1770-4 algorithm; up to five channels).
* :func:`true_peak`: the peak of the signal oversampled 4x (polyphase FIR,
  :func:`scipy.signal.resample_poly`), in dBTP, as BS.1770-4 Annex 2 asks:
  inter-sample peaks that a DAC or a lossy encoder would produce count.
* :func:`normalize`: a gain to ``target_lufs``; where the true peak would then
  pass ``true_peak_db``, a **look-ahead peak limiter** (:func:`limit`) lowers
  the gain around those peaks only. Merely lowering the whole gain would keep
  the peaks legal but leave the programme quieter than the target; the
  limiter keeps the loudness, and because limiting still costs a little
  loudness the gain is raised again and the result re-measured (a few rounds,
  at most 12 dB above the plain gain) until it is within 0.05 LU of the
  target.

The limiter works on the whole signal at once (it is an offline process):

1. per sample, the true-peak envelope ``p[n]``: the largest oversampled value
   of any channel in ``[n, n+1)``; the gain each sample needs is
   ``r[n] = min(1, ceiling / p[n])``;
2. a running minimum of ``r`` over ``[n - 2h - hold, n + 2h]`` (``h`` = 2.5 ms
   look-ahead step, ``hold`` = 20 ms) and two centred moving averages of
   ``2h + 1`` samples. Every averaged value comes from minima whose windows
   contain ``n``, so the smoothed gain never exceeds ``r[n]``: the gain
   glides down over 5 ms *before* a peak (look-ahead), holds 20 ms after it
   and glides back over 5 ms. No sample is clipped and no per-sample loop
   runs (scipy.ndimage's running minimum and mean);
3. a last true-peak measurement trims any residue (the smooth gain moves the
   oversampled values between samples a hair) with a static gain.

The ceiling is aimed 0.1 dB under ``true_peak_db`` to leave room for meters
whose oversampling filter differs (FFmpeg's ebur128 reads within ~0.1 dB).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

from core.errors import LumaError

__all__ = ["LoudnessReport", "integrated_loudness", "true_peak", "true_peak_envelope", "limit", "normalize",
           "measure_file"]

OVERSAMPLE = 4
_BLOCK = 1 << 16  # samples per block when oversampling
_MARGIN = 64  # samples of context on each side of a block (the FIR's reach is 10 input samples)
_MARGIN_DB = 0.1
_MAX_BOOST_DB = 12.0


class LoudnessError(LumaError):
    """Audio that cannot be measured or normalised (too short, not finite, too many channels)."""


def _as_2d(samples: np.ndarray) -> np.ndarray:
    x = np.asarray(samples)
    if x.ndim == 1:
        x = x[:, None]
    if x.ndim != 2 or x.shape[1] < 1:
        raise LoudnessError(f"audio must be [samples, channels], got shape {np.shape(samples)}")
    if not np.issubdtype(x.dtype, np.floating):
        raise LoudnessError("audio must be floating point samples (-1..1)")
    if not np.all(np.isfinite(x)):
        raise LoudnessError("the audio has NaN or infinite samples")
    return x


def integrated_loudness(samples: np.ndarray, sample_rate: int) -> float:
    """Integrated (gated) loudness in LUFS; ``-inf`` for silence."""
    import pyloudnorm

    x = _as_2d(samples)
    if x.shape[1] > 5:
        raise LoudnessError(f"loudness is measured on up to 5 channels, not {x.shape[1]}")
    if x.shape[0] < 0.4 * sample_rate:
        raise LoudnessError(f"{x.shape[0] / sample_rate:.2f} s is too short to measure loudness (at least 0.4 s)")
    if not np.any(x):
        return -math.inf
    return float(pyloudnorm.Meter(int(sample_rate)).integrated_loudness(x.astype(np.float64)))


def true_peak_envelope(samples: np.ndarray) -> np.ndarray:
    """Per sample ``n``: the largest absolute 4x-oversampled value of any channel in ``[n, n+1)``."""
    from scipy.signal import resample_poly

    x = _as_2d(samples).astype(np.float64, copy=False)
    n = x.shape[0]
    out = np.empty(n, np.float64)
    for s in range(0, n, _BLOCK):
        e = min(n, s + _BLOCK)
        a, b = max(0, s - _MARGIN), min(n, e + _MARGIN)
        up = resample_poly(x[a:b], OVERSAMPLE, 1, axis=0)
        up = np.abs(up[(s - a) * OVERSAMPLE:(e - a) * OVERSAMPLE]).max(axis=1)
        out[s:e] = up.reshape(-1, OVERSAMPLE).max(axis=1)
    return np.maximum(out, np.abs(x).max(axis=1))


def true_peak(samples: np.ndarray) -> float:
    """True peak in dBTP (4x oversampled); ``-inf`` for silence."""
    x = _as_2d(samples)
    if x.shape[0] == 0:
        return -math.inf
    peak = float(true_peak_envelope(x).max())
    return 20.0 * math.log10(peak) if peak > 0 else -math.inf


def _running_min(x: np.ndarray, back: int, ahead: int) -> np.ndarray:
    """min of ``x`` over ``[n - back, n + ahead]`` (edges padded with 1 = no reduction)."""
    from scipy.ndimage import minimum_filter1d

    if (back + ahead) % 2:
        ahead += 1  # an odd window; looking further ahead only makes it safer
    size = back + ahead + 1
    return minimum_filter1d(x, size, mode="constant", cval=1.0, origin=back - size // 2)


def _smooth_gain(required: np.ndarray, sample_rate: int, lookahead: float, hold: float) -> np.ndarray:
    from scipy.ndimage import uniform_filter1d

    h = max(1, int(round(lookahead / 2 * sample_rate)))
    hold_n = max(0, int(round(hold * sample_rate)))
    m = _running_min(required, 2 * h + hold_n, 2 * h)
    s = uniform_filter1d(m, 2 * h + 1, mode="nearest")  # (edge values: the start may need reduction already)
    s = uniform_filter1d(s, 2 * h + 1, mode="nearest")
    return np.minimum(s, required)  # exact in theory; this absorbs rounding of the running sums


def limit(samples: np.ndarray, sample_rate: int, ceiling_db: float = -1.0, lookahead: float = 0.005,
          hold: float = 0.020, envelope: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Look-ahead true-peak limiter: (limited float32 samples, gain per sample).

    ``envelope`` is :func:`true_peak_envelope` of ``samples`` when already known.
    """
    x = _as_2d(samples)
    ceiling = 10.0 ** (ceiling_db / 20.0)
    env = true_peak_envelope(x) if envelope is None else envelope
    required = np.minimum(1.0, ceiling / np.maximum(env, 1e-12))
    gain = _smooth_gain(required, int(sample_rate), lookahead, hold)
    return (x * gain[:, None]).astype(np.float32), gain


@dataclass
class LoudnessReport:
    target_lufs: float
    true_peak_ceiling_db: float
    input_lufs: float
    input_true_peak_db: float
    gain_db: float  # the static gain applied before limiting
    limited: bool
    max_reduction_db: float  # the limiter's deepest gain reduction
    output_lufs: float
    output_true_peak_db: float

    def to_dict(self) -> dict:
        return asdict(self)


def normalize(samples: np.ndarray, sample_rate: int, target_lufs: float = -16.0,
              true_peak_db: float = -1.5) -> tuple[np.ndarray, LoudnessReport]:
    """Bring ``samples`` ([n, channels] or [n], float) to ``target_lufs`` with true peaks under ``true_peak_db``.

    Returns float32 samples of the input's shape and a :class:`LoudnessReport`.
    Silence is returned unchanged (there is no loudness to correct).
    """
    x = _as_2d(samples).astype(np.float64, copy=False)
    rate = int(sample_rate)
    l_in = integrated_loudness(x, rate)
    env = true_peak_envelope(x)
    peak = float(env.max()) if env.size else 0.0
    tp_in = 20.0 * math.log10(peak) if peak > 0 else -math.inf
    if not math.isfinite(l_in):
        report = LoudnessReport(target_lufs, true_peak_db, l_in, tp_in, 0.0, False, 0.0, l_in, tp_in)
        return np.asarray(samples, dtype=np.float32), report
    ceiling = 10.0 ** ((true_peak_db - _MARGIN_DB) / 20.0)
    gain_db = target_lufs - l_in
    boost = 0.0
    y, gain = x, np.ones(x.shape[0])
    l_out = l_in
    limited = False
    for _ in range(6):
        g = 10.0 ** ((gain_db + boost) / 20.0)
        limited = peak * g > ceiling
        if limited:
            required = np.minimum(1.0, ceiling / np.maximum(env * g, 1e-12))
            gain = _smooth_gain(required, rate, 0.005, 0.020) * g
        else:
            gain = np.full(x.shape[0], g)
        y = x * gain[:, None]
        l_out = integrated_loudness(y, rate)
        miss = target_lufs - l_out
        if abs(miss) <= 0.05 or not limited or boost + miss > _MAX_BOOST_DB:
            break
        boost += miss
    tp_out = true_peak(y)
    limit_db = true_peak_db - _MARGIN_DB / 2
    if tp_out > limit_db:  # the smooth gain nudged an inter-sample peak: trim it
        y = y * 10.0 ** ((limit_db - tp_out) / 20.0)
        l_out = integrated_loudness(y, rate)
        tp_out = true_peak(y)
    g_static = gain_db + boost
    reduction = float(-20.0 * np.log10(np.maximum(gain.min(), 1e-12)) + g_static) if limited else 0.0
    report = LoudnessReport(target_lufs, true_peak_db, l_in, tp_in, g_static, bool(limited), max(0.0, reduction),
                            l_out, tp_out)
    out = y.astype(np.float32)
    if np.ndim(samples) == 1:
        out = out[:, 0]
    return out, report


def measure_file(path) -> tuple[float, float, int]:
    """(integrated LUFS, true peak dBTP, sample rate) of a media file's sound, at its own rate.

    Mono and stereo are measured as they are; more channels are first mixed
    down to stereo by FFmpeg's resampler (BS.1770 would weight surrounds and
    drop the LFE; a stereo fold-down is what a viewer hears on most devices).
    """
    from core.audio.mix import NoAudioError, decode_audio
    from core.media._av import display_name
    from core.media.probe import probe

    info = probe(path)
    if info.audio is None:
        raise NoAudioError(f"{display_name(path)}: no audio stream, so no loudness to measure")
    rate = int(info.audio.sample_rate)
    channels = 1 if info.audio.channels == 1 else 2
    sound = decode_audio(path, rate, channels)
    if sound.shape[0] == 0:
        raise LoudnessError(f"{display_name(path)}: the audio stream has no samples")
    return integrated_loudness(sound, rate), true_peak(sound), rate
