"""The learning rules against autograd, against hand-computed cases, and against each other."""
import numpy as np
import pytest
import torch

from falib import Network, make_rule
from falib.rules import RULES

from .conftest import as_numpy

CASES = [([5, 4, 3], ["tanh", "linear"]), ([6, 5, 4, 3], ["logistic", "tanh", "logistic"]),
         ([4, 7, 6, 5, 2], "tanh"), ([3, 2], "logistic")]


def random_case(backend, sizes, units, seed=0, batch=7):
    net = Network.init(sizes, units, 0.8, seed=seed, runs=[0, 1], backend=backend)
    rng = np.random.default_rng(seed + 100)
    for b in net.b:
        b += backend.asarray(rng.normal(size=tuple(b.shape)))
    x = backend.asarray(rng.normal(size=(2, sizes[0], batch)))
    target = backend.asarray(rng.normal(size=(2, sizes[-1], batch)))
    return net, x, target


def autograd_descent(net, x, target):
    """-dL/dW and -dL/db of L = mean over examples of 0.5 |y* - y|^2, summed over runs."""
    W = [torch.tensor(as_numpy(w), requires_grad=True) for w in net.W]
    b = [torch.tensor(as_numpy(v), requires_grad=True) for v in net.b]
    h = torch.tensor(as_numpy(x))
    f = {"tanh": torch.tanh, "logistic": torch.sigmoid, "linear": lambda a: a}
    for l in range(len(W)):
        h = f[net.f[l].name](W[l] @ h + b[l])
    loss = 0.5 * ((torch.tensor(as_numpy(target)) - h) ** 2).sum() / x.shape[-1]
    loss.backward()
    return [-w.grad.numpy() for w in W], [-v.grad.numpy() for v in b]


@pytest.mark.parametrize("sizes,units", CASES)
def test_backprop_equals_autograd(backend, sizes, units):
    net, x, target = random_case(backend, sizes, units)
    p = net.forward(x)
    deltas = make_rule("backprop").deltas(net, p, target)
    dW, db = autograd_descent(net, x, target)
    batch = x.shape[-1]
    for l, delta in enumerate(deltas):
        ours = as_numpy(delta @ p.h[l].mT) / batch
        assert np.max(np.abs(ours - dW[l])) < 1e-10 * np.max(np.abs(dW[l]))
        assert np.allclose(as_numpy(delta).sum(-1, keepdims=True) / batch, db[l], rtol=1e-10, atol=0)


def hand_case(backend):
    """h = W0 x, y = W h with W0 = I, W = [1 2], B = [3 4]^T, x = [1 1], y* = 0, so e = -3."""
    net = Network.init([2, 2, 1], "linear", 0.1, bias=False, backend=backend)
    net.W = [backend.asarray([[[1, 0], [0, 1]]]), backend.asarray([[[1, 2]]])]
    x, target = backend.asarray([[[1], [1]]]), backend.asarray([[[0]]])
    return net, net.forward(x), target


def test_feedback_alignment_matches_formula_and_differs_from_backprop(backend):
    net, p, target = hand_case(backend)
    fa = make_rule("feedback_alignment").bind(net, backend=backend)
    fa.B = [backend.asarray([[[3], [4]]])]
    delta_fa = as_numpy(fa.deltas(net, p, target)[0]).ravel()
    delta_bp = as_numpy(make_rule("backprop").deltas(net, p, target)[0]).ravel()
    assert np.array_equal(delta_fa, [-9, -12])   # B e
    assert np.array_equal(delta_bp, [-3, -6])    # W^T e


def test_feedback_alignment_draws_its_own_B_per_run(backend):
    net = Network.init([4, 5, 3], "tanh", 0.1, runs=[0, 1], backend=backend)
    fa = make_rule("feedback_alignment", scale=0.5, density=0.5).bind(net, runs=[0, 1], backend=backend)
    B = as_numpy(fa.B[0])
    assert B.shape == (2, 5, 3)
    assert np.abs(B).max() <= 0.5 and not np.allclose(B[0], B[1])
    assert 0 < np.mean(B == 0) < 1   # sparse
    p = net.forward(backend.asarray(np.ones((1, 4, 2))))
    target = backend.asarray(np.zeros((1, 3, 2)))
    assert not np.allclose(as_numpy(fa.deltas(net, p, target)[0]),
                           as_numpy(make_rule("backprop").deltas(net, p, target)[0]))


def test_shallow_freezes_hidden_layers(backend):
    net, x, target = random_case(backend, [4, 5, 6, 3], "tanh")
    deltas = make_rule("shallow").deltas(net, net.forward(x), target)
    assert deltas[0] is None and deltas[1] is None and deltas[2] is not None


def test_node_perturbation_estimates_the_gradient(backend):
    """Averaged over many perturbations, NP's delta points along backprop's (cosine > 0.9)."""
    net, x, target = random_case(backend, [4, 5, 3], "tanh", batch=1)
    np_rule = make_rule("node_perturbation", sigma=1e-4).bind(net, runs=[0, 1], backend=backend)
    p = net.forward(x)
    bp = make_rule("backprop").deltas(net, p, target)
    estimate = [sum(as_numpy(d) for d in ds) for ds in zip(*(np_rule.deltas(net, p, target) for _ in range(3000)))]
    for est, exact in zip(estimate, bp):
        cos = (est * as_numpy(exact)).sum() / np.linalg.norm(est) / np.linalg.norm(as_numpy(exact))
        assert cos > 0.9


def test_unknown_rule_lists_the_valid_names():
    with pytest.raises(ValueError, match="choose one of: " + ", ".join(RULES)):
        make_rule("hebbian")
