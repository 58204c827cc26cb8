"""Figures drawn from results, styled alike across chapters and sized for the book's column.

Figures are drawn at the width of the book's text column (`WIDTH`), so that they appear at their
natural size, with every label at `FONT` points, no smaller than the page's small text. In a
notebook they are shown as SVG (vector, sharp at any zoom).

A rule looks the same in every figure: its class declares its label and colour (:func:`look`). A
figure's curves are named as an experiment's configuration names its rule specs, and
:func:`looks` shows them: each as its rule, or, for a variant (a spec of a rule under another
name), by that name and a colour of its own. What a figure needs to know of a rule (whether its
hidden layers learn, say) it asks the rule, never its name (:func:`traits`).
"""
from __future__ import annotations

import copy
from dataclasses import dataclass

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np

from .networks import Network
from .rules import RULES, Backprop, Rule, make_rule

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

VARIANT_COLORS = ("#ff7f0e", "#e377c2", "#bcbd22", "#393b79", "#ad494a", "#637939")   # no rule's: for variants


@dataclass(frozen=True)
class Look:
    """How figures show a curve: its label and its colour."""

    label: str
    color: str


def _rule(rule) -> Rule | type[Rule]:
    """`rule` (a name, a spec, a rule object or a rule class) as a rule object or class."""
    return rule if isinstance(rule, Rule) or isinstance(rule, type) and issubclass(rule, Rule) else make_rule(rule)


def look(rule) -> Look:
    """A rule's label and colour (`rule`: a name, a spec, a rule object or class), as declared by
    the class that names it, or, for a rule written anew under a registered name, by that
    rule's class in :data:`falib.rules.RULES`."""
    rule = _rule(rule)
    cls = rule if isinstance(rule, type) else type(rule)
    owner = next(c for c in cls.__mro__ if "name" in vars(c))
    for declared in (owner, RULES.get(owner.name)):
        if declared is not None and {"label", "color"} <= set(vars(declared)):
            return Look(declared.label, declared.color)
    taken = ", ".join(c.color for c in RULES.values())
    raise ValueError(f"the rule {owner.name!r} has no label and colour of its own: give its class {owner.__name__} "
                     f"a `label` (its name in figures) and a `color` that no other rule has (taken: {taken}), "
                     "as every class in falib/rules.py does")


def looks(curves: dict) -> dict[str, Look]:
    """How a figure shows each curve of `curves` (its name -> a rule spec, name or object, as an
    experiment's configuration names them): a curve named after its rule as that rule (:func:`look`);
    any other, a variant (a spec of a rule under a name of its own), by that name and one of
    `VARIANT_COLORS`, in the order of the variants' names. Two curves that would look alike are
    an error."""
    rules = {name: _rule(spec) for name, spec in curves.items()}
    variants = sorted(name for name, rule in rules.items() if rule.name != name)
    if len(variants) > len(VARIANT_COLORS):
        raise ValueError(f"{len(variants)} variants ({', '.join(variants)}) in one figure, but only "
                         f"{len(VARIANT_COLORS)} colours for them (falib.plots.VARIANT_COLORS): add colours there")
    out = {name: Look(name.replace("_", " "), VARIANT_COLORS[variants.index(name)]) if name in variants
           else look(rule) for name, rule in rules.items()}
    for field in ("label", "color"):
        seen = {}
        for name, shown in out.items():
            other = seen.setdefault(getattr(shown, field), name)
            if other != name:
                raise ValueError(f"the curves {other!r} and {name!r} would share the {field} "
                                 f"{getattr(shown, field)!r}: give one of their rules' classes another `{field}`")
    return out


@dataclass(frozen=True)
class Traits:
    """What a rule does, as a figure or a claim needs to know it."""

    learns_hidden: bool   # its hidden layers receive an error and learn (not so for shallow learning)
    feedback: bool        # the error reaches a hidden layer through a matrix in place of W^T (a B)
    backprop: bool        # its hidden errors are backprop's (their angle to backprop's is 0)


def traits(rule) -> Traits:
    """Ask `rule` (a name, a spec or a rule object, left as it is) what it does, by letting it
    compute the hidden errors of a small network with one hidden layer per feedback scale it
    has (else two)."""
    rule = copy.copy(rule) if isinstance(rule, Rule) else make_rule(rule)
    scale = getattr(rule, "scale", None)
    hidden = len(scale) if isinstance(scale, (list, tuple)) else 2
    net = Network.init([5] + [4] * hidden + [3], "tanh", 0.5, bias=False)
    rng = np.random.default_rng(0)
    x, target = rng.standard_normal((1, 5, 6)), rng.standard_normal((1, 3, 6))
    p = net.forward(x)
    ours = rule.bind(net).deltas(net, p, target, rule.noise(net, 6, probe=True))
    theirs = Backprop().deltas(net, p, target)
    return Traits(learns_hidden=ours[0] is not None, feedback=any(B is not None for B in rule.feedback(net)),
                  backprop=all(a is not None and np.allclose(a, b) for a, b in zip(ours, theirs)))


def curve(ax, x, y, shown: Look, label: str | None = None, ls: str = "-"):
    """Mean over runs (axis 0) as a line, ±1 SD as a band (no band for a single run), in the
    colour of `shown` and labelled as it (or with `label`)."""
    mean, sd = np.mean(y, axis=0), np.std(y, axis=0)
    ax.plot(x, mean, color=shown.color, label=label or shown.label, lw=1.6, ls=ls)
    if len(y) > 1:
        ax.fill_between(x, mean - sd, mean + sd, color=shown.color, alpha=0.2, lw=0)


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
    for ax, (rule, back, delta) in zip(axes, [("backprop", "Wᵀ", "Wᵀe"),
                                              ("feedback_alignment", "B (fixed, random)", "Be")]):
        title, color = look(rule).label, look(rule).color
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
        ax.text(0.5, 0.9, f"δ = {delta}", ha="center", color=color)
        ax.set_title(title)
        ax.set(xlim=(0, 1), ylim=(0.05, 0.97))
        ax.axis("off")
    fig.tight_layout()
    return fig
