"""The spiking network (Fig. 4): the fast update path is exact with any number of streams, backends
agree, a run resumes bit for bit, the stored paper run starts where a fresh one does, and every
claim can fail."""
import os
import time

import numpy as np
import pytest

import falib
from falib import Backend
from falib.data import load_mnist
from falib.experiments import spiking
from falib.results import ResultsError
from falib.spiking import SpikingNetwork, class_targets, classify, present
from falib.training import progress_bar

from .conftest import altered, as_numpy, assert_claims_can_fail

needs_mnist = pytest.mark.skipif(not os.environ.get("FALIB_MNIST"), reason="FALIB_MNIST is not set")

TINY = dict(spiking.QUICK, sizes=[784, 40, 40, 20], runs=2, streams=4, images=400, test_every=200,
            online_every=100, compare_images=200, val_images=200, test_images=200, eval_streams=20,
            rate_images=200, trace_images=3, trace_units=5)


def trained(path, backend=Backend(), gamma=1e-3, slots=60, streams=1):
    """A small network after `slots` x 5 steps (300) of learning on random 'images'."""
    rng = np.random.default_rng(5)
    X = backend.asarray(rng.random((slots, streams, 30)))
    T = backend.asarray(as_numpy(class_targets(rng.integers(0, 10, slots * streams), 20, Backend()))
                        .reshape(slots, streams, 20))
    net = SpikingNetwork([30, 25, 25, 20], eta=0.05, gamma=gamma, seed=3, runs=[0, 1], backend=backend,
                         path=path, flush_every=7, streams=streams)
    counts = present(net, X, T)
    net.flush()
    return net, counts


@pytest.mark.parametrize("gamma,streams", [(0.0, 1), (1e-3, 1), (1e-3, 3)])
def test_fast_path_equals_naive_per_step_updates(backend, gamma, streams):
    naive, c1 = trained("naive", backend, gamma, streams=streams)
    fast, c2 = trained("fast", backend, gamma, streams=streams)
    for a, b in zip(naive.WT + naive.b, fast.WT + fast.b):
        np.testing.assert_allclose(as_numpy(a), as_numpy(b), rtol=1e-10, atol=1e-13)
    assert np.array_equal(as_numpy(c1), as_numpy(c2))        # same spikes all along
    start = SpikingNetwork([30, 25, 25, 20], seed=3, runs=[0, 1], backend=backend)
    assert np.abs(as_numpy(naive.WT[0]) - as_numpy(start.WT[0])).max() > 1e-3   # it did learn


def test_streams_sum_their_updates():
    """Two streams showing the same image with the same spikes change the weights twice as much as one
    (the decay, once per step, is off)."""
    class Same:   # the same uniform numbers for every stream
        def __init__(self):
            self.g = np.random.default_rng(0)

        def random(self, size):
            return np.repeat(self.g.random((1, size[1])), size[0], axis=0)

    nets = [SpikingNetwork([30, 25, 20], gamma=0.0, seed=3, streams=m, path="naive") for m in (1, 2)]
    for net in nets:
        net.rngs = [Same()]
    x, t = np.full((2, 30), 0.5), np.eye(20)[[3, 3]]
    start = nets[0].WT[0].copy()
    for net in nets:
        net.step(x[:net.M], t[:net.M])
    np.testing.assert_allclose(nets[1].WT[0] - start, 2 * (nets[0].WT[0] - start), rtol=1e-12, atol=1e-15)


def test_numpy_and_torch_agree():
    a, _ = trained("fast", Backend("numpy"), streams=2)
    b, _ = trained("fast", Backend("torch"), streams=2)
    for x, y in zip(a.WT, b.WT):
        np.testing.assert_allclose(x, as_numpy(y), rtol=1e-10, atol=1e-13)


