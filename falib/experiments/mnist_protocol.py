"""Fig. 3a under the paper's own protocol: η = 1e-3 per example and weight decay 1e-6, no schedule,
every variant scored where backprop's validation error is lowest ("stopped when backprop began to
overfit").

The paper gives no batch size. We train on the batch mean of `batch` examples with a step of
``batch × 1e-3``: to first order the same change as `batch` consecutive per-example steps of
1e-3, and the decay term of :meth:`~falib.networks.Network.update` (``eta × decay`` per step)
then shrinks the weights by 1e-6 × 1e-3 per example, as the paper's per-example decay does. The
epoch budget was fixed before any run: if backprop's validation error is still falling at its
end (the last `patience` epochs hold its lowest point), every variant is scored at the budget's
end and the claims say so. The last 10,000 training images are held out for validation (the
paper trained on all 60,000 and does not say how it saw overfitting).
"""
from __future__ import annotations

import dataclasses

import matplotlib.pyplot as plt
import numpy as np

from ..backend import Backend
from ..cells import Cell
from ..claims import Claim, Claims
from ..plots import WIDTH, curve, finish
from . import Experiment, mnist, per_chunk

PER_EXAMPLE_ETA = 1e-3   # paper
PAPER = {
    "sizes": [784, 1000, 10],       # paper
    "train_size": 50000,            # ours: the paper trained on all 60,000 (no validation set named)
    "valid_size": 10000,            # ours: the last 10,000 training images
    "test_size": 10000,             # paper
    "init_scale": mnist.PAPER["init_scale"],   # ours, as in our long protocol (paper: ω not given)
    "rules": mnist.PAPER["rules"],  # as in our long protocol (β = 2, ours)
    "decay": 1e-6,                  # paper, per example (see the module's docstring)
    "batch": 32,                    # ours (paper: not given)
    "eta": 32 * PER_EXAMPLE_ETA,    # paper's 1e-3 per example, on the mean of a batch of 32
    "eta_drops": [],                # paper: no schedule
    "eta_factor": 1.0,
    "epochs": 50,                   # ours: the budget, fixed before the runs (paper: about 15-20)
    "patience": 5,                  # ours: epochs without a new lowest validation error = overfitting began
    "records_per_epoch": 2,         # ours: "as fast" is checked half-way through the first epoch
    "angle_size": 1000,             # ours
    "runs": 20,                     # paper: n = 20, a new B for each
    "seed": 2016,
    "dtype": "float32",
}
QUICK = dict(PAPER, train_size=5000, valid_size=1000, test_size=1000, epochs=3, patience=1, runs=2)


def split(config):
    """Training, validation and test images and labels, as host arrays."""
    d = mnist.TASK.load()
    n, v, m = config["train_size"], config["valid_size"], config["test_size"]
    return (d.x_train[:n], d.y_train[:n], d.x_train[50000:][:v], d.y_train[50000:][:v],
            d.x_test[:m], d.y_test[:m])


def compute(config, backend, runs, experiment: str = "mnist-protocol", diverged: str = "raise"):
    """Every variant for the given runs: test and validation error (and the δ angle) over training;
    `diverged` is :func:`~falib.training.train`'s policy, `experiment` names the progress bars."""
    x, y, xv, yv, xt, yt = split(config)
    out = {}
    for name in config["rules"]:
        curves, _, _ = mnist.fit(name, config, backend, runs, (x, y, xt, yt), held_out={"valid": (xv, yv)},
                                 diverged=diverged, desc=f"{experiment}: {name} {runs[0]}")
        per_epoch = len(x) // config["batch"]
        out |= {f"{name}/{k}": v for k, v in curves.items() if k != "step"} | {"epoch": curves["step"] / per_epoch}
    return out


def grid(config) -> list[Cell]:
    """One cell per rule."""
    return [Cell({"rule": name}, dict(per_chunk(config), rules={name: spec}), compute, (f"{name}/", "epoch"))
            for name, spec in config["rules"].items()]


def stop(res) -> tuple[int, bool]:
    """The record where backprop's mean validation error is lowest, and whether backprop had
    begun to overfit: no lower point in the last ``patience`` epochs of the budget."""
    epoch = res["epoch"]
    i = int(np.argmin(res["backprop/valid"].mean(0)))
    return i, bool(epoch[-1] - epoch[i] >= res.config["patience"])


def stopped(res):
    """`res` as if training had ended at `stop`: the curves up to that record."""
    i, _ = stop(res)
    return dataclasses.replace(res, arrays={k: v[..., :i + 1] for k, v in res.arrays.items()},
                               config=dict(res.config, epochs=float(res["epoch"][i])))


def protocol(config) -> str:
    """How the runs were trained and where they are scored, in a few words."""
    return (f"η = {PER_EXAMPLE_ETA:g} per example (batch {config['batch']}, η = {config['eta']:g} on the batch "
            f"mean), decay {config['decay']:g}, no schedule, {config['train_size']:,} training images; scored "
            f"where backprop's validation error is lowest within a budget of {config['epochs']:g} epochs")


