"""The tempo map: fitting a constant tempo to a beat grid, placing it through a clip, storage, lighting."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from core.audio.beats import BeatJob
from core.audio.mix import mixdown
from core.audio.tempo import (BeatGrid, beat_frames, beat_indices, fit_beats, load_grid, project_tempo_map,
                              set_project_tempo, set_tempo_from_clip, store_grid, tempo_from_clip,
                              tempo_from_grid)
from core.errors import LumaError
from core.lighting.store import load_show, save_settings
from core.project import Project, media_store
from core.time import TempoMap
from core.timeline import edit
from core.timeline.model import Timeline, create_sequence
from tests.core.audio.signals import accented_clicks


def test_fit_is_exact_for_a_constant_tempo_and_counts_missed_beats():
    period, first = 60 / 128, 0.731
    times = first + period * np.arange(40)
    jitter = np.random.default_rng(0).uniform(-0.003, 0.003, 40)
    kept = np.delete(times + jitter, [5, 17, 18])  # three beats not detected
    assert list(beat_indices(kept)[:6]) == [0, 1, 2, 3, 4, 6]
    p, t0 = fit_beats(kept)
    assert 60 / p == pytest.approx(128, abs=0.02)  # jitter of +-3 ms averages out
    assert t0 == pytest.approx(first, abs=0.002)
    p, t0 = fit_beats(times)
    assert p == pytest.approx(period, abs=1e-12) and t0 == pytest.approx(first, abs=1e-12)
    with pytest.raises(LumaError):
        fit_beats([1.0])


def test_tempo_from_grid_places_a_downbeat_as_beat_zero():
    beats = tuple(0.2 + 0.5 * k for k in range(16))
    grid = BeatGrid(120.0, beats, beats[1::4], 4)  # bars start on the second detected beat
    tempo = tempo_from_grid(grid, clip_start_seconds=10, clip_source_in_seconds=0)
    assert tempo.bpm == 120 and tempo.beats_per_bar == 4
    assert tempo.offset == Fraction(107, 10)  # 10 + 0.7
    # the clip starts 1.9 s into the media: the first downbeat heard is at media 2.7 s (the one at 0.7 is cut off)
    tempo = tempo_from_grid(grid, clip_start_seconds=10, clip_source_in_seconds=Fraction(19, 10))
    assert tempo.offset == Fraction(108, 10)  # 10 + 2.7 - 1.9
    # at speed 2 the beats come twice as fast
    tempo = tempo_from_grid(grid, 10, 0, speed=2)
    assert tempo.bpm == 240 and tempo.offset == Fraction(1035, 100)


@pytest.fixture
def placed(tmp_path):
    """A 128 BPM accented click track (first click 0.3 s in) analysed and placed at frame 37 from source frame 12."""
    clicks, accents = accented_clicks(tmp_path / "clicks.wav", 128, seconds=8, lead=0.3, sample_rate=48000)
    p = Project.create(tmp_path / "t.luma")
    create_sequence(p, rate=25, width=320, height=240)
    tl = Timeline(p)
    media_id = media_store.ingest(p, tmp_path / "clicks.wav").id
    BeatJob(p.path, media_id).run(lambda *a: None, lambda: False)
    edit.add_clip(tl, media_id, tl.audio_tracks()[0].id, 37, duration=150, source_in=12)
    clip = next(iter(tl.clips.values()))
    yield tl, clip, clicks, accents
    p.close()


def test_beat_frames_of_a_placed_clip_match_its_clicks(placed):
    tl, clip, clicks, accents = placed
    tempo = tempo_from_clip(tl, clip.id)
    assert float(tempo.bpm) == pytest.approx(128, abs=0.05)

    def heard(times):  # sequence times of the clicks the clip plays
        seq = [Fraction(clip.start, 25) + Fraction(t).limit_denominator(10**6) - Fraction(12, 25) for t in times]
        return [s for s in seq if clip.start <= s * 25 < clip.end]

    def frames(times):
        return [round(s * 25) for s in times]

    assert beat_frames(tempo, 25, clip.start, clip.end) == frames(heard(clicks))
    assert beat_frames(tempo, 25, clip.start, clip.end, bars_only=True) == frames(heard(accents))
    # and the clicks are there in the sequence's sound: each attack in the mix within 1 ms of its time
    mix = mixdown(tl, 0, clip.end)[:, 0]
    loud = np.nonzero(np.abs(mix) > 0.02)[0]
    attacks = loud[np.concatenate([[True], np.diff(loud) > 2400])] / 48000
    assert len(attacks) == len(heard(clicks))
    assert np.abs(attacks - np.array(heard(clicks), dtype=float)).max() < 0.001


def test_set_tempo_from_clip_stores_it_and_returns_the_previous(placed):
    tl, clip, _, _ = placed
    new, old = set_tempo_from_clip(tl, clip.id)
    assert old == TempoMap(120, 0, 4)
    assert project_tempo_map(tl.project) == new
    assert load_show(tl.project).tempo == new  # the lighting engine reads the same map


def test_tempo_from_a_clip_without_a_grid(tmp_path, small_clip):
    p = Project.create(tmp_path / "n.luma")
    create_sequence(p, rate=25)
    tl = Timeline(p)
    mid = media_store.ingest(p, small_clip).id
    edit.add_clip(tl, mid, tl.audio_tracks()[0].id, 0)
    with pytest.raises(LumaError, match="no beat grid yet"):
        tempo_from_clip(tl, next(iter(tl.clips)))
    p.close()


def test_grid_storage_round_trip_and_lighting_settings_share_the_tempo(tmp_path, small_clip):
    p = Project.create(tmp_path / "g.luma")
    mid = media_store.ingest(p, small_clip).id
    assert load_grid(p, mid) is None
    grid = BeatGrid(127.5, (0.1, 0.5706, 1.0412), (0.1,), 3, {"hop": 256})
    store_grid(p, mid, grid)
    assert load_grid(p, mid) == grid
    with pytest.raises(LumaError, match="not in"):
        store_grid(p, mid + 5, grid)
    save_settings(p, TempoMap(Fraction(140), Fraction(1, 8), 3), 60)
    assert project_tempo_map(p) == TempoMap(140, Fraction(1, 8), 3)
    set_project_tempo(p, TempoMap(Fraction(256, 3), Fraction(2), 4))
    assert load_show(p).tempo == TempoMap(Fraction(256, 3), 2, 4)
    assert load_show(p).sample_rate == 60
    p.execute("UPDATE lighting_settings SET value = 'x' WHERE key = 'tempo_bpm'")
    from core.lighting.errors import LightingError

    with pytest.raises(LightingError, match="damaged"):
        load_show(p)
    p.close()
