"""Beat grids: where the beats and the bars of a media file's sound fall.

Analysis (:func:`analyse`), on the sound decoded with PyAV (mono, 22050 Hz):

1. librosa's onset strength envelope (hop 256 samples, ~11.6 ms) and its
   dynamic-programming beat tracker give the beats to ~a frame; the tracker's
   leading and trailing weak beats are trimmed.
2. **Refinement**: onset strength at an instant is the energy rise, in dB,
   of the pre-emphasised signal from the 128 samples (5.8 ms) before it to
   the 128 after it, tried every 8 samples (0.36 ms). A first pass finds the
   strongest rise within ``min(50 ms, a quarter beat)`` of each beat; the
   median shift of the stronger half is the envelope's lag (~20-30 ms). The
   second pass moves each beat to the strongest rise within 15 ms of
   (tracked time + lag), so beats land within a millisecond of a sharp
   attack without jumping to a neighbouring off-beat note; a beat with no
   clear rise there (under 1 dB) is placed at tracked time + lag.
3. The grid is extended at both ends while a clear onset (at least half the
   median strength, and 3 dB) sits one beat period further (searched within
   15 ms); beats at the ends with no onset are dropped.
4. **Downbeats**: with ``beats_per_bar`` N, beat ``k`` (counting missed beats,
   see :func:`core.audio.tempo.beat_indices`) is in bar phase ``k mod N``.
   Each beat's strength is the peak of the onset envelope from 2 frames
   before to 4 frames after it (the envelope lags the attack); the phase with
   the largest *mean* strength (a mean, so a phase with one beat more does
   not win by count) is the bar start: accents, kick drums and chord changes
   fall on downbeats more than elsewhere.
5. BPM: the least-squares fit of beat number against time
   (:func:`core.audio.tempo.fit_beats`).

The first analysis in a process pays numba's compilation inside librosa:
importing ``librosa.onset`` and ``librosa.beat`` compiles their
``guvectorize`` helpers, which numba does not cache on disk (measured on the
2-core reference machine: ~9 s for the first analysis of 5 s of sound, 0.15 s
for the second; tests/benchmarks/bench_audio.py measures it). The GUI can
call :func:`warm_up` on a worker thread at start-up to pay it early.

:class:`BeatJob` runs it on the job runner and stores the grid in the
project (``beat_grids``); :func:`store_grid` / :func:`load_grid` live in
:mod:`core.audio.tempo` and are re-exported here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from core.audio.mix import NoAudioError, decode_audio
from core.audio.tempo import BeatGrid, beat_indices, fit_beats, load_grid, store_grid
from core.errors import LumaError
from core.jobs import CancelledFn, ProgressFn, check_cancelled
from core.media._av import PathLike, display_name

__all__ = ["ANALYSIS_RATE", "HOP", "BeatGrid", "BeatJob", "analyse", "analyse_file", "load_grid", "load_sound",
           "store_grid", "warm_up"]

ANALYSIS_RATE = 22050
HOP = 256
ANALYSIS_VERSION = 1  # bump when the method changes, so stored grids are redone

_REFINE_MAX = 0.050  # seconds each side
_WIDTH = 128  # samples before / after a candidate instant
_STEP = 8  # samples between candidates
_WEAK_DB = 1.0
_NARROW = 0.015  # seconds each side in the second pass (the envelope's frame is 11.6 ms)


def load_sound(path: PathLike, cancelled: CancelledFn | None = None,
               progress: ProgressFn | None = None) -> np.ndarray:
    """The sound of a media file as float32 mono at :data:`ANALYSIS_RATE`."""
    try:
        mono = decode_audio(path, ANALYSIS_RATE, 1, 0, None, cancelled=cancelled,
                            progress=(lambda f: progress(f)) if progress else None)
    except NoAudioError as exc:
        raise NoAudioError(f"{display_name(path)} has no sound, so it has no beats to find") from exc
    return np.ascontiguousarray(mono[:, 0])


class _Rises:
    """Energy rises (dB) of the pre-emphasised signal at any instant, from running sums."""

    def __init__(self, y: np.ndarray, sr: int):
        e = np.empty(len(y), dtype=np.float64)
        e[0] = y[0]
        e[1:] = y[1:] - 0.97 * y[:-1]
        e *= e
        self.cum = np.concatenate([[0.0], np.cumsum(e)])
        self.eps = 1e-4 * float(e.mean()) + 1e-12
        self.n = len(y)
        self.sr = sr

    def refine(self, times: np.ndarray, window: float) -> tuple[np.ndarray, np.ndarray]:
        """(time of the strongest rise within ``window`` s of each time, that rise in dB)."""
        reach = int(round(window * self.sr))
        offsets = np.arange(-reach, reach + 1, _STEP)
        centers = np.round(np.asarray(times) * self.sr).astype(np.int64)
        p = np.clip(centers[:, None] + offsets[None, :], _WIDTH, self.n - _WIDTH)
        before = (self.cum[p] - self.cum[p - _WIDTH]) / _WIDTH
        after = (self.cum[p + _WIDTH] - self.cum[p]) / _WIDTH
        rise = 10.0 * np.log10((after + self.eps) / (before + self.eps))
        best = rise.argmax(axis=1)
        rows = np.arange(len(centers))
        return p[rows, best] / self.sr, rise[rows, best]


def analyse(y: np.ndarray, sr: int = ANALYSIS_RATE, beats_per_bar: int = 4,
            cancelled: CancelledFn | None = None) -> BeatGrid:
    """The beat grid of mono samples ``y`` (see the module notes)."""
    import librosa

    if beats_per_bar < 1:
        raise LumaError("a bar needs at least one beat")
    y = np.asarray(y, dtype=np.float32)
    duration = len(y) / sr
    if duration < 1.0:
        raise LumaError(f"{duration:.2f} s of sound is too short to find a beat in (at least 1 s)")
    if not np.any(np.abs(y) > 1e-4):
        raise LumaError("the sound is silent; there are no beats to find")
    # pad so that onsets right at the start or end can be measured
    pad = _WIDTH + int(_REFINE_MAX * sr) + 1
    rises = _Rises(np.concatenate([np.zeros(pad, np.float32), y, np.zeros(pad, np.float32)]), sr)
    env = librosa.onset.onset_strength(y=y, sr=sr, hop_length=HOP)
    if cancelled is not None:
        check_cancelled(cancelled)
    _, frames = librosa.beat.beat_track(onset_envelope=env, sr=sr, hop_length=HOP, trim=True, units="frames")
    if cancelled is not None:
        check_cancelled(cancelled)
    coarse = np.asarray(frames, dtype=np.float64) * HOP / sr
    if coarse.size < 2:
        raise LumaError("no steady beat was found in the sound")
    period = float(np.median(np.diff(coarse)))
    window = min(_REFINE_MAX, 0.25 * period)

    # pass 1: the envelope's lag, from the beats with the stronger onsets
    times, rise = rises.refine(coarse + pad / sr, window)
    stronger = rise >= max(_WEAK_DB, float(np.median(rise)))
    lag = float(np.median(times[stronger] - pad / sr - coarse[stronger])) if stronger.any() else 0.0
    # pass 2: each beat to the strongest onset close to where the lag puts it
    narrow = min(window, _NARROW)
    expected = coarse + lag
    times, rise = rises.refine(expected + pad / sr, narrow)
    times -= pad / sr
    clear = rise >= _WEAK_DB
    times = np.where(clear, times, expected)
    good = float(np.median(rise[clear])) if clear.any() else 0.0
    threshold = max(3.0, 0.5 * good)
    window = narrow

    # drop end beats without an onset, then extend the grid while onsets continue
    strong = np.nonzero(rise >= threshold)[0]
    if strong.size >= 2:
        times = times[strong[0]:strong[-1] + 1]
    period = float(np.median(np.diff(times))) if times.size >= 2 else period
    head: list[float] = []
    tail: list[float] = []
    for direction, out in ((-1, head), (1, tail)):
        edge = times[0] if direction < 0 else times[-1]
        while True:
            guess = edge + direction * period
            if guess < -window or guess > duration + window:
                break
            (t,), (r,) = rises.refine(np.array([guess + pad / sr]), window)
            t -= pad / sr
            if r < threshold or t < -window or t >= duration:
                break
            t = max(t, 0.0)  # an attack right at the start (the search grid is 8 samples)
            out.append(t)
            edge = t
    times = np.concatenate([head[::-1], times, tail])
    times = np.maximum.accumulate(times)
    keep = np.concatenate([[True], np.diff(times) > 0.25 * period])
    times = times[keep]
    if times.size < 2:
        raise LumaError("no steady beat was found in the sound")

    # downbeats: the bar phase whose beats have the strongest onsets (on average)
    frame_of = np.round(times * sr / HOP).astype(np.int64)
    lo = np.clip(frame_of - 2, 0, len(env) - 1)
    reach = np.arange(7)
    strength = env[np.clip(lo[:, None] + reach[None, :], 0, len(env) - 1)].max(axis=1)
    index = beat_indices(times)
    phase_means = np.array([strength[index % beats_per_bar == ph].mean() if np.any(index % beats_per_bar == ph)
                            else -np.inf for ph in range(beats_per_bar)])
    phase = int(np.argmax(phase_means))
    downbeats = times[index % beats_per_bar == phase]

    seconds_per_beat, _ = fit_beats(times)
    params: dict[str, Any] = {
        "method": "librosa onset strength + beat_track, onsets refined",
        "version": ANALYSIS_VERSION,
        "librosa": librosa.__version__,
        "sample_rate": sr,
        "hop": HOP,
        "refine_window": round(window, 6),
        "duration": round(duration, 6),
        "bar_phase": phase,
    }
    return BeatGrid(round(60.0 / seconds_per_beat, 6), tuple(round(float(t), 6) for t in times),
                    tuple(round(float(t), 6) for t in downbeats), int(beats_per_bar), params)


def analyse_file(path: PathLike, beats_per_bar: int = 4, cancelled: CancelledFn | None = None) -> BeatGrid:
    """Decode a media file's sound and find its beat grid."""
    return analyse(load_sound(path, cancelled), ANALYSIS_RATE, beats_per_bar, cancelled)


