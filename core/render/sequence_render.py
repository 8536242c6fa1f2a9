"""Rendering a sequence to a file: plan, segments in parallel, stream-copy join, audio once.

The pipeline of :func:`render_sequence` (and :class:`SequenceRenderJob`, what
the GUI and ``luma render`` run):

1. **Plan** (:func:`plan_render`, core.render.render_plan): the range (sequence frames ``[start, end)``;
   default the sequence's in/out marks, else all of it) becomes output frames
   at the profile's rate and is cut into **segments**. Every segment starts
   on a keyframe: segment lengths are whole GOPs counted from the range start
   (only the last one may end with a shorter GOP), at least ``workers``
   segments when the range has that many GOPs (about three per worker, for
   load balance) and at most ``segment_seconds`` (10 s) each, so an edit
   re-renders little (see the render cache). Each segment lists what its
   frames use (clips, media files, transitions, filters): ``--dry-run``.
2. **Segments** (:func:`render_segment`, core.render.segment_writer: a
   top-level picklable function run in a worker process: core.render.executor):
   the worker opens the project and a :class:`~core.render.compositor.Compositor`
   **at the output size** (the profile's size for the sequence; positions,
   blur radii and grain sizes scale with it, and each picture is resampled
   once, straight into its place), composites every output frame and encodes
   video only into a file of the output's container. The picture of output
   frame ``k`` is therefore exactly ``Compositor(timeline,
   size=profile.sequence_size(w, h)).frame(sequence_frame(k))``: that is the
   reference a render is checked against (up to the codec). A pool of ``N``
   local workers on ``C`` CPUs gives each ``C // N`` OpenCV threads (one:
   decoders on one thread too), so they do not oversubscribe the CPU; a
   render in this process uses them all. **Every GOP is encoded by its own encoder** (a fresh codec
   context, forced keyframe on its first frame, closed GOP, a fixed thread
   count: ``RenderProfile.threads``), so a GOP's bytes depend on its frames
   alone: rendering a segment twice, or the range in one process or in any
   number of segments on any number of machines, gives identical packets.
   (x264's output changes with its thread count; a fixed count keeps it the
   same everywhere.) Intra-only codecs (ProRes) use one encoder per segment.
3. **Audio** is rendered ONCE over the whole range in the calling process
   (core.audio.mix.mixdown -> optional loudness normalisation with
   core.audio.loudness.normalize -> the profile's audio codec, AAC or PCM)
   while the workers render pictures.
4. **Join** (:func:`join_segments`, core.render.join): the segments' video packets are copied
   (no re-encode) into the output with their timestamps shifted to the
   segment's place, the audio is encoded and interleaved alongside, and MP4/
   MOV files get their index at the front (faststart). Written to
   ``NAME.part.EXT`` and renamed at the end: the output path never holds a
   partial file.

**Rates.** Output frame ``k`` (counted on the output time line from sequence
frame 0) shows sequence frame ``floor(k * sequence_rate / output_rate)``:
identity when the profile keeps the sequence rate; a lower rate drops
frames, a higher one repeats them. The range ``[start, end)`` renders the
output frames ``ceil(start * out / seq)`` up to ``ceil(end * out / seq)``.

**Cache.** Segment files are kept in the project's render cache under a key
of everything their pictures depend on (core.render.render_cache); a second
render of an unchanged range joins the cached segments without rendering a
frame, and an edit re-renders only the segments whose frames it touches.
``use_cache=False`` renders every segment into a scratch folder beside the
output that is deleted afterwards.

**Cancel.** Segments not started are cancelled; running ones see a cancel
marker file (beside the segment files, so remote workers on shared storage
see it too) within a frame, stop and delete their partial file.
"""

from __future__ import annotations

import os
import shutil
import threading
import time
import uuid
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

from core.errors import JobCancelled, LumaError
from core.jobs import CancelledFn, ProgressFn, check_cancelled
from core.media._av import display_name
from core.render import render_cache as rc
from core.render.join import join_segments, render_audio
from core.render.profiles import RenderProfile, get_profile
from core.render.render_plan import (SEGMENT_SECONDS, SEGMENTS_PER_WORKER, RenderPlan, Segment, output_range,
                                     plan_render, resolve_range, segment_inputs, sequence_frame)
from core.render.segment_writer import SegmentWriter, open_compositor, render_segment, scale_frame

__all__ = ["SEGMENT_SECONDS", "SEGMENTS_PER_WORKER", "Segment", "RenderPlan", "output_range", "sequence_frame",
           "scale_frame", "segment_inputs", "resolve_range", "plan_render", "open_compositor", "SegmentWriter",
           "render_segment", "render_audio", "join_segments", "SequenceRenderResult", "render_sequence",
           "SequenceRenderJob"]

