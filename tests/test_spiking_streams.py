"""One stream against M over a full pass (Fig. 4's protocol): the quick profile computes what the
chapter reads, the stored paper runs start where fresh ones do, and the claim can fail."""
import os

import numpy as np
import pytest

import falib
from falib.experiments import spiking_streams

from .conftest import altered, assert_claims_can_fail, assert_paper_start

needs_mnist = pytest.mark.skipif(not os.environ.get("FALIB_MNIST"), reason="FALIB_MNIST is not set")


def test_settings_are_spikings():
    """The network and its settings are Fig. 4's; only the streams and the length differ."""
    for mine, theirs in ((spiking_streams.PAPER, spiking_streams.spiking.PAPER),
                         (spiking_streams.QUICK, spiking_streams.spiking.QUICK)):
        differ = {k for k in theirs if mine[k] != theirs[k]}
        assert differ <= {"streams", "images", "compare_images", "train_images"}
        assert mine["streams"] == [1, theirs["streams"]] and mine["images"] == mine["train_images"]


def test_odd_test_set_is_refused():
    with pytest.raises(ValueError, match="test_images .* multiple of twice eval_streams"):
        spiking_streams.check(dict(spiking_streams.QUICK, test_images=1050))


def test_the_seconds_of_earlier_sessions_of_both_protocols_are_counted(monkeypatch):
    """Each protocol's run may have resumed: the chunk's seconds add what both spent before."""
    from falib.experiments import compute_chunk

    def resumed(config, backend, runs):
        curve = np.zeros((len(runs), 2))
        return spiking_streams.spiking.Resumed({"images": np.arange(2), "online_images": np.arange(2), "val_error": curve,
                        "online_error": curve, "final_test_error": curve[:, 0]}, 1000.0)

    monkeypatch.setattr(spiking_streams.spiking, "compute", resumed)
    monkeypatch.setattr(spiking_streams, "load_mnist", lambda: None)
    monkeypatch.setattr(spiking_streams, "halves", lambda *args: np.zeros((2, 2)))
    monkeypatch.setattr(spiking_streams, "least_squares", lambda *args: np.zeros(3))
    arrays, meta = compute_chunk(spiking_streams.compute, spiking_streams.QUICK, falib.Backend(), [0, 1])
    assert 2000 <= meta["seconds"] < 2010 and type(arrays) is dict


@needs_mnist
def test_quick_profile(run_cache):
    res = falib.reproduce("spiking-streams", "quick")
    cfg, runs = res.config, len(res.meta["runs"])
    assert res["images"][-1] == cfg["train_images"]                        # one full pass
    assert res["val_error"].shape == (runs, 2, len(res["images"]))
    assert res["test_halves"].shape == (runs, 2, 2) and res["final_test_error"].shape == (runs, 2)
    assert res["least_squares"].shape == (3,) and np.all(res["least_squares"] < 0.5)   # a control that learns
    assert np.all(res["val_error"][..., -1] < res["val_error"][..., 0])    # both protocols learn
    # the halves, tested in the same streams as validation, average to about the whole test set's error
    np.testing.assert_allclose(res["test_halves"].mean(axis=-1), res["final_test_error"], atol=0.05)
    assert {"test_one", "test_many", "difference"} <= set(spiking_streams.prose(res))
    assert_claims_can_fail(spiking_streams.claims, res, counterfactuals(res))


def apart(res, points):
    """Results whose M-stream runs end `points` points of test error above the one-stream runs."""
    err = res["final_test_error"].copy()
    err[:, 1] = err[:, 0] + points / 100
    return altered(res, final_test_error=err)


def counterfactuals(res):
    gap = spiking_streams.claims(res)["streams-same-level"].gap
    return {"streams-same-level": (lambda r: apart(r, 0)) if gap else (lambda r: apart(r, 1))}


def test_paper_claims_can_fail():
    res = falib.reproduce("spiking-streams", "paper")
    assert not spiking_streams.claims(res)["streams-same-level"].gap
    assert_claims_can_fail(spiking_streams.claims, res, counterfactuals(res))
    stuck = altered(res, final_test_error=np.full_like(res["final_test_error"], 0.4))
    assert spiking_streams.claims(apart(stuck, 38))["streams-same-level"].status != "reproduced"


@needs_mnist
def test_stored_paper_runs_start_where_fresh_ones_do():
    """The first 500 training images of run 0, with one stream and with M, on the full-size network:
    the online error of each block of 100 matches the committed results (few validation and test
    images, which these records do not depend on)."""
    curves = assert_paper_start(spiking_streams)
    assert curves == ["online_error"]


def test_many_streams_repeat_the_first_pass_of_fig4s_runs():
    """Same network, settings, seeds and image order as the stored Fig. 4 runs: the M-stream runs' validation
    curve is theirs over their first pass (up to the rounding of another processor, which spikes amplify)."""
    mine, fig4 = falib.reproduce("spiking-streams", "paper"), falib.reproduce("spiking", "paper")
    n = len(mine["images"])
    assert np.array_equal(mine["images"], fig4["images"][:n]) and fig4.config["streams"] == mine.config["streams"][1]
    np.testing.assert_allclose(mine["val_error"][:, 1], fig4["val_error"][:, :n], atol=0.005)