def warm_up() -> float:
    """Import (and so compile) librosa's beat tracking now; returns the seconds it took."""
    import importlib
    import time

    t0 = time.perf_counter()
    for module in ("librosa.onset", "librosa.beat"):  # numba compiles them as they are imported
        importlib.import_module(module)
    return time.perf_counter() - t0


class BeatJob:
    """Find and store the beat grid of one media file of a project (a core.jobs Job).

    ``run`` opens the project file itself (a worker thread or the CLI), so the
    GUI's connection stays free. The stored grid is the job's checkpoint: a
    run after a cancel, a crash or a finished run finds the grid stored for
    the file's current content (same hash, same analysis settings) and
    returns it without analysing again unless ``force``; a cancelled run
    stores nothing. Decoding checks ``cancelled`` per packet, the analysis
    between its stages.
    """

    def __init__(self, project_path: str | Path, media_id: int, beats_per_bar: int = 4, force: bool = False,
                 name: str | None = None):
        self.project_path = Path(project_path)
        self.media_id = int(media_id)
        self.beats_per_bar = int(beats_per_bar)
        if self.beats_per_bar < 1:
            raise LumaError("a bar needs at least one beat")
        self.force = bool(force)
        self.title = f"Beats of {name or f'media #{self.media_id}'}"
        self.reused = False

    def checkpoint(self) -> dict:
        return {"media_id": self.media_id, "beats_per_bar": self.beats_per_bar}

    def resume(self, state: dict) -> None:
        if int(state.get("media_id", self.media_id)) != self.media_id:
            raise LumaError("this checkpoint belongs to another media file's beat analysis")
        self.beats_per_bar = int(state.get("beats_per_bar", self.beats_per_bar))

    def run(self, progress: ProgressFn, cancelled: CancelledFn) -> BeatGrid:
        from core.project.media_store import get_media, media_path
        from core.project.project import Project

        project = Project.open(self.project_path)
        try:
            record = get_media(project, self.media_id)
            stored = load_grid(project, self.media_id)
            if (stored is not None and not self.force and stored.beats_per_bar == self.beats_per_bar
                    and stored.params.get("content_hash") == record.content_hash
                    and stored.params.get("version") == ANALYSIS_VERSION):
                self.reused = True
                progress(1.0, "already analysed")
                return stored
            check_cancelled(cancelled)
            progress(0.0, f"reading the sound of {record.name}")
            y = load_sound(media_path(project, self.media_id), cancelled,
                           lambda f: progress(0.6 * f, "reading the sound"))
            progress(0.6, "finding the beats")
            grid = analyse(y, ANALYSIS_RATE, self.beats_per_bar, cancelled)
            check_cancelled(cancelled)
            grid = BeatGrid(grid.bpm, grid.beats, grid.downbeats, grid.beats_per_bar,
                            {**grid.params, "content_hash": record.content_hash})
            store_grid(project, self.media_id, grid)
            progress(1.0, f"{grid.bpm:.2f} BPM, {len(grid.beats)} beats")
            return grid
        finally:
            project.close()
