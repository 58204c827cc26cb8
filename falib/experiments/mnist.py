"""Fig. 3a,b and Supplementary Fig. 5: a 784-1000-10 logistic network learns MNIST."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from ..backend import Backend, shared_rng, to_numpy
from ..claims import Claim, Claims
from ..data import load_mnist
from ..metrics import classification_error, delta_angles
from ..networks import Network
from ..plots import COLORS, LABELS, WIDTH, curve, finish
from ..rules import make_rule
from ..tasks import TRAIN_STREAM, columns
from ..training import step_decay, train
from . import Experiment

VARIANTS = ("shallow", "backprop", "feedback_alignment", "sparse_feedback_alignment")
SPARSE = "sparse_feedback_alignment"

PAPER = {
    "sizes": [784, 1000, 10],   # paper; logistic hidden and output units with biases
    "train_size": 60000,        # paper: the standard split
    "test_size": 10000,         # paper
    "validation": False,        # ours: True trains on the first 50,000 and tests on the last 10,000
    "init_scale": 0.3,          # ours: ω (paper: W0, W uniform in [-ω, ω], ω not given)
    "feedback_scale": 2.0,      # ours: β (paper: B uniform in [-β, β], β not given)
    "density": 0.5,             # paper: the sparse variant keeps half of W's and of B's entries
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
PAPER_ERRORS = {"backprop": 2.4, "feedback_alignment": 2.1, SPARSE: 2.4, "shallow": 7.2}   # %, Fig. 3a
TEST_BATCH = 1000   # test images per forward pass (bounds memory at n = 20)


def split(config):
    """Training and test images and labels, as host arrays."""
    d = load_mnist()
    if config["validation"]:
        x, y = d.x_train[:50000], d.y_train[:50000]
        xt, yt = d.x_train[50000:], d.y_train[50000:]
    else:
        x, y, xt, yt = d.x_train, d.y_train, d.x_test, d.y_test
    n, m = config["train_size"], config["test_size"]
    return x[:n], y[:n], xt[:m], yt[:m]


def one_hot(labels):
    """Targets: 1 for the labelled digit, 0 for the other nine."""
    return np.eye(10, dtype=np.float32)[labels]


def shuffled_batches(x, y, config, backend):
    """``batch(t)``: minibatches of a fresh permutation every epoch, shared by every run and rule."""
    rng = shared_rng(config["seed"], TRAIN_STREAM)
    order = [rng.permutation(len(x)) for _ in range(config["epochs"])]
    size, per_epoch = config["batch"], len(x) // config["batch"]

    def get(t):
        i = order[t // per_epoch][(t % per_epoch) * size:][:size]
        return columns(x[i], backend), columns(one_hot(y[i]), backend)

    return get


def network(name, config, backend, runs):
    """The network and rule of one variant, bound to `runs`."""
    sparse = name == SPARSE
    net = Network.init(config["sizes"], "logistic", config["init_scale"], seed=config["seed"],
                       runs=runs, backend=backend, density=config["density"] if sparse else 1.0)
    if name in ("feedback_alignment", SPARSE):
        rule = make_rule("feedback_alignment", scale=config["feedback_scale"],
                         density=config["density"] if sparse else 1.0)
    else:
        rule = make_rule(name)
    return net, rule.bind(net, seed=config["seed"], runs=runs, backend=backend)


def compute(config, backend, runs):
    """Every variant for the given runs, trained together along the replica axis."""
    data = split(config)
    out = {}
    for name in VARIANTS:
        out |= train_variant(name, config, backend, runs, data)
    return out


def train_variant(name, config, backend, runs, data):
    """Test error (and, for feedback alignment, the δ angle) over training, and receptive fields."""
    x, y, xt, yt = data
    test = [(columns(xt[i:i + TEST_BATCH], backend), backend.asarray(yt[i:i + TEST_BATCH]))
            for i in range(0, len(xt), TEST_BATCH)]
    n_angle = config["angle_size"]
    angle_x, angle_t = columns(xt[:n_angle], backend), columns(one_hot(yt[:n_angle]), backend)
    per_epoch = len(x) // config["batch"]
    eta = step_decay(config["eta"], [e * per_epoch for e in config["eta_drops"]], config["eta_factor"])
    net, rule = network(name, config, backend, runs)

    def evaluate(net, rule):
        wrong = sum(classification_error(net.forward(xc).y, lc) * lc.shape[0] for xc, lc in test)
        metrics = {"error": wrong / len(xt)}
        if rule.name == "feedback_alignment":
            metrics["angle"] = delta_angles(net, rule, net.forward(angle_x), angle_t)[0]
        return metrics

    out = train(net, rule, shuffled_batches(x, y, config, backend), steps=config["epochs"] * per_epoch,
                eta=eta, decay=config["decay"], record_every=per_epoch // config["records_per_epoch"],
                evaluate=evaluate, desc=f"mnist: {name} {runs[0]}")
    out = {f"{name}/{k}": v for k, v in out.items() if k != "step"} | {"epoch": out["step"] / per_epoch}
    if name != "shallow":
        out[f"{name}/fields"] = to_numpy(net.W[0][:, :config["fields"]])
    return out


def final_errors(res) -> dict[str, np.ndarray]:
    """Each run's test error (%) at the end of training, per variant."""
    return {name: 100 * res[f"{name}/error"][:, -1] for name in VARIANTS}


