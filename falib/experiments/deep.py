"""Fig. 3c,d and Suppl. Fig. 6: a second hidden layer, trained through two random matrices.

The paper's protocol (its Methods): settings chosen for backprop and used for both rules; B1 and
B2 drawn once and the same in every run; every network trained for the same number of steps and
scored where backprop stops improving on held-out data (here a validation set, never the test
set). Beside it, feedback alignment with its own best settings, found by ``deep_search``.
"""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from scipy import stats

from ..claims import Claim, Claims
from ..data import minibatches
from ..metrics import normalized_squared_error
from ..networks import Network
from ..plots import FONT, WIDTH, finish, look, looks
from ..rules import Rule, make_rule
from ..tasks import teacher_data as data   # the task of Fig. 3d: deep.data in the chapter
from ..training import train
from . import Experiment

TUNED = "feedback_alignment_tuned"   # feedback alignment with its own settings (3- and 4-layer nets)
NETS = {   # name: (shape, frozen layers)
    "shallow": ("shallow", ()),   # 30-20-10
    "deep": ("deep", ()),         # 30-20-10-10
    "frozen": ("deep", (0,)),     # 30-20-10-10, W0 frozen: the paper's control
    "wide": ("wide", ()),         # 30-30-10-10: a first layer that is no bottleneck ...
    "wide_frozen": ("wide", (0,)),   # ... frozen: the control without information loss
}
PAPER_P = {"backprop": 3e-12, "feedback_alignment": 9e-13}
CONVERGED = 1e-4   # ours, fixed before counting: NSE 1e-4 is an RMS error 1% of the target's spread. The
#   target is a network of the student's shape, so a run on its way to fitting it falls towards float32's
#   floor (about 1e-13), and one caught on a plateau stays near a 3-layer network's error (about 1e-2).
NAMES = {"shallow": "30-20-10", "deep": "30-20-10-10", "frozen": "30-20-10-10, W₀ frozen",
         "wide": "30-30-10-10", "wide_frozen": "30-30-10-10, W₀ frozen"}

BASE = {   # the task, the networks and the budget: shared with the search (deep_search)
    "sizes": {"shallow": [30, 20, 10], "deep": [30, 20, 10, 10], "wide": [30, 30, 10, 10]},
    "target_sizes": [30, 20, 10, 10],   # paper: a random tanh network, linear output (no biases: ours)
    "target_scale": 0.5,                # paper: target weights uniform in [-0.5, 0.5]
    "init_scale": 0.1,                  # ours (not given): W and b uniform in [-0.1, 0.1], new each run
    "feedback_draw": 0,                 # paper: B1, B2 drawn once and fixed across runs (this draw)
    "batch": 200,                       # ours (not given)
    "steps": 20000,                     # ours: budget, 4,000,000 examples (a fresh one each time)
    "record_every": 100,                # ours: 20,000 examples between records
    "valid_size": 5000,                 # ours: held-out points that decide the stop and the settings
    "test_size": 5000,                  # paper: 5,000 held-out points
    "patience": 5,                      # ours: backprop stopped improving = 5 records (100,000
    "min_improvement": 0.01,            #   examples) without a 1% fall of its mean validation NSE
    "seed": 2016,
    "dtype": "float32",                 # ours: twice as fast as float64 on a CPU
}
PAPER = dict(
    BASE,
    eta=0.8,                            # ours, by deep_search: backprop's best, used for both rules
    rules={"backprop": {"rule": "backprop"},   # B uniform in [-s, s], s by deep_search (paper: hand-picked)
           "feedback_alignment": {"rule": "feedback_alignment", "scale": 0.25}},
    tuned={"eta": 0.2, "rule": {"rule": "feedback_alignment", "scale": [2.0, 2.0]}},   # by deep_search: FA's own
    runs=20,                            # paper: n = 20
    alpha=1e-3,                         # ours: P threshold of the depth claims at n = 20
)
QUICK = dict(PAPER, runs=5, steps=1500, alpha=0.05)   # at n = 5 per group, P < 0.05 is the fair bar
RULES = tuple(PAPER["rules"])
TRAININGS = [(rule, net) for rule in RULES for net in NETS] + [(TUNED, "shallow"), (TUNED, "deep")]


