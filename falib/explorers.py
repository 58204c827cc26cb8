"""Live explorers for the chapters: sliders and toggles that re-run a small experiment.

Each explorer is three plain functions: one that computes (``linear_run``, ``mechanics_run``,
``sparse_run``), one that draws what it returns (``*_figure``), and ``explore_*``, which wires
them to ipywidgets. ``explore_*`` first shows the figure of the default settings as an ordinary
output (what the HTML book shows), then the controls; moving a control redraws that figure in
place. The computations are quick-profile sized: about a second on one CPU core.
"""
from __future__ import annotations

from typing import Callable, Sequence

import matplotlib.pyplot as plt
import numpy as np

from .backend import Backend
from .data import minibatches
from .metrics import delta_angles, normalized_squared_error
from .networks import Network
from .plots import WIDTH, curve, look, looks, traits
from .rules import Rule, make_rule
from .tasks import linear_data, quadratic_data
from .training import train


# Linear (Fig. 2): feedback scale, learning rate and initial weight scale -> error and angle

def linear_run(feedback_scale: float = 0.5, eta: float | None = None, init_scale: float = 0.01,
               rules: dict[str, Rule] | None = None, steps: int = 1000, runs: Sequence[int] = range(3)) -> dict:
    """Train the chapter's 30-20-10 linear network (its task and seed) with each rule for `steps`
    examples; returns ``{label: curves}``: ``"step"``, ``"nse"``, ``"angle"`` and ``"diverged"`` (None, or
    the message of the divergence that ended the curves: :func:`falib.train`'s ``diverged="keep"``).
    By default backprop and feedback alignment (B of scale `feedback_scale`) at backprop's rate;
    pass `rules` (label -> rule object) to try others."""
    from .experiments import linear

    config = dict(linear.QUICK, steps=steps, init_scale=init_scale, test_size=300)
    eta = linear.QUICK["eta"]["backprop"] if eta is None else eta
    rules = rules or {"backprop": make_rule("backprop"),
                      "feedback_alignment": make_rule("feedback_alignment", scale=feedback_scale)}
    backend = Backend()
    X, Y, Xt, Yt = linear_data(config, backend)
    out = {}
    for label, rule in rules.items():
        net = Network.init(config["sizes"], "linear", init_scale, bias=False, seed=config["seed"],
                           runs=list(runs), backend=backend)
        rule.bind(net)

        def evaluate(net, rule):
            p = net.forward(Xt)
            return {"nse": normalized_squared_error(Yt, p.y), "angle": delta_angles(net, rule, p, Yt)[0]}

        out[label] = train(net, rule, minibatches(X, Y, 1), steps=steps, eta=eta, record_every=max(steps // 100, 1),
                           evaluate=evaluate, diverged="keep") | {"rule": rule}
    return out


def linear_figure(curves: dict):
    """Test error (left) and the angle between each rule's δ and backprop's (right), over examples:
    `curves` as :func:`linear_run` returns them, under any names (:func:`falib.plots.looks`)."""
    fig, (a, b) = plt.subplots(1, 2, figsize=(WIDTH, 3.0))
    shown = looks({label: c["rule"] for label, c in curves.items()})
    for label, c in curves.items():
        ls = ":" if c["diverged"] else "-"
        curve(a, c["step"], np.clip(c["nse"], 0, 2), shown[label],
              shown[label].label + (" (diverged)" if c["diverged"] else ""), ls)
        if not traits(c["rule"]).backprop:
            curve(b, c["step"], c["angle"], shown[label], ls=ls)
    a.set(xlabel="training examples", ylabel="test NSE (clipped at 2)", ylim=(0, 2.05))
    a.legend(fontsize="small")
    b.axhline(90, color="0.6", ls=":", lw=1)
    b.set(xlabel="training examples", ylabel="angle to backprop's δ (deg)", ylim=(0, 180))
    fig.tight_layout()
    return fig


# Mechanics (Fig. 5c): phase order, W0 frozen, phase length -> angle(W, B^T) and the error

ORDERS = {"W0 first (Fig. 5c)": ({1}, {0}, {1}), "W first": ({0}, {1}, {0})}


def mechanics_run(order: str = "W0 first (Fig. 5c)", freeze_W0: bool = False, phase_steps: int = 150,
                  runs: Sequence[int] = range(2)) -> dict:
    """Train the chapter's 20-1000-20 network in three phases, each holding one layer fixed
    (``ORDERS[order]``); with `freeze_W0`, W0 never learns. Returns ``{"step", "nse", "angle_T"}``
    (``angle_T``: the angle between W and Bᵀ), recorded through all three phases, the phase
    length and the rule's spec."""
    from .experiments import mechanics

    c = dict(mechanics.QUICK, steps=3 * phase_steps, phase_steps=phase_steps, test_size=200)
    X, Y, Xt, Yt = quadratic_data(c, backend := Backend(dtype=c["dtype"]))
    net, rule = mechanics.fresh(c["sizes"], ["tanh", "linear"], c["init_scale"], c["rule"],
                                c["seed"], backend, list(runs), c["bias_scale"])

    def evaluate(net, rule):
        return {"nse": normalized_squared_error(Yt, net.forward(Xt).y), "angle_T": mechanics.angle_T(net, rule)}

    out: dict[str, list] = {}
    every = max(phase_steps // 10, 1)
    for i, frozen in enumerate(ORDERS[order]):
        net.frozen = frozen | ({0} if freeze_W0 else set())
        first = i * phase_steps * c["batch"]
        data = minibatches(X[..., first:], Y[..., first:], c["batch"])
        curves = train(net, rule, data, steps=phase_steps, eta=c["eta"], record_every=every, evaluate=evaluate)
        keep = slice(0 if i == 0 else 1, None)   # a phase's first record is the last one's end
        out.setdefault("step", []).append(curves["step"][keep] + i * phase_steps)
        for k in ("nse", "angle_T"):
            out.setdefault(k, []).append(curves[k][:, keep])
    return {k: np.concatenate(v, axis=-1) for k, v in out.items()} | {"phase_steps": phase_steps, "rule": c["rule"]}


def mechanics_figure(curves: dict):
    """The angle between W and Bᵀ (left) and the test error (right) through the three phases."""
    fig, (a, b) = plt.subplots(1, 2, figsize=(WIDTH, 3.0))
    fa = look(curves["rule"])
    curve(a, curves["step"], curves["angle_T"], fa, "∠(W, Bᵀ)")
    curve(b, curves["step"], curves["nse"], fa, "test NSE")
    for ax in (a, b):
        for k in (1, 2):
            ax.axvline(k * curves["phase_steps"], color="0.6", ls=":", lw=1)
        ax.set(xlabel="training steps (dotted: phase boundaries)")
    a.set(ylabel="∠(W, Bᵀ) (deg)", ylim=(0, 100))
    b.set(ylabel="test NSE")
    fig.tight_layout()
    return fig


# MNIST (Fig. 3a, Suppl. Fig. 5): stored receptive fields; sparse FA's density, live

def receptive_field(res, rule: str, run: int, unit: int, change: bool = True) -> np.ndarray:
    """Unit `unit`'s incoming weights (28 x 28) in run index `run` of the stored `res`: their
    change since the start (`change`) or their final values."""
    from .experiments import mnist

    w = res[f"{rule}/fields"][run, unit]
    if change:
        w = w - mnist.initial_fields(res)[run, unit]
    return w.reshape(28, 28)


def sparse_run(density: float = 0.5, train_size: int = 5000, epochs: int = 2) -> dict:
    """Sparse feedback alignment keeping a fraction `density` of W's and B's entries, trained
    on the first `train_size` training images (one run, the MNIST chapter's settings);
    returns its test error (1,000 test images) and δ angle curves, per epoch."""
    from .experiments import mnist

    config = dict(mnist.QUICK, train_size=train_size, test_size=1000, epochs=epochs,
                  eta_drops=[], records_per_epoch=1, angle_size=200, fields=1)
    rule = dict(config["rules"][mnist.SPARSE], density=density)
    out = mnist.train_variant(mnist.SPARSE, config, Backend("torch", dtype="float32"), [0], mnist.split(config), rule)
    return {"epoch": out["epoch"], "error": out[f"{mnist.SPARSE}/error"],
            "angle": out[f"{mnist.SPARSE}/angle"], "density": density}


def mnist_figure(res, rule: str, run: int, unit: int, sparse: dict, change: bool = True):
    """A stored receptive field (left) and a short sparse-FA run at the chosen density (right)."""
    from .experiments import mnist

    fig, (a, b) = plt.subplots(1, 2, figsize=(WIDTH, 3.0), width_ratios=[1, 1.6])
    w = receptive_field(res, rule, run, unit, change)
    lim, shown = np.abs(w).max(), mnist.shown(res.config)
    a.imshow(w, cmap="RdBu_r", vmin=-lim, vmax=lim)
    a.set_title(f"{shown[rule].label}, run {res.meta['runs'][run]}, unit {unit}\n"
                f"{'learned change' if change else 'final weights'} ({res.profile} results)")
    a.axis("off")
    live = shown[mnist.SPARSE]
    b.plot(sparse["epoch"], 100 * sparse["error"][0], "o-", color=live.color, label="test error (%)")
    b.plot(sparse["epoch"], sparse["angle"][0], "s--", color="0.4", label="∠(δ, δ_BP) (deg)")
    b.set(xlabel="epochs", ylim=(0, 100), title=f"{live.label}, density {sparse['density']:g} (live)")
    b.legend(fontsize="small")
    fig.tight_layout()
    return fig


# The widgets

def _explorer(draw: Callable[..., plt.Figure], controls: dict):
    """Show ``draw(**defaults)`` as an ordinary output (the book's static figure) and return the
    controls as one widget, to be shown by the next cell; moving a control redraws the figure in place."""
    import ipywidgets as widgets
    from IPython.display import DisplayHandle

    def render(**values):
        fig = draw(**values)
        plt.close(fig)
        return fig

    handle = DisplayHandle()
    handle.display(render(**{k: w.value for k, w in controls.items()}))

    def update(_):
        handle.update(render(**{k: w.value for k, w in controls.items()}))

    for w in controls.values():
        w.continuous_update = False
        w.observe(update, "value")
    box = widgets.VBox(list(controls.values()))
    box.controls = controls
    return box


def explore_linear():
    """Feedback scale, learning rate and initial weight scale of the linear network (Fig. 2)."""
    import ipywidgets as widgets

    eta = float(np.log10(linear_eta()))
    return _explorer(lambda feedback_scale, log_eta, log_init: linear_figure(
        linear_run(feedback_scale, 10 ** log_eta, 10 ** log_init)), {
        "feedback_scale": widgets.FloatLogSlider(0.5, base=10, min=-2, max=1, step=0.25,
                                                 description="B scale"),
        "log_eta": widgets.FloatSlider(eta, min=-4, max=-1, step=0.25, description="log₁₀ η"),
        "log_init": widgets.FloatSlider(-2, min=-3, max=0, step=0.5, description="log₁₀ W scale")})


def linear_eta() -> float:
    """Backprop's rate in the linear chapter (the explorers' default)."""
    from .experiments import linear

    return linear.QUICK["eta"]["backprop"]


def explore_mechanics():
    """Phase order, W0 frozen and phase length in Fig. 5c's protocol."""
    import ipywidgets as widgets

    return _explorer(lambda order, freeze_W0, phase_steps: mechanics_figure(
        mechanics_run(order, freeze_W0, phase_steps)), {
        "order": widgets.Dropdown(options=list(ORDERS), description="phases"),
        "freeze_W0": widgets.Checkbox(False, description="freeze W0 throughout"),
        "phase_steps": widgets.IntSlider(150, min=50, max=300, step=50, description="phase steps")})


def explore_mnist(res):
    """Receptive fields of the stored MNIST results by rule, run and unit; sparse FA's density, live."""
    import ipywidgets as widgets

    rules = [k[:-len("/fields")] for k in res.arrays if k.endswith("/fields")]
    cache: dict[float, dict] = {}

    def draw(rule, run, unit, change, density):
        if density not in cache:
            cache[density] = sparse_run(density)
        return mnist_figure(res, rule, run, unit, cache[density], change)

    return _explorer(draw, {
        "rule": widgets.Dropdown(options=rules, value="feedback_alignment", description="rule"),
        "run": widgets.IntSlider(0, min=0, max=len(res.meta["runs"]) - 1, description="run (index)"),
        "unit": widgets.IntSlider(0, min=0, max=res[f"{rules[0]}/fields"].shape[1] - 1, description="unit"),
        "change": widgets.Checkbox(True, description="learned change"),
        "density": widgets.FloatSlider(0.5, min=0.05, max=1.0, step=0.05, description="sparse density")})
