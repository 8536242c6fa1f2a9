"""Fixtures for the media tests: small synthetic clips, written once per session."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest

from resources.footage import write_test_audio, write_test_clip, write_test_image

SEEK_FRAMES = 100
SEEK_RATE = Fraction(24000, 1001)


@pytest.fixture(scope="session")
def media_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("media")


@pytest.fixture(scope="session")
def seek_clip(media_dir) -> Path:
    """H.264 with default x264 B-frames, GOP 12, 100 frames at 23.976, AAC audio."""
    return write_test_clip(media_dir / "seek.mp4", frames=SEEK_FRAMES, rate=SEEK_RATE, gop=12)


@pytest.fixture(scope="session")
def clip_mp4(media_dir) -> Path:
    return write_test_clip(media_dir / "clip.mp4", frames=48, rate=Fraction(25), codec="h264")


@pytest.fixture(scope="session")
def clip_avi(media_dir) -> Path:
    return write_test_clip(media_dir / "clip.avi", frames=30, rate=Fraction(30000, 1001), codec="mjpeg",
                           sample_rate=44100, audio_channels=1)


@pytest.fixture(scope="session")
def clip_mkv(media_dir) -> Path:
    return write_test_clip(media_dir / "clip.mkv", frames=50, rate=Fraction(50), codec="h264",
                           size=(256, 144))


@pytest.fixture(scope="session")
def clip_mov(media_dir) -> Path:
    return write_test_clip(media_dir / "clip.mov", frames=24, rate=Fraction(24), codec="mpeg4", audio=False)


@pytest.fixture(scope="session")
def audio_wav(media_dir) -> Path:
    return write_test_audio(media_dir / "clicks.wav", seconds=3, sample_rate=48000, click_bpm=120)


@pytest.fixture(scope="session")
def still_png(media_dir) -> Path:
    return write_test_image(media_dir / "still.png", size=(200, 120), index=7)


@pytest.fixture(scope="session")
def still_jpg(media_dir) -> Path:
    return write_test_image(media_dir / "still.jpg", size=(320, 240), index=3)