def claims(res) -> Claims:
    """The paper's comparisons at the end of training; at the paper's scale also its numbers."""
    final = final_errors(res)
    mean = {name: float(np.mean(v)) for name, v in final.items()}
    bp, fa, sparse, shallow = (mean[k] for k in ("backprop", "feedback_alignment", SPARSE, "shallow"))
    deep = np.concatenate([final["backprop"], final["feedback_alignment"], final[SPARSE]])
    angle, epoch = res["feedback_alignment/angle"], res["epoch"]
    later = angle[:, epoch >= 1]
    levels = [Claim("paper-levels", "Mean test errors within 0.5 points of the paper's, or below them",
                    "BP 2.4%, FA 2.1%, sparse FA 2.4%", f"BP {bp:.2f}%, FA {fa:.2f}%, sparse FA {sparse:.2f}%",
                    all(mean[k] <= v + 0.5 for k, v in PAPER_ERRORS.items() if k != "shallow"))]
    return Claims((levels if res.profile == "paper" else []) + [
        Claim("fa-as-good-as-bp", f"After {epoch[-1]:g} epochs, feedback alignment is as good as backprop "
              "(mean test error at most 0.5 points above)",
              "FA 2.1%, BP 2.4%", f"FA {fa:.2f}%, BP {bp:.2f}% (n={angle.shape[0]})", fa - bp < 0.5),
        Claim("sparse-fa", "With half of W's and B's entries removed, FA stays within 1 point of full FA",
              "sparse FA 2.4%", f"sparse FA {sparse:.2f}%", abs(sparse - fa) < 1.0),
        Claim("shallow-worse", "Shallow learning is clearly worse: every shallow run ends over 1 point above "
              "every BP, FA and sparse FA run",
              f"shallow {PAPER_ERRORS['shallow']}% (preprint figure)", f"{shallow:.2f}% (best run "
              f"{final['shallow'].min():.2f}%, worst other run {deep.max():.2f}%)",
              bool(final["shallow"].min() > deep.max() + 1)),
        Claim("angle-start", "The angle between δ_FA and δ_BP starts near 90 degrees (every run within 5)",
              "~90 degrees at the start", f"{angle[:, 0].min():.0f}-{angle[:, 0].max():.0f} degrees",
              bool(np.all(abs(angle[:, 0] - 90) < 5))),
        Claim("angle-below-90", "From the first epoch on it stays below 90 degrees in every run, "
              "ending below 80 on average",
              "quickly below 90, stays there", f"after epoch 1: max {later.max():.0f}; "
              f"final mean {angle[:, -1].mean():.0f} degrees",
              bool(later.max() < 90 and angle[:, -1].mean() < 80)),
    ])


def figure(res):
    """Fig. 3a (test error over training) and Fig. 3b (angle between δ_FA and δ_BP)."""
    fig, (a, b) = plt.subplots(1, 2, figsize=(WIDTH, 3.2))
    epoch = res["epoch"]
    for name in VARIANTS:
        curve(a, epoch, 100 * res[f"{name}/error"], name)
        a.plot(1.03 * epoch[-1], PAPER_ERRORS[name], "<", color=COLORS[name], ms=7, clip_on=False)
    a.plot([], [], "<", color="0.3", label="paper, end of training")
    a.set(xlabel="epochs", ylabel="test error (%)", yscale="log", ylim=(1, 100))
    a.legend(frameon=False)
    for name in ("feedback_alignment", SPARSE):
        curve(b, epoch, res[f"{name}/angle"], name)
    b.axhline(90, color="0.6", ls=":", lw=1)
    b.set(xlabel="epochs", ylabel="angle between δ_FA and δ_BP (deg)", ylim=(0, 100))
    b.legend(frameon=False)
    return finish(fig, res, (a, "a"), (b, "b"))


def fields_figure(res, units: int = 16):
    """Supplementary Fig. 5: what the first run's hidden units learned, as 28 x 28 images.

    Each image is the change of a unit's incoming weights since the start (the initial weights,
    redrawn from the seed, are the same under every rule and would otherwise hide it).
    """
    config, run = res.config, res.meta["runs"][0]
    start = Network.init(config["sizes"], "logistic", config["init_scale"], seed=config["seed"],
                         runs=[run], backend=Backend(dtype=config["dtype"])).W[0][0, :units]
    names = [name for name in VARIANTS if name != "shallow"]
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
        ax.set_title(LABELS[name])
        ax.axis("off")
    fig.text(0.99, 0.01, f"run {run}, hidden units 0-{units - 1}: learned change of the incoming weights,\n"
             "each scaled to its largest |change|", ha="right", va="bottom", color="0.35")
    fig.tight_layout(rect=(0, 0.12, 1, 1))
    return fig


# A CPU trains one run at a time (chunk=1): we measured it two to three times faster per run than
# batching 20 runs, whose (20, 1000, 784) temporaries leave the cache; a GPU trains all at once.
EXPERIMENT = Experiment("mnist", "Fig. 3a,b: MNIST, 784-1000-10 logistic network",
                        {"quick": QUICK, "paper": PAPER}, compute, claims, order=3,
                        backend=Backend("torch", dtype="float32"), chunk=1, shared=("epoch",))