def settings(config, rule: str) -> tuple[dict, float]:
    """(rule spec, eta): backprop's rate for both rules (the paper's protocol), or FA's own settings."""
    if rule == TUNED:
        return config["tuned"]["rule"], config["tuned"]["eta"]
    return config["rules"][rule], config["eta"]


def bind(config, model: Network, rule: str | dict | Rule, backend):
    """`rule` (a name, a spec or a rule object) for `model`; feedback alignment's B1, B2 are one draw
    (``feedback_draw``), the same in every run.

    A spec's per-layer scales are counted from the output: a 3-layer network's one B takes B2's scale.
    """
    if isinstance(rule, dict) and isinstance(rule.get("scale"), list):
        rule = dict(rule, scale=rule["scale"][len(rule["scale"]) - (len(model.W) - 1):])
    return make_rule(rule).bind(model, runs=[config["feedback_draw"]] * model.runs, backend=backend)


def fit(config, backend, runs, sets, net: str, rule: str | dict | Rule, eta: float) -> dict:
    """Train network `net` by `rule` (a name, a spec or a rule object; B drawn once for all runs); the
    NSE curves on the held-out sets, NaN throughout if training diverged or stalled."""
    shape, frozen = NETS[net]
    sizes = config["sizes"][shape]
    units = ["tanh"] * (len(sizes) - 2) + ["linear"]
    model = Network.init(sizes, units, config["init_scale"], bias_scale=config["init_scale"],
                         seed=config["seed"], runs=runs, backend=backend)
    model.frozen = set(frozen)
    learner = bind(config, model, rule, backend)
    held_out = {k: sets[k] for k in ("valid", "test") if k in sets}

    def evaluate(model, learner):
        return {k: normalized_squared_error(y, model.forward(x).y) for k, (x, y) in held_out.items()}

    return train(model, learner, minibatches(*sets["train"], config["batch"]), steps=config["steps"],
                 eta=eta, record_every=config["record_every"], evaluate=evaluate,
                 desc=f"deep: {learner.name}, {net}, eta {eta:g}", diverged="nan")


def compute(config, backend, runs):
    sets, out = data(config, backend), {}
    for rule, net in TRAININGS:
        curves = fit(config, backend, runs, sets, net, *settings(config, rule))
        out["step"] = curves.pop("step") * config["batch"]
        out |= {f"{rule}/{net}/{k}": v for k, v in curves.items()}
    return out


def stop_index(valid, patience: int, min_improvement: float) -> int:
    """Where training stops: the last record that cut the best validation error by `min_improvement`
    (relative), once `patience` records have passed without such a cut; the last record if never."""
    best = 0
    for i, v in enumerate(valid):
        if v < valid[best] * (1 - min_improvement):
            best = i
        elif i - best >= patience:
            return best
    return len(valid) - 1


def stop(res) -> int:
    """The record at which every network is scored: where backprop's 4-layer runs stop improving."""
    valid = res["backprop/deep/valid"].astype(np.float64).mean(axis=0)
    return stop_index(valid, res.config["patience"], res.config["min_improvement"])


def final(res, rule, net, at: int | None = None, held_out: str = "test"):
    """Test (or `held_out`) NSE of every run at the stop (or record `at`), in float64 (so tiny P values
    do not underflow)."""
    return res[f"{rule}/{net}/{held_out}"][:, stop(res) if at is None else at].astype(np.float64)


def converged(nse) -> str:
    """How many of the runs whose final NSEs are `nse` fit the target (NSE below `CONVERGED`): "k of n"."""
    nse = np.asarray(nse)
    return f"{(nse < CONVERGED).sum()} of {nse.size}"


def split(res, rule: str) -> str:
    """How `rule`'s 4-layer runs end at the stop: how many fit the target, and where the others stay."""
    v = final(res, rule, "deep")
    stuck = v[v >= CONVERGED]
    return (f"{converged(v)} fit the target (test NSE below {CONVERGED:g})"
            + (f", the other {stuck.size} stay at {stuck.min():.2g} to {stuck.max():.2g}" if stuck.size else ""))


def gap_to_backprop(res, rule: str) -> tuple[float, float]:
    """`rule`'s 4-layer mean test NSE minus backprop's, and the tolerance: a tenth of backprop's gain from depth."""
    bp = final(res, "backprop", "deep").mean()
    return final(res, rule, "deep").mean() - bp, 0.1 * (final(res, "backprop", "shallow").mean() - bp)


