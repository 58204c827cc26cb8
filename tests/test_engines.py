"""Chunks computed on a process pool or a Dask cluster give exactly the sequential results."""
import dataclasses

import numpy as np
import pytest

import falib
from falib import Backend
from falib.__main__ import CANNOT_RUN, main
from falib.engines import EngineError, executor

from .chunked import LEARN, fails_on_run_2
from .test_cli import use  # noqa: F401 (a fixture)

distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def cluster():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as c:
        yield c


def assert_same(a, b):
    assert a.arrays.keys() == b.arrays.keys() and a.hash == b.hash
    for k in a.arrays:
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)


def test_a_local_cluster_gives_the_sequential_results(cluster, tmp_path):
    sequential = LEARN.run("quick")
    with executor(scheduler=cluster.scheduler_address) as pool:
        parallel = LEARN.run("quick", executor=pool, checkpoints=tmp_path)
    assert_same(parallel, sequential)
    assert len(list(tmp_path.rglob("*.npz"))) == 4   # every chunk checkpointed here, as it arrived


def test_a_process_pool_gives_the_sequential_results():
    with executor(jobs=2) as pool:
        parallel = LEARN.run("quick", executor=pool)
    assert_same(parallel, LEARN.run("quick"))


def test_an_interrupted_cluster_run_resumes(cluster, tmp_path, use):
    use(dataclasses.replace(LEARN, compute=fails_on_run_2))
    with executor(scheduler=cluster.scheduler_address) as pool, pytest.raises(RuntimeError, match="interrupted"):
        falib.reproduce("learn", "quick", folder=tmp_path, executor=pool)
    assert len(list((falib.results.cache_dir() / "checkpoints").rglob("*.npz"))) == 3   # all but run 2
    use(LEARN)
    assert main(["reproduce", "learn", "--out", str(tmp_path), "--scheduler", cluster.scheduler_address]) == 0
    assert_same(falib.reproduce("learn", "quick", folder=tmp_path), LEARN.run("quick"))


def test_an_unreachable_scheduler_cannot_run(use, monkeypatch, capsys):
    monkeypatch.setattr(falib.engines, "CONNECT_S", 1)
    assert main(["reproduce", "learn", "--scheduler", "tcp://127.0.0.1:9"]) == CANNOT_RUN
    assert "cannot reach the Dask scheduler at tcp://127.0.0.1:9" in capsys.readouterr().err
    with pytest.raises(EngineError, match="at least 1"):
        with executor(jobs=0):
            pass


def test_a_gpu_run_is_one_batch():
    assert LEARN.run("quick", backend=Backend("numpy", "cpu", "float64")).meta["runs"] == [0, 1, 2, 3]
