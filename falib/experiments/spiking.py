"""Fig. 4: MNIST learned by leaky, stochastically spiking units with feedback alignment."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from ..backend import Backend, replica_rng, shared_rng, to_numpy
from ..claims import Claim, Claims
from ..data import load_mnist
from ..plots import COLORS, WIDTH, curve, finish, panel_label
from ..spiking import SpikingNetwork, class_targets, classify, present
from ..training import DivergenceError, progress_bar
from . import Experiment

ORDER_STREAM, TEST_SPIKES = 0, 4

PAPER = {
    "sizes": [784, 1500, 1500, 1500, 1000],  # paper: three hidden layers of 1,500; 100 output units per class
    "tau": 0.9,                  # paper
    "eta": 1e-3,                 # paper
    "gamma": 1e-8,               # paper: weight decay on weights and biases
    "forward_scale": 0.05,       # paper: forward weights uniform in [-0.05, 0.05]
    "feedback_scale": 0.1,       # paper: feedback weights uniform in [-0.1, 0.1]
    "steps_per_image": 5,        # paper
    "runs": 1,                   # ours: the paper reports one number, n not given
    "images": 20000,             # ours: what fits on a 2-core CPU (the paper trained far longer)
    "test_every": 4000,          # ours: images between evaluations
    "test_images": 1000,         # ours: test images per evaluation during training
    "final_test_images": 10000,  # paper: the standard test set
    "trace_images": 10,          # images whose dynamics are recorded, at the start and at the end
    "trace_units": 40,
    "flush_every": 32,           # fast path: pending rank-1 updates folded in every 32 steps (exact)
    "seed": 2016,
    "dtype": "float32",
}
QUICK = dict(PAPER, sizes=[784, 300, 300, 300, 100], eta=1e-2, images=3000, test_every=1000,
             test_images=500, final_test_images=1000)


def test_error(net, X, labels, config, runs):
    """Error rate per run on images X, with plasticity off, without disturbing the training run."""
    saved, rngs = net.state(), net.rngs
    net.rngs = [replica_rng(config["seed"], r, TEST_SPIKES) for r in runs]
    counts = present(net, X, steps=config["steps_per_image"])
    net.restore(saved)
    net.rngs = rngs
    return np.mean(to_numpy(classify(counts)) != labels[:, None], axis=0)


def compute(config, backend, runs):
    data = load_mnist()
    net = SpikingNetwork(config["sizes"], eta=config["eta"], gamma=config["gamma"], tau=config["tau"],
                         forward_scale=config["forward_scale"], feedback_scale=config["feedback_scale"],
                         seed=config["seed"], runs=runs, backend=backend, flush_every=config["flush_every"])
    rng = shared_rng(config["seed"], ORDER_STREAM)
    epochs = -(-config["images"] // len(data.y_train))
    order = np.concatenate([rng.permutation(len(data.y_train)) for _ in range(epochs)])[:config["images"]]
    X = backend.asarray(data.x_train[order, None, :])
    Y = class_targets(data.y_train[order], config["sizes"][-1], backend)
    Xt = backend.asarray(data.x_test[:config["test_images"], None, :])
    shown, errors = [0], [test_error(net, Xt, data.y_test[:config["test_images"]], config, runs)]
    traces = {}
    with progress_bar(config["images"], "spiking") as bar:
        for start in range(0, config["images"], config["test_every"]):
            stop = min(start + config["test_every"], config["images"])
            for first in range(start, stop, config["trace_images"]):
                last = min(first + config["trace_images"], stop)
                window = "start" if first == 0 else "end" if last == config["images"] else None
                record = recorder(traces, window, config["trace_units"]) if window else None
                present(net, X[first:last], Y[first:last], config["steps_per_image"], record)
                bar.update(last - first)
            net.flush()
            if not all(np.all(np.isfinite(to_numpy(W))) for W in net.WT):
                raise DivergenceError(f"the spiking network's weights became NaN or inf by image {stop} "
                                      f"(eta={config['eta']:g}); lower eta")
            shown.append(stop)
            errors.append(test_error(net, Xt, data.y_test[:config["test_images"]], config, runs))
    n = config["final_test_images"]
    final = test_error(net, backend.asarray(data.x_test[:n, None, :]), data.y_test[:n], config, runs)
    out = {"images": np.asarray(shown), "test_error": np.stack(errors, axis=1), "final_test_error": final}
    out.update({k: np.stack(v) for k, v in traces.items()})
    return out


def recorder(traces, window, units):
    """Collect, for run 0 and the first `units` units of hidden layer 1, v, spikes and tanh(d)."""
    def record(net, s):
        for name, a in (("v", net.v[0]), ("spikes", s[1]), ("modulator", net.xp.tanh(net.d[0]))):
            traces.setdefault(f"{window}/{name}", []).append(to_numpy(a[0, 0, :units]))
    return record


def claims(res) -> Claims:
    err, final = res["test_error"], res["final_test_error"]
    n_img, n_test = int(res["images"][-1]), res.config["final_test_images"]
    first_end = res["start/spikes"][-1].mean(), res["end/spikes"][-1].mean()
    return Claims([
        Claim("learns", "Feedback alignment trains the spiking network: final test error below half of chance (45%)",
              "1.8% after full training", f"{100 * final.mean():.1f}% after {n_img:,} images "
              f"({n_test:,} test images)", bool(np.all(final < 0.45))),
        Claim("error-falls", "The test error falls during training (last evaluation < 1/2 of the first)",
              "learning curve falls", f"{100 * err[:, 0].mean():.1f}% -> {100 * err[:, -1].mean():.1f}%",
              bool(np.all(err[:, -1] < 0.5 * err[:, 0]))),
        Claim("stochastic", "Hidden units keep spiking stochastically while they learn (0 < rate < 1 at start and end)",
              "stochastic binary units", f"rates {first_end[0]:.2f} and {first_end[1]:.2f}",
              all(0 < r < 1 for r in first_end)),
    ])


def figure(res):
    """Fig. 4: test error over training, and one unit's potential, spikes and modulatory signal."""
    fig = plt.figure(figsize=(WIDTH, 9))
    grid = fig.add_gridspec(3, 1)
    a = fig.add_subplot(grid[0])
    curve(a, res["images"], 100 * res["test_error"], "feedback_alignment")
    a.set(xlabel="training images", ylabel="test error (%)", yscale="log",
          title=f"final: {100 * res['final_test_error'].mean():.1f}% (paper: 1.8%)")
    a.axhline(1.8, color="0.5", ls=":", lw=1)
    a.legend(frameon=False)
    panel_label(a, "a")
    steps = res.config["steps_per_image"]
    for row, window in enumerate(("start", "end")):
        ax = fig.add_subplot(grid[row + 1])
        t = np.arange(len(res[f"{window}/v"]))
        ax.plot(t, res[f"{window}/v"][:, 0], color="0.2", lw=1.2)
        spikes = np.flatnonzero(res[f"{window}/spikes"][:, 0])
        ax.plot(spikes, np.full(spikes.size, ax.get_ylim()[1]), "|", color="0.2", ms=8, label="spikes")
        ax.set_ylabel("potential v")
        m = ax.twinx()
        m.plot(t, res[f"{window}/modulator"][:, 0], color=COLORS["feedback_alignment"], lw=1.2)
        m.set_ylabel("modulatory signal tanh(d)", color=COLORS["feedback_alignment"])
        for edge in range(0, len(t) + 1, steps):
            ax.axvline(edge - 0.5, color="0.85", lw=0.8, zorder=0)
        ax.set(xlabel=f"time step (a new image every {steps})", title=f"hidden unit 1, {window} of training")
        panel_label(ax, "b" if row == 0 else "c")
    return finish(fig, res)


