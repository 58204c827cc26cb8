"""Figures drawn from results, styled alike across chapters."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

COLORS = {"shallow": "#7f7f7f", "node_perturbation": "#2ca02c", "backprop": "#1f77b4",
          "feedback_alignment": "#d62728", "sparse_feedback_alignment": "#ff7f0e"}
LABELS = {"shallow": "shallow", "node_perturbation": "node perturbation", "backprop": "backprop",
          "feedback_alignment": "feedback alignment", "sparse_feedback_alignment": "sparse FA"}


def curve(ax, x, y, key: str, label: str | None = None):
    """Mean over runs (axis 0) as a line, ±1 SD as a band."""
    mean, sd = np.mean(y, axis=0), np.std(y, axis=0)
    color = COLORS.get(key)
    ax.plot(x, mean, color=color, label=label or LABELS.get(key, key), lw=1.6)
    ax.fill_between(x, mean - sd, mean + sd, color=color, alpha=0.2, lw=0)


def stamp(fig, res):
    """Say where the numbers come from: runs, profile, hardware."""
    n = len(res.meta["runs"])
    fig.text(0.99, 0.01, f"n = {n} runs, {res.profile} profile, {res.meta['backend']}/{res.meta['device']}"
             f" ({res.meta['machine']}); bands: ±1 SD over runs",
             ha="right", va="bottom", fontsize=7, color="0.4")


def panel_label(ax, letter: str):
    ax.text(-0.14, 1.04, letter, transform=ax.transAxes, fontsize=13, fontweight="bold")


def linear_figure(res, rules):
    """Fig. 2a (NSE over training) and Fig. 2b (angle between δ_FA and δ_BP)."""
    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 3.8))
    step = res["step"]
    for rule in rules:
        curve(a, step, res[f"{rule}/nse"], rule)
    a.set(xlabel="training examples", ylabel="normalized squared error", ylim=(0, 1.1))
    a.legend(frameon=False)
    curve(b, step, res["feedback_alignment/angle"], "feedback_alignment", "∠(Be, Wᵀe)")
    b.axhline(90, color="0.6", ls=":", lw=1)
    b.set(xlabel="training examples", ylabel="angle between δ_FA and δ_BP (deg)", ylim=(0, 100))
    b.legend(frameon=False)
    panel_label(a, "a")
    panel_label(b, "b")
    stamp(fig, res)
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    return fig
