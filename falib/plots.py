"""Figures drawn from results, styled alike across chapters."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

COLORS = {"shallow": "#7f7f7f", "node_perturbation": "#2ca02c", "backprop": "#1f77b4",
          "feedback_alignment": "#d62728", "sparse_feedback_alignment": "#ff7f0e"}
LABELS = {"shallow": "shallow", "node_perturbation": "node perturbation", "backprop": "backprop",
          "feedback_alignment": "feedback alignment", "sparse_feedback_alignment": "sparse FA"}


def curve(ax, x, y, key: str, label: str | None = None, ls: str = "-"):
    """Mean over runs (axis 0) as a line, ±1 SD as a band."""
    mean, sd = np.mean(y, axis=0), np.std(y, axis=0)
    color = COLORS.get(key)
    ax.plot(x, mean, color=color, label=label or LABELS.get(key, key), lw=1.6, ls=ls)
    ax.fill_between(x, mean - sd, mean + sd, color=color, alpha=0.2, lw=0)


def stamp(fig, res):
    """Say where the numbers come from: runs, profile, hardware."""
    n = len(res.meta["runs"])
    fig.text(0.99, 0.01, f"n = {n} runs, {res.profile} profile, {res.meta['backend']}/{res.meta['device']}"
             f" ({res.meta['machine']}); bands: ±1 SD over runs",
             ha="right", va="bottom", fontsize=7, color="0.4")


def panel_label(ax, letter: str):
    ax.text(-0.14, 1.04, letter, transform=ax.transAxes, fontsize=13, fontweight="bold")


def finish(fig, res, *panels):
    """Label the panels (``(ax, letter)`` pairs), stamp the figure with its provenance, lay it out."""
    for ax, letter in panels:
        panel_label(ax, letter)
    stamp(fig, res)
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    return fig


def circuit_figure():
    """Fig. 1: the forward path x -> h -> y, and the two ways the error e can come back."""
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.6))
    for ax, (title, back, color) in zip(axes, [("backprop", "Wᵀ", COLORS["backprop"]),
                                               ("feedback alignment", "B (fixed, random)",
                                                COLORS["feedback_alignment"])]):
        layers = {"x": (0.1, 5), "h": (0.5, 4), "y": (0.9, 3)}
        for name, (x0, n) in layers.items():
            ys = np.linspace(0.25, 0.75, n)
            ax.scatter([x0] * n, ys, s=260, color="white", edgecolor="0.2", zorder=3)
            ax.text(x0, 0.12, name, ha="center", fontsize=13)
        arrow = dict(arrowstyle="-|>", lw=1.6, color="0.25")
        ax.annotate("", (0.44, 0.55), (0.16, 0.55), arrowprops=arrow)
        ax.annotate("", (0.84, 0.55), (0.56, 0.55), arrowprops=arrow)
        ax.text(0.3, 0.6, "W₀", ha="center", fontsize=12)
        ax.text(0.7, 0.6, "W", ha="center", fontsize=12)
        ax.text(0.9, 0.88, "e = y* − y", ha="center", fontsize=11)
        ax.annotate("", (0.56, 0.4), (0.84, 0.4), arrowprops=dict(arrow, color=color, ls="--"))
        ax.text(0.7, 0.3, back, ha="center", fontsize=11, color=color)
        ax.text(0.5, 0.9, "δ = " + ("Wᵀe" if title == "backprop" else "Be"), ha="center",
                fontsize=11, color=color)
        ax.set_title(title)
        ax.set(xlim=(0, 1), ylim=(0.05, 0.97))
        ax.axis("off")
    fig.tight_layout()
    return fig