_POLL = 0.2  # seconds between cancel checks while waiting for workers
_CONTAINERS = {".mp4": {".mp4", ".m4v", ".mov", ".mkv"}, ".mov": {".mov", ".mkv"}}


@dataclass(frozen=True)
class SequenceRenderResult:
    path: Path
    profile: str
    frames: int
    size: tuple[int, int]
    rate: Fraction
    segments: int
    rendered: int  # segments rendered by workers
    reused: int  # segments taken from the cache
    workers: int
    executor: str  # "inline", "local" or "dask"
    seconds: float
    audio_codec: str
    loudness: dict | None = None
    segment_stats: tuple = ()  # render_segment's stats of the segments rendered (frames, seconds, cpu_seconds...)


def _check_output(out: Path, prof: RenderProfile) -> None:
    allowed = _CONTAINERS.get(prof.container, {prof.container})
    if out.suffix.lower() not in allowed:
        raise LumaError(f"{out.name}: the {prof.name} profile writes {', '.join(sorted(allowed))} files; "
                        f"name the output {out.stem}{prof.container}")
    if not out.parent.is_dir():
        raise LumaError(f"{out.name}: the folder {out.parent} does not exist")


def render_sequence(project_path, out, profile: str | dict | RenderProfile = "preview_720p",
                    sequence_id: int | None = None, start: int | None = None, end: int | None = None,
                    workers: int | None = 1, scheduler=None, loudness: float | None = None,
                    use_cache: bool = True, progress: ProgressFn | None = None,
                    cancelled: CancelledFn | None = None, segment_seconds: float = SEGMENT_SECONDS,
                    cache_bytes: int | None = None) -> SequenceRenderResult:
    """Render sequence frames [start, end) of the project at ``project_path`` to ``out``.

    ``workers`` 1 (and no ``scheduler``) renders in this process; more: a local process pool
    (None: one per CPU); ``scheduler``: a Dask cluster (core.render.executor). See the module doc."""
    from core.project.project import Project
    from core.render.executor import default_workers, make_executor
    from core.timeline.model import Timeline

    t0 = time.perf_counter()
    progress = progress or (lambda *a, **k: None)
    cancelled = cancelled or (lambda: False)
    prof = get_profile(profile)
    out = Path(out).resolve()
    _check_output(out, prof)
    project_path = Path(project_path).resolve()
    with Project.open(project_path) as project:
        timeline = Timeline(project, sequence_id)
        n_workers = default_workers() if workers is None else max(1, int(workers))
        plan = plan_render(timeline, prof, start, end, workers=n_workers, segment_seconds=segment_seconds,
                           inputs=False)
        if scheduler is not None:
            project.conn.execute("PRAGMA wal_checkpoint(PASSIVE)")  # remote workers read the main file
        cache = rc.RenderCache.for_project(project, cache_bytes) if use_cache else None
        folder = cache.folder if cache is not None else rc.scratch_folder(out)
        suffix = out.suffix.lower()
        paths: dict[int, Path] = {}
        todo: list[Segment] = []
        for seg in plan.segments:
            hit = cache.get(seg.key, suffix) if cache is not None else None
            seg.cached = hit is not None
            if hit is not None:
                paths[seg.index] = hit
            else:
                paths[seg.index] = folder / f"{seg.key}{suffix}"
                todo.append(seg)
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise LumaError(f"cannot create {folder} for the render ({exc.strerror or exc})") from exc
        cancel_marker = folder / f".cancel-{uuid.uuid4().hex[:8]}"
        total = max(1, plan.frames)
        done = sum(s.frames for s in plan.segments if s.cached)
        progress(0.9 * done / total, f"{len(plan.segments) - len(todo)} of {len(plan.segments)} segments cached")
        kind = "inline"
        segment_stats: list[dict] = []
        try:
            audio_box: dict[str, Any] = {}
            if not todo:
                audio_box["value"] = render_audio(timeline, plan, loudness, cancelled)
            elif scheduler is None and (n_workers == 1 or len(todo) == 1):  # no pool for one segment
                audio_box["value"] = render_audio(timeline, plan, loudness, cancelled)
                for seg in todo:
                    base = done
                    stats = render_segment(project_path, plan.sequence_id, prof.to_dict(), seg.start, seg.end,
                                   paths[seg.index], expect_key=seg.key, engine=plan.engine,
                                   cancelled=cancelled,
                                   progress=lambda k, base=base: progress(
                                       0.9 * (base + k) / total, f"frame {base + k} of {plan.frames}"))
                    segment_stats.append(stats)
                    done += seg.frames
            else:
                with make_executor(n_workers, scheduler) as ex:
                    kind, n_workers = ex.kind, ex.workers
                    done = _run_pool(ex, plan, todo, paths, prof, project_path, cancel_marker, done, total,
                                     progress, cancelled, timeline, loudness, audio_box, segment_stats)
            check_cancelled(cancelled)
            samples, report = audio_box["value"]
            progress(0.9, "joining the segments")
            join_segments([(paths[s.index], s.start - plan.out_start) for s in plan.segments], out, prof,
                          plan.rate, samples, progress=lambda f: progress(0.9 + 0.1 * f, "joining"),
                          cancelled=cancelled)
        except BaseException:
            _remove_partials(folder, todo, paths)
            raise
        finally:
            cancel_marker.unlink(missing_ok=True)
            if cache is None:
                shutil.rmtree(folder, ignore_errors=True)
        if cache is not None:
            cache.trim(keep=paths.values())
    progress(1.0, "done")
    return SequenceRenderResult(out, prof.name, plan.frames, plan.size, plan.rate, len(plan.segments),
                                len(todo), len(plan.segments) - len(todo), n_workers, kind,
                                time.perf_counter() - t0, prof.audio_codec, report, tuple(segment_stats))


