"""The local engine: a process pool on this machine, the embedded default.

A worker that dies (a native decoder crash, the OOM killer) breaks the whole
`ProcessPoolExecutor`; the engine then starts a fresh pool and re-runs each task that
was in flight on its own, so the task that crashes again is reported through `on_crash`
and the innocent ones complete.
"""

import collections
import concurrent.futures as cf
import multiprocessing
import os
import threading
import time
import typing as t
from concurrent.futures.process import BrokenProcessPool

from vigil.pipeline.engines.base import Engine, R, T

IN_FLIGHT_PER_WORKER = 4  # enough queued work to keep workers busy, bounded memory
PARENT_POLL_SECONDS = 1.0  # how soon an orphaned worker notices and exits


def _exit_with_parent(parent_pid: int) -> None:
    """Runs in each worker: end it when the scan process is gone (kill -9 included),
    so that a killed scan leaves no orphaned workers behind."""

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(PARENT_POLL_SECONDS)
        os._exit(1)

    threading.Thread(target=watch, name="vigil-parent-watch", daemon=True).start()


def default_workers() -> int:
    return (
        len(os.sched_getaffinity(0))
        if hasattr(os, "sched_getaffinity")
        else (os.cpu_count() or 1)
    )


class LocalEngine(Engine):
    name = "local"

    def __init__(self, workers: int | None = None) -> None:
        self.workers = workers or default_workers()
        # "spawn" never inherits the parent's open database connections or threads.
        self._context = multiprocessing.get_context("spawn")
        self._pool: cf.ProcessPoolExecutor | None = None

    def _new_pool(self, workers: int) -> cf.ProcessPoolExecutor:
        return cf.ProcessPoolExecutor(
            max_workers=workers,
            mp_context=self._context,
            initializer=_exit_with_parent,
            initargs=(os.getpid(),),
        )

    def map_unordered(
        self,
        fn: t.Callable[[T], R],
        tasks: t.Iterable[T],
        on_crash: t.Callable[[T, str], R],
    ) -> t.Iterator[R]:
        pending = iter(tasks)
        self._pool = self._pool or self._new_pool(self.workers)
        in_flight: dict[cf.Future[R], T] = {}
        limit = self.workers * IN_FLIGHT_PER_WORKER
        exhausted = False
        while True:
            while not exhausted and len(in_flight) < limit:
                task = next(pending, None)
                if task is None:
                    exhausted = True
                    break
                in_flight[self._pool.submit(fn, task)] = task
            if not in_flight:
                return
            done, _ = cf.wait(in_flight, return_when=cf.FIRST_COMPLETED)
            broken: list[T] = []
            for future in done:
                task = in_flight.pop(future)
                try:
                    yield future.result()
                except BrokenProcessPool:
                    broken.append(task)
            if broken:
                broken.extend(in_flight.values())
                in_flight.clear()
                self._pool.shutdown(wait=False, cancel_futures=True)
                yield from self._isolate(fn, broken, on_crash)
                self._pool = self._new_pool(self.workers)

    def _isolate(
        self,
        fn: t.Callable[[T], R],
        tasks: t.Iterable[T],
        on_crash: t.Callable[[T, str], R],
    ) -> t.Iterator[R]:
        """Re-run each task alone so that only the one that crashes is blamed."""
        queue = collections.deque(tasks)
        while queue:
            task = queue.popleft()
            pool = self._new_pool(1)
            try:
                yield pool.submit(fn, task).result()
            except BrokenProcessPool:
                yield on_crash(task, "worker process died while processing this file")
            finally:
                pool.shutdown(wait=True, cancel_futures=True)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
