"""The `luma` command, run as a real process."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def luma(*args, cwd=None, env_extra=None, timeout=180):
    env = dict(os.environ)
    env.pop("DISPLAY", None)
    env.pop("WAYLAND_DISPLAY", None)
    env.pop("QT_QPA_PLATFORM", None)
    env["PYTHONPATH"] = str(ROOT)
    env.update(env_extra or {})
    return subprocess.run([sys.executable, "-m", "app.cli", *map(str, args)], cwd=cwd or ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout)


def test_version():
    r = luma("--version")
    assert r.returncode == 0 and r.stdout.startswith("Luma Studio ")


def test_info_probes_as_json(small_clip):
    r = luma("info", small_clip)
    assert r.returncode == 0, r.stderr
    info = json.loads(r.stdout)
    assert info["kind"] == "video" and info["video"]["width"] == 320 and info["video"]["rate"] == "25/1"
    assert info["audio"]["sample_rate"] == 48000


def test_errors_are_messages_with_nonzero_exit(tmp_path):
    junk = tmp_path / "junk.mov"
    junk.write_bytes(os.urandom(10000))
    r = luma("info", junk)
    assert r.returncode != 0 and r.stdout == ""
    assert r.stderr.startswith("luma: ") and "junk.mov" in r.stderr and "Traceback" not in r.stderr
    r = luma("info", tmp_path / "missing.mp4")
    assert r.returncode != 0 and "missing.mp4" in r.stderr and "Traceback" not in r.stderr
    r = luma("new", tmp_path / "x.luma", "--size", "big")
    assert r.returncode != 0 and "1920x1080" in r.stderr


def test_new_ingest_info(tmp_path, small_clip):
    proj = tmp_path / "show.luma"
    r = luma("new", proj, "--rate", "29.97", "--size", "1280x720")
    assert r.returncode == 0, r.stderr
    junk = tmp_path / "noise.mp4"
    junk.write_bytes(os.urandom(5000))
    r = luma("ingest", proj, small_clip, junk)
    assert r.returncode == 1  # one file failed
    assert "noise.mp4" in r.stderr
    added = [json.loads(line) for line in r.stdout.splitlines()]
    assert [a["name"] for a in added] == ["small.mp4"]
    r = luma("info", proj)
    summary = json.loads(r.stdout)
    assert summary["sequences"][0]["rate"] == "30000/1001"
    assert [m["name"] for m in summary["media"]] == ["small.mp4"]
    # the project file is a real SQLite database that sqlite3 reads back
    con = sqlite3.connect(proj)
    assert con.execute("SELECT name FROM media").fetchall() == [("small.mp4",)]
    con.close()


def test_demo_headless_makes_a_playable_project(tmp_path):
    r = luma("demo", "--headless", "--out", tmp_path)
    assert r.returncode == 0, r.stderr
    assert "demo.luma" in r.stdout
    from core.project import Project
    from core.render.frame_source import TimelineFrameSource
    from core.timeline.model import Timeline
    from resources.footage import read_barcode

    with Project.open(tmp_path / "demo.luma") as p:
        tl = Timeline(p)
        assert len(tl.clips) == 4 and tl.duration == 325
        src = TimelineFrameSource(tl)
        assert read_barcode(src.frame(100)) == 100
        assert read_barcode(src.frame(210)) == 10  # second clip starts at 200
        src.close()


def test_gui_without_display_says_what_to_do(tmp_path):
    r = luma()
    assert r.returncode == 2
    assert "no display" in r.stderr and "luma demo --headless" in r.stderr
    r = luma("demo", "--out", tmp_path)
    assert r.returncode == 2 and "--headless" in r.stderr


def test_pyinstaller_spec_is_valid_python_naming_real_files():
    spec = ROOT / "packaging" / "luma.spec"
    code = compile(spec.read_text(), str(spec), "exec")
    assert "Analysis" in code.co_names and "COLLECT" in code.co_names
    for rel in ("packaging/luma_main.py", "resources/shaders", "resources/styles", "resources/icons",
                "resources/fixtures", "packaging/luma-studio.svg"):
        assert (ROOT / rel).exists(), rel
    desktop = (ROOT / "packaging" / "luma-studio.desktop").read_text()
    assert "Exec=luma %f" in desktop and "Icon=luma-studio" in desktop


def test_desktop_file_validates():
    r = subprocess.run(["desktop-file-validate", str(ROOT / "packaging" / "luma-studio.desktop")],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


def test_demo_never_overwrites_without_force(tmp_path):
    assert luma("demo", "--headless", "--out", tmp_path).returncode == 0
    marker = tmp_path / "demo.luma"
    con = sqlite3.connect(marker)
    con.execute("INSERT INTO project_meta(key, value) VALUES ('user_edit', 'keep me')")
    con.commit()
    con.close()
    r = luma("demo", "--headless", "--out", tmp_path)
    assert r.returncode == 1 and "exists already" in r.stderr and "--force" in r.stderr
    con = sqlite3.connect(marker)
    assert con.execute("SELECT value FROM project_meta WHERE key='user_edit'").fetchone() == ("keep me",)
    con.close()
    assert luma("demo", "--headless", "--force", "--out", tmp_path).returncode == 0
