"""Fig. 3c,d: frozen layers stay put, the t-test claims can fail, and the stored paper run is reproducible."""
import numpy as np
import pytest

from falib import Network, Results, make_rule, train
from falib.experiments import deep
from falib.tasks import network_target

from .conftest import as_numpy, assert_paper_start


@pytest.mark.parametrize("frozen", [set(), {0}, {1}])
def test_frozen_layers_keep_weights_and_biases(backend, frozen):
    net = Network.init([3, 4, 2], "tanh", 0.5, bias_scale=0.5, seed=1, backend=backend)
    net.frozen = frozen
    before = [(as_numpy(W).copy(), as_numpy(b).copy()) for W, b in zip(net.W, net.b)]
    rng = np.random.default_rng(0)
    x, t = backend.asarray(rng.normal(size=(1, 3, 5))), backend.asarray(rng.normal(size=(1, 2, 5)))
    rule = make_rule("feedback_alignment").bind(net, backend=backend)
    train(net, rule, lambda s: (x, t), steps=3, eta=0.1)
    for l, (W, b) in enumerate(before):
        moved = not np.array_equal(as_numpy(net.W[l]), W) and not np.array_equal(as_numpy(net.b[l]), b)
        assert moved == (l not in frozen), f"layer {l}, frozen {frozen}"


def test_target_network_is_tanh_then_linear():
    """Hand case: one hidden unit, y = 2 tanh(x1 - x2)."""
    target = network_target(np.random.default_rng(0), [2, 1, 1])
    target.W = [np.array([[[1.0, -1.0]]]), np.array([[[2.0]]])]
    np.testing.assert_allclose(target.forward(np.array([[[0.5], [0.25]]])).y[0, 0, 0], 2 * np.tanh(0.25))
    W = network_target(np.random.default_rng(0), [30, 20, 10, 10], 0.5).W
    assert [w.shape for w in W] == [(1, 20, 30), (1, 10, 20), (1, 10, 10)]
    assert max(abs(w).max() for w in W) <= 0.5


def fake_results(deep_nse, shallow_nse, frozen_nse):
    arrays = {"step": np.array([0, 1])}
    for rule in deep.RULES:
        for kind, v in (("deep", deep_nse), ("shallow", shallow_nse), ("frozen", frozen_nse)):
            arrays[f"{rule}/{kind}/nse"] = np.stack([np.ones_like(v), v], axis=1)
    return Results("deep", "paper", deep.PAPER, arrays, {"runs": list(range(len(deep_nse)))})


def test_claims_hold_only_for_a_significant_gain():
    rng = np.random.default_rng(0)
    shallow = 0.07 + 0.003 * rng.standard_normal(20)
    good = fake_results(0.01 + 0.003 * rng.standard_normal(20), shallow, np.full(20, 0.4))
    assert deep.claims(good).ok
    same = fake_results(shallow[::-1].copy(), shallow, np.full(20, 0.4))
    assert [c.ok for c in deep.claims(same)] == [False, False, False]
    kept = fake_results(0.01 + 0.003 * rng.standard_normal(20), shallow, np.full(20, 0.02))
    assert [c.ok for c in deep.claims(kept)] == [True, True, False]


def test_first_steps_of_a_paper_run_reproduce_the_stored_curve():
    steps = 4 * deep.PAPER["record_every"]
    assert len(assert_paper_start(deep, 7, 1e-5, steps=steps)) == 6   # float32
