"""Beyond the paper: the stored paper run starts where a fresh one does, and every claim can fail."""
import numpy as np
import pytest

import falib
from falib import Backend
from falib.experiments import beyond

from .conftest import altered, assert_claims_can_fail

TINY_IMAGES = dict(beyond.IMAGES, train_size=64, test_size=100, epochs=1, records_per_epoch=1, angle_size=50)
SHORT = {"depths": [1], "widths": [1], "mnist": TINY_IMAGES, "fashion": TINY_IMAGES,
         "scales": {"values": [2.0], "train_size": 64, "test_size": 100}}


@pytest.mark.skipif(not __import__("os").environ.get("FALIB_MNIST"), reason="FALIB_MNIST is not set")
def test_stored_paper_run_starts_where_a_fresh_one_does():
    """Run 2's first records on the linear and teacher tasks, every rule, recomputed on the stored
    run's backend (data, initial weights, B, node perturbation's noise, Kolen-Pollack's B updates)."""
    config, stored = beyond.EXPERIMENT.config("paper"), falib.reproduce("beyond", "paper")
    short = dict(config, linear=dict(config["linear"], steps=4 * config["linear"]["record_every"]),
                 teacher=dict(config["teacher"], steps=4 * config["teacher"]["record_every"]), **SHORT)
    fresh = beyond.compute(short, Backend("torch", dtype=config["dtype"]), [2])
    curves = [k for k in fresh if k.startswith(("linear/", "teacher/")) and fresh[k].ndim == 2]
    assert len(curves) == len(config["linear"]["rules"]) * (3 + 5)   # error, δ and B angles per hidden layer
    for k in curves:
        np.testing.assert_allclose(fresh[k][0, :5], stored[k][2, :5], rtol=1e-4, atol=1e-3, err_msg=k)


def worse(res, task, rule, points):
    """`rule`'s test error on `task` raised by `points` percentage points over the steps it is scored on."""
    e = res[f"{task}/{rule}/error"].copy()
    e[:, -res.config[task]["window"]:] += points / 100
    return altered(res, **{f"{task}/{rule}/error": e})


def test_a_run_is_scored_over_its_last_steps():
    """The score is the mean over the window, so one step's swing barely moves it; ending() reads
    the swing and whether the runs swing together (shared minibatches) or each its own way."""
    config = dict(beyond.QUICK, mnist=dict(beyond.QUICK_IMAGES, window=4))
    shared = np.array([0.0, 0.02, -0.02, 0.01, -0.01, 0.03])
    alike = falib.Results("beyond", "quick", config, {"mnist/backprop/error": 0.1 + np.stack([shared, shared + 0.001])}, {})
    apart = falib.Results("beyond", "quick", config, {"mnist/backprop/error": 0.1 + np.stack([shared, -shared])}, {})
    np.testing.assert_allclose(beyond.final(alike, "mnist", "backprop"), 100 * (0.1 + shared[-4:].mean()) + [0, 0.1])
    end = beyond.ending(alike, "mnist", "backprop")
    assert end["last"] == pytest.approx(13.05) and end["mean"] == pytest.approx(10.30)
    assert end["swing"] == pytest.approx(100 * shared[-4:].std(ddof=1)) and end["together"] == pytest.approx(1.0)
    assert beyond.ending(apart, "mnist", "backprop")["together"] == pytest.approx(-1.0)


def counterfactuals(res):
    """One alteration per claim that makes it fail (or, for a declared gap, hold)."""
    def set_to(key, value, where=np.s_[..., -1]):
        def change(r):
            a = r[key].copy()
            a[where] = value
            return altered(r, **{key: a})
        return change

    kp = [f"{t}/kolen_pollack/B{l}" for t in ("linear", "teacher") for l in range(beyond.hidden(res, t))]
    dfa_b = res["bottleneck/direct_feedback_alignment/delta"]
    return {
        "kp-aligns": (lambda r: altered(r, **{k: np.full_like(r[k], 45.0) for k in kp}))
        if beyond.claims(res)["kp-aligns"].holds else (lambda r: altered(r, **{k: np.zeros_like(r[k]) for k in kp})),
        "dfa-deep": set_to("depth/direct_feedback_alignment/error", 10.0),
        "fashion-harder": lambda r: altered(r, **{"fashion/backprop/error": r["mnist/backprop/error"]}),
        "bottleneck": (lambda r: altered(r, **{"bottleneck/direct_feedback_alignment/delta":
                                               np.full_like(dfa_b, 60.0)}))
        if beyond.claims(res)["bottleneck"].holds else
        (lambda r: altered(r, **{"bottleneck/direct_feedback_alignment/delta":
                                 np.where(np.arange(dfa_b.shape[1])[None, :, None] == 0, 90.0, 10.0) + 0 * dfa_b})),
        "dfa-is-fa": lambda r: worse(r, "mnist", "direct_feedback_alignment", 0.01),
    }


def test_paper_claims_can_fail():
    res = falib.reproduce("beyond", "paper")
    assert_claims_can_fail(beyond.claims, res, counterfactuals(res))


@pytest.mark.skipif(not __import__("os").environ.get("FALIB_MNIST"), reason="FALIB_MNIST is not set")
def test_quick_claims_can_fail(run_cache):
    res = falib.reproduce("beyond", "quick")
    assert_claims_can_fail(beyond.claims, res, counterfactuals(res))


def test_a_rule_object_trains_through_the_experiment():
    """What the chapter's exercise does: a rule object (not in the configuration) on the teacher
    task, at backprop's rate, with every measure of the table."""
    config = dict(beyond.QUICK, teacher=dict(beyond.QUICK["teacher"], steps=20, record_every=10))
    backend = Backend("numpy", dtype="float32")
    out = beyond.teacher_fit(config, beyond.teacher_data(config, backend), [30, 20, 10, 10],
                             falib.make_rule("sign_symmetry"), "mine", backend, range(2), "test")
    assert set(out) == {"error", "delta0", "delta1", "B0", "B1"} and out["error"].shape == (2, 3)
    assert np.isfinite(out["B1"]).all() and out["error"][:, -1].mean() < out["error"][:, 0].mean()
