"""``luma segment``: the PNG masks it writes (names, size, values), propagation, and its error exits."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from app.cli import main
from app.cli_util import EXIT_ERROR

# frame 0 of vtest.avi: a man standing on the left at about (254, 220)-(284, 308)
MAN = "245,212,47,100"
MAN_BOX = (245, 212, 292, 312)
ROOT = Path(__file__).resolve().parents[2]


def _read(path: Path) -> np.ndarray:
    mask = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    assert mask is not None, f"{path} is not a readable PNG"
    return mask


def _check_mask(mask: np.ndarray, box=MAN_BOX, slack: int = 12) -> None:
    assert mask.shape == (576, 768) and mask.dtype == np.uint8
    assert set(np.unique(mask)) <= {0, 255}
    on = mask == 255
    x1, y1, x2, y2 = box
    area = np.count_nonzero(on)
    assert 0.2 * (x2 - x1) * (y2 - y1) < area < (x2 - x1) * (y2 - y1)
    near = np.zeros_like(on)
    near[y1 - slack:y2 + slack, x1 - slack:x2 + slack] = True
    assert np.count_nonzero(on & near) >= 0.97 * area


def test_one_frame_from_a_box(vtest, tmp_path, capsys):
    out = tmp_path / "masks"
    assert main(["segment", str(vtest), "--bbox", MAN, "--frame", "0", "--out", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["mask.000000.png"]
    mask = _read(out / "mask.000000.png")
    _check_mask(mask)
    assert mask[265, 268] == 255  # the man's chest
    captured = capsys.readouterr()
    assert captured.out == "" and "1 mask(s)" in captured.err


def test_points_prompt(vtest, tmp_path):
    out = tmp_path / "m"
    assert main(["segment", str(vtest), "--points", "268,250,+", "--out", str(out)]) == 0
    mask = _read(out / "mask.000000.png")
    assert mask[250, 268] == 255
    _check_mask(mask, slack=25)


def test_frames_range_propagates_and_names_by_source_index(vtest, tmp_path, capsys):
    out = tmp_path / "seq"
    assert main(["segment", str(vtest), "--bbox", MAN, "--frame", "2", "--frames", "0:5", "--out", str(out)]) == 0
    names = sorted(p.name for p in out.iterdir())
    assert names == [f"mask.{i:06d}.png" for i in range(6)]
    key = np.count_nonzero(_read(out / "mask.000002.png") == 255)
    for name in names:
        mask = _read(out / name)
        assert mask.shape == (576, 768) and mask.dtype == np.uint8 and set(np.unique(mask)) <= {0, 255}
        on = mask == 255
        assert 0.5 * key < np.count_nonzero(on) < 1.5 * key
        # he walks right by about 6 px a frame: every mask stays on him, none on the other people
        assert not on[:200].any() and not on[320:].any() and not on[:, :235].any() and not on[:, 335:].any()
    centre_x = [np.nonzero(_read(out / n))[1].mean() for n in names]
    assert centre_x[0] + 3 < centre_x[2] < centre_x[5] - 10  # the masks follow him (not copies of the key)
    err = capsys.readouterr().err
    assert "6 mask(s) for frames 0-5" in err and "propagate" in err


def test_propagation_missing_is_reported(vtest, tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "core.vision.propagate", None)  # the import fails
    code = main(["segment", str(vtest), "--bbox", MAN, "--frames", "0:3", "--out", str(tmp_path / "x")])
    assert code == EXIT_ERROR
    assert "propagation is not available" in capsys.readouterr().err


@pytest.mark.parametrize("args, message", [
    (["--bbox", "1,2,3"], "X,Y,W,H"),
    (["--bbox", "1,2,a,4"], "X,Y,W,H"),
    (["--bbox", "10,10,0,5"], "positive"),
    (["--bbox", MAN, "--frame", "9999"], "frame 9999 is outside the clip"),
    (["--bbox", MAN, "--frame", "-1"], "outside the clip"),
    (["--bbox", MAN, "--frame", "10", "--frames", "20:30"], "must contain --frame 10"),
    (["--bbox", MAN, "--frames", "0:5000"], "outside the clip"),
    (["--bbox", MAN, "--frames", "7"], "should look like"),
    (["--points", "10,20"], "expected X,Y,+"),
    (["--points", "10,20,-"], "positive"),
    ([], "--bbox"),
    (["--bbox", MAN, "--backend", "nope"], "nope"),
    (["--bbox", MAN, "--model", "yolo11n-pose"], "classic"),
    (["--bbox", "2000,2000,10,10"], "outside"),
])
def test_bad_input_exits_with_a_message(vtest, tmp_path, capsys, args, message):
    out = tmp_path / "o"
    assert main(["segment", str(vtest), *args, "--out", str(out)]) == EXIT_ERROR
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert last.startswith("luma: ") and message in last
    assert not out.exists() or not any(out.iterdir())


def test_unreadable_video_in_a_real_process(tmp_path):
    bad = tmp_path / "clip.mp4"
    bad.write_bytes(b"this is not a video")
    run = subprocess.run([sys.executable, "-m", "app.cli", "segment", str(bad), "--bbox", MAN, "--out",
                          str(tmp_path / "o")], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert run.returncode == EXIT_ERROR
    assert run.stderr.startswith("luma: ") and "clip.mp4" in run.stderr
    missing = subprocess.run([sys.executable, "-m", "app.cli", "segment", str(tmp_path / "none.avi"), "--bbox",
                              MAN], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert missing.returncode == 2 and "--out" in missing.stderr  # argparse: --out is required
