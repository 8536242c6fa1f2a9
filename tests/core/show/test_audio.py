"""Sequence audio mix and the PortAudio clock (a null ALSA device stands in for a sound card)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from core.project import Project, media_store
from core.show.audio import SequenceAudio
from core.timeline import edit
from core.timeline.model import Timeline, create_sequence

ROOT = Path(__file__).resolve().parents[3]


def onsets(mono: np.ndarray, rate: int, threshold: float = 0.2) -> np.ndarray:
    """Seconds where a click starts (first loud sample after >= 0.1 s of quiet)."""
    loud = np.flatnonzero(np.abs(mono) > threshold)
    if not len(loud):
        return np.zeros(0)
    starts = loud[np.r_[True, np.diff(loud) > rate // 10]]
    return starts / rate


@pytest.fixture
def tl(tmp_path, small_clip):
    p = Project.create(tmp_path / "a.luma")
    create_sequence(p, rate=25, width=320, height=240)
    t = Timeline(p)
    t.media_id = media_store.ingest(p, small_clip).id  # 2 s, clicks every 0.5 s from 0
    yield t
    p.close()


def test_mix_places_clips_on_the_sequence(tl):
    a1 = tl.audio_tracks()[0].id
    edit.add_clip(tl, tl.media_id, a1, start=25)  # at 1 s
    mix = SequenceAudio(tl, sample_rate=48000)
    mix.load()
    assert mix.has_audio and mix.errors == []
    out = mix.read(0, 48000 * 4)
    assert out.shape == (192000, 2) and out.dtype == np.float32
    assert np.abs(out[:48000 - 100]).max() == 0.0  # silence before the clip
    clicks = onsets(out[:, 0], 48000)
    assert np.allclose(clicks, [1.0, 1.5, 2.0, 2.5], atol=0.003)
    assert np.abs(out[int(3.01 * 48000):]).max() == 0.0  # and after it
    # reading a span in pieces gives the same samples
    pieces = np.concatenate([mix.read(s, 1000) for s in range(48000, 96000, 1000)])
    assert np.array_equal(pieces, out[48000:96000])


def test_source_in_muted_tracks_and_two_clips_sum(tl):
    a1, a2 = (t.id for t in tl.audio_tracks()[:2])
    edit.add_clip(tl, tl.media_id, a1, start=0, source_in=12)  # starts 0.48 s into the source
    mix = SequenceAudio(tl)
    mix.load()
    single = mix.read(0, 48000 * 2)
    assert np.allclose(onsets(single[:, 0], 48000), [0.02, 0.52, 1.02], atol=0.003)
    edit.add_clip(tl, tl.media_id, a2, start=0, source_in=12)
    both = SequenceAudio(tl)
    both.load()
    doubled = both.read(0, 48000 * 2)
    quiet = np.abs(single) < 0.4  # where the sum does not clip it is exactly twice one clip
    assert np.allclose(doubled[quiet], 2 * single[quiet], atol=1e-6)
    edit.set_track_flag(tl, a1, "muted", True)
    edit.set_track_flag(tl, a2, "muted", True)
    tl.reload()
    silent = SequenceAudio(tl)
    silent.load()
    assert not silent.has_audio and np.abs(silent.read(0, 48000)).max() == 0.0


SCRIPT = textwrap.dedent("""
    import json, sys, time
    sys.path.insert(0, {root!r})
    from core.project import Project
    from core.show.audio import AudioOutput, AudioUnavailable, SequenceAudio
    from core.show.transport import Transport
    from core.timeline.model import Timeline

    p = Project.open({project!r})
    tl = Timeline(p)
    mix = SequenceAudio(tl)
    mix.load()
    tr = Transport(tl.rate)
    out = AudioOutput(mix, tr)
    try:
        out.start()
    except AudioUnavailable as exc:
        print(json.dumps({{"unavailable": str(exc)}}))
        sys.exit(0)
    tr.play(1)
    m0, s0 = time.monotonic(), out.clock()
    time.sleep(0.6)
    res = {{"stream_dt": out.clock() - s0, "mono_dt": time.monotonic() - m0, "pos": float(tr.time()),
           "clock_is_stream": abs(tr.now() - out.clock()) < 0.05, "callbacks": out.callbacks}}
    out.stop()
    res["clock_after_stop_is_monotonic"] = abs(tr.now() - time.monotonic()) < 0.05
    p.close()
    print(json.dumps(res))