AS_GOOD = {"feedback_alignment": ("fa-as-good-as-backprop", "with backprop's settings"),
           TUNED: ("fa-tuned-as-good-as-backprop", "with its own best settings")}
DEPTH = {"backprop": "Backprop", "feedback_alignment": "Feedback alignment (backprop's settings)",
         TUNED: "Feedback alignment (its own settings)"}
SLOWER = ("backprop can fit this target exactly (it is a network of the same shape) and keeps closing in on "
          "it; of feedback alignment's 4-layer runs at the stop,")
GAPS = {   # claim key -> why we do not reproduce it (the evidence is in the chapter)
    "depth-helps-feedback_alignment":
        "at backprop's rate feedback alignment is stable only with its feedback scaled down (in the search, "
        "its largest scales diverge or stall there), and then learns slowly and unreliably; with its own settings the "
        "gain from depth is clear (next claim)",
    "fa-as-good-as-backprop": SLOWER,
    "fa-tuned-as-good-as-backprop": SLOWER,
}


def claims(res) -> Claims:
    alpha, n = res.config["alpha"], len(res.meta["runs"])
    rows = []
    for rule, label in DEPTH.items():
        deep, shallow = final(res, rule, "deep"), final(res, rule, "shallow")
        p = stats.ttest_ind(deep, shallow).pvalue
        paper_p = PAPER_P[settings(res.config, rule)[0]["rule"]]
        rows.append(Claim(
            f"depth-helps-{rule}", f"{label} does better with the extra layer (t-test, P < {alpha:g} at n = {n})",
            f"P = {paper_p:.0e} (n = 20)", f"NSE {deep.mean():.2e} vs {shallow.mean():.2e}, P = {p:.1e}",
            deep.mean() < shallow.mean() and p < alpha, figure="Fig. 3d", gap=GAPS.get(f"depth-helps-{rule}"),
            tolerance=f"the paper's direction; its P ({paper_p:.0e} at n = 20) depends on a run length "
                      f"it does not give, so we ask for P < {alpha:g} at n = {n}, set before our runs"))
    for rule, (key, how) in AS_GOOD.items():
        diff, tol = gap_to_backprop(res, rule)
        rows.append(Claim(
            key, f"4-layer feedback alignment ({how}) does as well as backprop: mean test NSE within a "
                 "tenth of backprop's gain from depth, either way",
            "as well as backprop (no number given)",
            f"FA {final(res, rule, 'deep').mean():.2e}, BP {final(res, 'backprop', 'deep').mean():.2e}: "
            f"difference {diff:.2e}, tolerance {tol:.2e}",
            abs(diff) <= tol, figure="Fig. 3d", gap=GAPS.get(key) and as_good_gap(res, rule),
            tolerance="the paper's Fig. 3d shows the 4-layer curves together, far below the 3-layer ones: "
                      "a difference under a tenth of backprop's depth gain would not show at its scale "
                      "(fixed before our runs)"))
    learning, frozen = final(res, "feedback_alignment", "wide"), final(res, "feedback_alignment", "wide_frozen")
    p = stats.ttest_ind(frozen, learning).pvalue
    rows.append(Claim(
        "W0-learning-matters", "With a first layer that is no bottleneck (30-30-10-10), freezing W0 makes "
                               f"feedback alignment worse (t-test, P < {alpha:g} at n = {n})",
        "feedback alignment makes effective updates in the deeper layers (Suppl. Fig. 6)",
        f"NSE {learning.mean():.2e} with W0 learning, {frozen.mean():.2e} frozen, P = {p:.1e}",
        frozen.mean() > learning.mean() and p < alpha, figure="Suppl. Fig. 6", gap=GAPS.get("W0-learning-matters"),
        tolerance="the paper's direction (it gives no number); P as for the depth claims"))
    return Claims(rows).on(n, protocol(res.config))


def as_good_gap(res, rule: str) -> str:
    """The declared gap of `rule`'s "as good as backprop" claim, with the split of its runs from `res`."""
    diff, tol = gap_to_backprop(res, rule)
    return (f"{GAPS[AS_GOOD[rule][0]]} {split(res, rule)} (backprop: {converged(final(res, 'backprop', 'deep'))}); "
            f"their mean is {diff:.2g} above backprop's at the stop, against a tolerance of {tol:.2g}")


