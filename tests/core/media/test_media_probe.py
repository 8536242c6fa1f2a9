"""probe(): stream facts of real files, and clean MediaErrors for everything else."""

from __future__ import annotations

import json
import os
from fractions import Fraction

import numpy as np
import pytest

from core.errors import LumaError, MediaError
from core.media import MediaInfo, probe
from resources.footage import write_test_clip


def test_probe_mp4(clip_mp4):
    info = probe(clip_mp4)
    assert info.kind == "video" and info.has_video and info.has_audio
    assert info.format_name.startswith("mov,mp4")
    assert info.size_bytes == os.path.getsize(clip_mp4)
    v = info.video
    assert (v.width, v.height) == (320, 240)
    assert v.rate == Fraction(25) and isinstance(v.rate, Fraction)
    assert v.frame_count == 48
    assert v.duration == Fraction(48, 25)
    assert v.codec == "h264" and v.pix_fmt == "yuv420p" and v.rotation == 0
    assert info.duration == Fraction(48, 25) and info.duration_seconds == pytest.approx(1.92)
    a = info.audio
    assert (a.channels, a.sample_rate, a.codec) == (2, 48000, "aac")
    assert a.duration == Fraction(48, 25)


def test_probe_seek_clip_ntsc_rate(seek_clip):
    v = probe(seek_clip).video
    assert v.rate == Fraction(24000, 1001)
    assert v.frame_count == 100
    assert v.duration == Fraction(100 * 1001, 24000)


def test_probe_avi_mjpeg_pcm(clip_avi):
    info = probe(clip_avi)
    assert info.format_name == "avi"
    assert info.video.rate == Fraction(30000, 1001)
    assert info.video.frame_count == 30
    assert info.video.codec == "mjpeg"
    assert (info.audio.channels, info.audio.sample_rate, info.audio.codec) == (1, 44100, "pcm_s16le")


def test_probe_mkv_counts_frames_from_duration_tag(clip_mkv):
    info = probe(clip_mkv)
    assert info.format_name.startswith("matroska")
    assert (info.video.width, info.video.height) == (256, 144)
    assert info.video.rate == Fraction(50)
    assert info.video.frame_count == 50
    assert info.audio.channels == 2 and info.audio.sample_rate == 48000


def test_probe_mov_without_audio(clip_mov):
    info = probe(clip_mov)
    assert info.kind == "video" and not info.has_audio and info.audio is None
    assert info.video.codec == "mpeg4" and info.video.frame_count == 24 and info.video.rate == 24


def test_probe_rotation(tmp_path):
    path = write_test_clip(tmp_path / "portrait.mp4", frames=3, audio=False, rotation=90)
    assert probe(path).video.rotation == 90


def test_probe_audio_only(audio_wav):
    info = probe(audio_wav)
    assert info.kind == "audio" and not info.has_video
    assert info.audio.sample_rate == 48000 and info.audio.channels == 2
    assert info.duration == 3


@pytest.mark.parametrize("fixture, size", [("still_png", (200, 120)), ("still_jpg", (320, 240))])
def test_probe_still_images(request, fixture, size):
    info = probe(request.getfixturevalue(fixture))
    assert info.kind == "image"
    assert (info.video.width, info.video.height) == size
    assert info.video.frame_count == 1
    assert info.duration == 0


def test_media_info_json_round_trip(clip_mp4, still_png, audio_wav):
    for path in (clip_mp4, still_png, audio_wav):
        info = probe(path)
        text = json.dumps(info.to_dict())
        back = MediaInfo.from_dict(json.loads(text))
        assert back == info
        assert isinstance(back.video.rate if back.video else back.audio.duration, Fraction)
    d = probe(clip_mp4).to_dict()
    assert d["video"]["rate"] == "25/1" and d["duration_seconds"] == pytest.approx(1.92)


# ------------------------------------------------------------------ failures


def test_missing_file(tmp_path):
    with pytest.raises(MediaError, match=r"^clip\.mp4: file not found$"):
        probe(tmp_path / "clip.mp4")


def test_empty_file(tmp_path):
    path = tmp_path / "empty.mp4"
    path.write_bytes(b"")
    with pytest.raises(MediaError, match=r"^empty\.mp4: not a media file or corrupt"):
        probe(path)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("name", ["noise.mp4", "noise.mov", "noise.bin", "noise"])
def test_random_bytes(tmp_path, seed, name):
    path = tmp_path / name
    path.write_bytes(np.random.default_rng(seed).bytes(30_000))
    with pytest.raises(MediaError, match=rf"^{name}: not a media file or corrupt"):
        probe(path)


def test_text_file(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("this is not a video\n" * 50)
    with pytest.raises(MediaError, match=r"^notes\.txt: not a media file or corrupt"):
        probe(path)


def test_folder(tmp_path):
    with pytest.raises(MediaError, match="is a folder"):
        probe(tmp_path)


def test_truncated_mp4_without_index(tmp_path, clip_mp4):
    """The moov index is at the end of a plain MP4: cut it off and nothing is left to read."""
    data = clip_mp4.read_bytes()
    path = tmp_path / "cut.mp4"
    path.write_bytes(data[: int(len(data) * 0.4)])
    with pytest.raises(MediaError, match=r"^cut\.mp4: not a media file or corrupt"):
        probe(path)


def test_no_streams(tmp_path):
    path = tmp_path / "tags.txt"
    path.write_text(";FFMETADATA1\ntitle=only tags here\n")  # FFmpeg opens it: zero streams
    with pytest.raises(MediaError, match=r"^tags\.txt: no video or audio stream$"):
        probe(path)


def test_media_error_is_a_luma_error(tmp_path):
    with pytest.raises(LumaError):
        probe(tmp_path / "nope.mov")
