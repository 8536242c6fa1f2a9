"""Test sounds for the audio tests: accented click tracks, constant levels, noise and music-like signals,
and FFmpeg's EBU R128 meter as an independent reference."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import soundfile

from resources.footage import beat_times, click_track

FFMPEG = "/usr/bin/ffmpeg"
MOD_MUSIC = Path(__file__).resolve().parents[2] / "data" / "area1-game.mod"


def write_wav(path: Path, samples: np.ndarray, sample_rate: int) -> Path:
    """float32 WAV (exact sample values); ``samples`` is [n] or [n, channels]."""
    path.parent.mkdir(parents=True, exist_ok=True)
    soundfile.write(str(path), np.asarray(samples, np.float32), sample_rate, subtype="FLOAT")
    return path


def accented_clicks(path: Path, bpm: float, seconds: float = 10.0, lead: float = 0.0, sample_rate: int = 44100,
                    beats_per_bar: int = 4, accent: float = 1.0, other: float = 0.35) -> tuple[list[float], list[float]]:
    """Write a mono click track at ``bpm`` whose bar starts are louder; returns (click times, downbeat times).

    The clicks are resources.footage's 30 ms 1 kHz beeps, the first ``lead`` seconds in.
    """
    base = click_track(seconds, sample_rate, bpm, 1)[0]
    times = [float(t) for t in beat_times(seconds, bpm)]
    gain = np.full(base.shape, other, np.float32)
    length = int(0.03 * sample_rate) + 2
    for k, t in enumerate(times):
        if k % beats_per_bar == 0:
            s = int(round(t * sample_rate))
            gain[s:s + length] = accent
    y = base * gain
    shift = int(round(lead * sample_rate))
    y = np.concatenate([np.zeros(shift, np.float32), y])[:base.size]
    clicks = [round(t + shift / sample_rate, 9) for t in times if t + shift / sample_rate < seconds - 0.03]
    write_wav(path, y, sample_rate)
    downs = [t for k, t in enumerate(clicks) if k % beats_per_bar == 0]
    return clicks, downs


def level_wav(path: Path, value: float, seconds: float = 4.0, sample_rate: int = 48000, channels: int = 2) -> Path:
    """A constant level (DC): every sample ``value``, so gains can be read straight off the mix."""
    return write_wav(path, np.full((int(seconds * sample_rate), channels), value, np.float32), sample_rate)


def pink_noise(seconds: float, sample_rate: int = 48000, seed: int = 1, spikes: bool = True) -> np.ndarray:
    """Stereo 1/f noise; ``spikes`` adds a sharp transient three times a second (a high crest factor)."""
    rng = np.random.default_rng(seed)
    n = int(seconds * sample_rate)
    white = rng.standard_normal((n, 2))
    freqs = np.fft.rfftfreq(n, 1 / sample_rate)
    spectrum = np.fft.rfft(white, axis=0)
    spectrum[1:] /= np.sqrt(freqs[1:, None])
    spectrum[0] = 0
    x = np.fft.irfft(spectrum, n, axis=0)
    x = x / np.abs(x).max() * 0.5
    if spikes:
        x[::sample_rate // 3] *= 6
    return x.astype(np.float32)


def music_like(seconds: float, sample_rate: int = 48000, seed: int = 2) -> np.ndarray:
    """Stereo: a swelling chord, a pitch-dropping kick every half second and noisy hi-hats between."""
    rng = np.random.default_rng(seed)
    n = int(seconds * sample_rate)
    t = np.arange(n) / sample_rate
    chord = np.zeros(n)
    for k, (f0, a) in enumerate(((110, 0.3), (220, 0.2), (330, 0.15), (440, 0.1), (660, 0.05))):
        chord += a * np.sin(2 * np.pi * f0 * t + k) * (0.6 + 0.4 * np.sin(2 * np.pi * 0.5 * t + k))
    beat = t % 0.5
    kick = 0.9 * np.exp(-beat * 30) * np.sin(2 * np.pi * (50 + 100 * np.exp(-beat * 40)) * beat)
    hat = 0.2 * rng.standard_normal(n) * np.exp(-((t + 0.25) % 0.5) * 80)
    y = 0.3 * chord + kick + hat
    return (np.stack([y, 0.9 * y + 0.05 * rng.standard_normal(n)], axis=1) * 0.5).astype(np.float32)


def ffmpeg() -> str:
    if not Path(FFMPEG).is_file() and not shutil.which("ffmpeg"):
        pytest.fail(f"{FFMPEG} is missing: install Debian's ffmpeg (apt-get install ffmpeg)")
    return FFMPEG if Path(FFMPEG).is_file() else shutil.which("ffmpeg")


def ebur128(path: Path) -> tuple[float, float]:
    """(integrated LUFS, true peak dBTP) of a file as FFmpeg's ebur128 filter measures them."""
    run = subprocess.run([ffmpeg(), "-nostats", "-hide_banner", "-i", str(path), "-af", "ebur128=peak=true",
                          "-f", "null", "-"], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
    summary = run.stderr[run.stderr.rindex("Summary:"):]
    integrated = float(re.search(r"I:\s+(-?[\d.]+|-inf) LUFS", summary).group(1))
    peak = float(re.search(r"True peak:\s+Peak:\s+(-?[\d.]+|-inf) dBFS", summary).group(1))
    return integrated, peak


def render_mod(path: Path, seconds: float) -> Path:
    """The first ``seconds`` of the tracker module ``MOD_MUSIC`` rendered to WAV by FFmpeg (libopenmpt)."""
    if not MOD_MUSIC.is_file():
        pytest.fail(f"{MOD_MUSIC} is missing: run `make testdata` (Debian's tecnoballz-data package: "
                    "usr/share/games/tecnoballz/musics/area1-game.mod)")
    run = subprocess.run([ffmpeg(), "-nostats", "-hide_banner", "-y", "-i", str(MOD_MUSIC), "-t", str(seconds),
                          "-ac", "1", str(path)], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
    return path
