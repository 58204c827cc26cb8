"""One training loop: backends agree, replicas are independent runs, divergence is caught."""
import numpy as np
import pytest

from falib import Backend, DivergenceError, Network, make_rule, train
from falib.experiments import linear
from falib.tasks import linear_data

from .conftest import as_numpy

SHORT = dict(linear.PAPER, steps=150, record_every=10, test_size=200, search=None)   # the rules, not the rate search


def test_numpy_and_torch_trajectories_agree():
    """The same seed gives the same 150-step trajectory on NumPy and torch-CPU (float64), every rule."""
    runs = [0, 1, 2]
    a = linear.compute(SHORT, Backend("numpy", "cpu", "float64"), runs)
    b = linear.compute(SHORT, Backend("torch", "cpu", "float64"), runs)
    assert a.keys() == b.keys()
    for k in a:
        np.testing.assert_allclose(a[k], b[k], rtol=1e-9, atol=1e-12, err_msg=k)
    assert a["feedback_alignment/nse"][:, -1].max() < 0.5   # it did learn


def test_replica_equals_a_lone_run(backend):
    batched = linear.compute(SHORT, backend, [0, 1, 2])
    lone = linear.compute(SHORT, backend, [1])
    for k, v in batched.items():
        if k != "step":
            np.testing.assert_allclose(v[1], lone[k][0], rtol=1e-10, atol=1e-12, err_msg=k)
    assert not np.allclose(batched["backprop/nse"][0], batched["backprop/nse"][1])


def test_minibatch_step_is_the_mean_of_online_steps(backend):
    """One step on a batch of 4 equals the average of four one-example updates from the same weights."""
    net = Network.init([3, 4, 2], "tanh", 0.5, seed=1, backend=backend)
    rng = np.random.default_rng(0)
    x, t = backend.asarray(rng.normal(size=(1, 3, 4))), backend.asarray(rng.normal(size=(1, 2, 4)))
    W0 = [as_numpy(w) for w in net.W]
    train(net, make_rule("backprop"), lambda s: (x, t), steps=1, eta=0.1)
    updates = []
    for i in range(4):
        one = Network.init([3, 4, 2], "tanh", 0.5, seed=1, backend=backend)
        train(one, make_rule("backprop"), lambda s: (x[..., i:i + 1], t[..., i:i + 1]), steps=1, eta=0.1)
        updates.append([as_numpy(w) - w0 for w, w0 in zip(one.W, W0)])
    for l in range(2):
        np.testing.assert_allclose(as_numpy(net.W[l]) - W0[l], np.mean([u[l] for u in updates], axis=0),
                                   rtol=1e-10, atol=1e-14)


@pytest.mark.filterwarnings("ignore:.*encountered in matmul:RuntimeWarning")
def test_divergence_names_step_rule_and_rate():
    cfg = dict(SHORT, eta=dict(SHORT["eta"], backprop=0.5))
    with pytest.raises(DivergenceError, match=r"backprop diverged.*step \d+.*eta=0.5.*lower eta"):
        linear.compute(cfg, Backend(), [0])


def test_one_divergence_policy():
    """``diverged``: raise (default), every curve NaN throughout (in the metric's dtype), or the
    curves up to the bad record with the message; an unknown policy is refused."""
    data = linear_data(SHORT, Backend())

    def run(diverged):
        return linear.learn("backprop", 0.5, SHORT, data, Backend(), [0, 1], diverged=diverged)[0]

    nan = run("nan")
    assert nan["nse"].shape == (2, len(nan["step"])) == (2, 16) and np.isnan(nan["nse"]).all()
    assert nan["nse"].dtype == np.float64 and "diverged" not in nan
    kept = run("keep")
    assert "backprop diverged" in kept["diverged"] and kept["nse"].shape == (2, len(kept["step"]))
    assert 1 < len(kept["step"]) < 16 and np.isfinite(kept["nse"][:, 0]).all()
    assert not np.isfinite(kept["nse"][:, -1]).all()
    assert linear.learn("backprop", 0.01, SHORT, data, Backend(), [0], diverged="keep")[0]["diverged"] is None
    with pytest.raises(ValueError, match="unknown divergence policy 'ignore'; choose one of: raise, nan, keep"):
        run("ignore")


def test_wrong_input_shape_names_the_expected_shape():
    net = Network.init([30, 20, 10], "linear", 0.01)
    with pytest.raises(ValueError, match=r"expected \(runs, 30, batch\)"):
        net.forward(np.zeros((1, 29, 5)))
    with pytest.raises(ValueError, match=r"expected \(runs, 30, batch\)"):
        net.forward(np.zeros((30, 5)))
    x = np.zeros((1, 30, 5))
    with pytest.raises(ValueError, match=r"target has shape \(1, 9, 5\); expected \(runs, 10, 5\)"):
        train(net, make_rule("backprop"), lambda t: (x, np.zeros((1, 9, 5))), steps=1, eta=0.1)


def test_bad_network_descriptions():
    with pytest.raises(ValueError, match="unknown unit type 'relu'; choose one of: linear, tanh, logistic"):
        Network.init([3, 2], "relu", 0.1)
    with pytest.raises(ValueError, match="expected 2 unit types"):
        Network.init([3, 4, 2], ["tanh"], 0.1)
    with pytest.raises(ValueError, match="at least two positive layer sizes"):
        Network.init([3], "tanh", 0.1)


def test_schedule_records_every_step_of_a_final_window():
    """Records fall every `every` steps, at the last, and at each of the last `window` steps."""
    from falib.training import schedule

    assert schedule(10, 5) == [0, 5, 10]
    assert schedule(10, 5, window=3) == [0, 5, 8, 9, 10]
    assert schedule(3, 5, window=10) == [0, 1, 2, 3]
    with pytest.raises(ValueError, match="window not negative"):
        schedule(10, 5, window=-1)
