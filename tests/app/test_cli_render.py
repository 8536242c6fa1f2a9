"""``luma render``, ``luma render-tracked`` and ``luma concat`` through their argparse commands."""

from __future__ import annotations

import argparse
import json
from fractions import Fraction

import av
import pytest

from app.cli_render import add_commands
from core.errors import LumaError
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


# ------------------------------------------------------------------ luma render


@pytest.fixture(scope="module")
def seq_project(tmp_path_factory, small_clip, second_clip):
    from tests.core.render.test_sequence_render import build_project

    return build_project(tmp_path_factory.mktemp("cli_seq"), small_clip, second_clip)


def test_render_sequence(seq_project, tmp_path, capsys):
    out = tmp_path / "cut.mp4"
    code = run(["render", str(seq_project), "--profile", "draft_480p", "-o", str(out), "--range", "2:12",
                "--workers", "1", "--no-cache"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert f"{out}: 10 frames, 640x480 at 25 fps with draft_480p" in captured.out
    assert "100%" in captured.err
    with av.open(str(out)) as c:
        assert c.streams.video[0].frames == 10 and c.streams.audio[0].codec_context.name == "aac"
    # timecodes, and --json: the result as JSON
    out2 = tmp_path / "tc.mp4"
    assert run(["render", str(seq_project), "--profile", "draft_480p", "-o", str(out2), "--workers", "1",
                "--range", "00:00:00:05:00:00:00:15", "--json", "--no-cache", "--loudness", "-18"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["frames"] == 10 and result["size"] == [640, 480] and result["executor"] == "inline"
    assert result["loudness"]["target_lufs"] == -18 and abs(result["loudness"]["output_lufs"] + 18) < 0.5


def test_parse_range():
    from app.cli_render import parse_range

    assert parse_range("3:40", 25) == (3, 40)
    assert parse_range(":40", 25) == (None, 40)
    assert parse_range("10:", 25) == (10, None)
    assert parse_range("00:00:01:00:00:00:02:05", 25) == (25, 55)
    assert parse_range("00:01:00;02:00:01:00;04", Fraction(30000, 1001)) == (1800, 1802)
    with pytest.raises(LumaError, match="START:END"):
        parse_range("5-9", 25)


def test_render_dry_run_prints_and_writes_nothing(seq_project, tmp_path, capsys):
    before = sorted(p.name for p in seq_project.parent.iterdir())
    out = tmp_path / "never.mp4"
    assert run(["render", str(seq_project), "--profile", "preview_720p", "-o", str(out), "--dry-run",
                "--workers", "2", "--range", "0:25"]) == 0
    text = capsys.readouterr().out
    assert "segment 1:" in text and "960x720 at 25 fps" in text
    for word in ("small.mp4", "second.mp4", "crossfade", "saturation", "contrast", "vignette",
                 "dry run: nothing written"):
        assert word in text, word
    assert not out.exists() and list(tmp_path.iterdir()) == []
    assert sorted(p.name for p in seq_project.parent.iterdir()) == before  # no cache folder either
    assert run(["render", str(seq_project), "--profile", "master_prores", "--dry-run", "--json"]) == 0
    plan = json.loads(capsys.readouterr().out)
    assert plan["output"]["video_codec"] == "prores_ks" and plan["range"] == {"start": 0, "end": 25, "frames": 25}
    kinds = {t["kind"] for seg in plan["segments"] for t in seg["inputs"]["transitions"]}
    assert kinds == {"crossfade"} and all(seg["frames"] for seg in plan["segments"])


@pytest.mark.parametrize("argv, message", [
    (["--profile", "ultra_8k"], "render profile 'ultra_8k': choose one of preview, final, draft_480p"),
    (["--range", "12:12"], "the range 12:12 is empty"),
    (["--profile", "master_prores"], "master_prores profile writes .mkv, .mov files"),
    (["--sequence", "7"], "sequence #7 is not in"),
    (["--workers", "0"], "--workers must be at least 1"),
])
def test_render_errors(seq_project, tmp_path, capsys, argv, message):
    out = tmp_path / "x.mp4"
    assert run(["render", str(seq_project), "-o", str(out)] + argv) == 1
    err = capsys.readouterr().err
    assert err.startswith("luma: ") and message in err, err
    assert not out.exists()


def test_render_missing_media_names_it(tmp_path, small_clip, capsys):
    import shutil

    from tests.core.render.test_sequence_render import build_project

    media = tmp_path / "vanished.mp4"
    shutil.copy(small_clip, media)
    project = build_project(tmp_path / "p", media, media, "v.luma")
    media.unlink()
    assert run(["render", str(project), "--profile", "draft_480p", "-o", str(tmp_path / "v.mp4")]) == 1
    assert "vanished.mp4: media file missing" in capsys.readouterr().err
