"""Beyond's MNIST comparison, converged: the follow-up papers' rules trained until backprop's
validation error stops improving, and their claims judged there.

``beyond`` trains its image runs for two epochs at one rate, far from converged (backprop ends near
8% on MNIST), where "as good as backprop" says little. Here backprop, direct feedback alignment
(with one hidden layer it is feedback alignment), sign symmetry and Kolen-Pollack train the MNIST
chapter's network under a budget and schedule fixed before the runs: η = 0.3 on batches of 32,
multiplied by 0.3 after epochs 60 and 85, 100 epochs (our long protocol's schedule), on the first
50,000 training images. Every
rule is scored on the test set at the epoch where backprop's mean validation error (the last
10,000 training images) is lowest; if that lowest point lies within the last ``patience`` epochs,
backprop had not stopped improving, and its claim says so.

The same runs repeat beyond's sweep of feedback alignment's scale β of B, with the shallow
network it must beat, so that the paper's "many scales of B worked" is judged at the end of
training too (added after the comparison's runs, with the claim as beyond had declared it).

The control ``kolen_pollack_weak_decay`` (Kolen-Pollack with a tenth of its decay λ) was added
after the first runs, in which Kolen-Pollack's B had aligned completely and it still trailed: it
separates what its feedback does from what its decay of the output weights does.
"""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from ..backend import Backend
from ..cells import Cell
from ..claims import Claim, Claims
from ..plots import WIDTH, curve, finish, look, looks
from . import Experiment, beyond, mnist, mnist_protocol, per_chunk

RULES = ("backprop", *beyond.FOLLOW_UPS)
COMPARABLE = 1.0   # points of test error: 'almost as good as' / 'comparable to' backprop, one-sided
CONTROL = "kolen_pollack_weak_decay"   # ours: a control (see above), not a claim
MAIN = (*RULES, CONTROL)   # the comparison; the other rules are beyond's β sweep and its shallow network
SWEPT = "fa_beta_"         # the β sweep's rules are named SWEPT + β


def swept(values) -> dict:
    """Beyond's β sweep: feedback alignment at each scale β of B (named SWEPT + β), and the
    shallow network it must beat."""
    fa = beyond.IMAGES["rules"]["feedback_alignment"]
    return {f"{SWEPT}{beta:g}": dict(fa, scale=beta) for beta in values} | {"shallow": beyond.IMAGES["rules"]["shallow"]}


PAPER = dict(mnist_protocol.PAPER, rules={k: beyond.IMAGES["rules"][k] for k in RULES}   # beyond's specs (β = 2)
             | {CONTROL: dict(beyond.IMAGES["rules"]["kolen_pollack"], decay=3e-4)}
             | swept(beyond.PAPER["scales"]["values"]),
             eta=mnist.PAPER["eta"],   # ours: the rate of our long protocol and of beyond's image runs
             **{k: mnist.PAPER[k] for k in ("epochs", "eta_drops", "eta_factor")},   # ours: our long protocol's
             patience=5,               # ours: fixed with the budget and schedule before the runs
             records_per_epoch=1, runs=3)
QUICK = dict(PAPER, train_size=5000, valid_size=1000, test_size=1000, epochs=3, eta_drops=[2], patience=1, runs=2,
             rules={k: v for k, v in PAPER["rules"].items() if k in MAIN} | swept(beyond.QUICK["scales"]["values"]))


def compute(config, backend, runs):
    """Every rule for the given runs: test and validation error (and the δ angle) per epoch; NaN
    throughout where training diverged."""
    return mnist_protocol.compute(config, backend, runs, "beyond-converged", diverged="nan")


def grid(config) -> list[Cell]:
    """One cell per rule."""
    return [Cell({"rule": name}, dict(per_chunk(config), rules={name: spec}), compute, (f"{name}/", "epoch"))
            for name, spec in config["rules"].items()]


def scored(res) -> dict[str, np.ndarray]:
    """Each rule's test error per run (%) at the epoch where backprop's mean validation error is lowest."""
    i, _ = mnist_protocol.stop(res)
    return {name: 100 * res[f"{name}/error"][:, i] for name in res.config["rules"]}


