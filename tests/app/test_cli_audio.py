"""``luma beats``, ``luma tempo`` and ``luma loudness`` through the real ``luma`` entry point."""

from __future__ import annotations

import re
from fractions import Fraction

import pytest

from app.cli import main
from core.audio.loudness import normalize
from core.audio.tempo import load_grid, project_tempo_map, tempo_from_grid
from core.project import Project, media_store
from core.time import TempoMap
from core.timeline import edit
from core.timeline.model import Timeline, create_sequence
from resources.footage import write_test_clip
from tests.core.audio.signals import accented_clicks, music_like, write_wav


@pytest.fixture
def project(tmp_path):
    accented_clicks(tmp_path / "clicks.wav", 128, seconds=8, lead=0.3, sample_rate=48000)
    path = tmp_path / "a.luma"
    with Project.create(path) as p:
        create_sequence(p, rate=25, width=320, height=240)
        tl = Timeline(p)
        clicks = media_store.ingest(p, tmp_path / "clicks.wav").id
        media_store.ingest(p, write_test_clip(tmp_path / "mute.mp4", frames=5, size=(160, 120), audio=False))
        edit.add_clip(tl, clicks, tl.audio_tracks()[0].id, 25, duration=100, source_in=5)
    return path, clicks


def test_beats_analyses_stores_and_sets_the_tempo_from_the_clip(project, capsys):
    path, clicks = project
    assert main(["beats", str(path), "clicks", "--set-tempo"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"^clicks\.wav: 128\.0\d BPM, \d+ beats, \d+ bars", out, re.M), out
    assert "from clip clicks.wav at frame 25" in out
    with Project.open(path) as p:
        grid = load_grid(p, clicks)
        tempo = project_tempo_map(p)
    assert tempo == tempo_from_grid(grid, 1, Fraction(5, 25))  # placed through the clip: 25 frames in, 5 skipped
    assert float(tempo.bpm) == pytest.approx(128, abs=0.05)
    # by id the second time: the stored grid is reused
    assert main(["beats", str(path), str(clicks)]) == 0
    assert "(stored earlier)" in capsys.readouterr().out


def test_beats_errors_name_the_problem(project, capsys):
    path, _ = project
    assert main(["beats", str(path), "nothing"]) == 1
    assert "no media 'nothing'" in capsys.readouterr().err
    assert main(["beats", str(path), "mute"]) == 1
    assert "mute.mp4 has no sound" in capsys.readouterr().err


def test_tempo_prints_and_sets_parts(project, capsys):
    path, _ = project
    assert main(["tempo", str(path)]) == 0
    assert capsys.readouterr().out.strip() == "tempo: 120.000 BPM, beat 0 at 0.000 s, 4 beats a bar"
    assert main(["tempo", str(path), "--bpm", "256/3", "--offset", "0.5"]) == 0
    assert main(["tempo", str(path), "--beats-per-bar", "3"]) == 0
    with Project.open(path) as p:
        assert project_tempo_map(p) == TempoMap(Fraction(256, 3), Fraction(1, 2), 3)
    assert "85.333 BPM, beat 0 at 0.500 s, 3 beats a bar" in capsys.readouterr().out
    assert main(["tempo", str(path), "--bpm", "fast"]) == 1
    assert "--bpm 'fast' should be a number" in capsys.readouterr().err
    assert main(["tempo", str(path), "--bpm", "0"]) == 1


def test_loudness_prints_lufs_and_true_peak(tmp_path, capsys):
    y, _ = normalize(music_like(6), 48000, -16.0, -1.5)
    wav = write_wav(tmp_path / "norm.wav", y, 48000)
    assert main(["loudness", str(wav)]) == 0
    out = capsys.readouterr().out
    lufs = float(re.search(r"integrated: (-?[\d.]+) LUFS", out).group(1))
    peak = float(re.search(r"true peak: (-?[\d.]+) dBTP", out).group(1))
    assert lufs == pytest.approx(-16.0, abs=0.1) and peak <= -1.5
    silent = write_test_clip(tmp_path / "mute.mp4", frames=5, size=(160, 120), audio=False)
    assert main(["loudness", str(silent)]) == 1
    assert "no audio stream" in capsys.readouterr().err
