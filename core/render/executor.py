"""Where render segments run: a local process pool, or a Dask distributed cluster.

:func:`make_executor` gives a :class:`RenderExecutor`:

* default: a :class:`concurrent.futures.ProcessPoolExecutor` of ``workers``
  processes (default ``os.cpu_count()``) started with the ``forkserver``
  method (``spawn`` where there is none): a worker is never a fork of the
  caller, which may hold Qt, threads and open files, so forking it would be
  unsafe; the fork server (a clean, single-threaded process) imports numpy,
  OpenCV, PyAV and the renderer once, so workers start in milliseconds;
* ``scheduler="tcp://HOST:8786"`` (or a ``distributed.LocalCluster`` / an
  existing ``distributed.Client``): tasks go to that Dask cluster through
  ``Client.submit``. A remote cluster's workers open the project file and the
  media themselves, so they **must see the project and every media file at
  the same absolute paths** (shared storage: NFS, SMB, a cluster file system)
  and have the same Luma Studio (and FFmpeg/PyAV) installed; the render cache
  and the segment files are written beside the project on that storage too.

:func:`local_cluster` starts a loopback-only Dask ``LocalCluster`` (the
scheduler bound to 127.0.0.1, no dashboard port): for tests and for trying a
distributed render on one machine.

Both kinds take tasks with :meth:`RenderExecutor.submit` (a picklable
top-level function and its arguments), report finished tasks through
:meth:`RenderExecutor.wait` (with a timeout, so a caller can poll its cancel
flag) and cancel what has not started with :meth:`RenderExecutor.cancel`.
A running task cannot be interrupted from outside; render workers check a
cancel marker file instead (see core.render.sequence_render).
"""

from __future__ import annotations

import concurrent.futures as cf
import logging
import multiprocessing
import os
from typing import Any, Callable, Iterable

from core.errors import LumaError

log = logging.getLogger(__name__)


#: imported once by the fork server, so each worker forked from it starts without importing them
_PRELOAD = ["numpy", "cv2", "av", "core.render.sequence_render", "core.render.compositor"]


def _context():
    if "forkserver" in multiprocessing.get_all_start_methods():
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(_PRELOAD)  # (no effect once this process's fork server runs)
        return ctx
    return multiprocessing.get_context("spawn")


class RenderExecutor:
    """Common face of the local pool and a Dask client (see the module doc)."""

    kind = "?"
    workers = 1

    def submit(self, fn: Callable, *args: Any, **kwargs: Any):
        raise NotImplementedError

    def wait(self, futures: Iterable, timeout: float) -> tuple[set, set]:
        """(done, not done) once at least one is done or ``timeout`` seconds passed."""
        raise NotImplementedError

    def cancel(self, futures: Iterable) -> None:
        raise NotImplementedError

    def result(self, future):
        """The task's return value; its own error re-raised, a lost worker as a LumaError."""
        return future.result()

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> "RenderExecutor":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class LocalExecutor(RenderExecutor):
    kind = "local"

    def __init__(self, workers: int):
        self.workers = int(workers)
        self._pool = cf.ProcessPoolExecutor(max_workers=self.workers, mp_context=_context())

    def submit(self, fn, *args, **kwargs):
        try:
            return self._pool.submit(fn, *args, **kwargs)
        except cf.process.BrokenProcessPool as exc:
            raise LumaError(f"a render worker process stopped unexpectedly ({exc})") from exc

    def wait(self, futures, timeout):
        done, pending = cf.wait(list(futures), timeout=timeout, return_when=cf.FIRST_COMPLETED)
        return set(done), set(pending)

    def cancel(self, futures) -> None:
        for f in futures:
            f.cancel()

    def result(self, future):
        try:
            return future.result()
        except cf.process.BrokenProcessPool as exc:
            raise LumaError("a render worker process stopped unexpectedly (out of memory?); "
                            "try fewer workers") from exc

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


class DaskExecutor(RenderExecutor):
    kind = "dask"

    def __init__(self, scheduler):
        try:
            from distributed import Client
        except ImportError as exc:  # pragma: no cover - pinned in requirements
            raise LumaError("rendering on a cluster needs dask[distributed] installed") from exc
        self._own = not isinstance(scheduler, Client)
        if self._own:
            try:
                self.client = Client(scheduler, timeout="10s")
            except (OSError, TimeoutError) as exc:
                raise LumaError(f"cannot reach the Dask scheduler {scheduler} ({exc}); is it running?") from exc
        else:
            self.client = scheduler
        self.address = self.client.scheduler.address if self.client.scheduler else str(scheduler)
        self.workers = max(1, sum(self.client.nthreads().values()))

    def submit(self, fn, *args, **kwargs):
        # pure=False: the same arguments must run again (an earlier result's file may be gone)
        return self.client.submit(fn, *args, pure=False, **kwargs)

    def wait(self, futures, timeout):
        from distributed import wait

        futures = list(futures)
        try:
            done, pending = wait(futures, timeout=timeout, return_when="FIRST_COMPLETED")
        except TimeoutError:
            return set(), set(futures)
        return set(done), set(pending)

    def cancel(self, futures) -> None:
        futures = list(futures)
        if futures:
            self.client.cancel(futures)

    def result(self, future):
        from distributed.scheduler import KilledWorker

        try:
            return future.result()
        except KilledWorker as exc:
            raise LumaError(f"render workers of {self.address} died on a segment ({exc}); "
                            "check their logs and memory") from exc

    def close(self) -> None:
        if self._own:
            self.client.close()


def make_executor(workers: int | None = None, scheduler=None) -> RenderExecutor:
    """A Dask executor when ``scheduler`` is given (an address, LocalCluster or Client), else a
    local process pool of ``workers`` processes (default: the number of CPUs)."""
    if scheduler is not None:
        if isinstance(scheduler, str) and not scheduler.startswith(("tcp://", "tls://", "inproc://", "ws://",
                                                                      "wss://", "ucx://")):
            raise LumaError(f"scheduler {scheduler!r}: give an address like tcp://HOST:8786")
        return DaskExecutor(scheduler)
    n = default_workers() if workers is None else int(workers)
    if n < 1:
        raise LumaError(f"workers must be at least 1, not {n}")
    return LocalExecutor(n)


def default_workers() -> int:
    """Worker processes for a local render: one render process already keeps about two cores
    busy (decoder, compositor and encoder threads), so chunks pay off from four cores up
    (measured on 2 cores: 2 workers ran at 0.85x of one)."""
    cores = os.cpu_count() or 1
    return 1 if cores <= 3 else cores // 2


def local_cluster(n_workers: int = 2):
    """A loopback Dask ``LocalCluster``: worker processes, one thread each, the scheduler on
    127.0.0.1 and no dashboard (no port but the scheduler's own is opened). Close it after use."""
    from distributed import LocalCluster

    return LocalCluster(host="127.0.0.1", n_workers=n_workers, threads_per_worker=1, processes=True,
                        dashboard_address=None, worker_dashboard_address=None, silence_logs=logging.ERROR)