def compared(res) -> dict:
    """The comparison's rules (MAIN), as the configuration gives them."""
    return {k: v for k, v in res.config["rules"].items() if k in MAIN}


def sweep(res) -> tuple[list[float], np.ndarray, np.ndarray]:
    """The β of the sweep, feedback alignment's test error (%) at each (runs × β) and the shallow
    network's (runs), where every rule is scored (NaN for a run that diverged)."""
    errors, rules = scored(res), res.config["rules"]
    names = [k for k in rules if k.startswith(SWEPT)]
    return [rules[k]["scale"] for k in names], np.stack([errors[k] for k in names], axis=1), errors["shallow"]


def converged_claim(res) -> Claim:
    i, stopped = mnist_protocol.stop(res)
    valid, c = 100 * res["backprop/valid"].mean(0), res.config
    return Claim("converged-bp", f"Backprop's mean validation error stops improving within the budget: its lowest "
                 f"point comes at least {c['patience']:g} epoch{'s' * (c['patience'] != 1)} before the end of "
                 f"{c['epochs']:g} epochs",
                 "a baseline for 'as good as backprop' must be trained until it stops improving",
                 f"lowest at epoch {res['epoch'][i]:g} ({valid[i]:.2f}%; {valid[-1]:.2f}% at the end)", stopped,
                 figure="beyond: converged", tolerance=f"ours: {c['patience']:g} epochs without a new low, fixed "
                 "with the budget and schedule before the runs", gap=gap(res, "converged-bp"), source="ours")


def follow_up_claims(res) -> list[Claim]:
    """The follow-up papers' "as good as backprop" on MNIST: each rule's mean test error at most
    COMPARABLE points above backprop's, at the epoch where backprop's validation error is lowest."""
    errors, look = scored(res), looks(compared(res))
    bp, rows = float(errors["backprop"].mean()), []
    for rule, (key, source, says) in beyond.FOLLOW_UPS.items():
        ours, label = float(errors[rule].mean()), look[rule].label
        rows.append(Claim(
            key, f"{label[0].upper() + label[1:]} on MNIST ends at most {COMPARABLE:g} point above backprop's "
            "test error, both trained until backprop stops improving", f"{source}: {says}",
            f"{ours:.2f}% vs backprop {bp:.2f}% ({ours - bp:+.2f} points)", ours - bp <= COMPARABLE,
            figure="beyond: converged", gap=gap(res, key),
            tolerance=f"ours, fixed before our runs: 'as good as' read as within {COMPARABLE:g} point, one-sided "
                      "(the papers' own numbers are for other networks and training)", source="follow-up"))
    return rows


def too_short(res) -> str:
    c = res.config
    return (f"the quick run trains {c['epochs']:g} epochs of {c['train_size']:,} images: too short to converge "
            f"(the paper profile trains up to {PAPER['epochs']} epochs of {PAPER['train_size']:,})")


def levelled(res) -> tuple[float, float]:
    """The lowest and highest of backprop's mean validation error (%) from the last cut of the rate on."""
    after = 100 * res["backprop/valid"].mean(0)[res["epoch"] >= res.config["eta_drops"][-1]]
    return float(after.min()), float(after.max())


def plateau(res) -> str:
    """The evidence that backprop, though still finding new lows at the budget's end, had levelled off."""
    (i, _), (low, high) = mnist_protocol.stop(res), levelled(res)
    return (f"backprop's mean validation error is lowest at epoch {res['epoch'][i]:g} of {res['epoch'][-1]:g}, so by "
            f"our criterion it had not stopped improving; but from the last cut of the rate (epoch "
            f"{res.config['eta_drops'][-1]:g}) to the end it stays between {low:.2f}% and {high:.2f}%, a range of "
            f"{high - low:.2f} points against the {COMPARABLE:g} point the follow-up claims allow")


def kp_aligned(res) -> float:
    """The first epoch at which Kolen-Pollack's mean δ angle to backprop's is below 1°."""
    angle = np.nanmean(res["kolen_pollack/angle"], axis=0)
    return float(res["epoch"][np.argmax(angle < 1)]) if (angle < 1).any() else np.nan


