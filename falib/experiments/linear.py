"""Fig. 2: a 30-20-10 linear network learns a random linear map ``y* = T x``.

The figure follows the protocol of the paper's Methods: one learning rate, the one that makes
backprop fastest, for backprop, feedback alignment and shallow learning (node perturbation
diverges at that rate and gets its own). Beside it, a control: shallow learning at its own best
rate, with the limit of its random hidden layer. The rates come from one search, run in code
at the paper profile (``search``), over the same grid and by the same criterion for every rule.
"""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from ..backend import to_numpy
from ..claims import Claim, Claims
from ..data import minibatches
from ..metrics import delta_angle, first_below, normalized_squared_error
from ..networks import Network
from ..rules import Rule, make_rule
from ..tasks import linear_data
from ..plots import WIDTH, curve, finish, looks
from ..training import train
from . import Experiment

GRID = [round(1e-4 * 10 ** (k / 2), 10) for k in range(13)]   # 1e-4, 3.16e-4, ..., 100

PAPER = {
    "sizes": [30, 20, 10],       # paper
    "init_scale": 0.01,          # paper: W0, W uniform in [-0.01, 0.01]
    "target_scale": 1.0,         # paper: T uniform in [-1, 1]
    "runs": 20,                  # paper: n = 20
    "batch": 1,                  # online learning, as the preprint implies
    "steps": 3000,               # ours (not given)
    "record_every": 25,          # ours
    "test_size": 1000,           # ours (not given)
    # each rule's best rate in `search` (the sanity claim "rates-from-search" checks they agree)
    "eta": {"shallow": GRID[10], "node_perturbation": GRID[1], "backprop": GRID[4],
            "feedback_alignment": GRID[4]},
    # whose rate each curve uses: the paper's protocol (backprop's for every rule that does not
    # diverge with it), and the control "shallow_tuned" at shallow learning's own rate
    "rate_of": {"shallow": "backprop", "node_perturbation": "node_perturbation", "backprop": "backprop",
                "feedback_alignment": "backprop", "shallow_tuned": "shallow"},
    # the rules compared, as specs: B uniform in [-0.5, 0.5] (paper); node perturbation's
    # perturbation standard deviation (ours)
    "rules": {"shallow": {"rule": "shallow"}, "node_perturbation": {"rule": "node_perturbation", "sigma": 0.01},
              "backprop": {"rule": "backprop"}, "feedback_alignment": {"rule": "feedback_alignment", "scale": 0.5}},
    # ours: the rate search. Every rule, every rate of the grid, on validation runs (their own
    # weights and B, not those of the reported runs); score: the mean test NSE over the run
    # (the area under the learning curve, so faster learning scores lower); diverged: inf
    "search": {"grid": GRID, "runs": [20, 21, 22, 23, 24]},
    "seed": 2016,
    "dtype": "float64",
}
QUICK = dict(PAPER, runs=5, search=None)   # the rates are the paper profile's search result
RULES = tuple(PAPER["rules"])


def learn(rule: str | dict | Rule, eta, config, data, backend, runs, diverged: str = "raise"):
    """Train `rule` (a rule object, a spec, or a name in ``config["rules"]``) at rate `eta` on
    `runs`; returns its curves (with the δ angle for a rule that has a B) and the trained network.
    `diverged` is :func:`~falib.training.train`'s policy for a run that diverges."""
    X, Y, Xt, Yt = data
    net = Network.init(config["sizes"], "linear", config["init_scale"], bias=False,
                       seed=config["seed"], runs=runs, backend=backend)
    rule = make_rule(config["rules"].get(rule, rule) if isinstance(rule, str) else rule).bind(net)

    def evaluate(net, rule):
        return {"nse": normalized_squared_error(Yt, net.forward(Xt).y)} | delta_angle(net, rule, Xt, Yt)

    curves = train(net, rule, minibatches(X, Y, config["batch"]), steps=config["steps"], eta=eta,
                   record_every=config["record_every"], evaluate=evaluate, desc=f"linear: {rule} at {eta:g}",
                   diverged=diverged)
    return curves, net


