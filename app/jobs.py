"""Runs core jobs on a QThreadPool and reports to the GUI thread by signals."""

from __future__ import annotations

import itertools
import traceback
from dataclasses import dataclass, field
from typing import Any, Callable

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

from core.errors import JobCancelled, LumaError
from core.jobs import CancelToken, Job


@dataclass
class JobRecord:
    id: int
    title: str
    state: str = "queued"  # queued | running | done | failed | cancelled
    progress: float = 0.0
    message: str = ""
    error: str = ""
    result: Any = None
    token: CancelToken = field(default_factory=CancelToken)


class _Signals(QObject):
    progress = Signal(int, float, str)
    finished = Signal(int, object)
    failed = Signal(int, str, bool)  # id, message, cancelled


class _Runnable(QRunnable):
    def __init__(self, job_id: int, job: Job, token: CancelToken, signals: _Signals):
        super().__init__()
        self.setAutoDelete(True)
        self._id, self._job, self._token, self._signals = job_id, job, token, signals

    def run(self) -> None:  # worker thread
        def progress(fraction: float, message: str = "") -> None:
            self._signals.progress.emit(self._id, float(fraction), str(message))

        try:
            result = self._job.run(progress, self._token)
        except JobCancelled:
            self._signals.failed.emit(self._id, "cancelled", True)
        except LumaError as exc:
            self._signals.failed.emit(self._id, str(exc), False)
        except Exception as exc:  # a bug: show it, with where it happened, instead of losing it
            detail = traceback.format_exc(limit=3)
            self._signals.failed.emit(self._id, f"internal error: {exc!r}\n{detail}", False)
        else:
            self._signals.finished.emit(self._id, result)


class JobRunner(QObject):
    """Queue of background jobs. Signals arrive on the GUI thread."""

    added = Signal(int)
    changed = Signal(int)
    finished = Signal(int, object)
    failed = Signal(int, str)

    def __init__(self, parent: QObject | None = None, max_threads: int | None = None):
        super().__init__(parent)
        self.pool = QThreadPool(self)
        if max_threads:
            self.pool.setMaxThreadCount(max_threads)
        self.jobs: dict[int, JobRecord] = {}
        self._ids = itertools.count(1)
        self._callbacks: dict[int, tuple[Callable | None, Callable | None]] = {}
        self._signals = _Signals()
        self._signals.progress.connect(self._on_progress)
        self._signals.finished.connect(self._on_finished)
        self._signals.failed.connect(self._on_failed)

    def submit(self, job: Job, on_done: Callable[[Any], None] | None = None,
               on_error: Callable[[str], None] | None = None) -> int:
        job_id = next(self._ids)
        rec = JobRecord(job_id, job.title)
        self.jobs[job_id] = rec
        self._callbacks[job_id] = (on_done, on_error)
        self.added.emit(job_id)
        rec.state = "running"
        self.pool.start(_Runnable(job_id, job, rec.token, self._signals))
        return job_id

    def cancel(self, job_id: int) -> None:
        rec = self.jobs.get(job_id)
        if rec and rec.state in ("queued", "running"):
            rec.token.cancel()
            rec.message = "cancelling..."
            self.changed.emit(job_id)

    def active(self) -> list[JobRecord]:
        return [r for r in self.jobs.values() if r.state in ("queued", "running")]

    def wait(self, msecs: int = -1) -> bool:
        return self.pool.waitForDone(msecs)

    def cancel_all(self) -> None:
        for rec in self.active():
            self.cancel(rec.id)

    # -------------------------------------------------- GUI-thread slots
    def _on_progress(self, job_id: int, fraction: float, message: str) -> None:
        rec = self.jobs[job_id]
        rec.progress, rec.message = fraction, message
        self.changed.emit(job_id)

    def _on_finished(self, job_id: int, result: object) -> None:
        rec = self.jobs[job_id]
        rec.state, rec.progress, rec.result = "done", 1.0, result
        on_done, _ = self._callbacks.pop(job_id, (None, None))
        if on_done is not None:
            try:
                on_done(result)
            except LumaError as exc:
                rec.state, rec.error = "failed", str(exc)
                self.failed.emit(job_id, rec.error)
                self.changed.emit(job_id)
                return
        self.changed.emit(job_id)
        self.finished.emit(job_id, result)

    def _on_failed(self, job_id: int, message: str, cancelled: bool) -> None:
        rec = self.jobs[job_id]
        rec.state = "cancelled" if cancelled else "failed"
        rec.error = "" if cancelled else message
        _, on_error = self._callbacks.pop(job_id, (None, None))
        if on_error is not None and not cancelled:
            on_error(message)
        self.changed.emit(job_id)
        if not cancelled:
            self.failed.emit(job_id, message)
