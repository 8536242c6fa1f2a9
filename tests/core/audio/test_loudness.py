"""Loudness: normalised signals measured by FFmpeg's EBU R128 meter; true peak; the limiter."""

from __future__ import annotations

import numpy as np
import pytest

from core.audio.loudness import (LoudnessError, integrated_loudness, limit, measure_file, normalize, true_peak)
from tests.core.audio.signals import ebur128, music_like, pink_noise, write_wav

SR = 48000


@pytest.mark.parametrize("kind", ["pink", "music"])
@pytest.mark.parametrize("target", [-16.0, -23.0])
def test_normalised_audio_meets_target_and_ceiling_on_ffmpegs_meter(tmp_path, kind, target):
    x = pink_noise(8) if kind == "pink" else music_like(8)
    y, report = normalize(x, SR, target_lufs=target, true_peak_db=-1.5)
    assert y.shape == x.shape and y.dtype == np.float32
    path = write_wav(tmp_path / f"{kind}{target}.wav", y, SR)
    lufs, peak = ebur128(path)
    assert abs(lufs - target) <= 0.5, report
    assert peak <= -1.5 + 0.2, report
    assert abs(report.output_lufs - target) <= 0.1 and report.output_true_peak_db <= -1.5
    if target == -16.0:  # these signals peak too high for -16 LUFS: the limiter had to work
        assert report.limited and report.max_reduction_db > 1.0
        assert report.gain_db > target - report.input_lufs  # extra gain made up for what limiting took


def test_limiter_only_touches_the_peaks():
    x = pink_noise(4, spikes=True)
    y, gain = limit(x, SR, ceiling_db=-6.0)
    assert true_peak(y) <= -6.0 + 0.05
    assert np.all(gain <= 1.0) and np.all(gain > 0)
    untouched = gain == 1.0
    assert untouched.mean() > 0.5  # most of the signal passes unchanged
    assert np.array_equal(y[untouched], x[untouched])
    # the gain moves smoothly: at most a 5 ms glide per full step, never a jump
    assert np.abs(np.diff(gain)).max() < 0.02


def test_true_peak_sees_between_the_samples():
    t = np.arange(SR) / SR
    # a sine at a quarter of the sample rate, sampled 45 degrees off its crests: the samples reach
    # only 0.707 of its amplitude, the true peak is the amplitude itself
    # (faded in and out over 10 ms: an abrupt start would ring, and that overshoot is a true peak too)
    x = 0.5 * np.sin(2 * np.pi * (SR / 4) * t + np.pi / 4)
    x *= np.clip(np.minimum(t, t[-1] - t) / 0.01, 0, 1)
    assert np.abs(x).max() == pytest.approx(0.5 / np.sqrt(2), rel=1e-6)
    assert true_peak(x) == pytest.approx(20 * np.log10(0.5), abs=0.05)
    assert true_peak(np.zeros(SR)) == -np.inf


def test_loudness_of_a_reference_tone():
    # BS.1770's anchor: a 997 Hz sine of full-scale peak in one channel measures -3.01 LKFS (= LUFS)
    t = np.arange(SR * 5) / SR
    mono = np.sin(2 * np.pi * 997 * t)
    assert integrated_loudness(mono, SR) == pytest.approx(-3.01, abs=0.05)


def test_silence_short_and_bad_input():
    quiet, report = normalize(np.zeros((SR, 2), np.float32), SR)
    assert not quiet.any() and report.input_lufs == -np.inf and report.gain_db == 0
    with pytest.raises(LoudnessError, match="too short"):
        integrated_loudness(np.ones((100, 2), np.float32) * 0.1, SR)
    with pytest.raises(LoudnessError, match="NaN"):
        normalize(np.full((SR, 2), np.nan, np.float32), SR)


def test_measure_file_agrees_with_ffmpeg(tmp_path):
    path = write_wav(tmp_path / "m.wav", music_like(6) * 0.5, SR)
    lufs, peak, rate = measure_file(path)
    ref_lufs, ref_peak = ebur128(path)
    assert rate == SR
    assert lufs == pytest.approx(ref_lufs, abs=0.2) and peak == pytest.approx(ref_peak, abs=0.3)