def hidden_limit(W0, Xt, Yt):
    """The lowest test NSE any output layer W can reach on the fixed hidden layer ``h = W0 x``:
    the least-squares fit of W on the test set itself, per run (shallow learning's floor)."""
    H, Y = to_numpy(W0) @ to_numpy(Xt), np.broadcast_to(to_numpy(Yt), (W0.shape[0], *Yt.shape[1:]))
    W = np.linalg.solve(H @ H.swapaxes(-1, -2), H @ Y.swapaxes(-1, -2)).swapaxes(-1, -2)
    return to_numpy(normalized_squared_error(Y, W @ H))


def search(config, data, backend) -> dict:
    """Each rule's score at each rate of the grid: the mean test NSE over training (inf: diverged)."""
    s = config["search"]
    out = {"search/eta": np.asarray(s["grid"], dtype=float)}
    for name in config["rules"]:
        scores = [learn(name, eta, config, data, backend, s["runs"], diverged="nan")[0]["nse"].mean()
                  for eta in s["grid"]]
        out[f"search/{name}"] = np.nan_to_num(np.asarray(scores), nan=np.inf, posinf=np.inf)
    return out


def compute(config, backend, runs):
    data = linear_data(config, backend)
    out = search(config, data, backend) if config.get("search") else {}
    for label, whose in config["rate_of"].items():
        rule = label if label in config["rules"] else whose   # a control: the rule whose rate it takes
        curves, net = learn(rule, config["eta"][whose], config, data, backend, runs)
        out["step"] = curves.pop("step")
        out.update({f"{label}/{k}": v for k, v in curves.items()})
        if not make_rule(config["rules"][rule]).learns(net, 0):   # a fixed random hidden layer
            out[f"{label}/limit"] = hidden_limit(net.W[0], *data[2:])
            out[f"{label}/h2"] = to_numpy(net.W[0] ** 2).sum(axis=(1, 2))   # E|h|^2 for x ~ N(0, I)
    return out


def best_rates(res) -> dict:
    """Each rule's best rate in the search (only in results computed with a search)."""
    return {name: float(res["search/eta"][np.argmin(res[f"search/{name}"])]) for name in RULES}


