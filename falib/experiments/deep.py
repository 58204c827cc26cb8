"""Fig. 3c,d: a second hidden layer helps feedback alignment as it helps backprop."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from scipy import stats

from ..backend import shared_rng
from ..claims import Claim, Claims
from ..metrics import normalized_squared_error
from ..networks import Network
from ..plots import COLORS, FONT, LABELS, WIDTH, curve, finish
from ..rules import make_rule
from ..tasks import TASK_STREAM, TEST_STREAM, TRAIN_STREAM, columns, minibatches, network_target
from ..training import train
from . import Experiment

RULES = ("backprop", "feedback_alignment")
NETS = ("shallow", "deep", "frozen")   # 30-20-10; 30-20-10-10; 30-20-10-10 with W0 frozen
PAPER_P = {"backprop": 3e-12, "feedback_alignment": 9e-13}

PAPER = {
    "sizes": {"shallow": [30, 20, 10], "deep": [30, 20, 10, 10]},   # paper
    "target_sizes": [30, 20, 10, 10],   # paper: a random tanh network, linear output (no biases: ours)
    "target_scale": 0.5,                # paper: target weights uniform in [-0.5, 0.5]
    "init_scale": 0.1,                  # ours (not given): W and b uniform in [-0.1, 0.1], new each run
    "feedback_scale": {"shallow": [1.0], "deep": [1.0, 1.0]},   # ours: B (B1, B2) uniform in [-1, 1]
    "runs": 20,                         # paper: n = 20
    "batch": 200,                       # ours (not given)
    "steps": 3000,                      # ours: 600,000 examples (paper: until backprop stopped improving)
    "record_every": 100,                # ours
    "test_size": 5000,                  # paper: 5,000 held-out points
    "eta": 0.4,                         # ours: tuned for backprop, reused for FA (the paper's practice)
    "alpha": 1e-3,                      # ours: P threshold of the claims at n = 20
    "seed": 2016,
    "dtype": "float32",                 # ours: twice as fast as float64 on a CPU
}
QUICK = dict(PAPER, runs=5, steps=1500, alpha=0.05)   # at n = 5 per group, P < 0.05 is the fair bar


def compute(config, backend, runs):
    n_in = config["target_sizes"][0]
    target = network_target(shared_rng(config["seed"], TASK_STREAM), config["target_sizes"],
                            config["target_scale"])
    n_train = config["steps"] * config["batch"]
    X = shared_rng(config["seed"], TRAIN_STREAM).standard_normal((n_train, n_in))
    Xt = shared_rng(config["seed"], TEST_STREAM).standard_normal((config["test_size"], n_in))
    X, Y = columns(X, backend), backend.asarray(target.forward(X.T[None]).y)
    Xt, Yt = columns(Xt, backend), backend.asarray(target.forward(Xt.T[None]).y)
    def evaluate(net, rule):
        return {"nse": normalized_squared_error(Yt, net.forward(Xt).y)}

    out = {}
    for rule_name in RULES:
        for kind in NETS:
            shape = "shallow" if kind == "shallow" else "deep"
            sizes = config["sizes"][shape]
            units = ["tanh"] * (len(sizes) - 2) + ["linear"]
            net = Network.init(sizes, units, config["init_scale"], bias_scale=config["init_scale"],
                               seed=config["seed"], runs=runs, backend=backend)
            if kind == "frozen":
                net.frozen = {0}
            params = {"scale": config["feedback_scale"][shape]} if rule_name == "feedback_alignment" else {}
            rule = make_rule(rule_name, **params).bind(net, seed=config["seed"], runs=runs, backend=backend)
            curves = train(net, rule, minibatches(X, Y, config["batch"]), steps=config["steps"],
                           eta=config["eta"], record_every=config["record_every"],
                           evaluate=evaluate,
                           desc=f"deep: {rule_name}, {kind}")
            out["step"] = curves.pop("step") * config["batch"]
            out[f"{rule_name}/{kind}/nse"] = curves["nse"]
    return out


def final(res, rule, kind):
    """Final NSE of every run, in float64 (so that tiny P values do not underflow)."""
    return res[f"{rule}/{kind}/nse"][:, -1].astype(np.float64)


def claims(res) -> Claims:
    alpha, n = res.config["alpha"], len(res.meta["runs"])
    rows = []
    for rule, label in (("backprop", "Backprop"), ("feedback_alignment", "Feedback alignment")):
        deep, shallow = final(res, rule, "deep"), final(res, rule, "shallow")
        p = stats.ttest_ind(deep, shallow).pvalue
        rows.append(Claim(f"depth-helps-{rule}", f"{label} does better with the extra layer (t-test, P < {alpha:g} at n = {n})",
                          f"P = {PAPER_P[rule]:.0e} (n = 20)",
                          f"NSE {deep.mean():.4f} vs {shallow.mean():.4f}, P = {p:.1e}",
                          bool(deep.mean() < shallow.mean() and p < alpha)))
    fa = {kind: final(res, "feedback_alignment", kind).mean() for kind in NETS}
    gain, kept = fa["shallow"] - fa["deep"], fa["shallow"] - fa["frozen"]
    rows.append(Claim("W0-frozen", "Freezing W0 removes most of feedback alignment's gain from depth (keeps < half)",
                      "gain comes from the deeper layers (Suppl. Fig. 6)",
                      f"gain {gain:.4f} with W0 learning, {kept:.4f} with W0 frozen",
                      bool(0 < gain and kept < gain / 2)))
    return Claims(rows)


def circuit_figure():
    """Fig. 3c: a four-layer network trained by feedback alignment; the error descends through B2, then B1."""
    fig, ax = plt.subplots(figsize=(WIDTH, 3.2))
    layers = {"x": (0.08, 5), "h₁": (0.36, 4), "h₂": (0.64, 3), "y": (0.92, 3)}
    for name, (x0, n) in layers.items():
        ax.scatter([x0] * n, np.linspace(0.3, 0.7, n), s=160, color="white", edgecolor="0.2", zorder=3)
        ax.text(x0, 0.18, name, ha="center", fontsize=FONT + 2)
    forward = dict(arrowstyle="-|>", lw=1.6, color="0.25")
    back = dict(forward, color=COLORS["feedback_alignment"], ls="--")
    for (a, b), W in zip([(0.08, 0.36), (0.36, 0.64), (0.64, 0.92)], ["W₀", "W₁", "W₂"]):
        ax.annotate("", (b - 0.06, 0.78), (a + 0.06, 0.78), arrowprops=forward)
        ax.text((a + b) / 2, 0.82, W, ha="center")
    for (a, b), B in zip([(0.92, 0.64), (0.64, 0.36)], ["B₂", "B₁"]):
        ax.annotate("", (b + 0.06, 0.22), (a - 0.06, 0.22), arrowprops=back)
        ax.text((a + b) / 2, 0.12, B, ha="center", color=COLORS["feedback_alignment"])
    ax.text(0.92, 0.9, "e = y* − y", ha="center")
    ax.text(0.64, 0.9, "δ₂ = (B₂e) ∘ h₂′", ha="center", color=COLORS["feedback_alignment"])
    ax.text(0.36, 0.9, "δ₁ = (B₁δ₂) ∘ h₁′", ha="center",
            color=COLORS["feedback_alignment"])
    ax.set(xlim=(0, 1), ylim=(0.05, 1.0))
    ax.axis("off")
    fig.tight_layout()
    return fig


def figure(res):
    """Fig. 3d (NSE over training, 3 vs 4 layers) and Suppl. Fig. 6 (final NSE, with W0 frozen too)."""
    fig, (a, b) = plt.subplots(2, 1, figsize=(WIDTH, 7.6), gridspec_kw={"height_ratios": [3, 2]})
    step = res["step"]
    styles = {"shallow": ":", "deep": "-", "frozen": "--"}
    names = {"shallow": "30-20-10", "deep": "30-20-10-10", "frozen": "30-20-10-10, W₀ frozen"}
    for rule in RULES:
        for kind in ("shallow", "deep"):
            curve(a, step, res[f"{rule}/{kind}/nse"], rule, f"{LABELS[rule]}, {names[kind]}", styles[kind])
    a.set(xlabel="training examples", ylabel="normalized squared error (test)", ylim=(0, 0.2))
    a.legend(frameon=False)
    for i, (rule, kind) in enumerate((r, k) for r in RULES for k in NETS):
        v = final(res, rule, kind)
        jitter = np.linspace(-0.15, 0.15, v.size)
        b.scatter(i + jitter, v, s=9, color=COLORS[rule], alpha=0.6)
        b.plot([i - 0.3, i + 0.3], [v.mean()] * 2, color=COLORS[rule], lw=2)
    b.set_xticks(range(2 * len(NETS)), [f"{'BP' if r == 'backprop' else 'FA'}\n{names[k]}".replace(", ", "\n")
                                          for r in RULES for k in NETS])
    b.set(ylabel="final NSE (test)", yscale="log")
    return finish(fig, res, (a, "d"), (b, "S6"))


EXPERIMENT = Experiment("deep", "Fig. 3c,d: depth, 30-20-10 vs 30-20-10-10", {"quick": QUICK, "paper": PAPER},
                        compute, claims, order=4)
