"""Figures drawn from results, styled alike across chapters and sized for the book's column.

Figures are drawn at the width of the book's text column (`WIDTH`), so that they appear at their
natural size, with every label at `FONT` points, no smaller than the page's small text. In a
notebook they are shown as SVG (vector, sharp at any zoom).
"""
from __future__ import annotations

import hashlib

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np

WIDTH = 7.0     # inches: the book's text column (about 670 px at 96 px per inch)
FONT = 10.5     # points: the body text's small size (14 px)
STYLE = {"font.size": FONT, "axes.titlesize": FONT, "axes.labelsize": FONT,
         "xtick.labelsize": FONT, "ytick.labelsize": FONT, "legend.fontsize": FONT,
         "figure.titlesize": FONT, "legend.frameon": False, "axes.spines.top": False,
         "figure.figsize": (WIDTH, 3.2), "svg.hashsalt": "falib"}
mpl.rcParams.update(STYLE)


def _vector_output():
    """Show figures as SVG in IPython (the book and Jupyter); a no-op elsewhere."""
    try:
        from IPython import get_ipython
        from matplotlib_inline.backend_inline import set_matplotlib_formats
    except ImportError:
        return
    if get_ipython() is not None:
        set_matplotlib_formats("svg")


_vector_output()

COLORS = {"shallow": "#7f7f7f", "node_perturbation": "#2ca02c", "backprop": "#1f77b4",
          "feedback_alignment": "#d62728", "sparse_feedback_alignment": "#ff7f0e",
          "direct_feedback_alignment": "#9467bd", "sign_symmetry": "#8c564b"}
LABELS = {"shallow": "shallow", "node_perturbation": "node perturbation", "backprop": "backprop",
          "feedback_alignment": "feedback alignment", "sparse_feedback_alignment": "sparse FA",
          "kolen_pollack": "Kolen-Pollack"}


SPARE = ("#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#393b79", "#ad494a")


def rule_color(key: str) -> str:
    """A rule's colour: its own, or for any other rule one of `SPARE`, the same in every figure."""
    if key in COLORS:
        return COLORS[key]
    return SPARE[int(hashlib.sha256(key.encode()).hexdigest(), 16) % len(SPARE)]


def rule_label(key: str) -> str:
    """A rule's name as the figures write it (any rule: its name with spaces)."""
    return LABELS.get(key, key.replace("_", " "))


def curve(ax, x, y, key: str, label: str | None = None, ls: str = "-"):
    """Mean over runs (axis 0) as a line, ±1 SD as a band (no band for a single run)."""
    mean, sd = np.mean(y, axis=0), np.std(y, axis=0)
    color = rule_color(key)
    ax.plot(x, mean, color=color, label=label or rule_label(key), lw=1.6, ls=ls)
    if len(y) > 1:
        ax.fill_between(x, mean - sd, mean + sd, color=color, alpha=0.2, lw=0)


def stamp(fig, res):
    """Say where the numbers come from: runs, profile, hardware (and what the bands are)."""
    n = len(res.meta["runs"])
    bands = "; bands: ±1 SD over runs" if n > 1 else ""
    fig.text(0.99, 0.01, f"n = {n} run{'s' if n > 1 else ''}, {res.profile} profile, "
             f"{res.meta['backend']}/{res.meta['device']}{bands}",
             ha="right", va="bottom", color="0.35")


def panel_label(ax, letter: str):
    ax.text(-0.14, 1.04, letter, transform=ax.transAxes, fontsize=FONT + 2, fontweight="bold")


def finish(fig, res, *panels):
    """Label the panels (``(ax, letter)`` pairs), stamp the figure with its provenance, lay it out."""
    for ax, letter in panels:
        panel_label(ax, letter)
    stamp(fig, res)
    fig.tight_layout(rect=(0, 2 * FONT / (72 * fig.get_figheight()), 1, 1))
    return fig


def circuit_figure():
    """Fig. 1: the forward path x -> h -> y, and the two ways the error e can come back."""
    fig, axes = plt.subplots(1, 2, figsize=(WIDTH, 3.2))
    for ax, (title, back, color) in zip(axes, [("backprop", "Wᵀ", COLORS["backprop"]),
                                               ("feedback alignment", "B (fixed, random)",
                                                COLORS["feedback_alignment"])]):
        layers = {"x": (0.1, 5), "h": (0.5, 4), "y": (0.9, 3)}
        for name, (x0, n) in layers.items():
            ys = np.linspace(0.25, 0.75, n)
            ax.scatter([x0] * n, ys, s=160, color="white", edgecolor="0.2", zorder=3)
            ax.text(x0, 0.12, name, ha="center", fontsize=FONT + 2)
        arrow = dict(arrowstyle="-|>", lw=1.6, color="0.25")
        ax.annotate("", (0.44, 0.55), (0.16, 0.55), arrowprops=arrow)
        ax.annotate("", (0.84, 0.55), (0.56, 0.55), arrowprops=arrow)
        ax.text(0.3, 0.6, "W₀", ha="center")
        ax.text(0.7, 0.6, "W", ha="center")
        ax.text(0.9, 0.88, "e = y* − y", ha="center")
        ax.annotate("", (0.56, 0.4), (0.84, 0.4), arrowprops=dict(arrow, color=color, ls="--"))
        ax.text(0.7, 0.3, back, ha="center", color=color)
        ax.text(0.5, 0.9, "δ = " + ("Wᵀe" if title == "backprop" else "Be"), ha="center",
                color=color)
        ax.set_title(title)
        ax.set(xlim=(0, 1), ylim=(0.05, 0.97))
        ax.axis("off")
    fig.tight_layout()
    return fig