def overfits(res) -> Claim:
    """The paper stopped training when backprop began to overfit: did it, within our budget?"""
    i, began = stop(res)
    valid = 100 * res["backprop/valid"].mean(0)
    return Claim("bp-overfits", "Under the paper's protocol backprop begins to overfit within our budget: its mean "
                 f"validation error is lowest at least {res.config['patience']:g} epochs before the end of "
                 f"{res.config['epochs']:g} epochs", "training 'stopped when backprop began to overfit' (about "
                 f"epoch {mnist.PAPER_END[0]}-{mnist.PAPER_END[1]} by the preprint's axis)",
                 f"lowest at epoch {res['epoch'][i]:g} ({valid[i]:.2f}%; {valid[-1]:.2f}% at the end)",
                 began, figure="Fig. 3a",
                 tolerance=f"ours: {res.config['patience']:g} epochs without a new low (a common early-stopping "
                 "patience), fixed with the budget before the runs")


def too_short(res) -> str:
    """Why the quick run cannot compare the variants."""
    bp = 100 * res["backprop/error"][:, -1].mean()
    return (f"the quick run trains {res.config['epochs']:g} epochs of {res.config['train_size']:,} images at the "
            f"paper's {PER_EXAMPLE_ETA:g} per example and ends with backprop at {bp:.1f}% test error: too short "
            f"to compare the variants (the paper profile trains up to {PAPER['epochs']} epochs of "
            f"{PAPER['train_size']:,})")


def still_falling(res) -> str:
    """The evidence that the budget ended before backprop began to overfit."""
    epoch, valid = res["epoch"], 100 * res["backprop/valid"].mean(0)
    ago = int(np.argmin(abs(epoch - (epoch[-1] - 10))))
    return (f"read per example, the paper's rate trains slowly: backprop's mean validation error was still "
            f"falling at the end of our {epoch[-1]:g}-epoch budget ({valid[ago]:.2f}% ten epochs before the end, "
            f"{valid[-1]:.2f}% at it), so every learner is scored at the budget's end, far from where the "
            "paper stopped; the chapter compares this with our protocol after as much learning (η × epochs)")


def lag(res) -> np.ndarray:
    """FA's mean test error minus backprop's, in points, per record."""
    return 100 * (res["feedback_alignment/error"].mean(0) - res["backprop/error"].mean(0))


def early_lag(res) -> str:
    """The evidence that FA lags while W is still nearly orthogonal to Bᵀ."""
    epoch, angle, lag_ = res["epoch"], res["feedback_alignment/angle"].mean(0), lag(res)
    caught = epoch[min(np.nonzero(lag_ > TOLERANCE)[0].max(initial=-1) + 1, len(epoch) - 1)]
    return (f"in the first epoch, before W has aligned with Bᵀ (angle {angle[1]:.0f}° at epoch {epoch[1]:g}), "
            f"FA's test error is {lag_[1]:.1f} points above backprop's; the lag is within {TOLERANCE:g} points "
            f"from epoch {caught:g} on; our long protocol's first record (epoch 1) cannot see this")


def unconverged(res) -> str:
    """The evidence that the rules' standing reflects unconverged runs."""
    final = {k: v.mean() for k, v in mnist.final_errors(stopped(res)).items()}
    return (f"{still_falling(res)}; unconverged, FA ({final['feedback_alignment']:.2f}%) and sparse FA "
            f"({final[mnist.SPARSE]:.2f}%) lead backprop ({final['backprop']:.2f}%) by more than the paper's "
            "converged difference, as in our long protocol early in training")


# claim key -> the evidence for its known gap at the paper profile (declared after the paper runs)
GAPS = {"bp-overfits": still_falling, "paper-level-backprop": still_falling, "paper-level-fa": still_falling,
        "paper-level-sparse-fa": still_falling, "paper-level-shallow": still_falling,
        "fa-as-good-as-backprop": unconverged, "sparse-fa-as-good-as-backprop": unconverged,
        "fa-as-fast-as-backprop": early_lag}
TOLERANCE = mnist.TOLERANCE


def claims(res) -> Claims:
    """Fig. 3a's claims (those of :mod:`mnist` but the receptive fields, which this experiment
    does not keep), every variant scored where backprop's validation error is lowest, and whether
    it had begun to overfit there. At the quick profile every result row is a declared gap."""
    view = stopped(res)
    rows = [overfits(res), *mnist.level_claims(view), *mnist.curve_claims(view)]
    gap = {c.key: (too_short(res) if res.profile == "quick" else GAPS[c.key](res) if c.key in GAPS else None)
           for c in rows if c.kind == "result"}
    return Claims(dataclasses.replace(c, key=f"protocol-{c.key}", protocol="", gap=gap.get(c.key)) for c in rows
                  ).on(len(res.meta["runs"]), protocol(res.config))


