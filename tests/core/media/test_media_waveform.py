"""Audio extraction and waveform peaks: the click track's beats show up where they should."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from core.errors import MediaError
from core.media import extract_audio, waveform_peaks
from resources.footage import beat_times


def loud_buckets(peaks, threshold=0.3):
    return np.nonzero(np.maximum(-peaks[:, 0], peaks[:, 1]) > threshold)[0]


@pytest.mark.parametrize("fixture, seconds", [("clip_mp4", Fraction(48, 25)), ("audio_wav", Fraction(3)),
                                               ("clip_avi", Fraction(30 * 1001, 30000))])
def test_peaks_at_beat_times(request, fixture, seconds):
    peaks = waveform_peaks(request.getfixturevalue(fixture), peaks_per_second=100)
    assert peaks.dtype == np.float32 and peaks.ndim == 2 and peaks.shape[1] == 2
    assert abs(len(peaks) - float(seconds) * 100) <= 2
    assert np.all(peaks[:, 0] <= peaks[:, 1])
    loud = loud_buckets(peaks)
    beats = [int(t * 100) for t in beat_times(seconds, 120)]
    assert len(beats) >= 2
    for b in beats:  # each 30 ms click covers ~3 buckets from its beat
        assert any(abs(k - b) <= 1 for k in loud), b
    # and nothing is loud away from the beats
    assert all(min(abs(k - b) for b in beats) <= 4 for k in loud)
    assert peaks[:, 1].max() == pytest.approx(0.8, abs=0.12)


def test_samples_per_peak(audio_wav):
    peaks = waveform_peaks(audio_wav, samples_per_peak=4800)  # 10 per second at 48 kHz
    assert peaks.shape == (30, 2)
    loud = loud_buckets(peaks)
    assert list(loud) == [0, 5, 10, 15, 20, 25]
    odd = waveform_peaks(audio_wav, samples_per_peak=7000)  # 144000 / 7000 -> 20 full + 1 short
    assert odd.shape == (21, 2)


def test_peaks_match_extracted_audio(audio_wav):
    samples, rate = extract_audio(audio_wav, sample_rate=48000)
    peaks = waveform_peaks(audio_wav, samples_per_peak=480)
    mono = samples.mean(axis=0)
    n = len(mono) // 480
    blocks = mono[: n * 480].reshape(n, 480)
    np.testing.assert_allclose(peaks[:n, 0], blocks.min(axis=1), atol=1e-6)
    np.testing.assert_allclose(peaks[:n, 1], blocks.max(axis=1), atol=1e-6)


def test_extract_audio(clip_mp4, clip_avi):
    samples, rate = extract_audio(clip_mp4)
    assert rate == 48000 and samples.dtype == np.float32
    assert samples.shape[0] == 2 and abs(samples.shape[1] - int(1.92 * 48000)) <= 2048
    assert np.abs(samples).max() <= 1.0
    mono, rate = extract_audio(clip_avi, sample_rate=22050)  # resampled from 44.1 kHz
    assert rate == 22050 and mono.shape[0] == 1
    assert abs(mono.shape[1] - round(30 * 1001 / 30000 * 22050)) <= 64


def test_no_audio(clip_mov, still_png, tmp_path):
    with pytest.raises(MediaError, match=r"^clip\.mov: no audio stream$"):
        waveform_peaks(clip_mov)
    with pytest.raises(MediaError, match=r"^still\.png: no audio stream$"):
        extract_audio(still_png)
    with pytest.raises(MediaError, match=r"^missing\.wav: file not found$"):
        waveform_peaks(tmp_path / "missing.wav")


def test_argument_checks(audio_wav):
    with pytest.raises(ValueError):
        waveform_peaks(audio_wav, samples_per_peak=0)
    with pytest.raises(ValueError):
        waveform_peaks(audio_wav, peaks_per_second=0)
