"""Fig. 3a,b and Supplementary Fig. 5: a 784-1000-10 logistic network learns MNIST."""
from __future__ import annotations

import functools

import matplotlib.pyplot as plt
import numpy as np
from scipy import stats

from ..backend import Backend, shared_rng, to_numpy
from ..cells import Cell
from ..claims import Claim, Claims
from ..data import columns
from ..metrics import classification_error, delta_angle
from ..networks import Network
from ..plots import WIDTH, curve, finish, looks, traits
from ..rules import Rule, make_rule
from ..tasks import one_hot, task
from ..training import step_decay, train
from . import Experiment, per_chunk

SPARSE = "sparse_feedback_alignment"
TASK = task("mnist")   # the images, their classes

PAPER = {
    "sizes": [784, 1000, 10],   # paper; logistic hidden and output units with biases
    "train_size": 60000,        # paper: the standard split
    "test_size": 10000,         # paper
    "validation": False,        # ours: True trains on the first 50,000 and tests on the last 10,000
    "init_scale": 0.3,          # ours: ω (paper: W0, W uniform in [-ω, ω], ω not given)
    # the variants, as rule specs: B uniform in [-β, β] with β = 2 (ours; the paper does not give
    # β); the sparse variant keeps half of W's last layer and of B (paper)
    "rules": {"shallow": {"rule": "shallow"}, "backprop": {"rule": "backprop"},
              "feedback_alignment": {"rule": "feedback_alignment", "scale": 2.0},
              SPARSE: {"rule": "feedback_alignment", "scale": 2.0, "density": 0.5}},
    "decay": 1e-6,              # paper: weight decay
    "batch": 32,                # ours (paper: not given)
    "eta": 0.3,                 # ours: step on the batch-mean loss (paper: 1e-3 per example)
    "epochs": 100,              # ours (paper: until backprop began to overfit)
    "eta_drops": [60, 85],      # ours: epochs after which the step is multiplied by eta_factor
    "eta_factor": 0.3,          # ours
    "records_per_epoch": 1,     # ours
    "angle_size": 1000,         # ours: test images on which the δ angle is measured
    "fields": 16,               # ours: hidden units whose receptive fields are kept
    "runs": 6,                  # paper: n = 20; ours: as many as finished in time (see the chapter)
    "seed": 2016,
    "dtype": "float32",
}
QUICK = dict(PAPER, train_size=10000, test_size=2000, batch=32, epochs=4, eta_drops=[3], runs=2,
             records_per_epoch=2)
VARIANTS = tuple(PAPER["rules"])
PAPER_ERRORS = {"backprop": 2.4, "feedback_alignment": 2.1, SPARSE: 2.4, "shallow": 7.2}   # %, Fig. 3a
TEST_BATCH = 1000   # test images per forward pass (bounds memory at n = 20)
KEY = {"backprop": "backprop", "feedback_alignment": "fa", SPARSE: "sparse-fa", "shallow": "shallow"}   # claim keys
FIGURE = {"backprop": "Fig. 3a", "feedback_alignment": "Fig. 3a", SPARSE: "Suppl. Fig. 5", "shallow": "Fig. 3a"}
TOLERANCE = 0.5   # points of test error: the design guide's, used since the first MNIST chapter
PAPER_END = (15, 20)   # epochs: where the paper's training ended, judging by its preprint's axis
SIMILAR = 1.5     # "similar feature detectors": smoothness within this factor of backprop's, either way
NULL_DRAWS = 100  # "feature detectors": smoother than every one of this many draws of `image_null` (P < 0.01)
FALLS = 10        # "well below 90°": the angle ends at least this many degrees below where it started


def split(config):
    """Training and test images and labels, as host arrays."""
    d = TASK.load()
    if config["validation"]:
        x, y = d.x_train[:50000], d.y_train[:50000]
        xt, yt = d.x_train[50000:], d.y_train[50000:]
    else:
        x, y, xt, yt = d.x_train, d.y_train, d.x_test, d.y_test
    n, m = config["train_size"], config["test_size"]
    return x[:n], y[:n], xt[:m], yt[:m]