def test_class_targets_and_readout():
    T = class_targets([2, 0], 20, Backend())
    assert T.shape == (2, 1, 20) and T[0, 0, 4:6].tolist() == [1, 1] and T[0].sum() == 2
    counts = np.zeros((1, 20))
    counts[0, 14:16] = 3     # group 7 spiked most
    assert classify(counts).tolist() == [7]


def test_bad_settings():
    with pytest.raises(ValueError, match="unknown update path 'lazy'; choose one of: fast, naive"):
        SpikingNetwork([4, 3, 10], path="lazy")
    with pytest.raises(ValueError, match="at least one hidden layer"):
        SpikingNetwork([4, 10])
    with pytest.raises(ValueError, match="streams and flush_every must be at least 1"):
        SpikingNetwork([4, 3, 10], streams=0)
    with pytest.raises(ValueError, match=r"test_every \(210\) must be a multiple of streams \(4\)"):
        spiking.check(dict(TINY, test_every=210))


@needs_mnist
def test_interrupted_run_resumes_bit_for_bit(monkeypatch, tmp_path):
    """A run killed after its first save, then started again, ends exactly as an uninterrupted one;
    so does a finished run whose `images` is raised."""
    backend = Backend("torch", dtype="float32")
    whole = spiking.compute(TINY, backend, [0, 1])
    monkeypatch.setenv("FALIB_CACHE", str(tmp_path / "interrupted"))
    save, calls = spiking.save_state, []

    def save_then_die(*args):
        save(*args)
        calls.append(1)
        if len(calls) == 2:           # the start, then the first check at 200 images
            raise KeyboardInterrupt

    monkeypatch.setattr(spiking, "save_state", save_then_die)
    with pytest.raises(KeyboardInterrupt):
        spiking.compute(TINY, backend, [0, 1])
    monkeypatch.setattr(spiking, "save_state", save)
    resumed = spiking.compute(TINY, backend, [0, 1])
    monkeypatch.setenv("FALIB_CACHE", str(tmp_path / "extended"))
    spiking.compute(dict(TINY, images=200), backend, [0, 1])
    extended = spiking.compute(TINY, backend, [0, 1])
    assert whole.keys() == resumed.keys() == extended.keys()
    for k in whole:
        assert np.array_equal(whole[k], resumed[k]) and np.array_equal(whole[k], extended[k]), k
    assert whole["val_error"].shape == (2, 3) and whole["compare/online_error"].shape == (2, 2)
    with pytest.raises(ResultsError, match="past images=200"):
        spiking.compute(dict(TINY, images=200), backend, [0, 1])


@needs_mnist
def test_a_resumed_run_records_the_seconds_of_every_session(monkeypatch, tmp_path):
    """The seconds recorded for a run that resumed are the sum over its sessions, not the last one's."""
    from falib.experiments import compute_chunk
    from falib.results import read, write

    backend = Backend("torch", dtype="float32")
    monkeypatch.setenv("FALIB_CACHE", str(tmp_path))
    spiking.compute(dict(TINY, images=200), backend, [0, 1])   # a first session, which stops at 200 images
    path = spiking.state_path(TINY, backend, [0, 1])
    header, arrays = read(path, "saved spiking run", "")
    assert float(arrays["run/seconds"]) > 0
    write(path, header, dict(arrays, **{"run/seconds": np.asarray(1000.0)}), compress=False)   # as if it took 1000 s
    start = time.perf_counter()
    _, meta = compute_chunk(spiking.compute, TINY, backend, [0, 1])
    assert 1000 < meta["seconds"] <= 1000 + time.perf_counter() - start + 0.01