def prose(res) -> dict[str, str]:
    """The chapter's numbers about these results (``numbers.<name>``)."""
    i, began = stop(res)
    final = mnist.final_errors(stopped(res))
    return {f"protocol_{mnist.SHORT[k]}": f"{v.mean():.2f}%" for k, v in final.items()} | {
        "protocol_runs": str(len(res.meta["runs"])), "protocol_stop": f"{res['epoch'][i]:g}",
        "protocol_budget": f"{res.config['epochs']:g}", "protocol_began": "had" if began else "had not",
        "protocol_eta": f"{res.config['eta']:g}", "protocol_batch": str(res.config["batch"]),
        "protocol_early": (f"trails backprop by {lag(res)[1]:.1f} points at epoch {res['epoch'][1]:g}" if lag(res)[1] > TOLERANCE
                           else f"keeps within {TOLERANCE:g} point of backprop from epoch {res['epoch'][1]:g}"),
    }


def compare(res, long) -> dict[str, str]:
    """The chapter's numbers that set the paper's protocol against ours (`long`) after as much
    learning: the epoch of ours at which η × epochs equals the paper protocol's at its end."""
    per_example = long.config["eta"] / long.config["batch"]
    same = res["epoch"][-1] * PER_EXAMPLE_ETA / per_example
    at = mnist.error_at(long, same)
    i = int(np.argmin(abs(long["epoch"] - same)))
    apart = max(abs(at[k] - v.mean()) for k, v in mnist.final_errors(stopped(res)).items())
    return {"protocol_rate_ratio": f"{per_example / PER_EXAMPLE_ETA:.1f}", "protocol_same_epoch": f"{long['epoch'][i]:g}",
            **{f"protocol_long_{mnist.SHORT[k]}": f"{v:.2f}%" for k, v in at.items()},
            "protocol_apart": f"{apart:.2f}", "protocol_alike": "almost the same" if apart <= TOLERANCE else "different"}


def table(res, long):
    """Both protocols side by side: each variant's mean test error (± SE) under the paper's
    protocol where it is scored, and under ours (`long`, the mnist experiment) at its end (Markdown)."""
    from IPython.display import Markdown

    i, _ = stop(res)
    ours, theirs = mnist.final_errors(stopped(res)), mnist.final_errors(long)
    se = lambda v: f"{v.mean():.2f} ± {v.std(ddof=1) / np.sqrt(len(v)):.2f}%" if len(v) > 1 else f"{v.mean():.2f}%"
    rows = ["| variant | paper (n = 20) | paper's protocol, epoch "
            f"{res['epoch'][i]:g} (n = {len(res.meta['runs'])}) | ours, epoch {long['epoch'][-1]:g} "
            f"(n = {len(long.meta['runs'])}) |", "|---|---|---|---|"]
    look = mnist.shown(res.config)
    rows += [f"| {look[k].label} | {mnist.PAPER_ERRORS[k]}% | {se(ours[k])} | {se(theirs[k])} |" for k in ours]
    return Markdown("\n".join(rows))


def figure(res):
    """Test error of every variant under the paper's protocol, and backprop's validation error,
    with the record where every variant is scored; the paper's final errors as diamonds."""
    fig, (a, b) = plt.subplots(1, 2, figsize=(WIDTH, 3.2))
    epoch, (i, _), look = res["epoch"], stop(res), mnist.shown(res.config)
    for name in res.config["rules"]:
        curve(a, epoch, 100 * res[f"{name}/error"], look[name])
        if name in mnist.PAPER_ERRORS:
            a.plot(epoch[-1] * 1.04, mnist.PAPER_ERRORS[name], "D", color=look[name].color, ms=5, clip_on=False)
    curve(b, epoch, 100 * res["backprop/valid"], look["backprop"], label="backprop, validation")
    curve(b, epoch, 100 * res["backprop/error"], look["backprop"], label="backprop, test", ls="--")
    for ax in (a, b):
        ax.axvline(epoch[i], color="0.5", ls=":", lw=1)
    a.set(xlabel="epochs", ylabel="test error (%)", yscale="log", ylim=(1, 100))
    b.set(xlabel="epochs", ylabel="error (%)", yscale="log")
    a.legend(frameon=False, fontsize="small")
    b.legend(frameon=False, fontsize="small")
    return finish(fig, res, (a, "a"), (b, "b"))


EXPERIMENT = Experiment("mnist-protocol", "Fig. 3a under the paper's protocol: η = 1e-3 per example, no schedule",
                        {"quick": QUICK, "paper": PAPER}, compute, claims, order=3,
                        backend=Backend("torch", dtype="float32"), chunk=1, shared=("epoch",), inputs=split, grid=grid,
                        data="FALIB_MNIST", start={"config": {"epochs": 1}, "run": 3, "rtol": 1e-3})
