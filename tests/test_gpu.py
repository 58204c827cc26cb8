"""The CUDA backend on a GPU: every rule and the spiking fast path agree with NumPy.

Skipped, with the reason, on a machine without a CUDA GPU; ``benchmarks/gpu_check.py`` runs them.
"""
import numpy as np
import pytest

from falib import RULES, Backend, Network, make_rule, train
from falib.data import columns, minibatches

from .conftest import as_numpy

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.skipif(not torch.cuda.is_available(),
                                reason="no CUDA GPU on this machine: the CUDA backend tests need one")



def cuda():
    return Backend("torch", "cuda", "float64")


def trained(rule_name, backend):
    """A 30-20-10 tanh network (two runs) after 20 minibatch steps of `rule_name`."""
    rng = np.random.default_rng(3)
    X = rng.standard_normal((100, 30))
    Y = np.tanh(X @ rng.uniform(-1, 1, (10, 30)).T)
    net = Network.init([30, 20, 10], ["tanh", "linear"], 0.1, seed=2, runs=[0, 1], backend=backend)
    rule = make_rule(rule_name).bind(net, seed=2, runs=[0, 1], backend=backend)
    train(net, rule, minibatches(columns(X, backend), columns(Y, backend), 5), steps=20, eta=0.05,
          record_every=20)
    return net


@pytest.mark.parametrize("rule_name", sorted(RULES))
def test_every_rule_on_cuda_matches_numpy(rule_name):
    ours, theirs = trained(rule_name, cuda()), trained(rule_name, Backend("numpy", "cpu", "float64"))
    assert ours.W[0].device.type == "cuda"
    for a, b in zip(ours.W + ours.b, theirs.W + theirs.b):
        np.testing.assert_allclose(as_numpy(a), b, rtol=1e-9, atol=1e-12)


def test_spiking_fast_path_on_cuda_matches_numpy():
    from .test_spiking import trained as spiking

    gpu, counts_gpu = spiking("fast", cuda(), streams=2)
    cpu, counts_cpu = spiking("naive", Backend("numpy", "cpu", "float64"), streams=2)
    for a, b in zip(gpu.WT + gpu.b, cpu.WT + cpu.b):
        np.testing.assert_allclose(as_numpy(a), b, rtol=1e-9, atol=1e-12)
    assert np.array_equal(as_numpy(counts_gpu), as_numpy(counts_cpu))
