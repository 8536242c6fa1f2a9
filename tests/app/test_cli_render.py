"""``luma render-tracked`` and ``luma concat`` through their argparse commands."""

from __future__ import annotations

import argparse
from fractions import Fraction

import av
import pytest

from app.cli_render import add_commands
from core.render.overlay import Anchor, OverlayStyle, label_geometry
from core.vision.types import TrackPoint, TrackResult
from resources.footage import read_barcode, write_test_clip


def run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="luma")
    add_commands(parser.add_subparsers(dest="command"))
    args = parser.parse_args(argv)
    return args.func(args)


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    d = tmp_path_factory.mktemp("cli_render")
    video = write_test_clip(d / "clip.mp4", frames=25, size=(320, 240), rate=Fraction(25), gop=12)
    track = d / "clip.track.json"
    TrackResult("clip.mp4", 25.0, (320, 240), "csrt",
                [TrackPoint(i, (120.0, 100.0, 180.0, 220.0), 0.9, i == 5) for i in range(25)]).save(track)
    return video, track


def test_render_tracked(clip, tmp_path, capsys):
    video, track = clip
    out = tmp_path / "out.mp4"
    code = run(["render-tracked", str(video), "--track", str(track), "--style", "label", "--name", "Ann",
                "--color", "#00ff00", "--profile", "final", "-o", str(out)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "25 frames, 320x240 at 25 fps, audio copied, indicator on 24 frames" in captured.out
    assert "100%" in captured.err  # progress on stderr
    with av.open(str(out)) as c:
        frames = [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]
        assert len(c.streams.audio) == 1
    assert [read_barcode(f) for f in frames] == list(range(25))
    # the green label sits above the box top (y 100), centred on x 150
    style = OverlayStyle("label", "#00ff00", name="Ann")
    x1, y1, x2, y2, *_ = label_geometry(Anchor(150, 100, 120, (120, 100, 180, 220)), style, (320, 240), "Ann")
    assert y2 <= 100 and x1 < 150 < x2
    label = frames[0][y1 + 1:y2 - 1, x1 + 1:x2 - 1].reshape(-1, 3).astype(int)
    assert ((label[:, 1] > 200) & (label[:, 0] < 80)).mean() > 0.5


def test_render_tracked_preview_default_ring(clip, tmp_path, capsys):
    video, track = clip
    out = tmp_path / "p.mp4"
    assert run(["render-tracked", str(video), "--track", str(track), "-o", str(out)]) == 0
    assert "30 frames, 320x240 at 30 fps" in capsys.readouterr().out


@pytest.mark.parametrize("extra,message", [
    (["--color", "#12"], "colour '#12'"),
    (["--track", "missing.json"], "no such track file"),
])
def test_render_tracked_errors(clip, tmp_path, capsys, extra, message):
    video, track = clip
    argv = ["render-tracked", str(video), "--track", str(track), "-o", str(tmp_path / "o.mp4")] + extra
    assert run(argv) == 1
    err = capsys.readouterr().err
    assert err.startswith("luma: ") and message in err
    assert not (tmp_path / "o.mp4").exists()


def test_render_tracked_rejects_unknown_style(clip, tmp_path):
    video, track = clip
    with pytest.raises(SystemExit):
        run(["render-tracked", str(video), "--track", str(track), "--style", "sparkle", "-o", str(tmp_path / "o.mp4")])


def test_concat(clip, tmp_path, capsys):
    video, _ = clip
    other = write_test_clip(tmp_path / "big.mp4", frames=10, size=(640, 480), rate=Fraction(25), gop=5)
    out = tmp_path / "reel.mp4"
    assert run(["concat", str(video), str(video), "-o", str(out)]) == 0
    assert "2 clips, 50 frames, joined without re-encoding" in capsys.readouterr().out
    out2 = tmp_path / "reel2.mp4"
    assert run(["concat", str(video), str(other), "-o", str(out2)]) == 0
    assert "35 frames, re-encoded (big.mp4: video size differs from clip.mp4)" in capsys.readouterr().out
    with av.open(str(out2)) as c:
        assert [read_barcode(f.to_ndarray(format="rgb24")) for f in c.decode(video=0)] == \
            list(range(25)) + list(range(10))


def test_concat_errors(clip, tmp_path, capsys):
    video, _ = clip
    assert run(["concat", str(video), str(tmp_path / "nope.mp4"), "-o", str(tmp_path / "r.mp4")]) == 1
    assert "luma: nope.mp4: file not found" in capsys.readouterr().err
