"""The learning rules against autograd, against hand-computed cases, and against each other."""
import numpy as np
import pytest
import torch

from falib import Backend, Network, make_rule, train
from falib.metrics import delta_angles, feedback_angles
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
    np_rule = make_rule("node_perturbation", sigma=1e-4).bind(net)
    p = net.forward(x)
    bp = make_rule("backprop").deltas(net, p, target)
    draws = (np_rule.deltas(net, p, target, np_rule.noise(net, 1)) for _ in range(3000))
    estimate = [sum(as_numpy(d) for d in ds) for ds in zip(*draws)]
    for est, exact in zip(estimate, bp):
        cos = (est * as_numpy(exact)).sum() / np.linalg.norm(est) / np.linalg.norm(as_numpy(exact))
        assert cos > 0.9


def test_direct_feedback_alignment_by_hand(backend):
    """h1 = x, h2 = h1 (linear, 2-2-2-1), y = [1 2] h2, e = -3 at x = [1 1]: DFA sends B[l] e to
    every hidden layer, whatever the layers between."""
    net = Network.init([2, 2, 2, 1], "linear", 0.1, bias=False, backend=backend)
    net.W = [backend.asarray([[[1, 0], [0, 1]]])] * 2 + [backend.asarray([[[1, 2]]])]
    p = net.forward(backend.asarray([[[1], [1]]]))
    dfa = make_rule("direct_feedback_alignment").bind(net)
    assert [tuple(B.shape) for B in dfa.B] == [(1, 2, 1), (1, 2, 1)]
    dfa.B = [backend.asarray([[[3], [4]]]), backend.asarray([[[5], [6]]])]
    deltas = [as_numpy(d).ravel().tolist() for d in dfa.deltas(net, p, backend.asarray([[[0]]]))]
    assert deltas == [[-9, -12], [-15, -18], [-3]]


def test_direct_feedback_alignment_is_feedback_alignment_with_one_hidden_layer(backend):
    net, x, target = random_case(backend, [5, 4, 3], ["tanh", "linear"])
    p = net.forward(x)
    fa, dfa = (make_rule(name, scale=0.3).bind(net) for name in ("feedback_alignment", "direct_feedback_alignment"))
    for a, b in zip(fa.deltas(net, p, target), dfa.deltas(net, p, target)):
        np.testing.assert_array_equal(as_numpy(a), as_numpy(b))


def test_sign_symmetry_by_hand(backend):
    """W = [0.5 -2]: sign(W)^T e = [1 -1]^T (-3) with e = y* - y = -(0.5 - 2) ... at x = [1 1]."""
    net, p, target = hand_case(backend)
    net.W[1] = backend.asarray([[[0.5, -2.0]]])
    p = net.forward(backend.asarray([[[1], [1]]]))
    e = 0 - (0.5 - 2.0)
    delta = as_numpy(make_rule("sign_symmetry").deltas(net, p, target)[0]).ravel()
    assert delta.tolist() == [e, -e]


def test_bound_rule_has_one_independent_B_per_run(backend):
    """Binding takes the runs from the network: R runs, R different B's, each the one its run
    draws alone (the draw does not depend on how many runs are batched)."""
    net = Network.init([4, 5, 3], "tanh", 0.1, seed=3, runs=[0, 1, 2], backend=backend)
    B = as_numpy(make_rule("feedback_alignment").bind(net).B[0])
    assert B.shape == (3, 5, 3) and not np.allclose(B[0], B[1]) and not np.allclose(B[1], B[2])
    alone = Network.init([4, 5, 3], "tanh", 0.1, seed=3, runs=[2], backend=backend)
    np.testing.assert_array_equal(as_numpy(make_rule("feedback_alignment").bind(alone).B[0])[0], B[2])


def test_binding_errors_name_the_problem(backend):
    net = Network.init([4, 5, 3], "tanh", 0.1, runs=[0, 1], backend=backend)
    with pytest.raises(ValueError, match="1 draws for a network of 2 runs"):
        make_rule("feedback_alignment").bind(net, runs=[0])
    other = Backend("torch" if backend.name == "numpy" else "numpy", "cpu", "float64")
    with pytest.raises(ValueError, match="leave backend out"):
        make_rule("feedback_alignment").bind(net, backend=other)
    with pytest.raises(RuntimeError, match=r"call rule.bind\(net\) first"):
        make_rule("feedback_alignment").deltas(net, net.forward(backend.asarray(np.ones((1, 4, 2)))),
                                               backend.asarray(np.zeros((1, 3, 2))))