def kp_decay(res) -> str:
    """The evidence that Kolen-Pollack's deficit comes from its decay λ, not from its feedback."""
    errors, aligned = scored(res), kp_aligned(res)
    lam, weak = (res.config["rules"][k]["decay"] for k in ("kolen_pollack", CONTROL))
    return (f"Kolen-Pollack's δ is backprop's from epoch {aligned:g} on (angle below 1°), so its feedback is not "
            f"what holds it back: its decay λ = {lam:g} also shrinks the output weights by (1 - ηλ) every step, "
            f"{lam / res.config['decay']:,.0f} times the weight decay of the other rules. The control with "
            f"λ = {weak:g} ends at {errors[CONTROL].mean():.2f}% (backprop: {errors['backprop'].mean():.2f}%)")


GAPS = {   # (profile, claim key) -> the evidence for its known gap (at the paper profile, declared after its runs)
    ("quick", "converged-bp"): too_short, ("quick", "ss-mnist"): too_short, ("quick", "scales-range"): too_short,
    ("paper", "converged-bp"): plateau, ("paper", "kp-mnist"): kp_decay,
}


def gap(res, key: str) -> str | None:
    """Why claim `key` is a known gap at this profile (None if it is not one), from `res`."""
    reason = GAPS.get((res.profile, key))
    return reason(res) if reason else None


def protocol(config) -> str:
    """How the runs were trained and where they are scored, in a few words."""
    return (f"η = {config['eta']:g} on batches of {config['batch']}, ×{config['eta_factor']:g} after epochs "
            f"{', '.join(map(str, config['eta_drops']))}; {config['train_size']:,} training images; scored where "
            f"backprop's validation error is lowest within {config['epochs']:g} epochs")


def claims(res) -> Claims:
    scales = beyond.scale_claim(*sweep(res), figure="beyond: converged", gap=gap(res, "scales-range"))
    return Claims([converged_claim(res), *follow_up_claims(res), scales]).on(len(res.meta["runs"]), protocol(res.config))


def labels(res) -> dict[str, str]:
    """How the table and figure name each rule; the control by its λ."""
    shown = {name: look.label for name, look in looks(compared(res)).items()}
    return shown | {CONTROL: f"{shown['kolen_pollack']}, λ = {res.config['rules'][CONTROL]['decay']:g} (control)"}


def two_epochs(res) -> int:
    """The record where beyond's image runs end at its paper profile (or the nearest)."""
    return int(np.argmin(abs(res["epoch"] - beyond.IMAGES["epochs"])))


def table(res):
    """Each rule's test error where it is scored (mean ± SD over runs), its difference from
    backprop's, and its error after two epochs of the same runs (Markdown)."""
    from IPython.display import Markdown

    i, _ = mnist_protocol.stop(res)
    errors, label = scored(res), labels(res)
    early = two_epochs(res)
    rows = [f"| rule | test error, epoch {res['epoch'][i]:g} | − backprop | at epoch {res['epoch'][early]:g} |",
            "|---|---|---|---|"]
    for name in MAIN:
        e = errors[name]
        rows.append(f"| {label[name]} | {beyond.spread(e, '.2f')}% | {e.mean() - errors['backprop'].mean():+.2f} | "
                    f"{100 * res[f'{name}/error'][:, early].mean():.2f}% |")
    return Markdown("\n".join(rows))


