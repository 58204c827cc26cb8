"""Bad input gets an error that names the problem: density, NaN data, saturated units."""
import numpy as np
import pytest

from falib import Backend, DivergenceError, Network, make_rule, train
from falib.metrics import normalized_squared_error
from falib.data import columns, minibatches

RNG = np.random.default_rng(0)
X = RNG.standard_normal((400, 30))
Y = X @ RNG.uniform(-1, 1, (10, 30)).T


@pytest.mark.parametrize("density", [-1, 0, 1.5, float("nan")])
def test_density_outside_zero_one_is_refused(density):
    with pytest.raises(ValueError, match=r"density must be in \(0, 1\]"):
        Network.init([30, 20, 10], "tanh", 0.1, density=density)


def fit(X, Y, units, eta, Xt=None):
    b = Backend()
    Xc, Yc, Xt = columns(X, b), columns(Y, b), columns(X[:100] if Xt is None else Xt, b)
    net = Network.init([30, 20, 10], units, 0.1, runs=[0, 1])
    rule = make_rule("backprop").bind(net, runs=[0, 1])
    return train(net, rule, minibatches(Xc, Yc, 10), steps=40, eta=eta, record_every=10,
                 evaluate=lambda n, r: {"nse": normalized_squared_error(Yc[..., :100], n.forward(Xt).y)})


def test_nan_inputs_are_named_as_such():
    bad = X.copy()
    bad[123, 4] = np.nan   # example 123: in the minibatch of step 13
    with pytest.raises(DivergenceError, match="input x of training step 13 contains NaN.*not the learning rate"):
        fit(bad, Y, ["tanh", "linear"], 0.01, Xt=X[:100])


def test_nan_evaluation_data_are_named_before_training():
    bad = X[:100].copy()
    bad[0, 0] = np.nan
    with pytest.raises(DivergenceError, match="before any training: the evaluation data"):
        fit(X, Y, ["tanh", "linear"], 0.01, Xt=bad)


def test_saturated_units_are_reported():
    """A huge step drives every tanh unit to ±1: learning has stopped, which must not pass as success."""
    with pytest.raises(DivergenceError, match="stalled at step 10: every unit of hidden layer 1 in run"):
        fit(X, Y, ["tanh", "tanh"], 1e6)


def test_a_healthy_run_is_not_flagged():
    assert fit(X, Y, ["tanh", "linear"], 0.01)["nse"].shape == (2, 5)