def claims(res) -> Claims:
    final = {k[:-4]: float(np.mean(v[:, -1])) for k, v in res.arrays.items() if k.endswith("/nse")}
    angle = res["feedback_alignment/angle"]
    late = angle[:, angle.shape[1] // 2:]
    step, n = res["step"], angle.shape[0]
    half = {k: first_below(step, np.mean(res[f"{k}/nse"], axis=0), 0.5) for k in RULES}
    limit = float(res["shallow_tuned/limit"].mean())
    found = [Claim(
        "bp-learns", "Backprop drives the error near zero (final NSE < 0.05)", "loss sent rapidly towards zero",
        f"{final['backprop']:.1e} (n={n})", final["backprop"] < 0.05, figure="Fig. 2a",
        tolerance="'towards zero': below 5% of the starting error (the paper gives no number)"), Claim(
        "fa-learns", "Feedback alignment does the same (final NSE < 0.05)", "does the same",
        f"{final['feedback_alignment']:.1e}", final["feedback_alignment"] < 0.05, figure="Fig. 2a",
        tolerance="as for backprop"), Claim(
        "fa-as-fast", "FA learns as fast as backprop early on: its mean NSE halves within 1.25x "
        "backprop's number of examples", "just as quickly",
        f"halved after {half['feedback_alignment']} (FA) vs {half['backprop']} (BP) examples",
        None not in (half["feedback_alignment"], half["backprop"])
        and half["feedback_alignment"] <= 1.25 * half["backprop"], figure="Fig. 2a",
        tolerance="'just as quickly' (no number): FA may take at most 25% more examples; one-sided, "
                  "since FA being faster does not contradict the paper"), Claim(
        "shallow-hardly", "Shallow learning at backprop's rate (the paper's protocol) hardly reduces "
        "the error (final NSE > 0.8)", "loss hardly decreases", f"{final['shallow']:.3f}",
        final["shallow"] > 0.8, figure="Fig. 2a", tolerance="'hardly decreases': by less than a fifth"), Claim(
        "np-slow", "Node perturbation learns, but its mean NSE takes over 3x as many examples to halve",
        "learning is slow",
        f"halved after {half['node_perturbation']} vs {half['backprop']} (BP), "
        f"{half['feedback_alignment']} (FA)",
        None not in (half["node_perturbation"], half["backprop"], half["feedback_alignment"])
        and half["node_perturbation"] > 3 * max(half["backprop"], half["feedback_alignment"]),
        figure="Fig. 2a", tolerance="'slow': ours, 3x (the paper gives no number)"), Claim(
        "shallow-limit", "Shallow learning at its own best rate stops at the limit of its random "
        "hidden layer (final NSE within 10% of the least-squares limit)",
        "(our control; the paper does not tune shallow learning separately)",
        f"{final['shallow_tuned']:.3f} vs limit {limit:.3f}",
        final["shallow_tuned"] <= 1.1 * limit, figure="Fig. 2a (control)",
        tolerance="ours, fixed before the run: 10% above the limit (it cannot go below it)",
        gap="our own statement, not the paper's: at its fastest rate online learning settles above "
            "the limit, by the fluctuation that each single-example step leaves (LMS misadjustment: "
            "the part of T that h cannot represent acts as noise)", source="ours"), Claim(
        "angle-start", "The FA/BP angle starts near 90 degrees (mean within 5, every run within 15)",
        "initially ~90 degrees", f"mean {angle[:, 0].mean():.0f}, runs "
        f"{angle[:, 0].min():.0f}-{angle[:, 0].max():.0f} degrees",
        abs(angle[:, 0].mean() - 90) < 5 and np.all(abs(angle[:, 0] - 90) < 15), figure="Fig. 2b",
        kind="sanity", tolerance="true by construction: W and B start independent and random"), Claim(
        "angle-falls", "It falls well below 90 degrees (mean of the second half < 60) in every run",
        "soon shrinks", f"{late.mean():.0f} degrees (worst run {late.mean(axis=1).max():.0f})",
        np.all(late.mean(axis=1) < 60), figure="Fig. 2b",
        tolerance="'shrinks' (no number): ours, a third of the way from 90 to 0"), Claim(
        "angle-nonzero", "It never reaches zero (minimum over runs and time > 1 degree)",
        "never reaches zero", f"minimum {angle.min():.1f} degrees", angle.min() > 1, figure="Fig. 2b",
        tolerance="'never reaches zero': ours, 1 degree")]
    if "search/eta" in res.arrays:
        best, eta = best_rates(res), res.config["eta"]
        found.append(Claim(
            "rates-from-search", "The configured learning rates are the search's best",
            "tuned by manual search", ", ".join(f"{k} {best[k]:g}" for k in RULES),
            all(np.isclose(best[k], eta[k]) for k in RULES), figure="Fig. 2a", kind="sanity",
            tolerance="the configuration must be updated when the search's result changes", source="ours"))
    return Claims(found).on(n, protocol(res.config))


def protocol(config) -> str:
    """How the runs behind the claims were trained, in a few words."""
    return (f"{config['steps']:,} online examples, each rule at the rate of its curve (backprop's, but node "
            "perturbation's own and the control's)")


def shown(config) -> dict:
    """How the figures show each rule of `config` (:func:`falib.plots.looks`)."""
    return looks(config["rules"])


def figure(res):
    """Fig. 2a (NSE over training, with the control) and Fig. 2b (angle between δ_FA and δ_BP)."""
    fig, axes = plt.subplot_mosaic("ab;ll", figsize=(WIDTH, 4.8), height_ratios=[3.2, 1.3])
    a, b, key = axes["a"], axes["b"], axes["l"]
    step, look = res["step"], shown(res.config)
    for rule in RULES:
        curve(a, step, res[f"{rule}/nse"], look[rule])
    control = look["shallow"]   # the control is shallow learning at its own rate
    curve(a, step, res["shallow_tuned/nse"], control, f"{control.label}, own rate (control)", "--")
    a.axhline(res["shallow_tuned/limit"].mean(), color=control.color, ls=":", lw=1,
              label="limit of the random hidden layer")
    a.set(xlabel="training examples", ylabel="normalized squared error", ylim=(0, 1.1))
    key.axis("off")
    key.legend(*a.get_legend_handles_labels(), loc="center", ncol=2)
    curve(b, step, res["feedback_alignment/angle"], look["feedback_alignment"], "∠(Be, Wᵀe)")
    b.axhline(90, color="0.6", ls=":", lw=1)
    b.set(xlabel="training examples", ylabel="angle between δ_FA and δ_BP (deg)", ylim=(0, 100))
    b.legend(frameon=False)
    return finish(fig, res, (a, "a"), (b, "b"))


def search_figure(res):
    """The rate search: each rule's mean test NSE over training against the learning rate."""
    fig, ax = plt.subplots(figsize=(WIDTH, 3.2))
    eta, look = res["search/eta"], shown(res.config)
    for rule in RULES:
        score = res[f"search/{rule}"]
        ok = np.isfinite(score)
        ax.plot(eta[ok], np.minimum(score[ok], 2), "o-", color=look[rule].color, label=look[rule].label)
        ax.plot(eta[~ok], np.full((~ok).sum(), 2.0), "x", color=look[rule].color)
    ax.set(xscale="log", xlabel="learning rate η", ylabel="mean test NSE over training", ylim=(0, 2.1),
           title=f"rate search on {len(res.config['search']['runs'])} validation runs "
           "(×: diverged; capped at 2)")
    ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1))
    return finish(fig, res)


