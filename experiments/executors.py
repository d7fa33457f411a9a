"""Where a sweep's runs execute: this process, local worker processes, or a Dask cluster.

- One worker runs in this process (:class:`InlineExecutor`; unless the experiment has a ``time_limit``:
  then one worker process, so that a stuck run can be stopped); more use :class:`LocalPool`, worker
  processes started by a forkserver (so that no thread-holding process is forked), one run at a time
  each, watched by the sweep's process (:mod:`experiments.supervisor`). Each lives for the whole sweep
  (started once, from a server that has already imported the model), so a run costs one message each way
  and no start-up.
- ``--scheduler local`` starts a Dask ``LocalCluster`` (one thread per worker process, workers forked from a
  server that has imported the model); ``--scheduler tcp://host:8786`` sends the runs to a running Dask
  cluster, whose workers must have this package installed (:func:`dask_executor`).
"""

from __future__ import annotations

import os
import signal
import time
from concurrent.futures import Executor, Future
from contextlib import ExitStack, suppress
from dataclasses import dataclass
from typing import Any

from coprod.experiments.worker import RunTask, execute
from coprod.model import Problem, ScenarioError


class InlineExecutor(Executor):
    """Runs each task at once in this process (one worker: nothing to start, easiest to debug)."""

    def submit(self, fn, /, *args, **kwargs) -> Future:
        future: Future = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except Exception as err:
            future.set_exception(err)
        return future


# ------------------------------------------------------------------------------------ the local pool


@dataclass
class _Worker:
    process: Any
    conn: Any
    task: RunTask | None = None
    started: str = ""
    since: float = 0.0


def worker_context():
    """The multiprocessing context of local worker processes (the local pool's, a calibration's): where
    the platform has it, a forkserver that has already imported the model and loaded its compiled kernels
    (:mod:`model.warm`), so that workers fork with them instead of each importing the model and loading the
    kernels on its first run; else spawn."""
    import multiprocessing

    method = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
    context = multiprocessing.get_context(method)
    if method == "forkserver":
        context.set_forkserver_preload(["coprod.experiments.executors", "coprod.model", "coprod.model.warm"])
    return context


class LocalPool:
    """Worker processes on this machine, one run at a time each, watched by the coordinator.

    Unlike a ``ProcessPoolExecutor``, whose pending tasks all fail once any of its workers dies, the
    coordinator knows which run each process holds: a process that dies takes only its own run with it,
    and a process whose run overstays the time limit can be killed without touching the others. Either
    way the process is replaced and the sweep goes on.
    """

    def __init__(self, size: int):
        self.context = worker_context()
        self.workers: list[_Worker] = []
        for _ in range(size):
            self.workers.append(self._start())

    def _start(self) -> _Worker:
        parent, child = self.context.Pipe()
        process = self.context.Process(
            target=_serve, args=(child, os.getpid()), name="coprod-worker", daemon=True
        )
        process.start()
        child.close()
        return _Worker(process, parent)

    def replace(self, worker: _Worker) -> None:
        """Stop ``worker`` (killing it if it still runs) and start a fresh process in its place."""
        self._end(worker, kill=True)
        self.workers[self.workers.index(worker)] = self._start()

    def close(self) -> None:
        """Let idle workers leave, and kill any that still hold a run (on an abort or Ctrl-C)."""
        for worker in self.workers:
            if worker.task is None:
                with suppress(OSError):
                    worker.conn.send(None)
        for worker in self.workers:
            self._end(worker, kill=worker.task is not None)

    @staticmethod
    def _end(worker: _Worker, *, kill: bool) -> None:
        if kill and worker.process.is_alive():
            worker.process.kill()
        worker.process.join(timeout=5)
        if worker.process.is_alive():
            worker.process.kill()
            worker.process.join()
        worker.conn.close()


def _serve(conn, main_pid: int) -> None:
    """A local worker process: run each task that comes down the pipe and send its result back."""
    _worker_init(main_pid)
    while True:
        try:
            task = conn.recv()
        except (EOFError, OSError):
            return
        if task is None:
            return
        result = execute(task)
        try:
            conn.send(result)
        except OSError:
            return


def _worker_init(main_pid: int) -> None:
    """Local workers: leave Ctrl-C to the main process, and exit when the main process is gone.

    Without the watch, a main process killed outright (SIGKILL, out of memory) would leave a worker in a
    long run running on for nothing.
    """
    import threading

    signal.signal(signal.SIGINT, signal.SIG_IGN)

    def watch() -> None:
        while _alive(main_pid):
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, name="main-process-watch", daemon=True).start()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a killed process stays a zombie until its parent reaps it
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def cores() -> int:
    """The cores this process may run on: the default number of local workers."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:
        return os.cpu_count() or 1


# ---------------------------------------------------------------------------------------------- Dask


def _local_cluster_settings() -> dict:
    """Dask settings for the LocalCluster this process starts (a remote cluster keeps its own).

    - Dask's statistical profiler samples every worker thread's stack every 10 ms under the GIL, and no one
      reads it here (there is no dashboard): CPU that the runs need on a small machine.
    - Workers are forked from a server that has already imported the model, as the local pool's are,
      instead of each being spawned fresh and importing it on its first task (about 2 s of CPU per worker
      on the 2-core machine of the benchmarks, README "Performance").
    - Dask's nannies set ``MALLOC_TRIM_THRESHOLD_=65536`` for their workers, so that long-lived workers hand
      memory back to the system; setting it also stops glibc's mmap threshold from adapting (mallopt(3)),
      and the model's many short-lived arrays then cost system calls: local-pool runs with that variable
      took 10% longer (0.310 -> 0.344, 0.321 -> 0.356, 0.338 -> 0.372 s a run, compare-designs runs,
      interleaved). A sweep's runs are short and small, so the variable is left out (the thread limits of
      the same setting stay).
    """
    import multiprocessing

    import dask

    settings: dict = {
        "distributed.worker.profile.enabled": False,
        "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None,  # None: not set at all
    }
    if "forkserver" in multiprocessing.get_all_start_methods():
        settings["distributed.worker.multiprocessing-method"] = "forkserver"
        with dask.config.set(settings):
            from distributed.utils import get_mp_context

            preload = ["distributed", "coprod.experiments.worker", "coprod.model", "coprod.model.warm"]
            get_mp_context().set_forkserver_preload(preload)
    return settings


def dask_executor(scheduler: str, workers: int, stack: ExitStack) -> tuple[Executor, int]:
    """An executor on a Dask cluster (``scheduler`` ``local``: a LocalCluster of ``workers`` processes,
    else the address of a running scheduler), kept open by ``stack``, and its number of worker threads."""
    import logging

    import dask
    from distributed import Client, LocalCluster

    if scheduler == "local":
        stack.enter_context(dask.config.set(_local_cluster_settings()))
        cluster = stack.enter_context(
            LocalCluster(
                n_workers=workers,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
                # the scheduler's HTTP endpoints still bind a port: any free one, never a fixed 8787
                scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
                silence_logs=logging.CRITICAL,
            )
        )
        client = stack.enter_context(Client(cluster))
    else:
        try:
            client = stack.enter_context(Client(scheduler, timeout="15s"))
        except (OSError, TimeoutError) as err:
            raise ScenarioError(
                [Problem("--scheduler", f"cannot reach the Dask scheduler ({err})", scheduler)],
                "command line",
            ) from None
    slots = sum(client.nthreads().values()) or workers
    return client.get_executor(pure=False), slots


__all__ = ["InlineExecutor", "LocalPool", "cores", "dask_executor", "worker_context"]