def _remove_partials(folder: Path, todo: list[Segment], paths: dict[int, Path]) -> None:
    """After a failure or cancel: segment files of this render are kept in the cache only when
    complete (they are renamed into place when finished); partial ones go."""
    if not folder.is_dir():
        return
    for seg in todo:
        stem = paths[seg.index].stem
        for p in folder.glob(f"{stem}.part-*"):
            p.unlink(missing_ok=True)


def _run_pool(ex, plan: RenderPlan, todo: list[Segment], paths: dict[int, Path], prof: RenderProfile,
              project_path: Path, cancel_marker: Path, done: int, total: int, progress: ProgressFn,
              cancelled: CancelledFn, timeline, loudness, audio_box: dict, segment_stats: list) -> int:
    """Run ``todo`` on the executor (longest first), mixing the audio meanwhile; returns frames done."""
    profile_dict = prof.to_dict()
    # local workers share this machine's CPUs: OpenCV threads per worker so they do not oversubscribe it
    threads = max(1, (os.cpu_count() or 1) // max(1, ex.workers)) if ex.kind == "local" else None
    futures = {}
    for seg in sorted(todo, key=lambda s: -s.frames):
        fut = ex.submit(render_segment, str(project_path), plan.sequence_id, profile_dict, seg.start, seg.end,
                        str(paths[seg.index]), cancel_path=str(cancel_marker), expect_key=seg.key,
                        engine=plan.engine, versions=rc.runtime_versions(), threads=threads)
        futures[fut] = seg
    audio_error: list[BaseException] = []

    def mix():
        try:
            audio_box["value"] = render_audio(timeline, plan, loudness, cancelled)
        except BaseException as exc:  # reported after the workers
            audio_error.append(exc)

    mixer = threading.Thread(target=mix, name="render-audio", daemon=True)
    mixer.start()
    pending = set(futures)
    finished = 0
    try:
        while pending:
            if cancelled():
                raise JobCancelled("render cancelled")
            ready, pending = ex.wait(pending, _POLL)
            for fut in ready:
                segment_stats.append(ex.result(fut))  # a worker's error is raised here
                seg = futures[fut]
                done += seg.frames
                finished += 1
                progress(0.9 * done / total, f"{finished} of {len(todo)} segments rendered")
    except BaseException:
        cancel_marker.touch()
        ex.cancel(pending)
        raise
    finally:
        mixer.join()
    if audio_error:
        raise audio_error[0]
    return done


class SequenceRenderJob:
    """A sequence render as a job (core.jobs protocol) for the GUI's job runner and the CLI."""

    def __init__(self, project_path, sequence_id: int | None, profile: str | dict | RenderProfile, out,
                 start: int | None = None, end: int | None = None, workers: int | None = None,
                 scheduler=None, loudness: float | None = None, use_cache: bool = True):
        self.project_path = Path(getattr(project_path, "path", project_path))
        self.sequence_id = sequence_id
        self.profile = get_profile(profile)
        self.out = Path(out)
        _check_output(self.out, self.profile)
        self.start, self.end = start, end
        self.workers, self.scheduler = workers, scheduler
        self.loudness, self.use_cache = loudness, use_cache
        self.title = f"Render {self.profile.name} to {display_name(self.out)}"

    def run(self, progress: ProgressFn, cancelled: CancelledFn) -> SequenceRenderResult:
        return render_sequence(self.project_path, self.out, self.profile, self.sequence_id, self.start, self.end,
                               workers=self.workers, scheduler=self.scheduler, loudness=self.loudness,
                               use_cache=self.use_cache, progress=progress, cancelled=cancelled)