def raster(res, window="end"):
    """Spikes of the recorded hidden units over the recorded steps."""
    fig, ax = plt.subplots(figsize=(WIDTH, 3))
    t, unit = np.nonzero(res[f"{window}/spikes"])
    ax.plot(t, unit, "|", color="0.2", ms=4)
    for edge in range(0, res[f"{window}/spikes"].shape[0] + 1, res.config["steps_per_image"]):
        ax.axvline(edge - 0.5, color="0.85", lw=0.8, zorder=0)
    ax.set(xlabel="time step", ylabel="hidden unit", title=f"spikes of hidden layer 1, {window} of training")
    fig.tight_layout()
    return fig


def diagram():
    """The circuit: spiking forward layers above, leaky feedback layers below, all running at once."""
    fig, ax = plt.subplots(figsize=(WIDTH, 3.2))
    names = ["input\n784", "h₁\n1500", "h₂\n1500", "h₃\n1500", "output\n1000"]
    box = dict(boxstyle="round,pad=0.4", fc="white", ec="0.2")
    red = COLORS["feedback_alignment"]
    for i, name in enumerate(names):
        ax.text(i, 1, name, ha="center", va="center", bbox=box)
        if i:
            ax.annotate("", (i - 0.3, 1), (i - 0.7, 1), arrowprops=dict(arrowstyle="-|>", color="0.2"))
            ax.text(i - 0.5, 1.12, f"W{i}", ha="center")
            ax.text(i, 0, "error e" if i == 4 else f"d{i}", ha="center", va="center",
                    bbox=dict(box, ec=red), color=red)
            ax.annotate("", (i, 0.85), (i, 0.15), arrowprops=dict(arrowstyle="-|>", color=red, ls=":"))
        if 1 <= i <= 3:
            ax.annotate("", (i + 0.3, 0), (i + 0.7, 0), arrowprops=dict(arrowstyle="-|>", color=red))
            ax.text(i + 0.5, -0.14, f"B{i}", ha="center", color=red)
    ax.text(4.4, 0, "← y*", color=red, va="center")
    ax.text(2, -0.45, "dotted: modulatory signal tanh(d) that gates each layer's plasticity",
            ha="center", color="0.3")
    ax.set(xlim=(-0.5, 5), ylim=(-0.6, 1.4))
    ax.axis("off")
    return fig


EXPERIMENT = Experiment("spiking", "Fig. 4: spiking network on MNIST", {"quick": QUICK, "paper": PAPER},
                        compute, claims, order=5, backend=Backend("torch"))
