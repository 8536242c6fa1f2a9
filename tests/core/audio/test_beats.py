"""Beat grids: click tracks of known tempo and accents, a real piece of music, the stored job."""

from __future__ import annotations

import numpy as np
import pytest

from core.audio.beats import BeatJob, analyse_file, load_grid
from core.audio.mix import NoAudioError
from core.errors import JobCancelled, LumaError
from core.project import Project, media_store
from resources.footage import write_test_clip
from tests.core.audio.signals import MOD_MUSIC, accented_clicks, render_mod


def nearest_errors(found, truth) -> np.ndarray:
    f, t = np.asarray(found)[:, None], np.asarray(truth)[None, :]
    d = f - t
    return d[np.arange(len(found)), np.abs(d).argmin(axis=1)]


@pytest.mark.parametrize("bpm,lead,per_bar", [(120, 0.0, 4), (128, 0.37, 4), (100, 0.21, 3)])
def test_click_track_tempo_beats_and_downbeats(tmp_path, bpm, lead, per_bar):
    clicks, accents = accented_clicks(tmp_path / "clicks.wav", bpm, seconds=10, lead=lead, beats_per_bar=per_bar)
    grid = analyse_file(tmp_path / "clicks.wav", beats_per_bar=per_bar)
    assert abs(grid.bpm - bpm) / bpm < 0.01
    assert abs(grid.bpm - bpm) < 0.05  # the least-squares fit is far better than the 1 % asked
    err = nearest_errors(grid.beats, clicks)
    assert np.abs(err).max() < 0.020, err
    assert np.median(np.abs(err)) < 0.002  # refined onto the attacks, not the envelope's 11.6 ms frames
    assert len(grid.beats) == len(clicks)  # the first click (at 0 s when lead is 0) and the last are found too
    assert len(grid.downbeats) == len(accents)
    assert np.abs(np.asarray(grid.downbeats) - np.asarray(accents)).max() < 0.020
    assert grid.beats_per_bar == per_bar


def _mod_rows_at_default_speed(path, positions: int) -> None:
    """Check the ground truth of the first song positions: 4-channel ProTracker module, speed 6 and tempo 125
    (0.12 s a row, 4 rows a beat = 125 BPM), no tempo change and no jump."""
    data = path.read_bytes()
    assert data[1080:1084] == b"M.K."
    order = list(data[952:952 + data[950]])
    for pattern in order[:positions]:
        base = 1084 + pattern * 1024
        for row in range(64):
            for ch in range(4):
                cell = data[base + row * 16 + ch * 4:base + row * 16 + ch * 4 + 4]
                effect, param = cell[2] & 15, cell[3]
                assert not (effect == 15 and param != 6), f"pattern {pattern} row {row} sets speed/tempo {param}"
                assert effect not in (11, 13), f"pattern {pattern} row {row} jumps"


def test_real_music_tempo_and_beats_on_the_row_grid(tmp_path):
    wav = render_mod(tmp_path / "music.wav", 20)
    _mod_rows_at_default_speed(MOD_MUSIC, 3)  # 3 patterns of 7.68 s cover the 20 s
    grid = analyse_file(wav)
    assert abs(grid.bpm - 125) / 125 < 0.01
    beats = np.asarray(grid.beats)
    assert len(beats) >= 30 and beats[-1] - beats[0] > 15
    rows = beats / 0.12
    assert np.abs(rows - np.round(rows)).max() * 0.12 < 0.020  # every beat on a note row of the score
    assert np.all(np.round(np.diff(beats) / 0.12) % 4 == 0)  # four rows (one beat) apart, or whole beats
    downs = np.asarray(grid.downbeats)
    assert len(downs) >= 7 and np.all(np.round(np.diff(downs) / 0.48) == 4)  # bars of four beats


def test_a_file_without_sound_is_refused_clearly(tmp_path):
    silent = write_test_clip(tmp_path / "picture.mp4", frames=5, size=(160, 120), audio=False)
    with pytest.raises(NoAudioError, match="picture.mp4 has no sound"):
        analyse_file(silent)


def test_too_short_or_silent_sound(tmp_path):
    from tests.core.audio.signals import level_wav

    with pytest.raises(LumaError, match="too short"):
        analyse_file(level_wav(tmp_path / "short.wav", 0.3, seconds=0.5))
    with pytest.raises(LumaError, match="silent"):
        analyse_file(level_wav(tmp_path / "silent.wav", 0.0, seconds=3))


@pytest.fixture
def clicks_project(tmp_path):
    clicks, accents = accented_clicks(tmp_path / "clicks.wav", 128, seconds=8, lead=0.3)
    p = Project.create(tmp_path / "b.luma")
    media_id = media_store.ingest(p, tmp_path / "clicks.wav").id
    p.close()
    return tmp_path / "b.luma", media_id, clicks


def test_beat_job_stores_the_grid_and_reuses_it(clicks_project):
    path, media_id, clicks = clicks_project
    seen = []
    job = BeatJob(path, media_id)
    grid = job.run(lambda f, m="": seen.append(f), lambda: False)
    assert seen[0] == 0.0 and seen[-1] == 1.0 and seen == sorted(seen)
    assert not job.reused and job.checkpoint() == {"media_id": media_id, "beats_per_bar": 4}
    with Project.open(path) as p:
        stored = load_grid(p, media_id)
    assert stored.beats == grid.beats and stored.downbeats == grid.downbeats
    assert stored.bpm == pytest.approx(128, rel=1e-3) and stored.params["hop"] == 256
    again = BeatJob(path, media_id)
    again.resume(job.checkpoint())
    assert again.run(lambda *a: None, lambda: False) == stored and again.reused
    redo = BeatJob(path, media_id, force=True)
    redo.run(lambda *a: None, lambda: False)
    assert not redo.reused
    with pytest.raises(LumaError, match="another media"):
        BeatJob(path, media_id + 1).resume(job.checkpoint())


def test_a_cancelled_beat_job_stores_nothing(clicks_project):
    path, media_id, _ = clicks_project
    calls = []

    def cancelled():
        calls.append(1)
        return len(calls) > 2  # stop while reading the sound

    with pytest.raises(JobCancelled):
        BeatJob(path, media_id).run(lambda *a: None, cancelled)
    with Project.open(path) as p:
        assert load_grid(p, media_id) is None