def protocol(config) -> str:
    """How the runs behind the claims were trained, in a few words."""
    tuned, scale = config["tuned"], np.ravel(config["tuned"]["rule"]["scale"])
    return (f"up to {config['steps'] * config['batch']:,} examples in batches of {config['batch']}, scored where "
            f"backprop's validation NSE stops improving; η = {config['eta']:g} (backprop's best) for both rules, "
            f"FA's own settings η = {tuned['eta']:g}, scales {', '.join(f'{s:g}' for s in scale)}")


def numbers(res) -> dict[str, str]:
    """The numbers the chapter's prose states, formatted, for its inline expressions."""
    i, last, n = stop(res), len(res["step"]) - 1, len(res.meta["runs"])
    out = {"stop_examples": f"{res['step'][i]:,}", "budget_examples": f"{res['step'][last]:,}",
           "stop_reason": "backprop had stopped improving" if i < last
           else "the budget ran out before backprop stopped improving"}
    for rule, short in (("backprop", "bp"), ("feedback_alignment", "fa"), (TUNED, "fa_tuned")):
        for net in NETS if rule != TUNED else ("shallow", "deep"):
            out[f"{short}_{net}"] = f"{final(res, rule, net).mean():.2g}"
        for net in ("shallow", "deep"):
            out[f"{short}_{net}_converged"] = converged(final(res, rule, net))
        stuck = final(res, rule, "deep")[final(res, rule, "deep") >= CONVERGED]
        out[f"{short}_stuck"] = f"{stuck.min():.2g} to {stuck.max():.2g}" if stuck.size else "none"
        out[f"{short}_p"] = f"{stats.ttest_ind(final(res, rule, 'deep'), final(res, rule, 'shallow')).pvalue:.0e}"
    for rule, short in (("feedback_alignment", "fa"), (TUNED, "fa_tuned")):
        diff, tol = gap_to_backprop(res, rule)
        reach = np.abs(final(res, rule, "deep") - final(res, "backprop", "deep").mean()) <= tol
        out[f"{short}_excess"] = f"{diff / tol:.2g}"
        out[f"{short}_reach"] = f"{reach.sum()} of {n}"
        out[f"{short}_budget"] = f"{final(res, rule, 'deep', at=last).mean():.2g}"
    out["fa_shallow_failed"] = f"{(final(res, 'feedback_alignment', 'shallow') > 0.5).sum()} of {n}"
    out["tolerance"] = f"{gap_to_backprop(res, TUNED)[1]:.2g}"
    out["converged_below"] = f"{CONVERGED:g}"
    return out


def outcomes(res):
    """What came out under each protocol: a table from the results (Markdown)."""
    from IPython.display import Markdown

    head = ("| protocol | η | scales of B₁, B₂ | FA, 4 layers | BP, 4 layers | difference | tolerance | as good? |\n"
            "|---|---|---|---|---|---|---|---|")
    rows = []
    for rule, (key, how) in AS_GOOD.items():
        spec, eta = settings(res.config, rule)
        scale = spec["scale"] if isinstance(spec["scale"], list) else [spec["scale"]] * 2
        diff, tol = gap_to_backprop(res, rule)
        rows.append(f"| FA {how} | {eta:g} | {', '.join(f'{s:g}' for s in scale)} | "
                    f"{final(res, rule, 'deep').mean():.2e} | {final(res, 'backprop', 'deep').mean():.2e} | "
                    f"{diff:.2e} | ±{tol:.2e} | {'yes' if abs(diff) <= tol else 'no'} |")
    return Markdown("\n".join([head] + rows))


def shown(config) -> dict:
    """How the figures show each rule of `config`, and feedback alignment with its own settings
    (`TUNED`, a variant) (:func:`falib.plots.looks`)."""
    return looks(config["rules"] | {TUNED: config["tuned"]["rule"]})


