"""Fig. 3c,d: frozen layers stay put, one B for every run, the stop rule, the settings come from the
search, the counts of runs that fit the target come from the results, every claim can fail, and the
stored paper runs are reproducible."""
import numpy as np
import pytest

from falib import Backend, Network, Results, make_rule, reproduce, train
from falib.experiments import deep, deep_check, deep_search
from falib.tasks import network_target

from .conftest import altered, as_numpy, assert_claims_can_fail, assert_paper_start


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


def test_one_draw_of_B_for_every_run_at_each_scale():
    """The paper's practice: B1, B2 drawn once and fixed across runs; a scale multiplies that one draw."""
    net = Network.init([30, 20, 10, 10], ["tanh", "tanh", "linear"], 0.1, runs=range(3))
    fa = {"rule": "feedback_alignment"}
    B = deep.bind(deep.PAPER, net, dict(fa, scale=[1.0, 1.0]), Backend()).B
    half = deep.bind(deep.PAPER, net, dict(fa, scale=[0.5, 2.0]), Backend()).B
    for l in range(2):
        assert np.array_equal(B[l][0], B[l][1]) and np.array_equal(B[l][0], B[l][2])
    np.testing.assert_allclose(half[0], 0.5 * B[0])
    np.testing.assert_allclose(half[1], 2.0 * B[1])
    assert not np.array_equal(net.W[0][0], net.W[0][1]), "forward weights stay new in every run"


def test_stop_where_validation_error_stops_falling_by_one_percent():
    stop = lambda v: deep.stop_index(np.array(v), patience=2, min_improvement=0.01)
    assert stop([1, 0.5, 0.25, 0.249, 0.248, 0.1]) == 2     # two records without a 1% cut: stop at 0.25
    assert stop([1, 0.5, 0.25, 0.249, 0.2, 0.1]) == 5       # a cut within the patience: go on to the end
    assert stop([1, 1.2, 1.3, 0.5]) == 0                    # rising at once: stop at the start


def search_results(bp_final, fa_final, etas=(0.4, 0.8), scales=(0.5, 1.0)):
    """A search whose validation curves fall linearly to the given final values (runs, ...)."""
    ramp = np.linspace(1, 0, 11)
    config = dict(deep_search.QUICK, eta=list(etas), feedback_scale=list(scales), patience=2)
    bp = 1e-3 + np.asarray(bp_final)[..., None] * (1 - ramp) + ramp
    fa = 1e-3 + np.asarray(fa_final)[..., None] * (1 - ramp) + ramp
    return Results("deep-search", "quick", config, {"step": np.arange(11), "backprop": bp[None],
                                                     "feedback_alignment": fa[None]}, {"runs": [0]})


def test_search_picks_the_lowest_validation_error_and_never_a_diverged_setting():
    fa = np.array([[[0.3, 0.2], [0.1, 0.4]], [[0.05, np.nan], [0.2, 0.01]]])   # (eta, s1, s2)
    pick = deep_search.choice(search_results([0.2, 0.1], fa))
    assert pick == {"eta": 0.8, "stop": 10, "feedback_scale": 1.0,
                    "tuned": {"eta": 0.8, "feedback_scale": [1.0, 1.0]}}
    pick = deep_search.choice(search_results([0.1, np.nan], fa))
    assert (pick["eta"], pick["feedback_scale"]) == (0.4, 0.5)
    assert "failed" in deep_search.table(search_results([0.2, 0.1], fa)).data


def test_settings_are_those_the_stored_search_chose():
    pick = deep_search.choice(reproduce("deep-search", "paper"))
    fa, tuned = deep.PAPER["rules"]["feedback_alignment"], deep.PAPER["tuned"]
    assert (deep.PAPER["eta"], fa["scale"]) == (pick["eta"], pick["feedback_scale"])
    assert {"eta": tuned["eta"], "feedback_scale": tuned["rule"]["scale"]} == pick["tuned"]
    assert deep.QUICK["tuned"] == deep.PAPER["tuned"] and deep.QUICK["eta"] == deep.PAPER["eta"]


def swap(res, rule_a, net_a, rule_b, net_b, factor=1.0):
    """Results in which network (rule_a, net_a) scored what (rule_b, net_b) did, times `factor`."""
    return altered(res, **{f"{rule_a}/{net_a}/test": res[f"{rule_b}/{net_b}/test"] * factor})


def as_good_counterfactual(rule):
    """A declared gap must start to hold (FA scores what backprop did); a holding claim must fail
    (FA scores what its 3-layer net did)."""
    key = deep.AS_GOOD[rule][0]
    if key in deep.GAPS:
        return lambda r: swap(r, rule, "deep", "backprop", "deep")
    return lambda r: swap(r, rule, "deep", rule, "shallow")


def depth_counterfactual(rule):
    """A declared gap must start to hold (the rule scores what backprop did with 3 and 4 layers); a
    holding claim must fail (its 4-layer networks score what its 3-layer ones did)."""
    if f"depth-helps-{rule}" in deep.GAPS:
        return lambda r: swap(swap(r, rule, "deep", "backprop", "deep"), rule, "shallow", "backprop", "shallow")
    return lambda r: swap(r, rule, "deep", rule, "shallow")


