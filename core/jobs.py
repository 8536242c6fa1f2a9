"""Long-running work: the Job protocol, shared by the GUI and the CLI.

A job is any object with a ``title`` and a ``run(progress, cancelled)`` method:

* ``progress(fraction, message="")`` reports 0..1 and a short status line;
* ``cancelled()`` returns True once the user asked to stop; a job checks it at
  least once per unit of work and raises :class:`JobCancelled` (use
  :func:`check_cancelled`).

A job that can resume implements ``checkpoint()`` (returns JSON-able state,
stored by the runner or by the job itself in the project file) and accepts
that state back through ``resume(state)`` before ``run``.

The GUI runs jobs on a QThreadPool (app/jobs.py) and turns progress calls into
Qt signals; the CLI runs them in the foreground with :func:`run_in_terminal`,
which draws a progress bar on stderr.
"""

from __future__ import annotations

import contextlib
import sys
import threading
import time
from typing import Any, Callable, Iterator, Protocol, TextIO, runtime_checkable

from core.errors import JobCancelled, LumaError

ProgressFn = Callable[..., None]
CancelledFn = Callable[[], bool]


@runtime_checkable
class Job(Protocol):
    title: str

    def run(self, progress: ProgressFn, cancelled: CancelledFn) -> Any: ...


def check_cancelled(cancelled: CancelledFn) -> None:
    """Raise JobCancelled if the user asked to stop."""
    if cancelled():
        raise JobCancelled("cancelled by the user")


@contextlib.contextmanager
def recorded_outcome(set_status: Callable[[str, str | None, str], None], what: str,
                     error: type[LumaError] = LumaError) -> Iterator[None]:
    """Record how a resumable job's work ended through ``set_status(status, error, note)``.

    A cancel leaves it ``in_progress`` with the note ``cancelled``; any failure
    is stored as ``failed`` with a message a user can read, then re-raised
    (an unexpected exception as ``error("<what> failed: ...")``).
    """
    try:
        yield
    except JobCancelled:
        set_status("in_progress", None, "cancelled")
        raise
    except Exception as exc:  # recorded, then reported to the runner
        message = str(exc) if isinstance(exc, LumaError) else f"{what} failed: {type(exc).__name__}: {exc}"
        set_status("failed", message, "")
        if isinstance(exc, LumaError):
            raise
        raise error(message) from exc


class CancelToken:
    """A thread-safe cancel flag; calling it returns whether it is set."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    def __call__(self) -> bool:
        return self._event.is_set()


class TerminalProgress:
    """A one-line progress bar on a text stream (stderr by default).

    Redraws at most every ``interval`` seconds; on a non-terminal stream it
    prints a line per 10 % instead of carriage-return redraws.
    """

    def __init__(self, title: str, stream: TextIO | None = None, interval: float = 0.1, width: int = 30):
        self.title = title
        self.stream = stream if stream is not None else sys.stderr
        self.interval = interval
        self.width = width
        self._last = 0.0
        self._last_decile = -1
        self._tty = bool(getattr(self.stream, "isatty", lambda: False)())

    def __call__(self, fraction: float, message: str = "") -> None:
        fraction = min(max(float(fraction), 0.0), 1.0)
        if self._tty:
            now = time.monotonic()
            if now - self._last < self.interval and fraction < 1.0:
                return
            self._last = now
            filled = int(round(fraction * self.width))
            bar = "#" * filled + "-" * (self.width - filled)
            self.stream.write(f"\r{self.title} [{bar}] {fraction * 100:5.1f}% {message}"[:160])
            self.stream.flush()
        else:
            decile = int(fraction * 10)
            if decile != self._last_decile:
                self._last_decile = decile
                self.stream.write(f"{self.title}: {fraction * 100:3.0f}% {message}\n")
                self.stream.flush()

    def finish(self) -> None:
        if self._tty:
            self.stream.write("\n")
            self.stream.flush()


def run_in_terminal(job: Job, stream: TextIO | None = None, cancelled: CancelledFn | None = None) -> Any:
    """Run a job in the foreground with a progress bar; Ctrl+C cancels it."""
    bar = TerminalProgress(job.title, stream)
    token = CancelToken()
    is_cancelled = cancelled if cancelled is not None else token
    try:
        result = job.run(bar, is_cancelled)
    except KeyboardInterrupt:
        token.cancel()
        raise JobCancelled(f"{job.title}: cancelled") from None
    finally:
        bar.finish()
    return result