def circuit_figure():
    """Fig. 3c: a four-layer network trained by feedback alignment; the error descends through B2, then B1."""
    fig, ax = plt.subplots(figsize=(WIDTH, 3.2))
    red = look("feedback_alignment").color
    layers = {"x": (0.08, 5), "h₁": (0.36, 4), "h₂": (0.64, 3), "y": (0.92, 3)}
    for name, (x0, n) in layers.items():
        ax.scatter([x0] * n, np.linspace(0.3, 0.7, n), s=160, color="white", edgecolor="0.2", zorder=3)
        ax.text(x0, 0.18, name, ha="center", fontsize=FONT + 2)
    forward = dict(arrowstyle="-|>", lw=1.6, color="0.25")
    back = dict(forward, color=red, ls="--")
    for (a, b), W in zip([(0.08, 0.36), (0.36, 0.64), (0.64, 0.92)], ["W₀", "W₁", "W₂"]):
        ax.annotate("", (b - 0.06, 0.78), (a + 0.06, 0.78), arrowprops=forward)
        ax.text((a + b) / 2, 0.82, W, ha="center")
    for (a, b), B in zip([(0.92, 0.64), (0.64, 0.36)], ["B₂", "B₁"]):
        ax.annotate("", (b + 0.06, 0.22), (a - 0.06, 0.22), arrowprops=back)
        ax.text((a + b) / 2, 0.12, B, ha="center", color=red)
    ax.text(0.92, 0.9, "e = y* − y", ha="center")
    ax.text(0.64, 0.9, "δ₂ = (B₂e) ∘ h₂′", ha="center", color=red)
    ax.text(0.36, 0.9, "δ₁ = (B₁δ₂) ∘ h₁′", ha="center", color=red)
    ax.set(xlim=(0, 1), ylim=(0.05, 1.0))
    ax.axis("off")
    fig.tight_layout()
    return fig


def log_curve(ax, x, y, color, label, ls="-"):
    """Geometric mean over runs and a band of ±1 SD of log NSE: the errors span many decades."""
    logs = np.log10(np.maximum(y.astype(np.float64), 1e-300))
    mean, sd = logs.mean(axis=0), logs.std(axis=0)
    ax.plot(x, 10 ** mean, color=color, label=label, lw=1.6, ls=ls)
    ax.fill_between(x, 10 ** (mean - sd), 10 ** (mean + sd), color=color, alpha=0.15, lw=0)


def figure(res):
    """Fig. 3d (test NSE over training, 3 vs 4 layers) and Suppl. Fig. 6 (test NSE at the stop, every network)."""
    fig, (a, b) = plt.subplots(2, 1, figsize=(WIDTH, 10), gridspec_kw={"height_ratios": [1, 1]})
    step, styles, shows = res["step"], {"shallow": ":", "deep": "-"}, shown(res.config)
    for rule in RULES:
        for net in ("shallow", "deep"):
            log_curve(a, step, res[f"{rule}/{net}/test"], shows[rule].color, f"{shows[rule].label}, {NAMES[net]}",
                      styles[net])
    log_curve(a, step, res[f"{TUNED}/deep/test"], shows[TUNED].color,
              f"{shows['feedback_alignment'].label}, {NAMES['deep']}, own settings", "-.")
    a.axvline(step[stop(res)], color="0.5", lw=1, ls="--")
    a.text(step[stop(res)], 0.98, "stop ", color="0.4", ha="right", va="top", transform=a.get_xaxis_transform())
    a.set(xlabel="training examples", ylabel="test NSE (geometric mean over runs)", yscale="log")
    a.legend(frameon=False, loc="lower left")
    columns = [(rule, net) for rule in RULES for net in NETS] + [(TUNED, "shallow"), (TUNED, "deep")]
    short = {"backprop": "BP", "feedback_alignment": "FA", TUNED: "FA, own"}
    for i, (rule, net) in enumerate(columns):
        v, color = final(res, rule, net), shows[rule].color
        jitter = np.linspace(-0.15, 0.15, v.size)
        b.scatter(v, i + jitter, s=9, color=color, alpha=0.6)
        b.plot([v.mean()] * 2, [i - 0.3, i + 0.3], color=color, lw=2)
    b.set_yticks(range(len(columns)), [f"{short[r]}, {NAMES[k]}" for r, k in columns])
    b.invert_yaxis()
    b.set(xlabel="test NSE at the stop", xscale="log")
    return finish(fig, res, (a, "d"), (b, "S6"))


EXPERIMENT = Experiment("deep", "Fig. 3c,d and Suppl. Fig. 6: depth, 30-20-10 vs 30-20-10-10, W0 frozen",
                        {"quick": QUICK, "paper": PAPER}, compute, claims, order=4, shared=("step",),
                        start={"config": {"steps": 4 * PAPER["record_every"]}, "run": 7, "rtol": 1e-5})
