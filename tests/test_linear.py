"""Fig. 2: the shallow-learning limit, the rate search, the stored paper run, and every claim failing."""
import numpy as np

import falib
from falib import Backend
from falib.experiments import linear
from falib.tasks import linear_data

from .conftest import altered, assert_claims_can_fail, assert_paper_start


def test_hidden_limit_hand_case():
    # one hidden unit sees x1 only; the target is x1 + x2, so the best W leaves x2's share of the variance
    W0 = np.array([[[1.0, 0.0]]])
    Xt = np.array([[[1.0, -1.0, 0.0, 0.0], [0.0, 0.0, 1.0, -1.0]]])
    Yt = Xt.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(linear.hidden_limit(W0, Xt, Yt), [0.5])
    np.testing.assert_allclose(linear.hidden_limit(np.eye(2)[None], Xt, Yt), [0.0], atol=1e-12)


def test_search_never_picks_a_diverging_rate():
    config = dict(linear.PAPER, steps=50, record_every=25, search={"grid": [1e-3, 1e4], "runs": [20]})
    out = linear.search(config, linear_data(config, Backend()), Backend())
    for rule in linear.RULES:
        score = out[f"search/{rule}"]
        assert score[0] < 1.1 and not np.isnan(score).any() and score[1] > 1e6, (rule, score)


def test_stored_paper_run_starts_where_a_fresh_one_does():
    curves = assert_paper_start(linear)
    assert {"backprop/nse", "feedback_alignment/angle", "shallow_tuned/nse"} <= set(curves)


def slower(curve, factor):
    """`curve` (runs, records) stretched in time by `factor`: the same learning, `factor` times slower."""
    t = np.arange(curve.shape[1])
    return np.stack([np.interp(t / factor, t, c) for c in curve])


def test_paper_claims_can_fail():
    res = falib.reproduce("linear", "paper")
    nse = {k: res[f"{k}/nse"] for k in (*linear.RULES, "shallow_tuned")}
    angle, limit = res["feedback_alignment/angle"], res["shallow_tuned/limit"]

    def ends_at(curve, value):
        return np.concatenate([curve[:, :-1], np.full((curve.shape[0], 1), value)], axis=1)

    def with_angle(**where):
        a = angle.copy()
        for index, value in where.values():
            a[index] = value
        return altered(res, **{"feedback_alignment/angle": a})

    search_bp = res["search/backprop"].copy()
    search_bp[0] = -1.0   # the smallest rate would now be backprop's best
    assert_claims_can_fail(linear.claims, res, {
        "bp-learns": lambda r: altered(r, **{"backprop/nse": ends_at(nse["backprop"], 0.2)}),
        "fa-learns": lambda r: altered(r, **{"feedback_alignment/nse": ends_at(nse["feedback_alignment"], 0.2)}),
        "fa-as-fast": lambda r: altered(r, **{"feedback_alignment/nse": slower(nse["feedback_alignment"], 4)}),
        "shallow-hardly": lambda r: altered(r, **{"shallow/nse": nse["shallow_tuned"]}),
        "np-slow": lambda r: altered(r, **{"node_perturbation/nse": slower(nse["backprop"], 2)}),
        "shallow-limit": lambda r: altered(r, **{"shallow_tuned/nse": ends_at(nse["shallow_tuned"], 1.05 * limit[:, None])}),
        "angle-start": lambda r: with_angle(start=((slice(None), 0), 45.0)),
        "angle-falls": lambda r: with_angle(late=((slice(None), slice(angle.shape[1] // 2, None)), 75.0)),
        "angle-nonzero": lambda r: with_angle(end=((0, -1), 0.5)),
        "rates-from-search": lambda r: altered(r, **{"search/backprop": search_bp}),
    })



def test_the_paper_profile_with_its_search_can_be_recomputed(tmp_path):
    """The search's arrays (one per rate of the grid, not per run) are declared shared: a run of
    the paper's form, search included, computes and assembles (shrunk to seconds)."""
    config = dict(linear.PAPER, runs=2, steps=50, test_size=50, search={"grid": [0.01, 0.1, 1.0], "runs": [2]})
    res = linear.EXPERIMENT.run("paper", config=config)
    assert res["search/eta"].shape == (3,) and res["search/backprop"].shape == (3,)
    assert res["backprop/nse"].shape[0] == 2
