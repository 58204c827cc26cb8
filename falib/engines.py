"""Where the chunks of a run execute: here, on a local process pool, or on a Dask cluster.

Every engine is a ``concurrent.futures`` executor (Dask's through ``Client.get_executor``), so
:meth:`falib.experiments.Experiment.run` treats them alike: it submits the chunks that have no
checkpoint and saves each one here as it arrives. Workers need falib installed (the same
version) and, for MNIST, the data (``FALIB_MNIST``); nothing they compute depends on which
worker computes it, so the results are those of a sequential run.
"""
from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from multiprocessing import get_context

CONNECT_S = 10


class EngineError(RuntimeError):
    """The engine asked for cannot be used."""


@contextmanager
def executor(jobs: int = 1, scheduler: str | None = None):
    """An executor for the chunks: a Dask cluster's if `scheduler` (its address, e.g.
    ``tcp://host:8786``) is given, else a pool of `jobs` processes; None (compute here, one
    chunk after another) for ``jobs=1``."""
    if jobs < 1:
        raise EngineError(f"jobs must be at least 1, got {jobs}")
    if scheduler:
        with _dask(scheduler) as client:
            yield client.get_executor(pure=False)
    elif jobs > 1:
        threads = max(1, (os.cpu_count() or 1) // jobs)
        with ProcessPoolExecutor(jobs, mp_context=get_context("spawn"), initializer=_share,
                                 initargs=(threads,)) as pool:
            yield pool
    else:
        yield None


@contextmanager
def _dask(scheduler: str):
    try:
        from distributed import Client
    except ImportError as err:
        raise EngineError("--scheduler needs Dask's distributed scheduler, which is not installed: "
                          "pip install 'falib[cluster]'") from err
    try:
        client = Client(scheduler, timeout=CONNECT_S)
    except (OSError, TimeoutError) as err:
        raise EngineError(f"cannot reach the Dask scheduler at {scheduler} ({err}); start one with "
                          f"`dask scheduler` and workers with `dask worker {scheduler}`, or check the address") from err
    with client:
        yield client


def _share(threads: int) -> None:
    """In a pool process: use `threads` of the machine's threads (the pool shares them). PyTorch,
    imported later by the chunk that needs it, reads the variable; an explicit setting wins."""
    os.environ.setdefault("OMP_NUM_THREADS", str(threads))