def test_a_state_saved_by_other_code_is_not_resumed(monkeypatch, tmp_path):
    """Edit the spiking computation: the saved state of the same run is neither resumed nor kept."""
    from falib import provenance

    backend, began = Backend("torch", dtype="float32"), []
    begin = spiking.begin
    monkeypatch.setattr(spiking, "begin", lambda *args: began.append(1) or begin(*args))
    tiny = dict(TINY, images=200, compare_images=0)
    spiking.compute(tiny, backend, [0])
    first = spiking.state_path(tiny, backend, [0])
    spiking.compute(tiny, backend, [0])
    assert began == [1] and first.exists()   # the same code resumes its state
    package = tmp_path / "falib"
    for path in provenance.PACKAGE.rglob("*.py"):
        (package / path.relative_to(provenance.PACKAGE)).parent.mkdir(parents=True, exist_ok=True)
        (package / path.relative_to(provenance.PACKAGE)).write_bytes(path.read_bytes())
    source = package / "experiments" / "spiking.py"
    source.write_text(source.read_text().replace("    net.flush()\n    if not all(", "    net.flush()\n    net.flush()\n    if not all("))
    monkeypatch.setattr(provenance, "PACKAGE", package)
    spiking.compute(tiny, backend, [0])
    assert began == [1, 1] and not first.exists() and spiking.state_path(tiny, backend, [0]).exists()


@needs_mnist
def test_stored_paper_run_starts_where_a_fresh_one_does():
    """The first 500 training images of run 0 (25 slots of 20 streams, on the full-size network):
    the online error of each block of 100 matches the committed results."""
    config = spiking.EXPERIMENT.config("paper")
    stored = falib.reproduce("spiking", "paper")
    backend = Backend(stored.meta["backend"], dtype=config["dtype"])
    net = spiking.network(config, backend, [0])
    stream = spiking.Stream(load_mnist(), config)
    with progress_bar(0, "") as bar:
        fresh = np.stack(spiking.learn(net, stream, 0, 500 // config["streams"], config, bar), axis=1)
    np.testing.assert_allclose(fresh[0], stored["online_error"][0, :5], atol=0.021)


def worse(res, points):
    return altered(res, final_test_error=res["final_test_error"] + points / 100)


def stuck(res, error=0.4):
    """A network stuck at `error`: its validation error falls from the start to `error` in the first
    check and stays there, and so ends its test error; its units as stored."""
    val = np.full_like(res["val_error"], error)
    val[:, 0] = res["val_error"][:, 0]
    return altered(res, val_error=val, final_test_error=np.full_like(res["final_test_error"], error))


def counterfactuals(res):
    gap = res["final_test_error"].mean() - spiking.PAPER_ERROR / 100
    flat = np.repeat(res["val_error"][:, :1], res["val_error"].shape[1], axis=1)
    quick = bool(spiking.claims(res)["hidden-layers-learn"].gap)
    return {
        "paper-level": (lambda r: worse(r, -100 * gap)) if spiking.claims(res)["paper-level"].gap
        else (lambda r: worse(r, +1)),
        "hidden-layers-learn": (lambda r: stuck(r, 0.05)) if quick else stuck,
        "learns": lambda r: altered(r, final_test_error=np.full_like(r["final_test_error"], 0.6)),
        "error-falls": lambda r: altered(r, val_error=flat),
        "stochastic": lambda r: altered(r, **{"end/rates": np.where(r["end/rates"] > 0.5, 0.99, 0.01)}),
    }


def test_paper_claims_can_fail():
    res = falib.reproduce("spiking", "paper")
    assert_claims_can_fail(spiking.claims, res, counterfactuals(res))


def test_a_network_stuck_at_40_percent_reproduces_nothing():
    """The rows it still passes are sanity checks; every result row fails on it."""
    claims = spiking.claims(stuck(falib.reproduce("spiking", "paper")))
    assert {c.key for c in claims if c.status == "sanity check"} == {"learns", "error-falls", "stochastic"}
    assert not any(c.status == "reproduced" for c in claims)


@needs_mnist
def test_quick_claims_can_fail(run_cache):
    """At the quick profile the paper's error is a declared gap, strict like the paper profile's."""
    res = falib.reproduce("spiking", "quick")
    assert spiking.claims(res)["paper-level"].gap
    assert_claims_can_fail(spiking.claims, res, counterfactuals(res))