def figure(res):
    """Test error of every compared rule per epoch (a), backprop's validation error (b), with the
    epoch where every rule is scored, and feedback alignment's test error there against β (c)."""
    fig = plt.figure(figsize=(WIDTH, 6))
    layout = fig.add_gridspec(2, 2)
    a, b, c = fig.add_subplot(layout[0, :]), fig.add_subplot(layout[1, 0]), fig.add_subplot(layout[1, 1])
    epoch, (i, _), style = res["epoch"], mnist_protocol.stop(res), looks(compared(res))
    for name in MAIN:
        curve(a, epoch, 100 * res[f"{name}/error"], style[name], label=labels(res)[name])
    curve(b, epoch, 100 * res["backprop/valid"], style["backprop"], label="backprop, validation")
    curve(b, epoch, 100 * res["backprop/error"], style["backprop"], label="backprop, test", ls="--")
    for ax in (a, b):
        ax.axvline(epoch[i], color="0.5", ls=":", lw=1)
        ax.set(xlabel="epochs", yscale="log", ylim=(1, 100))
        ax.legend(frameon=False, fontsize="small", loc="upper right")
    a.set(ylabel="test error (%)")
    b.set(ylabel="error (%)")
    beta, fa, shallow = sweep(res)
    fa_look, base = look("feedback_alignment"), look("shallow")
    c.errorbar(beta, np.nanmean(fa, 0), np.nanstd(fa, 0), color=fa_look.color, marker="o", ms=3, capsize=2,
               label=fa_look.label)
    c.axhline(shallow.mean(), color=base.color, ls="--", lw=1, label=base.label)
    c.set(xscale="log", xlabel="scale β of B", ylabel=f"test error at epoch {epoch[i]:g} (%)")
    c.legend(frameon=False, fontsize="small")
    return finish(fig, res, (a, "a"), (b, "b"), (c, "c"))


def prose(res) -> dict[str, str]:
    """The chapter's numbers about these results (``numbers.<name>``)."""
    i, stopped = mnist_protocol.stop(res)
    errors = scored(res)
    control, bp = errors[CONTROL].mean(), errors["backprop"].mean()
    beta, fa, shallow = sweep(res)
    _, good = beyond.scale_range(beta, fa, shallow)
    diverged = [b for b, e in zip(beta, fa.T) if not np.isfinite(e).all()]
    top = fa[:, int(np.argmax(beta))]
    return {"conv_beta_good": beyond.at_betas(good),
            "conv_shallow": f"{shallow.mean():.2f}%", "conv_beta_min": f"{min(beta):g}", "conv_beta_max": f"{max(beta):g}",
            "conv_beta_top_range": f"{np.nanmin(top):.2f}% and {np.nanmax(top):.2f}%",
            "conv_beta_diverged": (f"runs diverged at β = {', '.join(f'{b:g}' for b in diverged)}" if diverged
                                   else "no run diverged"),
            "conv_stop": f"{res['epoch'][i]:g}", "conv_budget": f"{res.config['epochs']:g}",
            "conv_protocol": protocol(res.config), "conv_patience": f"{res.config['patience']:g}",
            "conv_valid": f"{res.config['valid_size']:,}", "conv_early": f"{res['epoch'][two_epochs(res)]:g}",
            "conv_runs": str(len(res.meta["runs"])), "conv_stopped": "stopped" if stopped else "had not stopped",
            "conv_last_cut": f"{res.config['eta_drops'][-1]:g}", "conv_range": f"{levelled(res)[1] - levelled(res)[0]:.2f}",
            "conv_aligned": f"from epoch {a:g} on" if np.isfinite(a := kp_aligned(res)) else "at no epoch of these runs",
            "conv_control_verdict": (f"within {COMPARABLE:g} point of" if control - bp <= COMPARABLE
                                     else f"more than {COMPARABLE:g} point above"),
            "conv_bp": f"{bp:.2f}%", "conv_control": f"{control:.2f}%",
            "conv_decay_ratio": f"{res.config['rules']['kolen_pollack']['decay'] / res.config['decay']:,.0f}",
            **{f"conv_{key.split('-')[0]}": f"{errors[rule].mean():.2f}%" for rule, (key, _, _) in beyond.FOLLOW_UPS.items()},
            **{f"conv_lambda{k}": f"{res.config['rules'][rule]['decay']:g}" for k, rule in (("", "kolen_pollack"),
                                                                                             ("_control", CONTROL))}}


EXPERIMENT = Experiment("beyond-converged", "Beyond's MNIST comparison, trained until backprop stops improving",
                        {"quick": QUICK, "paper": PAPER}, compute, claims, order=7,
                        backend=Backend("torch", dtype="float32"), chunk=1, shared=("epoch",),
                        inputs=mnist_protocol.split, grid=grid, data="FALIB_MNIST",
                        start={"config": {"epochs": 1}, "run": 3, "rtol": 1e-3})