""")


def _run(tmp_path, tl, home: Path) -> dict:
    a1 = tl.audio_tracks()[0].id
    edit.add_clip(tl, tl.media_id, a1, start=0)
    tl.project.save()
    script = SCRIPT.format(root=str(ROOT), project=str(tl.project.path))
    env = dict(os.environ, HOME=str(home))
    env.pop("ALSA_CONFIG_PATH", None)
    res = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    return json.loads(res.stdout.strip().splitlines()[-1])


def test_audio_stream_time_is_the_master_clock(tmp_path, tl):
    home = tmp_path / "home"
    home.mkdir()
    (home / ".asoundrc").write_text("pcm.!default { type null }\n")
    res = _run(tmp_path, tl, home)
    if "unavailable" in res:
        pytest.fail(f"PortAudio could not open the null ALSA device: {res['unavailable']} "
                    "(apt install libportaudio2)")
    assert res["clock_is_stream"] and res["callbacks"] > 0
    assert res["stream_dt"] == pytest.approx(res["mono_dt"], abs=0.02)  # the null device runs in real time
    assert res["pos"] == pytest.approx(res["stream_dt"], abs=0.05)  # the sequence followed the stream clock
    assert res["clock_after_stop_is_monotonic"]


PLAYBACK_SCRIPT = textwrap.dedent("""
    import json, sys, time
    sys.path.insert(0, {root!r})
    from core.project import Project
    from core.show.audio import AudioPlayback
    from core.show.transport import Transport
    from core.timeline.model import Timeline

    p = Project.open({project!r})
    tl = Timeline(p)
    tr = Transport(tl.rate)
    pb = AudioPlayback(tl, tr)
    loaded = pb.wait_loaded()
    why = pb.start()
    tr.play(1)
    time.sleep(0.3)
    res = {{"loaded": loaded, "why": why, "status": pb.status, "callbacks": pb.output.callbacks if pb.output else 0,
           "pos": float(tr.time())}}
    pb.close()
    p.close()
    print(json.dumps(res))
""")


def test_playback_opens_the_device_once_and_reports_why_not(tmp_path, tl):
    a1 = tl.audio_tracks()[0].id
    edit.add_clip(tl, tl.media_id, a1, start=0)
    tl.project.save()
    script = PLAYBACK_SCRIPT.format(root=str(ROOT), project=str(tl.project.path))
    home = tmp_path / "home"
    home.mkdir()
    (home / ".asoundrc").write_text("pcm.!default { type null }\n")
    res = subprocess.run([sys.executable, "-c", script], env=dict(os.environ, HOME=str(home)),
                         capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout.strip().splitlines()[-1])
    assert out["loaded"] and out["why"] is None and out["callbacks"] > 0
    assert "PortAudio" in out["status"] and 0.2 < out["pos"] < 0.6
    # no sound device at all: an ALSA config whose default device cannot open
    (home / ".asoundrc").write_text("pcm.!default { type hw card 99 }\n")
    res = subprocess.run([sys.executable, "-c", script], env=dict(os.environ, HOME=str(home)),
                         capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout.strip().splitlines()[-1])
    assert out["why"] and "no audio" in out["why"] and out["status"] == out["why"]
    assert 0.2 < out["pos"] < 0.6  # playback went on with the system clock


def test_playback_mix_is_the_render_mix(tl):
    """What plays is what renders: clip volume and fades reach the playback mix."""
    from core.audio.mix import mixdown

    a1 = tl.audio_tracks()[0].id
    cid = edit.add_clip(tl, tl.media_id, a1, start=0).after[0].id
    edit.set_property(tl, [cid], "volume", 0.25)
    edit.set_property(tl, [cid], "fade_in", 10)
    mix = SequenceAudio(tl)
    mix.load()
    played = mix.read(0, 48000)
    rendered = mixdown(tl, 0, 25, 48000, 2)
    assert np.array_equal(played, np.clip(rendered, -1, 1))
    full = SequenceAudio(tl)
    edit.set_property(tl, [cid], "volume", 1.0)
    full.load()
    loud = full.read(0, 48000)
    quiet = np.abs(loud) < 0.9
    assert np.allclose(played[quiet], 0.25 * loud[quiet], atol=1e-6)
