"""Benchmark: open a project with 10,000 clips and load its timeline.

Goal: < 1 s. Prints the time and its ratio to the goal, and, as a reference
measured in the same run, how long the bare SQLite read of the same rows takes.

Run: .venv/bin/python tests/benchmarks/bench_project_open.py   (or `make bench`)
"""

from __future__ import annotations

import json
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from core.project import Project  # noqa: E402
from core.project.project import now_iso  # noqa: E402
from core.timeline.model import Timeline, create_sequence  # noqa: E402

N_CLIPS = 10_000
GOAL_S = 1.0


def build(path: Path) -> None:
    p = Project.create(path)
    sid = create_sequence(p, video_tracks=4, audio_tracks=4)
    tracks = [r[0] for r in p.query("SELECT id FROM tracks WHERE sequence_id = ?", (sid,))]
    probe = {"duration": "100000", "has_audio": True, "has_video": True, "kind": "video"}
    with p.transaction("media"):
        for i in range(50):
            p.execute("INSERT INTO media(name, path, content_hash, size, kind, probe, added_at) VALUES (?,?,?,?,?,?,?)",
                      (f"m{i}.mp4", f"m{i}.mp4", f"h{i}", 1, "video", json.dumps(probe), now_iso()))
    rows = []
    per_track = N_CLIPS // len(tracks)
    for ti, t in enumerate(tracks):
        for k in range(per_track):
            rows.append((t, 1 + (k % 50), k * 30, 25, 0, f"clip {ti}-{k}"))
    with p.transaction("clips"):
        p.conn.executemany("INSERT INTO clips(track_id, media_id, start, duration, source_in, name) "
                           "VALUES (?,?,?,?,?,?)", rows)
    p.close()


def measure(path: Path, repeats: int = 5) -> tuple[float, float, int]:
    best_open = best_raw = float("inf")
    n = 0
    for _ in range(repeats):
        t0 = time.perf_counter()
        p = Project.open(path)
        tl = Timeline(p)
        n = len(tl.clips)
        best_open = min(best_open, time.perf_counter() - t0)
        p.close()
        t0 = time.perf_counter()
        con = sqlite3.connect(path)
        con.execute("SELECT * FROM clips").fetchall()
        con.close()
        best_raw = min(best_raw, time.perf_counter() - t0)
    return best_open, best_raw, n


def test_bench_project_open():
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "big.luma"
        build(path)
        t_open, t_raw, n = measure(path)
        assert n == N_CLIPS
        print(f"\nproject open + timeline load, {n} clips: {t_open * 1000:.1f} ms "
              f"(goal {GOAL_S * 1000:.0f} ms, ratio to goal {t_open / GOAL_S:.3f}); "
              f"bare sqlite read of the rows: {t_raw * 1000:.1f} ms (ratio {t_open / t_raw:.1f}x)")


if __name__ == "__main__":
    test_bench_project_open()