def shuffled_batches(x, y, config, backend, classes: int = TASK.classes):
    """``batch(t)``: minibatches of a fresh permutation every epoch, shared by every run and rule;
    the targets are one-hot over `classes`."""
    rng = shared_rng(config["seed"], "train")
    order = [rng.permutation(len(x)) for _ in range(config["epochs"])]
    size, per_epoch = config["batch"], len(x) // config["batch"]

    def get(t):
        i = order[t // per_epoch][(t % per_epoch) * size:][:size]
        return columns(x[i], backend), columns(one_hot(y[i], classes), backend)

    return get


def network(rule: str | dict | Rule, config, backend, runs):
    """The network and rule of one variant (a name in ``config["rules"]``, a spec or a rule
    object), bound to `runs`; a sparse rule (density < 1) makes the network's last layer as sparse."""
    rule = make_rule(config["rules"].get(rule, rule) if isinstance(rule, str) else rule)
    net = Network.init(config["sizes"], "logistic", config["init_scale"], seed=config["seed"],
                       runs=runs, backend=backend, density=rule.density)
    return net, rule.bind(net)


def compute(config, backend, runs):
    """Every variant for the given runs, trained together along the replica axis."""
    data = split(config)
    out = {}
    for name in config["rules"]:
        out |= train_variant(name, config, backend, runs, data)
    return out


def grid(config) -> list[Cell]:
    """One cell per rule: the network trained with that rule alone."""
    return [Cell({"rule": name}, dict(per_chunk(config), rules={name: spec}), compute, (f"{name}/", "epoch"))
            for name, spec in config["rules"].items()]


def fit(rule: str | dict | Rule, config, backend, runs, data, *, images: str = "mnist", measure=delta_angle,
        test_batch: int = TEST_BATCH, held_out: dict | None = None, diverged: str = "raise", window: int = 0,
        desc: str = "mnist") -> tuple[dict, Network, Rule]:
    """Train the network of `config` by `rule` (a name in ``config["rules"]``, a spec or a rule
    object) on `data`, the images of the task named `images`; returns its curves, the network and the rule.

    The curves: test error (``"error"``, scored `test_batch` images per forward pass), the error on
    each other set of `held_out` (name -> images, labels) and `measure` (a measure of
    :mod:`falib.metrics`, on the first ``angle_size`` test images) per record, and ``"step"``. The
    records fall ``records_per_epoch`` times an epoch and at each of the last `window` steps;
    `diverged` is :func:`~falib.training.train`'s policy.
    """
    x, y, xt, yt = data
    classes = task(images).classes
    scored = {name: [(columns(xs[i:i + test_batch], backend), backend.asarray(ys[i:i + test_batch]))
                     for i in range(0, len(xs), test_batch)]
              for name, (xs, ys) in {"error": (xt, yt), **(held_out or {})}.items()}
    n_angle = config["angle_size"]
    angle_x, angle_t = columns(xt[:n_angle], backend), columns(one_hot(yt[:n_angle], classes), backend)
    per_epoch, r = len(x) // config["batch"], config["records_per_epoch"]
    if per_epoch % r:
        raise ValueError(f"records_per_epoch={r} does not divide the {per_epoch} steps of an epoch (train_size "
                         f"{len(x)}, batch {config['batch']}): the records would drift off the epoch boundaries; "
                         "choose a divisor of the steps per epoch")
    eta = step_decay(config["eta"], [e * per_epoch for e in config["eta_drops"]], config["eta_factor"])
    net, rule = network(rule, config, backend, runs)

    def evaluate(net, rule):
        return {name: sum(classification_error(net.forward(xc).y, lc) * lc.shape[0] for xc, lc in sets)
                / sum(lc.shape[0] for _, lc in sets) for name, sets in scored.items()} \
            | measure(net, rule, angle_x, angle_t)

    curves = train(net, rule, shuffled_batches(x, y, config, backend, classes), steps=config["epochs"] * per_epoch,
                   eta=eta, decay=config["decay"], record_every=per_epoch // r, window=window,
                   evaluate=evaluate, desc=desc, diverged=diverged)
    return curves, net, rule


def train_variant(name, config, backend, runs, data, rule: str | dict | Rule | None = None):
    """Test error (and, for a rule with a B, the δ angle) over training, and receptive fields (if
    the hidden layer learns), stored under `name`; the rule is `rule` (a spec or object), else
    ``config["rules"][name]``."""
    out, net, rule = fit(name if rule is None else rule, config, backend, runs, data, desc=f"mnist: {name} {runs[0]}")
    per_epoch = len(data[0]) // config["batch"]
    out = {f"{name}/{k}": v for k, v in out.items() if k != "step"} | {"epoch": out["step"] / per_epoch}
    if rule.learns(net, 0):
        out[f"{name}/fields"] = to_numpy(net.W[0][:, :config["fields"]])
    return out


def learners(config) -> list[str]:
    """The variants whose hidden layer learns (all but shallow learning's), in the order of `VARIANTS`."""
    return [name for name in VARIANTS if traits(config["rules"][name]).learns_hidden]


def shown(config) -> dict:
    """How the figures and claims show each variant of `config` (:func:`falib.plots.looks`)."""
    return looks(config["rules"])


def final_errors(res) -> dict[str, np.ndarray]:
    """Each run's test error (%) at the end of training, per variant."""
    return {name: 100 * res[f"{name}/error"][:, -1] for name in VARIANTS}


def error_at(res, epoch: float) -> dict[str, float]:
    """The mean test error (%) over runs at the record nearest `epoch`, per variant."""
    i = int(np.argmin(abs(res["epoch"] - epoch)))
    return {name: float(100 * res[f"{name}/error"][:, i].mean()) for name in VARIANTS}


def smoothness(w: np.ndarray) -> np.ndarray:
    """How smooth 28 x 28 weight images are (last axis: 784 pixels): the correlation between the
    weights of horizontally or vertically adjacent pixels; about 0 for independent random weights
    (0 for a constant image)."""
    img, units = w.reshape(*w.shape[:-1], 28, 28), w.shape[:-1]
    pairs = [(img[..., :, :-1], img[..., :, 1:]), (img[..., :-1, :], img[..., 1:, :])]   # right, down
    a, b = (np.concatenate([p[i].reshape(*units, -1) for p in pairs], axis=-1) for i in (0, 1))
    a, b = a - a.mean(-1, keepdims=True), b - b.mean(-1, keepdims=True)
    num, den = (a * b).sum(-1), np.sqrt((a * a).sum(-1) * (b * b).sum(-1))
    return np.divide(num, den, out=np.zeros_like(num), where=den > 0)


def initial_fields(res) -> np.ndarray:
    """Each run's initial incoming weights of the stored hidden units (the same under every rule)."""
    c = res.config
    net = Network.init(c["sizes"], "logistic", c["init_scale"], seed=c["seed"], runs=res.meta["runs"],
                       backend=Backend(dtype=c["dtype"]))
    return to_numpy(net.W[0][:, :c["fields"]])


def field_stats(res) -> dict[str, dict[str, float]]:
    """Receptive fields measured: the mean `smoothness` of the final weights (and its SD over
    units), the mean smoothness of the learned change, and how far the weights moved (norm of the
    change over the initial norm), per rule and for the random start."""
    start = initial_fields(res)
    s0 = smoothness(start)
    out = {"random": {"smooth": float(s0.mean()), "sd": float(s0.std())}}
    for name in learners(res.config):
        w = res[f"{name}/fields"]
        out[name] = {"smooth": float(smoothness(w).mean()), "change": float(smoothness(w - start).mean()),
                     "moved": float(np.mean(np.linalg.norm(w - start, axis=-1) / np.linalg.norm(start, axis=-1)))}
    return out


@functools.lru_cache(maxsize=2)
def image_basis(validation: bool, train_size: int) -> tuple[np.ndarray, np.ndarray]:
    """The training images' pixel covariance as (standard deviations, directions): a Gaussian
    draw ``U (s * ε)`` is a random sum of the centred training images."""
    x = split({"validation": validation, "train_size": train_size, "test_size": 0})[0].astype(np.float64)
    x = x - x.mean(axis=0)
    lam, U = np.linalg.eigh(x.T @ x / len(x))
    return np.sqrt(np.clip(lam, 0, None)), U


def image_null(res, w: np.ndarray, draws: int = NULL_DRAWS) -> np.ndarray:
    """Receptive fields that learned nothing but random sums of images: for each draw, every
    unit's random start plus a random sum of centred training images, scaled to the norm of the
    unit's real change ``w - start``; returns the mean `smoothness` of each draw."""
    start = initial_fields(res).astype(np.float64)
    size = np.linalg.norm(w - start, axis=-1, keepdims=True)
    s, U = image_basis(res.config["validation"], res.config["train_size"])
    rng = np.random.default_rng(res.config["seed"])
    out = np.empty(draws)
    for i in range(draws):
        z = (rng.standard_normal(start.shape) * s) @ U.T
        out[i] = smoothness(start + size * z / np.linalg.norm(z, axis=-1, keepdims=True)).mean()
    return out


def protocol(config) -> str:
    """How the runs behind the claims were trained, in a few words."""
    drops = f", ×{config['eta_factor']:g} after epochs {', '.join(map(str, config['eta_drops']))}" \
        if config["eta_drops"] else ""
    return (f"{config['epochs']:g} epochs of {config['train_size']:,} images, batch {config['batch']}, "
            f"η = {config['eta']:g} on the batch mean{drops}, decay {config['decay']:g}; "
            f"{config['records_per_epoch']} record(s) per epoch")


def claims(res) -> Claims:
    """The paper's MNIST statements as checks; at the paper's scale also its numbers, two-sided."""
    return Claims(level_claims(res) + curve_claims(res) + field_claims(res)).on(len(res.meta["runs"]),
                                                                               protocol(res.config))


def level_claims(res) -> list[Claim]:
    """Where the variants end: the paper's numbers (at its scale) and each against backprop."""
    mean = {name: float(np.mean(v)) for name, v in final_errors(res).items()}
    return ([level(res, name, mean[name]) for name in VARIANTS] if res.profile == "paper" else []) \
        + [as_good_as_backprop(res, name, mean) for name in ("feedback_alignment", SPARSE)]


def curve_claims(res) -> list[Claim]:
    """How the variants get there: FA's pace, shallow learning's gap, the δ angle."""
    return [as_fast(res), shallow_worse(res), *angle_claims(res)]


def level(res, name, ours) -> Claim:
    """The paper's final test error of `name`, within TOLERANCE either way."""
    epochs, label = res["epoch"][-1], shown(res.config)[name].label
    gap = None
    if not traits(res.config["rules"][name]).learns_hidden:
        gap = (f"we train for {epochs:g} epochs, the paper for roughly {PAPER_END[0]}-{PAPER_END[1]} (until "
               "backprop began to overfit), and a fixed random hidden layer keeps improving slowly "
               f"long after that: at epoch {PAPER_END[1]} ours stands at "
               f"{error_at(res, PAPER_END[1])[name]:.1f}%")
    return Claim(f"paper-level-{KEY[name]}", f"{label}: mean test error at the end of training within "
                 f"{TOLERANCE} points of the paper's, either way",
                 f"{PAPER_ERRORS[name]}% (n = 20)",
                 f"{ours:.2f} ± {stats.sem(final_errors(res)[name]):.2f}% (n = {len(res.meta['runs'])}, "
                 f"{epochs:g} epochs; {error_at(res, PAPER_END[1])[name]:.1f}% at the paper's epoch {PAPER_END[1]})",
                 abs(ours - PAPER_ERRORS[name]) <= TOLERANCE, figure=FIGURE[name], gap=gap,
                 tolerance=f"{TOLERANCE} points: the book's tolerance for MNIST errors (its design guide), set "
                 "before our paper-scale runs")


def as_good_as_backprop(res, name, mean) -> Claim:
    """`name` is as good as backprop: at the paper's scale its lead or lag over backprop is the
    paper's within TOLERANCE; the quick run, far from the end of training, checks "not worse"."""
    ours, theirs = mean[name] - mean["backprop"], PAPER_ERRORS[name] - PAPER_ERRORS["backprop"]
    label = shown(res.config)[name].label
    paper = f"{label} {PAPER_ERRORS[name]}%, backprop {PAPER_ERRORS['backprop']}% ({theirs:+.1f} points)"
    text = f"{mean[name]:.2f}% vs {mean['backprop']:.2f}% ({ours:+.2f} points)"
    if res.profile == "paper":
        return Claim(f"{KEY[name]}-as-good-as-backprop", f"{label} ends as good as backprop: its mean test "
                     f"error minus backprop's is the paper's difference within {TOLERANCE} points, either way",
                     paper, text, abs(ours - theirs) <= TOLERANCE, figure=FIGURE[name],
                     tolerance=f"{TOLERANCE} points around the paper's difference (as for its numbers)")
    return Claim(f"{KEY[name]}-as-good-as-backprop", f"{label} is as good as backprop: its mean test error "
                 f"is at most {TOLERANCE} points above backprop's", paper, text, ours <= TOLERANCE,
                 figure=FIGURE[name], tolerance=f"{TOLERANCE} points, one-sided: the quick run stops long before "
                 "the paper's end of training, so only the paper's 'not worse' applies, not its difference")


def as_fast(res) -> Claim:
    """The paper's "feedback alignment learns just as quickly": FA is never far behind backprop."""
    epoch, angle = res["epoch"], res["feedback_alignment/angle"].mean(0)
    lag = 100 * (res["feedback_alignment/error"].mean(0) - res["backprop/error"].mean(0))
    i = 1 + int(np.argmax(lag[1:]))   # record 0 is the shared starting point
    gap = None
    if res.profile == "quick":
        gap = (f"FA's hidden layer learns well only once W has begun to align with Bᵀ: the quick run, "
               f"recorded every 1/{res.config['records_per_epoch']} epoch of {res.config['train_size']:,} "
               f"images, catches it {lag[i]:.1f} points behind at epoch {epoch[i]:g} (angle then "
               f"{angle[i]:.0f}°); the paper-scale records start after one epoch of 60,000 images")
    return Claim("fa-as-fast-as-backprop", "Feedback alignment learns as quickly as backprop: at every record "
                 f"its mean test error is at most {TOLERANCE} points above backprop's",
                 "FA 'learns just as quickly' (text)",
                 f"largest lag {lag[i]:+.2f} points (epoch {epoch[i]:g}); first record at epoch {epoch[1]:g}",
                 lag[i] <= TOLERANCE, figure="Fig. 3a", gap=gap,
                 tolerance=f"{TOLERANCE} points, one-sided (the paper gives no number along the way); it sees "
                 "only the records kept: where the first is at epoch 1, a lag inside the first epoch, while W "
                 "aligns with Bᵀ, goes unseen (a run with records_per_epoch > 1 shows it)")


def shallow_worse(res) -> Claim:
    final = final_errors(res)
    deep = np.concatenate([final[name] for name in learners(res.config)])
    return Claim("shallow-worse", "Shallow learning is clearly worse: every shallow run ends over 1 point above "
                 "every backprop, FA and sparse FA run",
                 f"shallow {PAPER_ERRORS['shallow']}% (preprint's figure) vs 2.1-2.4%",
                 f"best shallow run {final['shallow'].min():.2f}%, worst other run {deep.max():.2f}%",
                 final["shallow"].min() > deep.max() + 1, figure="Fig. 3a",
                 tolerance="1 point, one-sided: the paper's gap is about 5 points; its size is checked by "
                 "paper-level-shallow")


def angle_claims(res) -> list[Claim]:
    angle, epoch = res["feedback_alignment/angle"], res["epoch"]
    later = angle[:, epoch >= 1]
    return [
        Claim("angle-start", "The angle between δ_FA and δ_BP starts near 90° (every run within 5°)",
              "~90° at the start", f"{angle[:, 0].min():.0f}-{angle[:, 0].max():.0f}°",
              np.all(abs(angle[:, 0] - 90) < 5), figure="Fig. 3b", kind="sanity",
              tolerance="true of independent random W and B; it checks the measurement, not the paper"),
        Claim("angle-falls", f"The angle falls: its mean over runs ends at least {FALLS}° below where it "
              "started, and from the first epoch on it stays below 90° in every run",
              "quickly well below 90°, stays there",
              f"mean {angle[:, 0].mean():.0f}° at the start, {angle[:, -1].mean():.0f}° at the end; after "
              f"epoch 1 at most {later.max():.0f}°",
              angle[:, -1].mean() <= angle[:, 0].mean() - FALLS and later.max() < 90, figure="Fig. 3b",
              tolerance=f"'well below 90°' read as a fall of at least {FALLS}° from the start (ours, fixed before "
              "our runs); a curve flat at any angle fails"),
    ]


def field_claims(res) -> list[Claim]:
    """Suppl. Fig. 5 measured: FA's first-layer receptive fields are structured, and like backprop's."""
    f = field_stats(res)
    r, fa, sparse, bp = f["random"], f["feedback_alignment"], f[SPARSE], f["backprop"]
    null = {name: image_null(res, res[f"{name}/fields"]).max() for name in ("feedback_alignment", SPARSE)}
    short = (f"the quick run is too short: its {res['epoch'][-1]:g} epochs move FA's hidden units only "
             f"{fa['moved']:.0%} of their initial weights' norm, and what they learned is not yet smoother than "
             "random sums of images of that size")
    return [
        Claim("fields-structured", "FA and sparse FA learn spatially structured receptive fields: the mean "
              "smoothness of their hidden units' incoming weights (correlation of adjacent pixels' weights) "
              "exceeds that of every one of "
              f"{NULL_DRAWS} null fields: each unit's random start plus a random sum of centred training images, "
              "at the norm of the unit's real change",
              "FA develops feature detectors (Suppl. Fig. 5)",
              f"FA {fa['smooth']:.3f}, sparse FA {sparse['smooth']:.3f}; null at most "
              f"{null['feedback_alignment']:.3f} and {null[SPARSE]:.3f} (random start alone {r['smooth']:.3f})",
              fa["smooth"] > null["feedback_alignment"] and sparse["smooth"] > null[SPARSE], figure="Suppl. Fig. 5",
              tolerance=f"ours: above all {NULL_DRAWS} draws of the null (P < 0.01), fixed before measuring; a "
              "change that only adds random image sums to the start fails it",
              gap=short if res.profile == "quick" else None),
        Claim("fields-like-backprop", "FA's receptive fields are as structured as backprop's: their mean "
              f"smoothness is within a factor {SIMILAR} of backprop's, either way",
              "similar feature detectors to backprop's (Suppl. Fig. 5)",
              f"FA {fa['smooth']:.3f}, backprop {bp['smooth']:.3f}",
              bp["smooth"] / SIMILAR <= fa["smooth"] <= bp["smooth"] * SIMILAR, figure="Suppl. Fig. 5",
              tolerance=f"'similar' read as within a factor {SIMILAR}, fixed before measuring",
              gap=(f"FA's hidden units move further from their random start than backprop's ({fa['moved']:.0%} "
                   f"of the initial norm against {bp['moved']:.0%}: β = 2 makes B e' larger than Wᵀe'), so "
                   "its fields are more learned structure and less random start; what each rule learned "
                   f"(the change) is about equally smooth, {fa['change']:.2f} against {bp['change']:.2f}, but "
                   "that is nearly automatic: any change is a weighted sum of input images")),
    ]


SHORT = {"backprop": "bp", "feedback_alignment": "fa", SPARSE: "sparse", "shallow": "shallow"}   # names of the prose numbers


def prose(res) -> dict[str, str]:
    """What the chapter's text says about these results (``numbers.<name>`` in its prose): numbers,
    and the few words (ahead/behind, further/less far) that depend on them."""
    final, epoch, n = final_errors(res), res["epoch"], len(res.meta["runs"])
    mean = {k: float(v.mean()) for k, v in final.items()}
    f, angle, sparse_angle = field_stats(res), res["feedback_alignment/angle"], res[f"{SPARSE}/angle"]
    bp, late = 100 * res["backprop/error"].mean(0), int(np.argmin(abs(epoch - 0.8 * epoch[-1])))
    lead = mean["feedback_alignment"] - mean["backprop"]
    seconds, look, deep = res.meta["seconds"] / n, shown(res.config), learners(res.config)
    return {f"{SHORT[k]}_error": f"{m:.2f}%" for k, m in mean.items()} | {
        "runs": str(n), "paper_runs": str(EXPERIMENT.config("paper")["runs"]), "epochs": f"{epoch[-1]:g}",
        "max_se": f"{max(v.std(ddof=1) / np.sqrt(n) for v in final.values()):.3f}" if n > 1 else "unknown (one run)",
        "fa_vs_bp": "ahead of" if lead < 0 else "behind",
        "fa_bp_gap": f"{abs(lead):.2f}",
        "shallow_vs_paper": "below" if mean["shallow"] < PAPER_ERRORS["shallow"] else "above",
        "at_paper_end": (f"at epoch {PAPER_END[1]}, near where the paper stopped, our means stood at "
                         + ", ".join(f"{v:.1f}% ({look[k].label})" for k, v in error_at(res, PAPER_END[1]).items())
                         if epoch[-1] >= PAPER_END[1] else
                         f"our run ends at epoch {epoch[-1]:g}, before the paper's end of training"),
        "late_epoch": f"{epoch[late]:g}", "bp_late": f"{bp[-1] - bp[late]:+.2f}",
        "bp_best": f"{bp.min():.2f}%", "bp_best_epoch": f"{epoch[np.argmin(bp)]:g}",
        "angle_start": f"{angle[:, 0].min():.0f}-{angle[:, 0].max():.0f}°",
        "fa_angle_end": f"{angle[:, -1].mean():.0f}°", "sparse_angle_end": f"{sparse_angle[:, -1].mean():.0f}°",
        "sparse_angle_vs": "larger" if sparse_angle[:, -1].mean() > angle[:, -1].mean() else "smaller",
        "run_time": f"{seconds / 60:.0f} minutes" if seconds > 120 else f"{seconds:.0f} s",
        "smooth_random": f"{f['random']['smooth']:.3f}", "smooth_sd": f"{f['random']['sd']:.3f}",
        **{f"smooth_{SHORT[k]}": f"{f[k]['smooth']:.3f}" for k in deep},
        **{f"change_{SHORT[k]}": f"{f[k]['change']:.2f}" for k in deep},
        **{f"moved_{SHORT[k]}": f"{f[k]['moved']:.0%}" for k in deep},
        "fa_moves": "further" if f["feedback_alignment"]["moved"] > f["backprop"]["moved"] else "less far",
    }


def figure(res):
    """Fig. 3a (test error over training) and Fig. 3b (angle between δ_FA and δ_BP).

    The paper's final errors stand in a narrow panel of their own beside panel a: its training
    ended after roughly `PAPER_END` epochs, not where ours does.
    """
    fig, (a, p, b) = plt.subplots(1, 3, figsize=(WIDTH, 3.2), gridspec_kw={"width_ratios": [5, 1, 5]})
    epoch, look = res["epoch"], shown(res.config)
    for i, name in enumerate(VARIANTS):
        curve(a, epoch, 100 * res[f"{name}/error"], look[name])
        if name in PAPER_ERRORS:
            p.plot(i, PAPER_ERRORS[name], "^", color=look[name].color, ms=5)
    a.set(xlabel="epochs", ylabel="test error (%)", yscale="log", ylim=(1, 100))
    a.legend(frameon=False, loc="upper right")
    p.set(yscale="log", ylim=a.get_ylim(), yticklabels=[], xlim=(-1, len(VARIANTS)), xticks=[],
          xlabel=f"paper\n(end:\nepoch\n≈{PAPER_END[0]}–{PAPER_END[1]})")
    for name in [n for n in VARIANTS if traits(res.config["rules"][n]).feedback]:   # those with a B
        curve(b, epoch, res[f"{name}/angle"], look[name])
    b.axhline(90, color="0.6", ls=":", lw=1)
    b.set(xlabel="epochs", ylabel="angle between\nδ_FA and δ_BP (deg)", ylim=(0, 100))
    b.legend(frameon=False)
    return finish(fig, res, (a, "a"), (b, "b"))


def fields_figure(res, units: int = 16):
    """Supplementary Fig. 5: what the first run's hidden units learned, as 28 x 28 images.

    Each image is the change of a unit's incoming weights since the start (the initial weights,
    redrawn from the seed, are the same under every rule and would otherwise hide it).
    """
    run, start = res.meta["runs"][0], initial_fields(res)[0, :units]
    names, look = learners(res.config), shown(res.config)
    side = int(np.ceil(np.sqrt(units)))
    fig, axes = plt.subplots(1, len(names), figsize=(WIDTH, WIDTH / len(names) + 0.9))
    for ax, name in zip(axes, names):
        w = (res[f"{name}/fields"][0, :units] - start).reshape(-1, 28, 28)
        w = w / np.abs(w).max(axis=(1, 2), keepdims=True)
        grid = np.full((side * 29 + 1, side * 29 + 1), np.nan)
        for i, img in enumerate(w):
            r, c = divmod(i, side)
            grid[1 + 29 * r:29 * (r + 1), 1 + 29 * c:29 * (c + 1)] = img
        ax.imshow(grid, cmap="RdBu_r", vmin=-1, vmax=1)
        ax.set_title(look[name].label)
        ax.axis("off")
    fig.text(0.99, 0.01, f"run {run}, hidden units 0-{units - 1}: learned change of the incoming weights,\n"
             "each scaled to its largest |change|", ha="right", va="bottom", color="0.35")
    fig.tight_layout(rect=(0, 0.12, 1, 1))
    return fig


# A CPU trains one run at a time (chunk=1): we measured it two to three times faster per run than
# batching 20 runs, whose (20, 1000, 784) temporaries leave the cache; a GPU trains all at once.
EXPERIMENT = Experiment("mnist", "Fig. 3a,b: MNIST, 784-1000-10 logistic network",
                        {"quick": QUICK, "paper": PAPER}, compute, claims, order=3,
                        backend=Backend("torch", dtype="float32"), chunk=1, shared=("epoch",), inputs=split, grid=grid,
                        data="FALIB_MNIST", companions=("mnist-protocol",), start={"config": {"epochs": 1}, "run": 3, "rtol": 1e-3})
