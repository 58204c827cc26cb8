"""The MNIST experiment (Fig. 3a,b): backend parity and agreement with the stored paper run."""
import os

import numpy as np
import pytest

import falib
from falib import Backend
from falib.experiments import mnist

pytestmark = pytest.mark.skipif(not os.environ.get("FALIB_MNIST"), reason="FALIB_MNIST is not set")

TINY = dict(mnist.QUICK, train_size=256, test_size=300, batch=32, epochs=1, eta_drops=[],
            records_per_epoch=2, angle_size=100, fields=2, dtype="float64")


def test_numpy_and_torch_train_alike():
    """A short run of every variant gives the same curves and weights on NumPy and torch-CPU."""
    pytest.importorskip("torch")
    ours = mnist.compute(TINY, Backend("numpy", dtype="float64"), [0, 1])
    theirs = mnist.compute(TINY, Backend("torch", dtype="float64"), [0, 1])
    assert ours.keys() == theirs.keys()
    assert ours["backprop/error"][0, -1] < ours["backprop/error"][0, 0] - 0.05   # it learns
    for k in ours:
        np.testing.assert_allclose(ours[k], theirs[k], rtol=1e-9, atol=1e-12, err_msg=k)


def test_runs_have_their_own_masks_and_feedback():
    net, rule = mnist.network(mnist.SPARSE, TINY, Backend(), [0, 1])
    keep = net.mask[-1]
    assert 0.45 < keep.mean() < 0.55 and not np.array_equal(keep[0], keep[1])
    assert np.all(net.W[-1][keep == 0] == 0)
    zero_B = rule.B[0] == 0
    assert 0.45 < zero_B.mean() < 0.55 and not np.array_equal(zero_B[0], zero_B[1])


def test_stored_paper_run_starts_where_a_fresh_one_does():
    """Run 3's first epoch (weights, masks, B, data order, updates and metrics) matches the committed results."""
    config = mnist.EXPERIMENT.config("paper")
    stored = falib.reproduce("mnist", "paper")   # raises if there are no current ones
    fresh = mnist.compute(dict(config, epochs=1), Backend("torch", dtype=config["dtype"]), [3])
    for k, v in fresh.items():
        if k.endswith(("/error", "/angle")):   # records 0 and 1: the start and after one epoch
            np.testing.assert_allclose(v[0], stored[k][3, :2], rtol=1e-3, atol=5e-4, err_msg=k)
