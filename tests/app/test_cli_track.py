"""``luma track``: the TRACK.json it writes, argument checking, --select-at."""

from __future__ import annotations

import argparse
import json

import pytest

from app.cli_track import add_commands, parse_frames
from core.errors import LumaError


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="luma")
    add_commands(p.add_subparsers(dest="command"))
    return p


def run(argv: list[str]) -> int:
    args = parser().parse_args(argv)
    return args.func(args)


def test_track_writes_the_exact_format(vtest, tmp_path, capsys):
    out = tmp_path / "track.json"
    code = run(["track", str(vtest), "--bbox", "349,200,35,74", "--frame", "100", "--frames", "95:110",
                "--tracker", "csrt", "--out", str(out)])
    assert code == 0
    data = json.loads(out.read_text())
    assert set(data) == {"video", "fps", "size", "tracker", "frames"}
    assert data["video"] == str(vtest) and data["fps"] == 10.0 and data["size"] == [768, 576]
    assert data["tracker"] == "csrt"
    assert [f["frame"] for f in data["frames"]] == list(range(95, 111))
    for f in data["frames"]:
        assert set(f) == {"frame", "bbox", "confidence", "lost"}
        assert len(f["bbox"]) == 4 and all(isinstance(v, (int, float)) for v in f["bbox"])
        assert 0.0 <= f["confidence"] <= 1.0 and isinstance(f["lost"], bool)
    assert data["frames"][5]["bbox"] == [349.0, 200.0, 384.0, 274.0]  # the start frame is the given box
    captured = capsys.readouterr()
    assert captured.out == ""  # progress and the summary go to stderr
    assert "16 frames" in captured.err


def test_select_at_picks_the_detection_under_the_point(vtest, tmp_path, capsys):
    out = tmp_path / "track.json"
    assert run(["track", str(vtest), "--select-at", "365,240", "--frame", "100", "--frames", "100:102",
                "--tracker", "kcf", "-o", str(out)]) == 0
    first = json.loads(out.read_text())["frames"][0]
    x1, y1, x2, y2 = first["bbox"]
    assert x1 < 365 < x2 and y1 < 240 < y2 and (x2 - x1) < 80  # the pedestrian, not the whole frame
    assert "selected" in capsys.readouterr().err


@pytest.mark.parametrize("argv,message", [
    (["--bbox", "1,2,3"], "--bbox '1,2,3' should be 4 comma-separated numbers"),
    (["--bbox", "10,10,0,5"], "positive width and height"),
    (["--bbox", "10,10,20,20", "--frames", "50:10"], "last frame is before the first"),
    (["--bbox", "10,10,20,20", "--frames", "5"], "should look like 100:300"),
    (["--bbox", "10,10,20,20", "--frame", "9999"], "outside the tracked range"),
])
def test_bad_arguments_give_a_message_and_exit_1(vtest, tmp_path, capsys, argv, message):
    out = tmp_path / "t.json"
    assert run(["track", str(vtest), "--tracker", "kcf", "--out", str(out), *argv]) == 1
    assert message in capsys.readouterr().err
    assert not out.exists()


def test_bbox_and_select_at_are_exclusive_and_one_is_required(vtest, capsys):
    with pytest.raises(SystemExit):
        parser().parse_args(["track", str(vtest), "--bbox", "1,2,3,4", "--select-at", "1,2", "--out", "x"])
    with pytest.raises(SystemExit):
        parser().parse_args(["track", str(vtest), "--out", "x"])
    with pytest.raises(SystemExit):
        parser().parse_args(["track", str(vtest), "--bbox", "1,2,3,4", "--tracker", "nope", "--out", "x"])


def test_parse_frames():
    assert parse_frames(None) is None
    assert parse_frames("3:9") == (3, 9)
    assert parse_frames("3:") == (3, None)
    assert parse_frames(":9") == (None, 9)
    with pytest.raises(LumaError):
        parse_frames("a:b")


def test_missing_video(tmp_path, capsys):
    assert run(["track", str(tmp_path / "none.mp4"), "--bbox", "1,2,3,4", "--tracker", "kcf",
                "--out", str(tmp_path / "t.json")]) == 1
    assert "luma:" in capsys.readouterr().err