def test_every_claim_can_fail_on_a_counterfactual():
    res = reproduce("deep", "paper")
    control = (lambda r: swap(r, "feedback_alignment", "wide_frozen", "feedback_alignment", "wide", 10.0)) \
        if "W0-learning-matters" in deep.GAPS else \
        (lambda r: swap(r, "feedback_alignment", "wide_frozen", "feedback_alignment", "wide"))
    assert_claims_can_fail(deep.claims, res, {
        **{f"depth-helps-{rule}": depth_counterfactual(rule) for rule in deep.DEPTH},
        "fa-as-good-as-backprop": as_good_counterfactual("feedback_alignment"),
        "fa-tuned-as-good-as-backprop": as_good_counterfactual(deep.TUNED),
        "W0-learning-matters": control,
    })


def test_as_good_as_backprop_is_two_sided():
    """Feedback alignment far *better* than backprop is not 'as well as' either."""
    res = reproduce("deep", "paper")
    better = altered(res, **{"backprop/deep/test": res["backprop/shallow/test"] * 0.5,
                             "feedback_alignment/deep/test": res["backprop/deep/test"]})
    assert not deep.claims(better)["fa-as-good-as-backprop"].holds


def test_first_steps_of_a_paper_run_reproduce_the_stored_curve():
    assert len(assert_paper_start(deep)) == 2 * len(deep.TRAININGS)   # float32


def test_converged_runs_are_counted_from_the_results():
    """Counterfactuals: FA's own runs all scoring what backprop's did, then all stuck between 0.01 and 0.02."""
    res = reproduce("deep", "paper")
    fit = altered(res, **{f"{deep.TUNED}/deep/test": res["backprop/deep/test"]})
    n = len(res.meta["runs"])
    plateau = np.linspace(0.01, 0.02, n)[:, None] + 0 * res["backprop/deep/test"]
    stuck = altered(res, **{f"{deep.TUNED}/deep/test": plateau.astype(res["backprop/deep/test"].dtype)})
    assert deep.numbers(fit)["fa_tuned_deep_converged"] == f"{n} of {n}"
    assert deep.numbers(fit)["fa_tuned_stuck"] == "none"
    assert deep.numbers(stuck)["fa_tuned_deep_converged"] == f"0 of {n}"
    assert deep.numbers(stuck)["fa_tuned_stuck"] == "0.01 to 0.02"
    assert f"{n} of {n} fit the target" in deep.as_good_gap(fit, deep.TUNED)
    assert f"0 of {n} fit the target" in deep.claims(stuck)["fa-tuned-as-good-as-backprop"].gap
    assert deep.converged([deep.CONVERGED, 0.5 * deep.CONVERGED, np.nan]) == "1 of 3"   # the bound is strict


def test_search_counts_its_converged_runs_at_the_chosen_setting():
    """Counterfactual: every feedback-alignment error 10^10 times larger (the same choice) fits in no run."""
    search = reproduce("deep-search", "paper")
    n = len(search.meta["runs"])
    worse = altered(search, feedback_alignment=search["feedback_alignment"] * 1e10)
    assert deep_search.choice(worse) == deep_search.choice(search)
    assert deep_search.numbers(worse)["search_tuned_converged"] == f"0 of {n}"
    assert deep_search.numbers(search)["search_tuned_converged"] == deep.converged(deep_search.tuned_runs(search))


def test_check_repeats_the_search_in_its_first_runs():
    """The check's runs begin with the search's: the same initial weights, data and settings, so the same
    curves up to float32 rounding (which batching more runs together changes, mostly near float32's floor)."""
    check, search = reproduce("deep-check", "paper"), reproduce("deep-search", "paper")
    cfg, tuned, n = search.config, deep.PAPER["tuned"], len(search.meta["runs"])
    assert check.config["first_run"] == cfg["first_run"] and len(check.meta["runs"]) == deep.PAPER["runs"]
    e, s1, s2 = cfg["eta"].index(tuned["eta"]), *(cfg["feedback_scale"].index(s) for s in tuned["rule"]["scale"])
    np.testing.assert_allclose(check[f"{deep.TUNED}/deep/valid"][:n], search["feedback_alignment"][:, e, s1, s2],
                               rtol=1e-2, atol=1e-10)
    np.testing.assert_allclose(check["backprop/deep/valid"][:n], search["backprop"][:, cfg["eta"].index(deep.PAPER["eta"])],
                               rtol=1e-2, atol=1e-10)


def test_check_counts_come_from_its_runs():
    check = reproduce("deep-check", "paper")
    n = len(check.meta["runs"])
    stuck = altered(check, **{f"{deep.TUNED}/deep/valid": np.full_like(check["backprop/deep/valid"], 0.01)})
    fit = altered(check, **{f"{deep.TUNED}/deep/valid": check["backprop/deep/valid"]})
    assert deep_check.numbers(stuck)["check_tuned_converged"] == f"0 of {n}"
    assert deep_check.numbers(fit)["check_tuned_converged"] == f"{n} of {n}"
    assert deep_check.numbers(fit)["check_bp_converged"] == f"{n} of {n}"
