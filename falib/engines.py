"""Where the chunks of a run's cells execute: here, on a local process pool, or on a Dask cluster.

Every engine is a ``concurrent.futures`` executor (Dask's through ``Client.get_executor``), so
:meth:`falib.experiments.Experiment.run` treats them alike: it submits the chunks that have no
checkpoint and saves each one here as it arrives. Workers need falib installed (the same
code) and, for MNIST, the data (``FALIB_MNIST``); nothing they compute depends on which
worker computes it, so the results are those of a sequential run. Before a chunk is sent, every
Dask worker says what it computes with (:func:`falib.provenance.identity`, run on the worker):
a worker whose code or library versions differ from those here stops the run.
"""
from __future__ import annotations

import asyncio
import os
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from contextlib import contextmanager
from multiprocessing import get_context

from . import provenance

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
            yield Cluster(client, scheduler)
    elif jobs > 1:
        threads = max(1, (os.cpu_count() or 1) // jobs)
        with ProcessPoolExecutor(jobs, mp_context=get_context("spawn"), initializer=_share,
                                 initargs=(threads,)) as pool:
            try:
                yield pool
            except BaseException:   # an interrupt or a failure: do not wait for the chunks queued
                pool.shutdown(wait=False, cancel_futures=True)
                raise
    else:
        yield None


class Cluster:
    """A Dask cluster as an executor of chunks, whose workers must compute with the code here."""

    def __init__(self, client, scheduler: str):
        self.client, self.scheduler, self.pool = client, scheduler, client.get_executor(pure=False)
        self.checked = set()

    def submit(self, fn, /, *args, **kwargs):
        return self.pool.submit(fn, *args, **kwargs)

    def check(self, target: str) -> None:
        """Stop, naming the worker, unless every worker computes `target` (``"module:function"``)
        with the code (its fingerprint, computed on the worker) and the NumPy and PyTorch versions
        found here. A worker that joins later is caught by its chunks (see
        :meth:`falib.experiments.Experiment.run`)."""
        if target in self.checked:
            return
        try:
            self.client.wait_for_workers(1, timeout=CONNECT_S)
        except TimeoutError:
            raise EngineError(f"no worker is connected to the Dask scheduler at {self.scheduler}; start "
                              f"workers with `dask worker {self.scheduler}`") from None
        here = provenance.identity(target)
        for worker, there in sorted(self.client.run(provenance.identity, target, on_error="return").items()):
            if isinstance(there, BaseException):
                raise EngineError(f"Dask worker {worker} cannot compute {target} ({type(there).__name__}: "
                                  f"{there}); install the same falib there")
            if there != here:
                differ = ", ".join(f"{k} {there.get(k)} (here {here[k]})" for k in here if there.get(k) != here[k])
                raise EngineError(f"Dask worker {worker} computes with other code or libraries than here: "
                                  f"{differ}; install the same falib and versions on every worker "
                                  "(pip install -c constraints.txt -e '.[cluster]'), restart it, and run "
                                  "the same command again")
        self.checked.add(target)


@contextmanager
def _dask(scheduler: str):
    try:
        from distributed import Client
    except ImportError as err:
        raise EngineError("--scheduler needs Dask's distributed scheduler, which is not installed: "
                          "pip install 'falib[cluster]'") from err
    fix = f"start one with `dask scheduler` and workers with `dask worker {scheduler}`, or check the address"
    with ThreadPoolExecutor(1) as thread:   # its own event loop, even where one runs (Jupyter)
        try:
            identity = thread.submit(asyncio.run, _handshake(scheduler)).result()
        except TimeoutError as err:
            raise EngineError(f"cannot reach the Dask scheduler at {scheduler} (no answer within "
                              f"{CONNECT_S} s); {fix}") from err
        except OSError as err:
            raise EngineError(f"cannot reach the Dask scheduler at {scheduler} ({err}); {fix}") from err
        except Exception as err:   # garbage from another kind of server
            identity = f"{type(err).__name__}: {err}"
    if not isinstance(identity, dict) or identity.get("type") != "Scheduler":
        raise EngineError(f"what answers at {scheduler} is not a Dask scheduler (its answer: "
                          f"{str(identity)[:200]}); {fix}")
    try:
        client = Client(scheduler, timeout=CONNECT_S)
    except (OSError, TimeoutError) as err:
        raise EngineError(f"cannot reach the Dask scheduler at {scheduler} ({err}); {fix}") from err
    with client:
        yield client


async def _handshake(scheduler: str):
    """What answers at `scheduler` says it is, within :data:`CONNECT_S` seconds (a server that is
    not Dask's never answers, or answers garbage, which this turns into an exception)."""
    from distributed.comm import connect

    async def ask():
        comm = await connect(scheduler, timeout=CONNECT_S)
        try:
            await comm.write({"op": "identity", "reply": True})
            return await comm.read()
        finally:
            comm.abort()

    return await asyncio.wait_for(ask(), CONNECT_S)


def _share(threads: int) -> None:
    """In a pool process: use `threads` of the machine's threads (the pool shares them). PyTorch,
    imported later by the chunk that needs it, reads the variable; an explicit setting wins."""
    os.environ.setdefault("OMP_NUM_THREADS", str(threads))
