"""Benchmark: beat analysis (and librosa's numba warm-up), mixdown and loudness normalisation.

* warm-up: a fresh Python process imports core.audio.beats and analyses 5 s of
  clicks twice; the first call pays numba's compilation inside librosa (its
  guvectorized helpers are compiled at import, not cached on disk), the second
  is the analysis alone. Printed: both times and their ratio.
* analysis of 3 minutes of music-like sound (goal: < 5 s, 36x real time).
* mixdown of 60 s of a three-track timeline with a crossfade, keyframed volume
  and a clip at speed 3/2 (goal: < 2 s, 30x real time), against the plain
  decode of the same media as the reference.
* normalize() of 60 s of stereo to -16 LUFS with limiting (goal: < 5 s).

Run: .venv/bin/python tests/benchmarks/bench_audio.py   (or `make bench`)
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import textwrap
import time
from fractions import Fraction
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))


WARM = textwrap.dedent("""
    import time, sys
    sys.path.insert(0, %r)
    t0 = time.perf_counter()
    import numpy as np
    from core.audio.beats import analyse
    from resources.footage import click_track
    y = click_track(5, 22050, 120, 1)[0]
    t1 = time.perf_counter(); analyse(y)
    t2 = time.perf_counter(); analyse(y)
    t3 = time.perf_counter()
    print(f"{t1 - t0:.3f} {t2 - t1:.3f} {t3 - t2:.3f}")
""")


def warm_up() -> None:
    out = subprocess.run([sys.executable, "-c", WARM % str(ROOT)], capture_output=True, text=True, check=True)
    imp, first, second = (float(v) for v in out.stdout.split())
    print(f"beats warm-up: import {imp:.2f} s, first analysis {first:.2f} s, second {second:.2f} s "
          f"(first/second {first / max(second, 1e-6):.0f}x: numba compiling inside librosa)")


def analysis() -> None:
    from core.audio.beats import analyse
    from tests.core.audio.signals import music_like

    y = music_like(180, 22050).mean(axis=1)
    analyse(y[:22050 * 5])  # warm: numba's compilation is measured above
    t0 = time.perf_counter()
    grid = analyse(y)
    dt = time.perf_counter() - t0
    print(f"beats of 180 s: {dt:.2f} s ({180 / dt:.0f}x real time; goal < 5 s: {dt / 5:.2f} of it), "
          f"{grid.bpm:.2f} BPM")


def mix(tmp: Path) -> None:
    from core.audio.mix import decode_audio, mixdown
    from core.project import Project, media_store
    from core.timeline import edit
    from core.timeline.model import Timeline, create_sequence
    from tests.core.audio.signals import music_like, write_wav

    a = write_wav(tmp / "a.wav", music_like(70, 48000), 48000)
    b = write_wav(tmp / "b.wav", music_like(70, 44100, seed=5), 44100)
    p = Project.create(tmp / "bench.luma")
    create_sequence(p, rate=25, audio_tracks=3)
    tl = Timeline(p)
    ma, mb = media_store.ingest(p, a).id, media_store.ingest(p, b).id
    t1, t2, t3 = (t.id for t in tl.audio_tracks())
    x = edit.add_clip(tl, ma, t1, 0, duration=750).after[0].id
    y = edit.add_clip(tl, ma, t1, 750, duration=750, source_in=100).after[0].id
    edit.add_transition(tl, x, y, "crossfade", 25)
    edit.add_clip(tl, mb, t2, 0, duration=1500)
    edit.set_property(tl, list(tl.clips), "volume", {"keys": [[0, 0.2, "linear"], [700, 1.0, "bezier"]]})
    z = edit.add_clip(tl, mb, t3, 0, duration=900).after[0].id
    edit.set_speed(tl, z, Fraction(3, 2))
    t0 = time.perf_counter()
    ref = decode_audio(a, None, 2, 0, 60 * 48000)
    ref2 = decode_audio(b, None, 2, 0, 60 * 44100)
    t_ref = time.perf_counter() - t0
    t0 = time.perf_counter()
    out = mixdown(tl, 0, 1500)
    dt = time.perf_counter() - t0
    print(f"mixdown of 60 s, 3 tracks: {dt:.2f} s ({60 / dt:.0f}x real time; goal < 2 s: {dt / 2:.2f} of it); "
          f"plain decode of the two files {t_ref:.2f} s (mix/decode {dt / t_ref:.1f}x)")
    assert out.shape == (60 * 48000, 2) and ref.size and ref2.size
    p.close()


def loudness() -> None:
    from core.audio.loudness import normalize
    from tests.core.audio.signals import music_like

    x = music_like(60)
    t0 = time.perf_counter()
    _, report = normalize(x, 48000, -16.0, -1.5)
    dt = time.perf_counter() - t0
    print(f"normalize 60 s stereo: {dt:.2f} s (goal < 5 s: {dt / 5:.2f} of it), limited {report.limited}, "
          f"{report.output_lufs:.2f} LUFS, {report.output_true_peak_db:.2f} dBTP")


def test_bench_audio(tmp_path):
    warm_up()
    analysis()
    mix(tmp_path)
    loudness()


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as d:
        test_bench_audio(Path(d))
