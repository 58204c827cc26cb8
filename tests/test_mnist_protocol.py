"""Fig. 3a under the paper's own protocol: where every variant is scored, whether backprop began
to overfit, claims that can fail, and the command line showing both protocols."""
import os

import numpy as np
import pytest

import falib
import falib.results
from falib.__main__ import main
from falib.experiments import mnist, mnist_protocol
from falib.results import Results

from .conftest import altered, assert_claims_can_fail

needs_mnist = pytest.mark.skipif(not os.environ.get("FALIB_MNIST"), reason="FALIB_MNIST is not set")
EPOCH = np.arange(101) / 2   # 50 epochs, two records each


def synthetic(valid_low=20.0, ends=None, lag=0.3, profile="paper"):
    """Results shaped like the paper profile's: backprop's validation error lowest at epoch
    `valid_low` and rising after it; every variant's test error at that record the paper's (or
    `ends`), FA `lag` points behind for the first epoch, the angle falling from 90° to 60°."""
    ends = ends or mnist.PAPER_ERRORS
    config = mnist_protocol.EXPERIMENT.config(profile)
    dip = 1 + 0.002 * (EPOCH - valid_low) ** 2

    def falls(end, lag=0.0):   # error (%) of two runs falling from 90, lowest (`end`) at `valid_low`
        return np.tile(end * dip + (90 - end) * np.exp(-3 * EPOCH) + lag * (EPOCH <= 1), (2, 1)) / 100

    arrays = {"epoch": EPOCH, "backprop/valid": falls(2.0)}
    for name, end in ends.items():
        arrays[f"{name}/error"] = falls(end, lag=lag if name == "feedback_alignment" else 0.0)
        arrays[f"{name}/valid"] = falls(end)
    for name in ("feedback_alignment", mnist.SPARSE):
        arrays[f"{name}/angle"] = np.tile(60 + 30 * np.exp(-EPOCH), (2, 1))
    return Results("mnist-protocol", profile, config, arrays,
                   {"runs": [0, 1], "backend": "torch", "device": "cpu", "dtype": "float32", "seconds": 1.0})


def shifted(res, name, points):
    """`name`'s test error raised by `points` at every record."""
    return altered(res, **{f"{name}/error": res[f"{name}/error"] + points / 100})


def test_every_variant_is_scored_where_backprops_validation_error_is_lowest():
    res = synthetic(valid_low=20.0)
    i, began = mnist_protocol.stop(res)
    assert res["epoch"][i] == 20.0 and began
    view = mnist_protocol.stopped(res)
    assert view["epoch"][-1] == 20.0 and view.config["epochs"] == 20.0
    for name, errors in mnist.final_errors(view).items():
        np.testing.assert_allclose(errors, 100 * res[f"{name}/error"][:, i])


def test_a_validation_error_still_falling_has_not_begun_to_overfit():
    res = synthetic(valid_low=47.0)   # lowest 3 epochs before the end: within the patience of 5
    i, began = mnist_protocol.stop(res)
    assert res["epoch"][i] == 47.0 and not began
    assert not mnist_protocol.claims(res)["protocol-bp-overfits"].holds


OURS = {"backprop": 5.75, "feedback_alignment": 4.35, mnist.SPARSE: 5.15, "shallow": 8.2}   # the paper runs' shape


def test_paper_claims_can_fail():
    """On results shaped as our paper runs came out (still learning at the budget's end, FA behind
    in the first epoch), every declared gap fails as declared and every other claim holds; each
    gap starts to hold, and each other claim fails, on a counterexample built against it."""
    ours = synthetic(valid_low=50.0, ends=OURS, lag=12.0)
    at_paper = {k: mnist.PAPER_ERRORS[k] - OURS[k] for k in OURS}
    assert_claims_can_fail(mnist_protocol.claims, ours, {
        "protocol-bp-overfits": lambda r: synthetic(valid_low=20.0, ends=OURS, lag=12.0),
        "protocol-paper-level-backprop": lambda r: shifted(r, "backprop", at_paper["backprop"]),
        "protocol-paper-level-fa": lambda r: shifted(r, "feedback_alignment", at_paper["feedback_alignment"]),
        "protocol-paper-level-sparse-fa": lambda r: shifted(r, mnist.SPARSE, at_paper[mnist.SPARSE]),
        "protocol-paper-level-shallow": lambda r: shifted(r, "shallow", at_paper["shallow"]),
        "protocol-fa-as-good-as-backprop": lambda r: shifted(r, "feedback_alignment", 1.1),
        "protocol-sparse-fa-as-good-as-backprop": lambda r: shifted(r, mnist.SPARSE, 0.6),
        "protocol-fa-as-fast-as-backprop": lambda r: synthetic(valid_low=50.0, ends=OURS),
        "protocol-shallow-worse": lambda r: synthetic(valid_low=50.0, ends=dict(OURS, shallow=6.0), lag=12.0),
        "protocol-angle-start": lambda r: altered(r, **{"feedback_alignment/angle": r["feedback_alignment/angle"] - 30}),
        "protocol-angle-falls": lambda r: altered(r, **{"feedback_alignment/angle": np.full((2, len(EPOCH)), 79.0)}),
    })
    assert all(c.gap for c in mnist_protocol.claims(ours) if not c.holds)


@pytest.mark.skipif(not list(falib.results.REPO_RESULTS.glob("mnist-protocol-paper-*")), reason="no paper runs")
def test_paper_results_fail_only_as_declared():
    claims = mnist_protocol.claims(falib.reproduce("mnist-protocol", "paper"))
    assert claims.ok and set(mnist_protocol.GAPS) == {c.key.removeprefix("protocol-") for c in claims if c.gap}


def test_the_overfitting_claim_cannot_be_met_after_the_scoring_point():
    """A validation error that turns up only at the very end is not the paper's "began to overfit"."""
    res = synthetic(valid_low=50.0)
    assert mnist_protocol.stop(res) == (len(EPOCH) - 1, False)


@needs_mnist
def test_quick_run_declares_every_comparison_too_short():
    res = falib.reproduce("mnist-protocol", "quick")
    claims = mnist_protocol.claims(res)
    assert claims.ok, str(claims)
    assert all(c.gap and "too short" in c.gap for c in claims if c.kind == "result")
    assert set(res["backprop/valid"].shape) == {2, len(res["epoch"])} and res["epoch"][1] == 0.5


@needs_mnist
def test_claims_mnist_shows_both_protocols(capsys):
    assert main(["claims", "mnist"]) == 0
    out = capsys.readouterr().out
    assert mnist.EXPERIMENT.title in out and mnist_protocol.EXPERIMENT.title in out
    assert "scored where backprop's validation error is lowest" in out
