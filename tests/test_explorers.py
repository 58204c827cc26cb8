"""The chapters' explorers: their update functions, called with settings other than the defaults."""
import matplotlib
import numpy as np
import pytest

from falib import explorers

matplotlib.use("Agg")


def test_linear_large_B_diverges_and_keeps_its_curve():
    runs = explorers.linear_run(feedback_scale=5, steps=30)
    fa, bp = runs["feedback_alignment"], runs["backprop"]
    assert bp["diverged"] is None and "diverged" in fa["diverged"]
    assert fa["nse"].shape[1] == len(fa["step"]) > 2            # the curve up to the divergence
    assert np.all(np.isfinite(fa["nse"][:, :2])) and not np.all(np.isfinite(fa["nse"][:, -1]))
    assert np.nanmax(fa["nse"][:, -2]) > 10 * fa["nse"][:, 0].max()   # it grows before it overflows
    explorers.linear_figure(runs)


def test_linear_settings_change_the_run():
    small = explorers.linear_run(feedback_scale=0.05, eta=10**-2.5, init_scale=0.1, steps=200, runs=[0, 1])
    fa = small["feedback_alignment"]
    assert fa["nse"].shape == (2, len(fa["step"])) and fa["diverged"] is None
    assert fa["nse"][:, -1].max() < fa["nse"][:, 0].min()      # it learns
    default = explorers.linear_run(steps=200, runs=[0, 1])["feedback_alignment"]
    assert not np.allclose(fa["angle"], default["angle"])


def test_mechanics_frozen_W0_never_aligns():
    frozen = explorers.mechanics_run("W first", freeze_W0=True, phase_steps=50)
    assert frozen["angle_T"].shape == (2, len(frozen["step"])) and frozen["step"][-1] == 150
    assert np.all(np.abs(frozen["angle_T"] - 90) < 5)          # W learns, but never towards B^T
    paper = explorers.mechanics_run(phase_steps=100)
    assert paper["angle_T"][:, -1].max() < 85                   # W0 then W: W turns towards B^T
    explorers.mechanics_figure(frozen)


def test_widgets_redraw_with_the_new_setting(monkeypatch):
    seen = []
    monkeypatch.setattr(explorers, "linear_run", lambda *args: seen.append(args) or {})
    monkeypatch.setattr(explorers, "linear_figure", lambda curves: matplotlib.figure.Figure())
    controls = explorers.explore_linear().controls
    controls["feedback_scale"].value = 2.0
    controls["log_eta"].value = -3.0
    assert seen[0][0] == 0.5 and seen[1][0] == 2.0 and seen[2] == (2.0, 10**-3.0, 10**-2.0)


@pytest.fixture(scope="module")
def mnist_paper():
    import falib

    return falib.reproduce("mnist", "paper")


def test_receptive_fields_by_rule_run_and_unit(mnist_paper):
    a = explorers.receptive_field(mnist_paper, "feedback_alignment", 1, 3)
    b = explorers.receptive_field(mnist_paper, "backprop", 1, 3)
    final = explorers.receptive_field(mnist_paper, "feedback_alignment", 1, 3, change=False)
    assert a.shape == (28, 28) and not np.allclose(a, b) and not np.allclose(a, final)


def test_sparse_density_is_live(mnist_paper):
    r = explorers.sparse_run(0.1, train_size=500, epochs=1)
    assert r["density"] == 0.1 and r["error"].shape == (1, 2) and r["error"][0, -1] < r["error"][0, 0]
    explorers.mnist_figure(mnist_paper, "sparse_feedback_alignment", 2, 5, r, change=False)
