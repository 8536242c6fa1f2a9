"""``luma roto new/key/propagate/list`` and ``luma roto-export`` on a real project with vtest.avi (app/cli_roto.py)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from app.cli import main
from core.project import Project
from core.project.media_store import ingest
from core.vision import roto as R

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def project_path(tmp_path, vtest) -> Path:
    p = Project.create(tmp_path / "p.luma")
    ingest(p, vtest, with_thumbnail=False)
    p.close()
    return tmp_path / "p.luma"


def test_new_propagate_list_and_export(project_path, tmp_path, capsys):
    # the walker in the dark coat on frame 300 (box as X,Y,W,H)
    assert main(["roto", "new", str(project_path), "--name", "walker", "--frame", "300", "--bbox", "310,206,38,94",
                 "--frames", "296:305"]) == 0
    assert "roto propagate" in capsys.readouterr().err
    assert main(["roto", "key", str(project_path), "--object", "walker", "--frame", "305",
                 "--bbox", "296,206,40,94", "--points", "316,250,+"]) == 0
    assert main(["roto", "propagate", str(project_path), "--object", "walker"]) == 0
    assert main(["roto", "list", str(project_path)]) == 0
    listing = capsys.readouterr().out
    assert "'walker'" in listing and "frames 296-305, complete, 10 mattes, 0 frames to propagate" in listing
    assert "300(prompt), 305(prompt)" in listing

    p = Project.open(project_path)
    obj = R.find_object(p, "walker")
    mattes = {f: R.matte(p, obj.id, f) for f in range(296, 306)}
    p.close()
    for f, m in mattes.items():
        ys, xs = np.nonzero(m >= 128)
        assert len(xs) > 400 and 300 < xs.mean() < 350, f  # on him, every frame

    out = tmp_path / "png"
    assert main(["roto-export", str(project_path), "--object", "walker", "--format", "png", "-o", str(out)]) == 0
    files = sorted(out.iterdir())
    assert [f.name for f in files] == [f"matte.{n:04d}.png" for n in range(297, 307)]
    assert np.array_equal(cv2.imread(str(files[4]), cv2.IMREAD_UNCHANGED), mattes[300])

    nk = tmp_path / "walker.nk"
    assert main(["roto-export", str(project_path), "--object", "#" + str(obj.id), "--format", "nuke", "-o",
                 str(nk), "--first-frame", "1001"]) == 0
    text = nk.read_text()
    assert text.count("Roto {") == 1 and "first_frame 1297" in text and "last_frame 1306" in text

    js = tmp_path / "walker.json"
    assert main(["roto-export", str(project_path), "--object", "walker", "--format", "json", "-o", str(js)]) == 0
    data = json.loads(js.read_text())
    assert [k["frame"] for k in data["tracks"][0]["keys"]] == list(range(296, 306))


def test_errors_are_clear_and_leave_nothing_half_made(project_path, tmp_path, capsys):
    assert main(["roto", "new", str(project_path), "--name", "x", "--frame", "900", "--bbox", "1,1,20,20"]) == 1
    assert "frame 900 is outside the clip" in capsys.readouterr().err
    p = Project.open(project_path)
    assert R.list_objects(p) == []  # the object made for the failed prompt was removed again
    p.close()
    assert main(["roto", "new", str(project_path), "--name", "x", "--frame", "3", "--bbox", "1,1,0,20"]) == 1
    assert "is empty" in capsys.readouterr().err
    assert main(["roto", "propagate", str(project_path), "--object", "nobody"]) == 1
    assert "no roto object named 'nobody'" in capsys.readouterr().err
    assert main(["roto", "new", str(tmp_path / "missing.luma"), "--name", "x", "--frame", "3",
                 "--bbox", "1,1,9,9"]) == 1
    assert "no such project file" in capsys.readouterr().err
    assert main(["roto", "new", str(project_path), "--name", "y", "--frame", "300", "--bbox", "310,206,38,94",
                 "--frames", "299:301"]) == 0
    capsys.readouterr()
    # nothing propagated yet: the shape export says what to do; the matte export has the keyframe only
    assert main(["roto-export", str(project_path), "--object", "y", "--format", "png", "-o",
                 str(tmp_path / "m")]) == 0
    assert [f.name for f in (tmp_path / "m").iterdir()] == ["matte.0301.png"]


def test_roto_export_help_lists_every_format():
    out = subprocess.run([sys.executable, "-m", "app.cli", "roto-export", "--help"], capture_output=True, text=True,
                         cwd=str(ROOT), timeout=60)
    assert out.returncode == 0
    for fmt in ("png", "exr", "nuke", "silhouette", "aftereffects", "fusion", "blender", "json"):
        assert fmt in out.stdout