EXPERIMENT = Experiment("linear", "Fig. 2: linear 30-20-10 network", {"quick": QUICK, "paper": PAPER},
                        compute, claims, order=2,
                        shared=("step", "search/eta", *(f"search/{name}" for name in PAPER["rules"])),
                        start={"config": {"steps": 4 * PAPER["record_every"], "search": None}, "run": 3, "rtol": 1e-9})


def prose(res, paper=None) -> dict:
    """The numbers the chapter states, as text: from `res`, and the search from `paper` (the
    paper-profile results, where the search runs)."""
    step, eta = res["step"], res.config["eta"]
    mean = {k[:-4]: np.mean(v, axis=0) for k, v in res.arrays.items() if k.endswith("/nse")}
    half = {k: first_below(step, m, 0.5) for k, m in mean.items()}
    last = slice(-len(step) // 10, None)   # the last tenth of the run
    h2, limit = res["shallow_tuned/h2"], res["shallow_tuned/limit"]
    m = eta["shallow"] * h2 / 2            # LMS misadjustment: excess error / least error = m / (1 - m)
    angle = res["feedback_alignment/angle"]
    out = {"steps": f"{step[-1]:,}", "eta_bp": f"{eta['backprop']:g}",
           "eta_np": f"{eta['node_perturbation']:.2g}", "eta_shallow": f"{eta['shallow']:g}",
           "bp_final": f"{mean['backprop'][-1]:.0e}", "fa_final": f"{mean['feedback_alignment'][-1]:.0e}",
           "bp_half": str(half["backprop"]), "fa_half": str(half["feedback_alignment"]),
           "fa_early": ("faster than" if half["feedback_alignment"] < half["backprop"] else
                        "as fast as" if half["feedback_alignment"] == half["backprop"] else "slower than"),
           "np_half": f"{half['node_perturbation']:,}", "np_final": f"{mean['node_perturbation'][-1]:.2f}",
           "np_fall": f"{mean['node_perturbation'][last][0] - mean['node_perturbation'][-1]:.2f}",
           "shallow_final": f"{mean['shallow'][-1]:.2f}", "h2": f"{h2.mean():.3f}",
           "step_bp": f"{eta['backprop'] * h2.mean():.0e}", "step_own": f"{eta['shallow'] * h2.mean():.1f}",
           "tuned_final": f"{mean['shallow_tuned'][-1]:.2f}",
           "limit": f"{limit.mean():.2f}", "limit_range": f"{limit.min():.2f} to {limit.max():.2f}",
           "floor": f"{np.mean(limit * (1 + m / (1 - m))):.2f}",
           "angle_start": f"{angle[:, 0].mean():.0f}°", "angle_late": f"{angle[:, angle.shape[1] // 2:].mean():.0f}°",
           "angle_min": f"{angle.min():.0f}°"}
    if paper is not None:
        best = best_rates(paper)
        out.update(search_runs=str(len(paper.config["search"]["runs"])), fa_best=f"{best['feedback_alignment']:g}",
                   fa_best_is=("the same as backprop's" if np.isclose(best["feedback_alignment"], best["backprop"])
                               else "a different one"))
    return out
