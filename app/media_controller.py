"""Glue between the media widgets and core.media: jobs and display text."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtGui import QImage

from core.jobs import check_cancelled
from core.media.probe import MediaInfo
from core.media.waveform import waveform_peaks
from core.project import media_store
from core.project.project import Project
from core.time import frames_to_timecode, seconds_to_frames
from core.timeline.model import Clip, Timeline
from widgets.media_bin import BinEntry

class AnalyseJob:
    """Probe + hash + thumbnail a file off the GUI thread."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.title = f"Import {self.path.name}"

    def run(self, progress, cancelled):
        progress(0.0, "probing")
        check_cancelled(cancelled)
        item = media_store.analyse(self.path)
        progress(1.0, "done")
        return item


class WaveformJob:
    def __init__(self, path: Path):
        self.path = Path(path)
        self.title = f"Waveform {self.path.name}"

    def run(self, progress, cancelled):
        check_cancelled(cancelled)
        return waveform_peaks(self.path, peaks_per_second=100)


def describe(info: MediaInfo) -> str:
    parts = []
    dur = info.duration_seconds
    if info.video is not None:
        rate = info.video.rate
        parts.append(frames_to_timecode(seconds_to_frames(dur, rate), rate) if rate else f"{float(dur):.2f}s")
        parts.append(f"{info.video.width}x{info.video.height}")
        parts.append(f"{float(rate):.3g} fps")
    elif info.audio is not None:
        parts.append(f"{float(dur):.2f}s")
        parts.append(f"{info.audio.sample_rate} Hz")
    return "  ".join(parts)


def bin_entry(record: media_store.MediaRecord) -> BinEntry:
    img = None
    if record.thumbnail_png:
        img = QImage.fromData(record.thumbnail_png, "PNG")
    info = record.info
    tip = [record.name, f"kind: {info.kind}"]
    if info.video is not None:
        tip.append(f"video: {info.video.codec} {info.video.width}x{info.video.height} "
                   f"{info.video.rate} fps {info.video.pix_fmt}")
    if info.audio is not None:
        tip.append(f"audio: {info.audio.codec} {info.audio.channels} ch {info.audio.sample_rate} Hz")
    return BinEntry(record.id, record.name, describe(info), "\n".join(tip), img)


def thumbnail_image(project: Project, media_id: int) -> QImage | None:
    rows = project.query("SELECT thumbnail FROM media WHERE id = ?", (media_id,))
    if not rows or not rows[0][0]:
        return None
    img = QImage.fromData(rows[0][0], "PNG")
    return None if img.isNull() else img


def clip_properties(tl: Timeline, clip: Clip) -> list[tuple[str, str]]:
    rate = tl.rate
    tc = lambda f: frames_to_timecode(f, rate)  # noqa: E731
    record = media_store.get_media(tl.project, clip.media_id)
    return [
        ("Track", tl.track(clip.track_id).name),
        ("Start", tc(clip.start)),
        ("End", tc(clip.end)),
        ("Duration", tc(clip.duration)),
        ("Source in", tc(clip.source_in)),
        ("Media", record.name),
        ("Format", describe(record.info)),
    ]