@pytest.mark.parametrize("name", sorted(RULES))
def test_measuring_angles_does_not_change_the_rule(backend, name):
    """Measuring every angle in between changes nothing: the same steps give the same weights and,
    for node perturbation, the noise stream is where it would be."""
    def run(measure):
        net, x, target = random_case(backend, [4, 6, 5, 3], "tanh")
        rule = make_rule(name).bind(net)

        def evaluate(net, rule):
            if measure:
                delta_angles(net, rule, net.forward(x), target), feedback_angles(net, rule)
            return {}

        train(net, rule, lambda t: (x, target), steps=6, eta=0.05, record_every=1, evaluate=evaluate)
        return [as_numpy(W) for W in net.W], rule

    (plain, a), (measured, b) = run(False), run(True)
    for W, V in zip(plain, measured):
        np.testing.assert_array_equal(W, V)
    if name == "node_perturbation":
        assert [g.random() for g in a.rngs] == [g.random() for g in b.rngs]


def test_kolen_pollack_by_hand(backend):
    """One step on the hand case (eta 0.5, batch 1, lambda 0.2, no training decay): W's update is
    eta delta h^T = 0.5 (-3) [1 1] = [-1.5 -1.5]; then W and B keep 1 - eta lambda = 0.9 of themselves,
    and B receives the same update, transposed."""
    net, _, _ = hand_case(backend)
    kp = make_rule("kolen_pollack", decay=0.2).bind(net)
    kp.B = [backend.asarray([[[3.0], [4.0]]])]
    x, target = backend.asarray([[[1.0], [1.0]]]), backend.asarray([[[0.0]]])
    net.frozen = {0}   # only W = W[1] learns, to keep the hand computation short
    train(net, kp, lambda t: (x, target), steps=1, eta=0.5, record_every=1)
    np.testing.assert_allclose(as_numpy(net.W[1]).ravel(), [0.9 * (1 - 1.5), 0.9 * (2 - 1.5)])
    np.testing.assert_allclose(as_numpy(kp.B[0]).ravel(), [0.9 * (3 - 1.5), 0.9 * (4 - 1.5)])


def test_kolen_pollack_converges_to_W_transpose(backend):
    """On a small tanh network, B - W^T shrinks by (1 - eta lambda)(1 - eta decay) every step: the
    angle between B and W^T starts near 90 degrees and ends below 1 degree."""
    net, x, target = random_case(backend, [6, 8, 7, 4], "tanh", batch=20)
    kp = make_rule("kolen_pollack", scale=0.5, decay=0.5).bind(net)
    start = [as_numpy(a) for a in feedback_angles(net, kp)]
    gap = [as_numpy(B - W.mT) for B, W in zip(kp.B, net.W[1:])]
    train(net, kp, lambda t: (x, target), steps=600, eta=0.05, decay=1e-3, record_every=600)
    keep = ((1 - 0.05 * 0.5) * (1 - 0.05 * 1e-3)) ** 600
    for l, (B, W) in enumerate(zip(kp.B, net.W[1:])):
        np.testing.assert_allclose(as_numpy(B - W.mT), keep * gap[l], rtol=1e-6, atol=1e-12)
        assert np.all(start[l] > 45) and np.all(as_numpy(feedback_angles(net, kp)[l]) < 1)


def test_specs_objects_and_names_make_the_same_rule():
    spec = {"rule": "feedback_alignment", "scale": 0.25, "density": 0.5}
    assert make_rule(spec).spec == make_rule("feedback_alignment", scale=0.25, density=0.5).spec == spec
    rule = make_rule("sign_symmetry")
    assert make_rule(rule) is rule and rule.spec == {"rule": "sign_symmetry"}
    with pytest.raises(ValueError, match="feedback_alignment has no parameter sigma; its parameters: scale, density"):
        make_rule({"rule": "feedback_alignment", "sigma": 1})
    with pytest.raises(ValueError, match="a rule spec names its rule"):
        make_rule({"scale": 1})


def test_unknown_rule_lists_the_valid_names():
    with pytest.raises(ValueError, match="choose one of: " + ", ".join(RULES)):
        make_rule("hebbian")


def test_a_rule_says_which_layers_learn_and_whether_it_is_stochastic():
    """Experiments ask the rule, never its name: shallow learning trains the output layer alone;
    node perturbation alone estimates its errors from random perturbations."""
    net = Network.init([4, 3, 3, 2], "tanh", 0.5)
    learns = {name: [make_rule(name).learns(net, l) for l in range(3)] for name in RULES}
    assert learns.pop("shallow") == [False, False, True] and all(v == [True] * 3 for v in learns.values())
    assert {name for name in RULES if make_rule(name).stochastic} == {"node_perturbation"}
