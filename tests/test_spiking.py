"""The spiking network: the fast update path is exact, backends agree, bad input is refused."""
import numpy as np
import pytest

from falib import Backend
from falib.spiking import SpikingNetwork, class_targets, classify, present

from .conftest import as_numpy


def trained(path, backend=Backend(), gamma=1e-3, images=60):
    """A small network after `images` x 5 steps (300) of learning on random 'images'."""
    rng = np.random.default_rng(5)
    X = backend.asarray(rng.random((images, 1, 30)))
    T = class_targets(rng.integers(0, 10, images), 20, backend)
    net = SpikingNetwork([30, 25, 25, 20], eta=0.05, gamma=gamma, seed=3, runs=[0, 1], backend=backend,
                         path=path, flush_every=7)
    counts = present(net, X, T)
    net.flush()
    return net, counts


@pytest.mark.parametrize("gamma", [0.0, 1e-3])
def test_fast_path_equals_naive_per_step_updates(backend, gamma):
    naive, c1 = trained("naive", backend, gamma)
    fast, c2 = trained("fast", backend, gamma)
    for a, b in zip(naive.WT + naive.b, fast.WT + fast.b):
        np.testing.assert_allclose(as_numpy(a), as_numpy(b), rtol=1e-10, atol=1e-13)
    assert np.array_equal(as_numpy(c1), as_numpy(c2))        # same spikes all along
    start = SpikingNetwork([30, 25, 25, 20], seed=3, runs=[0, 1], backend=backend)
    assert np.abs(as_numpy(naive.WT[0]) - as_numpy(start.WT[0])).max() > 1e-3   # it did learn


def test_numpy_and_torch_agree():
    a, _ = trained("fast", Backend("numpy"))
    b, _ = trained("fast", Backend("torch"))
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
