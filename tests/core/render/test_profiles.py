"""Render profiles: the settings each states, sequence sizes, GOPs, round trips, and the 4K plan."""

from __future__ import annotations

from fractions import Fraction

import pytest

from core.errors import LumaError
from core.project import Project
from core.render.profiles import PROFILES, RenderProfile, get_profile
from core.render.sequence_render import plan_render
from core.timeline import edit
from core.timeline.model import Timeline, create_sequence
from core.project import media_store

NEW = ("draft_480p", "preview_720p", "social_1080p", "youtube_4k", "master_prores")


def test_every_profile_states_its_settings():
    assert set(PROFILES) >= {"preview", "final", *NEW}
    for name in NEW:
        p = PROFILES[name]
        assert p.name == name and p.description
        assert p.video_codec and p.pix_fmt and p.audio_codec
        assert p.audio_sample_rate == 48000 and p.audio_channels == 2
        assert p.fps is None  # the sequence's rate
        assert p.threads >= 1
    for name in ("draft_480p", "preview_720p", "social_1080p", "youtube_4k"):
        p = PROFILES[name]
        assert (p.video_codec, p.pix_fmt, p.audio_codec, p.container) == ("libx264", "yuv420p", "aac", ".mp4")
        assert "crf" in p.options and p.gop_seconds == 2
    assert PROFILES["draft_480p"].audio_bitrate < PROFILES["preview_720p"].audio_bitrate
    social = PROFILES["social_1080p"]
    assert (social.width, social.height, social.options["profile"], social.audio_bitrate) == \
        (1920, 1080, "high", 192_000)
    assert social.options["maxrate"] == "12M"
    yt = PROFILES["youtube_4k"]
    assert (yt.width, yt.height, yt.options["profile"], yt.options["level"]) == (3840, 2160, "high", "5.1")
    assert int(yt.options["maxrate"].rstrip("M")) > int(social.options["maxrate"].rstrip("M"))
    assert int(yt.options["crf"]) < int(social.options["crf"])
    m = PROFILES["master_prores"]
    assert (m.video_codec, m.options["profile"], m.pix_fmt) == ("prores_ks", "3", "yuv422p10le")
    assert (m.audio_codec, m.container, m.width) == ("pcm_s24le", ".mov", None)
    assert m.intra_only and m.gop_frames(Fraction(25)) == 1


def test_legacy_profiles_unchanged():
    assert get_profile("preview").output_size(3840, 2160) == (1280, 720)
    assert get_profile("preview").output_rate(Fraction(60)) == 30
    assert get_profile("preview").gop_frames(Fraction(30)) == 60
    assert get_profile("final").output_size(1918, 1080) == (1918, 1080)
    # sequence renders with them: fitted to the height, never upscaled
    assert get_profile("preview").sequence_size(1920, 1080) == (1280, 720)
    assert get_profile("preview").sequence_size(640, 360) == (640, 360)
    assert get_profile("final").sequence_size(1920, 1080) == (1920, 1080)


@pytest.mark.parametrize("name, seq, size", [
    ("draft_480p", (1920, 1080), (854, 480)),
    ("draft_480p", (640, 480), (640, 480)),
    ("preview_720p", (1920, 1080), (1280, 720)),
    ("preview_720p", (1080, 1920), (404, 720)),  # portrait: fitted into the box
    ("social_1080p", (1280, 720), (1920, 1080)),  # upscaled: the profile states the delivery size
    ("social_1080p", (160, 120), (1440, 1080)),
    ("youtube_4k", (1920, 1080), (3840, 2160)),
    ("youtube_4k", (4096, 2160), (3840, 2024)),  # 2025 is odd: the even size below
    ("master_prores", (1998, 1080), (1998, 1080)),
])
def test_sequence_size(name, seq, size):
    w, h = get_profile(name).sequence_size(*seq)
    assert (w, h) == size and w % 2 == 0 and h % 2 == 0


def test_gop_frames():
    assert get_profile("social_1080p").gop_frames(Fraction(25)) == 50
    assert get_profile("social_1080p").gop_frames(Fraction(30000, 1001)) == 60
    assert get_profile("draft_480p").with_options(gop=7).gop_frames(Fraction(25)) == 7


def test_dict_round_trip_and_lookup():
    for name in PROFILES:
        p = PROFILES[name]
        d = p.to_dict()
        assert get_profile(d) == p and RenderProfile.from_dict(d).to_dict() == d
    custom = dict(PROFILES["preview"].to_dict(), name="mine", fps="24000/1001")
    assert get_profile(custom).fps == Fraction(24000, 1001)
    with pytest.raises(LumaError, match="unknown setting"):
        RenderProfile.from_dict({"name": "x", "colour": "red"})
    with pytest.raises(LumaError, match="choose one of .*social_1080p"):
        get_profile("4k")


def test_youtube_4k_plan(tmp_path, small_clip):
    p = Project.create(tmp_path / "yt.luma")
    sid = create_sequence(p, rate=25, width=1920, height=1080, audio_tracks=0)
    tl = Timeline(p, sid)
    mid = media_store.ingest(p, small_clip, with_thumbnail=False).id
    edit.add_clip(tl, mid, tl.video_tracks()[0].id, 0)  # 50 frames
    for i in range(1, 6):
        edit.add_clip(tl, mid, tl.video_tracks()[0].id, 50 * i)
    plan = plan_render(tl, "youtube_4k", workers=4)
    assert plan.size == (3840, 2160) and plan.rate == 25 and plan.gop == 50 and plan.frames == 300
    assert len(plan.segments) >= 4  # 6 GOPs over 4 workers
    assert all(s.start % 50 == 0 for s in plan.segments)
    d = plan.to_dict()
    assert d["output"]["width"] == 3840 and d["output"]["video_codec"] == "libx264"
    assert d["profile"]["options"]["level"] == "5.1"
    p.close()
