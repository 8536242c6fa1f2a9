"""The mixdown: exact sample placement, gains (volume, fades, track volume), crossfades, mute/solo,
tiling of consecutive ranges, varispeed, waveform peaks."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from core.audio.mix import NoAudioError, decode_audio, mixdown, peaks, sample_index
from core.project import Project, media_store
from core.timeline import edit
from core.timeline.model import Timeline, create_sequence
from resources.footage import write_test_audio, write_test_clip
from tests.core.audio.signals import level_wav, write_wav

SR = 48000
PER_FRAME = SR // 25  # 1920 samples a frame at 25 fps


@pytest.fixture
def tl(tmp_path):
    p = Project.create(tmp_path / "mix.luma")
    create_sequence(p, rate=25, width=320, height=240)
    t = Timeline(p)
    t.a = media_store.ingest(p, level_wav(tmp_path / "a.wav", 0.4)).id  # 4 s = 100 frames at 0.4
    t.b = media_store.ingest(p, level_wav(tmp_path / "b.wav", 0.2)).id  # at 0.2
    t.a1, t.a2 = (tr.id for tr in t.audio_tracks())
    yield t
    p.close()


def add(tl, media, track, start, duration, source_in=0) -> int:
    ch = edit.add_clip(tl, media, track, start, duration=duration, source_in=source_in)
    return ch.after[0].id


def local_frames(start_frame: int, j0: int, n: int) -> np.ndarray:
    return (j0 + np.arange(n)) / PER_FRAME - start_frame


def test_a_clip_lands_on_its_exact_samples_and_volume_half_halves_them(tl):
    cid = add(tl, tl.a, tl.a1, 10, 20)
    mix = mixdown(tl, 0, 40)
    assert mix.shape == (40 * PER_FRAME, 2) and mix.dtype == np.float32
    assert not mix[:10 * PER_FRAME].any() and not mix[30 * PER_FRAME:].any()
    assert np.all(mix[10 * PER_FRAME:30 * PER_FRAME] == np.float32(0.4))
    edit.set_property(tl, [cid], "volume", 0.5)
    half = mixdown(tl, 0, 40)
    assert np.array_equal(half, mix * np.float32(0.5))
    assert mixdown(tl, 5, 5).shape == (0, 2)
    assert mixdown(tl, 0, 40, channels=1).shape == (40 * PER_FRAME, 1)


def test_keyframed_volume_is_evaluated_per_sample(tl):
    cid = add(tl, tl.a, tl.a1, 10, 30)
    edit.set_property(tl, [cid], "volume", {"keys": [[0, 1.0, "linear"], [20, 0.0, "linear"]]})
    mix = mixdown(tl, 10, 40)[:, 0]
    local = local_frames(10, 10 * PER_FRAME, mix.size)
    expected = 0.4 * np.clip(1 - local / 20, 0, 1)
    assert np.abs(mix - expected).max() < 1e-6
    assert mix[10 * PER_FRAME] == pytest.approx(0.2, abs=1e-7)  # halfway down at clip frame 10


def test_fades_are_equal_power_over_their_frames(tl):
    cid = add(tl, tl.a, tl.a1, 10, 30)
    edit.set_property(tl, [cid], "fade_in", 8)
    edit.set_property(tl, [cid], "fade_out", 4)
    mix = mixdown(tl, 10, 40)[:, 1]
    local = local_frames(10, 10 * PER_FRAME, mix.size)
    expected = 0.4 * np.sin(np.pi / 2 * np.clip(local / 8, 0, 1)) * np.sin(np.pi / 2 * np.clip((30 - local) / 4, 0, 1))
    assert np.abs(mix - expected).max() < 1e-6
    assert mix[0] == 0 and mix[4 * PER_FRAME] == pytest.approx(0.4 / np.sqrt(2), abs=1e-6)  # -3 dB midway
    assert mix[8 * PER_FRAME] == pytest.approx(0.4) and mix[28 * PER_FRAME] == pytest.approx(0.4 / np.sqrt(2))


def test_track_volume_constant_and_keyed(tl):
    add(tl, tl.a, tl.a1, 0, 40)
    edit.set_track_props(tl, tl.a1, "volume", 0.5)
    assert np.allclose(mixdown(tl, 0, 40), 0.2)
    edit.set_track_props(tl, tl.a1, "volume", {"keys": [[10, 0.0, "linear"], [30, 1.0, "linear"]]})
    mix = mixdown(tl, 0, 40)[:, 0]
    seq = np.arange(mix.size) / PER_FRAME
    assert np.abs(mix - 0.4 * np.clip((seq - 10) / 20, 0, 1)).max() < 1e-6


def test_crossfade_is_equal_power_and_uses_the_handles(tl):
    a = add(tl, tl.a, tl.a1, 0, 50)  # media to frame 100: a handle after its end
    b = add(tl, tl.b, tl.a1, 50, 40, source_in=20)  # 20 frames of handle before its start
    edit.add_transition(tl, a, b, "crossfade", 10)
    mix = mixdown(tl, 0, 90)[:, 0]
    span = slice(45 * PER_FRAME, 55 * PER_FRAME)
    assert np.all(mix[:45 * PER_FRAME] == np.float32(0.4)) and np.all(mix[55 * PER_FRAME:] == np.float32(0.2))
    u = (np.arange(45 * PER_FRAME, 55 * PER_FRAME) / PER_FRAME - 45) / 10
    expected = 0.4 * np.cos(np.pi / 2 * u) + 0.2 * np.sin(np.pi / 2 * u)
    assert np.abs(mix[span] - expected).max() < 1e-6
    # midpoint (the cut): both at -3 dB, so equal signals would keep their power
    assert mix[50 * PER_FRAME] == pytest.approx((0.4 + 0.2) / np.sqrt(2), abs=1e-6)


def test_mute_and_solo_choose_the_tracks_heard(tl):
    add(tl, tl.a, tl.a1, 0, 20)
    add(tl, tl.b, tl.a2, 0, 20)
    assert np.allclose(mixdown(tl, 0, 20), 0.6)
    edit.track_state(tl, tl.a1, "muted", True)
    assert np.allclose(mixdown(tl, 0, 20), 0.2)
    edit.track_state(tl, tl.a1, "muted", False)
    edit.track_state(tl, tl.a1, "solo", True)
    assert np.allclose(mixdown(tl, 0, 20), 0.4)
    edit.track_state(tl, tl.a2, "solo", True)
    assert np.allclose(mixdown(tl, 0, 20), 0.6)
    edit.track_state(tl, tl.a2, "muted", True)  # a muted track stays silent even when soloed
    assert np.allclose(mixdown(tl, 0, 20), 0.4)


@pytest.mark.parametrize("rate", [Fraction(25), Fraction(30000, 1001)])
def test_consecutive_ranges_tile_exactly(tmp_path, small_clip, rate):
    p = Project.create(tmp_path / "tile.luma")
    sid = create_sequence(p, rate=rate, width=320, height=240)
    tl = Timeline(p, sid)
    a1, a2 = (t.id for t in tl.audio_tracks())
    aac = media_store.ingest(p, small_clip).id  # AAC in MP4, 48 kHz
    clicks44 = media_store.ingest(p, write_test_audio(tmp_path / "c44.wav", 4, 44100, 150)).id  # resampled
    x = add(tl, aac, a1, 3, 20, source_in=5)
    y = add(tl, aac, a1, 23, 20, source_in=30)
    edit.add_transition(tl, x, y, "crossfade", 6)
    z = add(tl, clicks44, a2, 7, 30, source_in=4)
    edit.set_speed(tl, z, Fraction(3, 2))
    edit.set_property(tl, [z], "volume", {"keys": [[0, 0.2, "bezier"], [15, 1.0, "linear"]]})
    whole = mixdown(tl, 0, 60)
    cuts = [0, 1, 17, 24, 41, 60]
    parts = [mixdown(tl, s, e) for s, e in zip(cuts, cuts[1:])]
    assert [len(q) for q in parts] == [sample_index(e, rate, SR) - sample_index(s, rate, SR)
                                      for s, e in zip(cuts, cuts[1:])]
    joined = np.concatenate(parts)
    assert joined.shape == whole.shape == (sample_index(60, rate, SR), 2)
    assert np.abs(joined - whole).max() < 1e-5
    assert np.abs(whole).max() > 0.3  # there is sound to compare
    p.close()


def _attacks(x: np.ndarray, level: float = 0.05, gap: int = 2400) -> np.ndarray:
    loud = np.nonzero(np.abs(x) > level)[0]
    return loud[np.concatenate([[True], np.diff(loud) > gap])]


def test_speed_two_halves_a_click_train_and_raises_its_pitch(tmp_path):
    p = Project.create(tmp_path / "speed.luma")
    create_sequence(p, rate=25, width=320, height=240)
    tl = Timeline(p)
    media = media_store.ingest(p, write_test_audio(tmp_path / "clicks.wav", 4, SR, 120)).id
    cid = add(tl, media, tl.audio_tracks()[0].id, 0, 100)
    normal = mixdown(tl, 0, 100)[:, 0]
    edit.set_speed(tl, cid, 2)
    assert tl.clips[cid].duration == 50
    fast = mixdown(tl, 0, 100)[:, 0]
    a_normal, a_fast = _attacks(normal), _attacks(fast)
    assert list(np.diff(a_normal)) == [SR // 2] * 7  # every 0.5 s ...
    assert len(a_fast) == 8 and np.abs(np.diff(a_fast) - SR // 4).max() <= 2  # ... now every 0.25 s
    assert not np.any(np.abs(fast[50 * PER_FRAME + 64:]) > 1e-3)  # and over after 2 s

    def pitch(x, at):  # zero crossings in the middle of a beep
        seg = x[at + 100:at + 600]
        return np.count_nonzero(np.diff(np.signbit(seg))) / 2 / (500 / SR)

    assert pitch(normal, a_normal[1]) == pytest.approx(1000, rel=0.02)
    assert pitch(fast, a_fast[1]) == pytest.approx(2000, rel=0.02)  # varispeed: an octave up
    p.close()


def test_decode_audio_places_sound_by_time_and_pads_with_silence(tmp_path, small_clip):
    whole = decode_audio(small_clip, SR, 2)
    part = decode_audio(small_clip, SR, 2, 30000, 50000)
    assert part.shape == (20000, 2)
    assert np.abs(part - whole[30000:50000]).max() < 1e-6  # a seek gives the same samples as decoding through
    edge = decode_audio(small_clip, SR, 2, -100, 100)
    assert not edge[:100].any() and np.array_equal(edge[100:], whole[:100])
    tail = decode_audio(small_clip, SR, 1, whole.shape[0] - 10, whole.shape[0] + 10)
    assert tail.shape == (20, 1) and not tail[10:].any()


def test_a_clip_without_sound_on_an_audio_track_is_an_error(tmp_path):
    p = Project.create(tmp_path / "ns.luma")
    create_sequence(p, rate=25, width=320, height=240)
    tl = Timeline(p)
    mute = media_store.ingest(p, write_test_clip(tmp_path / "mute.mp4", frames=10, size=(160, 120),
                                                 audio=False)).id
    add(tl, mute, tl.audio_tracks()[0].id, 0, 10)
    with pytest.raises(NoAudioError, match="mute.mp4: no audio stream"):
        mixdown(tl, 0, 10)
    p.close()


def test_peaks_per_frame_and_per_sample_count(tl, tmp_path):
    level = peaks(tl.project, tl.a, frame_rate=25)
    assert level.shape == (100, 2) and np.allclose(level, 0.4)
    n = int(SR * 1.01)
    clicks = np.zeros(n, np.float32)
    clicks[[100, SR // 2 + 7, SR - 1]] = [0.9, -0.7, 0.5]
    cid = media_store.ingest(tl.project, write_wav(tmp_path / "imp.wav", clicks, SR)).id
    per_frame = peaks(tl.project, cid, frame_rate=Fraction(30000, 1001))
    assert per_frame.shape == (31, 2)  # ceil(1.01 s * 29.97)
    edges = [round(Fraction(k * SR * 1001, 30000)) for k in range(32)]
    expect = np.zeros((31, 2), np.float32)
    for i, v in ((100, 0.9), (SR // 2 + 7, -0.7), (SR - 1, 0.5)):
        k = next(k for k in range(31) if edges[k] <= i < edges[k + 1])
        expect[k] = [min(0, v), max(0, v)]
    assert np.allclose(per_frame, expect)
    assert peaks(tl.project, cid, samples_per_peak=4800).shape == (11, 2)
    with pytest.raises(ValueError):
        peaks(tl.project, cid)
