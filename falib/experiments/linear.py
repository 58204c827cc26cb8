"""Fig. 2: a 30-20-10 linear network learns a random linear map ``y* = T x``."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from ..backend import shared_rng
from ..claims import Claim, Claims
from ..metrics import delta_angles, normalized_squared_error
from ..networks import Network
from ..rules import make_rule
from ..tasks import TASK_STREAM, TEST_STREAM, TRAIN_STREAM, columns, linear_target, minibatches
from ..plots import WIDTH, curve, finish
from ..training import train
from . import Experiment

RULES = ("shallow", "node_perturbation", "backprop", "feedback_alignment")

PAPER = {
    "sizes": [30, 20, 10],       # paper
    "init_scale": 0.01,          # paper: W0, W uniform in [-0.01, 0.01]
    "feedback_scale": 0.5,       # paper: B uniform in [-0.5, 0.5]
    "target_scale": 1.0,         # paper: T uniform in [-1, 1]
    "runs": 20,                  # paper: n = 20
    "batch": 1,                  # online learning, as the preprint implies
    "steps": 3000,               # ours (not given)
    "record_every": 25,          # ours
    "test_size": 1000,           # ours (not given)
    "eta": {"shallow": 0.01, "node_perturbation": 0.0005, "backprop": 0.01, "feedback_alignment": 0.01},
    "sigma": 0.01,               # ours: node perturbation's perturbation standard deviation
    "seed": 2016,
    "dtype": "float64",
}
QUICK = dict(PAPER, runs=5)


def compute(config, backend, runs):
    rng = shared_rng(config["seed"], TASK_STREAM)
    n_in, _, n_out = config["sizes"]
    T = linear_target(rng, n_out, n_in, config["target_scale"])
    n_train = config["steps"] * config["batch"]
    X = shared_rng(config["seed"], TRAIN_STREAM).standard_normal((n_train, n_in))
    Xt = shared_rng(config["seed"], TEST_STREAM).standard_normal((config["test_size"], n_in))
    X, Y = columns(X, backend), columns(X @ T.T, backend)
    Xt, Yt = columns(Xt, backend), columns(Xt @ T.T, backend)
    out = {}
    for name in RULES:
        net = Network.init(config["sizes"], "linear", config["init_scale"], bias=False,
                           seed=config["seed"], runs=runs, backend=backend)
        params = {"feedback_alignment": {"scale": config["feedback_scale"]},
                  "node_perturbation": {"sigma": config["sigma"]}}.get(name, {})
        rule = make_rule(name, **params).bind(net, seed=config["seed"], runs=runs, backend=backend)

        def evaluate(net, rule):
            p = net.forward(Xt)
            metrics = {"nse": normalized_squared_error(Yt, p.y)}
            if rule.name == "feedback_alignment":
                metrics["angle"] = delta_angles(net, rule, p, Yt)[0]
            return metrics

        curves = train(net, rule, minibatches(X, Y, config["batch"]), steps=config["steps"],
                       eta=config["eta"][name], record_every=config["record_every"],
                       evaluate=evaluate, desc=f"linear: {name}")
        out["step"] = curves.pop("step")
        out.update({f"{name}/{k}": v for k, v in curves.items()})
    return out


def steps_to(step, curve, level):
    """The first recorded step at which `curve` is below `level` (None if it never is)."""
    below = np.flatnonzero(curve < level)
    return int(step[below[0]]) if below.size else None


def claims(res) -> Claims:
    final = {name: res[f"{name}/nse"][:, -1] for name in RULES}
    mean = {name: float(np.mean(v)) for name, v in final.items()}
    angle = res["feedback_alignment/angle"]
    late = angle[:, angle.shape[1] // 2:]
    step = res["step"]
    half = {name: steps_to(step, np.mean(res[f"{name}/nse"], axis=0), 0.5) for name in RULES}
    n = angle.shape[0]
    return Claims([
        Claim("bp-learns", "Backprop drives the error near zero (final NSE < 0.05)",
              "loss sent rapidly towards zero", f"{mean['backprop']:.3f} (n={n})", mean["backprop"] < 0.05),
        Claim("fa-learns", "Feedback alignment does the same (final NSE < 0.05)",
              "just as quickly as backprop", f"{mean['feedback_alignment']:.3f}",
              mean["feedback_alignment"] < 0.05),
        Claim("shallow-plateau", "Shallow learning barely reduces the error (final NSE > 0.5)",
              "loss hardly decreases", f"{mean['shallow']:.3f}", mean["shallow"] > 0.5),
        Claim("np-slow", "Node perturbation learns, but its mean NSE takes over 3x as many steps to halve",
              "learning is slow",
              f"halved at step {half['node_perturbation']} vs {half['backprop']} (BP), "
              f"{half['feedback_alignment']} (FA)",
              None not in (half["node_perturbation"], half["backprop"], half["feedback_alignment"]) and
              half["node_perturbation"] > 3 * max(half["backprop"], half["feedback_alignment"])),
        Claim("angle-start", "The FA/BP angle starts near 90 degrees (mean within 5, every run within 15)",
              "initially ~90 degrees", f"mean {angle[:, 0].mean():.0f}, runs "
              f"{angle[:, 0].min():.0f}-{angle[:, 0].max():.0f} degrees",
              bool(abs(angle[:, 0].mean() - 90) < 5 and np.all(abs(angle[:, 0] - 90) < 15))),
        Claim("angle-falls", "It falls well below 90 degrees (mean of the second half < 60) in every run",
              "soon shrinks", f"{late.mean():.0f} degrees (worst run {late.mean(axis=1).max():.0f})",
              bool(np.all(late.mean(axis=1) < 60))),
        Claim("angle-nonzero", "It never reaches zero (minimum over runs and time > 1 degree)",
              "never reaches zero", f"minimum {angle.min():.1f} degrees", bool(angle.min() > 1)),
    ])


def figure(res):
    """Fig. 2a (NSE over training) and Fig. 2b (angle between δ_FA and δ_BP)."""
    fig, (a, b) = plt.subplots(1, 2, figsize=(WIDTH, 3.2))
    step = res["step"]
    for rule in RULES:
        curve(a, step, res[f"{rule}/nse"], rule)
    a.set(xlabel="training examples", ylabel="normalized squared error", ylim=(0, 1.1))
    a.legend(frameon=False)
    curve(b, step, res["feedback_alignment/angle"], "feedback_alignment", "∠(Be, Wᵀe)")
    b.axhline(90, color="0.6", ls=":", lw=1)
    b.set(xlabel="training examples", ylabel="angle between δ_FA and δ_BP (deg)", ylim=(0, 100))
    b.legend(frameon=False)
    return finish(fig, res, (a, "a"), (b, "b"))


EXPERIMENT = Experiment("linear", "Fig. 2: linear 30-20-10 network", {"quick": QUICK, "paper": PAPER},
                        compute, claims, order=2)
