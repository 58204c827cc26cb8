"""Beyond's MNIST comparison, converged: every rule scored where backprop's validation error is
lowest, and every claim can fail."""
import os

import numpy as np
import pytest

import falib
from falib.experiments import beyond, beyond_converged
from falib.results import REPO_RESULTS, Results

from .conftest import altered, assert_claims_can_fail

EPOCH = np.arange(11.0)


def synthetic(low: int, ends: dict) -> Results:
    """Two runs per rule whose test error falls to `ends[rule]` (%, default 2) at epoch `low` and
    rises by a point by the end; backprop's validation error is lowest there too; Kolen-Pollack's δ aligns."""
    rise = np.clip(EPOCH - low, 0, None) / (EPOCH[-1] - low or 1)
    falls = lambda end: np.tile(end + 50 * (EPOCH < low) * (low - EPOCH) / low + rise, (2, 1)) / 100
    arrays = {"epoch": EPOCH, "backprop/valid": falls(2.0), "kolen_pollack/angle": np.tile(90 * np.exp(-EPOCH), (2, 1))}
    arrays |= {f"{k}/error": falls(v) for k, v in (dict.fromkeys(beyond_converged.PAPER["rules"], 2.0) | ends).items()}
    config = dict(beyond_converged.PAPER, epochs=10, eta_drops=[3, 6])
    return Results("beyond-converged", "paper", config, arrays, {"runs": [0, 1]})


def test_every_rule_is_scored_where_backprops_validation_error_is_lowest():
    res = synthetic(4, {"backprop": 2.0, "direct_feedback_alignment": 2.5, "sign_symmetry": 4.0, "kolen_pollack": 2.1,
                        beyond_converged.CONTROL: 2.0})
    np.testing.assert_allclose(beyond_converged.scored(res)["sign_symmetry"], [4.0, 4.0])
    claims = beyond_converged.claims(res)
    assert claims["converged-bp"].holds and claims["dfa-mnist"].holds and claims["kp-mnist"].holds
    assert not claims["ss-mnist"].holds   # 2 points above backprop


def test_a_validation_error_still_falling_at_the_end_has_not_stopped_improving():
    res = synthetic(7, dict.fromkeys(beyond_converged.PAPER["rules"], 2.0))   # lowest 3 epochs before the end
    assert not beyond_converged.claims(res)["converged-bp"].holds


def test_many_scales_of_b_are_judged_where_the_rules_are_scored():
    """β = 0.002 ... 200: feedback alignment beats the shallow network (3%) at 0.02, 0.2 and 2, so
    the claim holds; a run that diverged at 0.2 breaks the range."""
    ends = {"shallow": 3.0, **{f"fa_beta_{b:g}": e for b, e in zip(beyond.PAPER["scales"]["values"], [4, 2, 2, 2, 5, 9])}}
    res = synthetic(4, ends)
    assert beyond_converged.sweep(res)[0] == beyond.PAPER["scales"]["values"]
    assert beyond_converged.claims(res)["scales-range"].holds
    error = res["fa_beta_0.2/error"].copy()
    error[1] = np.nan
    assert not beyond_converged.claims(altered(res, **{"fa_beta_0.2/error": error}))["scales-range"].holds


def counterfactuals(res):
    """One alteration per claim that makes it fail (or, for a declared gap, hold)."""
    base = beyond_converged.claims(res)

    def follow_up(rule, key):
        if base[key].holds:
            return lambda r: altered(r, **{f"{rule}/error": r[f"{rule}/error"] + 0.2})
        return lambda r: altered(r, **{f"{rule}/error": r["backprop/error"]})

    def scales(r):
        fa = [k for k in r.config["rules"] if k.startswith(beyond_converged.SWEPT)]
        gap = r["shallow/error"] + (0.01 if base["scales-range"].holds else -0.01)
        return altered(r, **{f"{k}/error": gap for k in fa})

    valid = res["backprop/valid"]
    stops = np.broadcast_to(np.linspace(0.5, 0.9, valid.shape[1]), valid.shape)   # lowest at the start
    return {"converged-bp": (lambda r: altered(r, **{"backprop/valid": stops[:, ::-1]})) if base["converged-bp"].holds
            else (lambda r: altered(r, **{"backprop/valid": stops})),
            **{key: follow_up(rule, key) for rule, (key, _, _) in beyond.FOLLOW_UPS.items()}, "scales-range": scales}


@pytest.mark.skipif(not list(REPO_RESULTS.glob("beyond-converged-paper-*")), reason="no stored paper results")
def test_paper_claims_can_fail():
    res = falib.reproduce("beyond-converged", "paper")
    assert_claims_can_fail(beyond_converged.claims, res, counterfactuals(res))


@pytest.mark.skipif(not os.environ.get("FALIB_MNIST"), reason="FALIB_MNIST is not set")
def test_quick_claims_can_fail(run_cache):
    res = falib.reproduce("beyond-converged", "quick")
    assert_claims_can_fail(beyond_converged.claims, res, counterfactuals(res))
