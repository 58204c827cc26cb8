"""Beyond the paper: feedback alignment's successors on one implementation, and where random feedback breaks.

Every rule in :mod:`falib.rules` trains the same networks on the same tasks from the same initial
weights: the linear task of Fig. 2, a deeper version of the teacher task of Fig. 3d, MNIST and
Fashion-MNIST (784-1000-10, as Fig. 3a). Each run records the test error, the angle between each
hidden layer's δ and backprop's on the same pass, and the angle between each feedback matrix B and
the ``W^T`` it stands in for. Then the sweeps: depth (1 to 6 hidden tanh layers), a bottleneck
layer of shrinking width, and the scale of feedback alignment's B over five orders of magnitude.
"""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from .. import tasks
from ..backend import Backend
from ..cells import Cell
from ..claims import Claim, Claims
from ..data import minibatches
from ..metrics import layer_angles
from ..networks import Network
from ..plots import WIDTH, curve, finish, looks, traits
from ..rules import Rule, make_rule
from ..training import schedule, train
from . import Experiment
from . import mnist

NAMES = {"mnist": "MNIST", "fashion": "Fashion-MNIST"}   # how the figure titles a task (default: its name)


def rules(scale: float, decay: float, sigma: float) -> dict:
    """The rules compared, as specs: B's scale (FA, DFA, Kolen-Pollack's start), Kolen-Pollack's
    decay λ, node perturbation's σ."""
    return {"backprop": {"rule": "backprop"},
            "feedback_alignment": {"rule": "feedback_alignment", "scale": scale},
            "direct_feedback_alignment": {"rule": "direct_feedback_alignment", "scale": scale},
            "sign_symmetry": {"rule": "sign_symmetry"},
            "kolen_pollack": {"rule": "kolen_pollack", "scale": scale, "decay": decay},
            "node_perturbation": {"rule": "node_perturbation", "sigma": sigma},
            "shallow": {"rule": "shallow"}}


IMAGES = {   # every image task: the MNIST chapter's network and settings, two epochs at one rate
    **{k: mnist.PAPER[k] for k in ("sizes", "init_scale", "decay", "batch", "eta", "train_size", "test_size",
                                   "angle_size")},
    "epochs": 2, "eta_drops": [], "eta_factor": 1.0, "records_per_epoch": 3,
    "window": 50,   # ours: a run is scored by its mean over its last 50 steps, each recorded
    "rules": rules(2.0, 3e-3, 0.01), "np_eta": 0.01,
}
PAPER = {
    # the linear task of Fig. 2, its settings: backprop's rate for every rule but node perturbation
    "linear": {"sizes": [30, 20, 10], "init_scale": 0.01, "target_scale": 1.0, "batch": 1, "steps": 3000,
               "record_every": 100, "test_size": 1000, "eta": 0.01, "np_eta": 3.16e-4,
               "rules": rules(0.5, 0.05, 0.01)},
    # the teacher task of Fig. 3d (a fixed random 30-20-10-10 tanh network); the main table's student
    # has the teacher's shape, the sweeps' hidden layers are `width` wide
    "teacher": {"target_sizes": [30, 20, 10, 10], "target_scale": 0.5, "width": 20, "batch": 200,
                "steps": 5000, "record_every": 250, "test_size": 5000, "eta": 0.1, "np_eta": 0.003,
                "rules": rules(0.25, 6e-3, 0.01)},
    "depths": [1, 2, 3, 4, 5, 6],     # hidden tanh layers of width 20 in the depth sweep
    # each rule's rate at each depth (str(depth) -> η), as beyond-search chose them on validation data
    "depth_eta": {name: dict(zip(map(str, range(1, 7)), etas)) for name, etas in {
        "backprop": [0.3] * 6, "feedback_alignment": [0.3] * 6, "direct_feedback_alignment": [0.3] * 6,
        "kolen_pollack": [0.3] * 6, "sign_symmetry": [0.3, 0.1, 0.03, 0.01, 0.01, 0.01],
        "node_perturbation": [0.03] * 4 + [0.01] * 2, "shallow": [0.03, 0.1] + [0.3] * 4}.items()},
    "widths": [1, 2, 5, 10, 20],      # the bottleneck: 30-20-w-20-10
    **dict.fromkeys(tasks.IMAGE_TASKS, IMAGES),   # MNIST, Fashion-MNIST
    # feedback alignment's β on a fifth of MNIST (12,000 images, 2 epochs)
    "scales": {"values": [0.002, 0.02, 0.2, 2.0, 20.0, 200.0], "train_size": 12000, "test_size": 2000},
    "runs": 3,
    "seed": 2016,
    "dtype": "float32",
}
QUICK_IMAGES = dict(IMAGES, train_size=5000, test_size=1000, epochs=1, angle_size=200, window=10)
QUICK = dict(PAPER, linear=dict(PAPER["linear"], steps=600, record_every=50),
             teacher=dict(PAPER["teacher"], steps=300, record_every=50),
             depths=[1, 3, 6], widths=[2, 20], **dict.fromkeys(tasks.IMAGE_TASKS, QUICK_IMAGES),
             scales=dict(PAPER["scales"], values=[0.02, 2.0, 200.0], train_size=960, test_size=500), runs=2)
RULES = tuple(PAPER["linear"]["rules"])


def rate(task: dict, label: str) -> float:
    """Every rule's rate is backprop's, but that of a stochastic rule (node perturbation, which
    diverges at backprop's); a rule that is not in the task's configuration (an exercise's, say)
    gets backprop's."""
    spec = task["rules"].get(label)
    return task["np_eta"] if spec is not None and make_rule(spec).stochastic else task["eta"]


def filled(curves: dict, layers: int) -> dict:
    """``error`` and, per hidden layer l < `layers`, ``delta{l}`` (δ's angle to backprop's) and ``B{l}``
    (B's angle to ``W[l+1]^T``), each (R, records): NaN (float64) where a measure does not apply to
    the rule, or everywhere if training diverged (:func:`~falib.training.train`'s ``diverged="nan"``)."""
    nan = np.full((len(curves["error"]), len(curves["step"])), np.nan)
    keys = ["error"] + [f"{m}{l}" for m in ("delta", "B") for l in range(layers)]
    return {k: v if np.isfinite(v := curves.get(k, nan)).all() else nan for k in keys}


def fit(net: Network, rule: Rule, batch, steps: int, eta, record_every: int, task: str, probe,
        desc: str = "") -> dict:
    """Train `net` with `rule` on a regression task (a name in :data:`falib.tasks.TASKS`), scored by
    the task's score on the `probe` set (x, y*), on which the angles are measured too (:func:`filled`)."""
    score, (x, target) = tasks.task(task).score, probe

    def evaluate(net, rule):
        return {"error": score(target, net.forward(x).y)} | layer_angles(net, rule, x, target)

    curves = train(net, rule, batch, steps=steps, eta=eta, record_every=record_every, evaluate=evaluate,
                   desc=desc, diverged="nan")
    return filled(curves, len(net.W) - 1)


def linear_task(config, backend, runs) -> dict:
    """Fig. 2's task: every rule learns ``y* = T x`` in a linear 30-20-10 network."""
    c, seed = config["linear"], config["seed"]
    X, Y, Xt, Yt = tasks.task("linear").data(dict(c, seed=seed), backend)
    out = {}
    for name, spec in c["rules"].items():
        net = Network.init(c["sizes"], "linear", c["init_scale"], bias=False, seed=seed, runs=runs, backend=backend)
        curves = fit(net, make_rule(spec).bind(net), minibatches(X, Y, c["batch"]), c["steps"], rate(c, name),
                     c["record_every"], "linear", (Xt, Yt), desc=f"beyond: linear, {name}")
        out |= {f"linear/{name}/{k}": v for k, v in curves.items()}
    return out | {"linear/step": np.asarray(schedule(c["steps"], c["record_every"])) * c["batch"]}


def teacher_data(config, backend):
    """The teacher task of Fig. 3d (the deep chapter's data): ``(X, Y), (Xt, Yt)``, its training stream and test set."""
    sets = tasks.task("teacher").data(dict(config["teacher"], seed=config["seed"], dtype=config["dtype"]), backend,
                                      sets=("train", "test"))
    return sets["train"], sets["test"]


def student(config, sizes, backend, runs) -> Network:
    """A tanh student (linear output) with unit-gain initial weights, uniform in ±√(3/n_in), and biases."""
    scale = [float(np.sqrt(3 / n)) for n in sizes[:-1]]
    return Network.init(sizes, ["tanh"] * (len(sizes) - 2) + ["linear"], scale, bias_scale=0.1,
                        seed=config["seed"], runs=runs, backend=backend)


def teacher_fit(config, data, sizes, spec, name, backend, runs, desc, eta: float | None = None) -> dict:
    """Rule `spec` (named `name`) on the teacher task in a student of layer sizes `sizes`, at rate
    `eta` (default: the task's rate for that rule, :func:`rate`)."""
    c = config["teacher"]
    (X, Y), (Xt, Yt) = data
    net = student(config, sizes, backend, runs)
    return fit(net, make_rule(spec).bind(net), minibatches(X, Y, c["batch"]), c["steps"],
               rate(c, name) if eta is None else eta, c["record_every"], "teacher", (Xt, Yt), desc=f"beyond: {desc}, {name}")


def final_angles(ends: list[dict]) -> np.ndarray:
    """Each hidden layer's final δ angle in each network of a sweep, (R, networks, layers), NaN-padded."""
    layers = max(sum(k.startswith("delta") for k in e) for e in ends)
    out = np.full((len(ends[0]["error"]), len(ends), layers), np.nan)
    for i, e in enumerate(ends):
        for l in range(sum(k.startswith("delta") for k in e)):
            out[:, i, l] = e[f"delta{l}"][:, -1]
    return out


def sweep_ends(ends: list[dict], sweep: str, name: str) -> dict:
    """A sweep's networks' final test NSE and δ angles, stored under `sweep`/`name`."""
    return {f"{sweep}/{name}/error": np.stack([e["error"][:, -1] for e in ends], axis=1),
            f"{sweep}/{name}/delta": final_angles(ends)}


def teacher_task(config, backend, runs) -> dict:
    """The main table's teacher task and the bottleneck sweep."""
    c, data = config["teacher"], teacher_data(config, backend)
    n_in, width, n_out = c["target_sizes"][0], c["width"], c["target_sizes"][-1]
    out = {"teacher/step": np.asarray(schedule(c["steps"], c["record_every"])) * c["batch"]}
    for name, spec in c["rules"].items():
        curves = teacher_fit(config, data, c["target_sizes"], spec, name, backend, runs, "teacher")
        out |= {f"teacher/{name}/{k}": v for k, v in curves.items()}
        ends = [teacher_fit(config, data, [n_in, width, w, width, n_out], spec, name, backend, runs, f"bottleneck w={w}")
                for w in config["widths"]]
        out |= sweep_ends(ends, "bottleneck", name)
    return out


def depth_task(config, backend, runs) -> dict:
    """The depth sweep: each rule at each depth, at its rate for that depth (``depth_eta``; a rule
    without one, at the teacher task's rate)."""
    c, data = config["teacher"], teacher_data(config, backend)
    n_in, width, n_out = c["target_sizes"][0], c["width"], c["target_sizes"][-1]
    out = {}
    for name, spec in c["rules"].items():
        ends = [teacher_fit(config, data, [n_in] + [width] * d + [n_out], spec, name, backend, runs, f"depth {d}",
                            config["depth_eta"].get(name, {}).get(str(d), rate(c, name))) for d in config["depths"]]
        out |= sweep_ends(ends, "depth", name)
    return out


def image_fit(config, c, data, spec, eta, backend, runs, desc, images: str) -> dict:
    """One rule on the images `data` of task `images`, by the MNIST chapter's network and training
    (:func:`falib.experiments.mnist.fit`, the test set scored in one pass): test error and angles per record."""
    curves, net, _ = mnist.fit(spec, dict(c, seed=config["seed"], eta=eta), backend, runs, data, images=images,
                               measure=layer_angles, test_batch=len(data[2]), diverged="nan", window=c["window"],
                               desc=desc)
    return filled(curves, len(net.W) - 1)


def tail(v: np.ndarray, window: int) -> np.ndarray:
    """Each run's mean over the last `window` records of `v` (R, records): its score at the end of
    training, robust to the swings from one minibatch to the next."""
    return v[:, -window:].mean(axis=1)


def image_tasks(config) -> list[str]:
    """The image tasks of the registry that `config` holds, in the registry's order."""
    return [t for t in tasks.IMAGE_TASKS if t in config]


def image_task(config, backend, runs) -> dict:
    """Every rule on each image task that `config` holds (MNIST, Fashion-MNIST)."""
    out = {}
    for task in image_tasks(config):
        c = config[task]
        data = tasks.images(task, c)
        for name, spec in c["rules"].items():
            curves = image_fit(config, c, data, spec, rate(c, name), backend, runs, f"beyond: {task}, {name}", task)
            out |= {f"{task}/{name}/{k}": v for k, v in curves.items()}
        per_epoch = c["train_size"] // c["batch"]
        steps = schedule(c["epochs"] * per_epoch, per_epoch // c["records_per_epoch"], c["window"])
        out[f"{task}/epoch"] = np.asarray(steps) / per_epoch
    return out


def scale_task(config, backend, runs) -> dict:
    """Feedback alignment's β swept on part of MNIST, and the shallow network it is compared with."""
    s = config["scales"]
    c = dict(config["mnist"], train_size=s["train_size"], test_size=s["test_size"])
    data = tasks.images("mnist", c)
    ends = [image_fit(config, c, data, dict(c["rules"]["feedback_alignment"], scale=beta), c["eta"], backend, runs,
                      f"beyond: β = {beta:g}", "mnist") for beta in s["values"]]
    base = image_fit(config, c, data, c["rules"]["shallow"], c["eta"], backend, runs, "beyond: β sweep, shallow",
                     "mnist")
    return {"scale/error": np.stack([tail(e["error"], c["window"]) for e in ends], axis=1),
            "scale/delta0": np.stack([tail(e["delta0"], c["window"]) for e in ends], axis=1),
            "scale/shallow": tail(base["error"], c["window"])}


def compute(config, backend, runs):
    return (linear_task(config, backend, runs) | teacher_task(config, backend, runs) | depth_task(config, backend, runs)
            | image_task(config, backend, runs) | scale_task(config, backend, runs))


def grid(config) -> list[Cell]:
    """A cell per rule and task (the teacher's with its depth and bottleneck sweeps), and one for the β sweep."""
    base = {"seed": config["seed"], "dtype": config["dtype"]}

    def one(task, name, spec, **extra):
        return dict(base, **{task: dict(config[task], rules={name: spec})}, **extra)

    cells = [Cell({"task": "linear", "rule": name}, one("linear", name, spec), linear_task,
                  (f"linear/{name}/", "linear/step")) for name, spec in config["linear"]["rules"].items()]
    cells += [Cell({"task": "teacher", "rule": name}, one("teacher", name, spec, widths=config["widths"]),
                   teacher_task, (f"teacher/{name}/", f"bottleneck/{name}/", "teacher/step"))
              for name, spec in config["teacher"]["rules"].items()]
    cells += [Cell({"task": "depth", "rule": name}, one("teacher", name, spec, depths=config["depths"],
                                                        depth_eta={name: config["depth_eta"].get(name, {})}),
                   depth_task, (f"depth/{name}/",))
              for name, spec in config["teacher"]["rules"].items()]
    cells += [Cell({"task": task, "rule": name}, one(task, name, spec), image_task, (f"{task}/{name}/", f"{task}/epoch"))
              for task in image_tasks(config) for name, spec in config[task]["rules"].items()]
    swept = {k: config["mnist"]["rules"][k] for k in ("feedback_alignment", "shallow")}
    return cells + [Cell({"task": "scale"}, dict(base, mnist=dict(config["mnist"], rules=swept), scales=config["scales"]),
                         scale_task, ("scale/",))]


def inputs(config):
    """The image data sets this experiment reads (so that a missing file stops it before it computes)."""
    return [tasks.images(task, config[task]) for task in image_tasks(config)]


ALIGNED = 10.0     # degrees: B 'converges to' W^T
FOLLOW_UPS = {     # rule -> (claim key, source, what it reports)
    "direct_feedback_alignment": ("dfa-mnist", "Nøkland 2016", "test performance on MNIST almost as good as backprop's"),
    "sign_symmetry": ("ss-mnist", "Liao, Leibo & Poggio 2016", "sign-concordant feedback performs comparably to backprop"),
    "kolen_pollack": ("kp-mnist", "Akrout et al. 2019", "Kolen-Pollack learning performs as well as backprop"),
}


def final(res, task: str, rule: str, measure: str = "error") -> np.ndarray:
    """Each run's `measure` for `rule` on `task` at the end: on an image task its mean over the last
    ``window`` steps (classification errors in %), elsewhere its last record."""
    v = res[f"{task}/{rule}/{measure}"]
    if task not in tasks.IMAGE_TASKS:
        return v[:, -1]
    return tail(v, res.config[task]["window"]) * (100 if measure == "error" else 1)


def gap(res, key: str) -> str | None:
    """Why claim `key` is a known gap at this profile (None if it is not one); the evidence comes from `res`."""
    reason = GAPS.get((res.profile, key))
    if reason is None:
        return None
    reason = reason(res)
    if res.profile == "paper":
        return reason
    c = res.config
    return (f"the quick run is too short ({c['mnist']['train_size']:,} images for {c['mnist']['epochs']} epoch, "
            f"{c['teacher']['steps']:,} steps on the teacher task): {reason}")


def bottleneck_elsewhere(res) -> str:
    widths = res.config["widths"]
    a = np.nanmean(res["bottleneck/direct_feedback_alignment/delta"], axis=0)
    return (f"the narrow layer itself aligns about as well ({a[0, 1]:.0f}° at width {widths[0]}, {a[-1, 1]:.0f}° "
            f"at width {widths[-1]}); the misalignment appears instead in the wide layers beside it: "
            f"{a[0, 0]:.0f}° against {a[-1, 0]:.0f}° below it, {a[0, 2]:.0f}° against {a[-1, 2]:.0f}° above it")


def kp_claim(res) -> Claim:
    angles = {t: [float(np.nanmean(res[f"{t}/kolen_pollack/B{l}"][:, -1])) for l in range(hidden(res, t))]
              for t in ("linear", "teacher")}
    worst = max(max(a) for a in angles.values())
    return Claim("kp-aligns", f"Kolen-Pollack's B converges to Wᵀ: at the end, the angle between them is below "
                 f"{ALIGNED:g}° in every hidden layer (mean over runs), on the linear and the teacher task",
                 "Kolen & Pollack 1994; Akrout et al. 2019: B comes to equal Wᵀ",
                 "; ".join(f"{t}: " + ", ".join(f"{a:.1f}°" for a in v) for t, v in angles.items()),
                 worst < ALIGNED, figure="beyond: table",
                 tolerance=f"ours: 'converges' read as within {ALIGNED:g}° (the sources show it approaching 0)",
                 gap=gap(res, "kp-aligns"), source="follow-up")


def shown(config) -> dict:
    """How the figures and tables show each rule of `config`, on any of its tasks (:func:`falib.plots.looks`)."""
    return looks({name: spec for task in trained(config) for name, spec in config[task]["rules"].items()})


def trained(config) -> list[str]:
    """The tasks of the registry (:data:`falib.tasks.TASKS`) that `config` trains every rule on, in its order."""
    return [t for t in tasks.TASKS if isinstance(config.get(t), dict) and "rules" in config[t]]


def ordered(res) -> list[str]:
    """The rules of `res` in the order of :data:`RULES` (stored configurations come back sorted), then any others."""
    rules = res.config["linear"]["rules"]
    return [r for r in RULES if r in rules] + sorted(set(rules) - set(RULES))


def hidden(res, task: str) -> int:
    return sum(k.startswith(f"{task}/backprop/delta") for k in res.arrays)


def dfa_deep_claim(res) -> Claim:
    d = res.config["depths"][-1]
    dfa, shallow = (float(res[f"depth/{r}/error"][:, -1].mean()) for r in ("direct_feedback_alignment", "shallow"))
    return Claim("dfa-deep", f"Direct feedback alignment still trains the deepest network of the sweep ({d} hidden "
                 "layers): its test NSE is below the shallow network's (hidden layers fixed) at that depth",
                 "Nøkland 2016: DFA trains very deep networks", f"NSE {dfa:.3f} vs shallow {shallow:.3f}",
                 dfa < shallow, figure="beyond: depth",
                 tolerance="the direction only: learning hidden layers must beat leaving them random",
                 gap=gap(res, "dfa-deep"), source="follow-up")


def scale_range(values, fa, shallow) -> tuple[int, list[float]]:
    """The longest run of consecutive β of `values` at which feedback alignment's mean test error
    (`fa`: runs × β) is below the shallow network's (`shallow`: runs), and the β where it is."""
    beats = fa.mean(axis=0) < shallow.mean()
    best = run = 0
    for b in beats:
        run = run + 1 if b else 0
        best = max(best, run)
    return best, [float(v) for v, b in zip(values, beats) if b]


def at_betas(good: list[float]) -> str:
    """Where feedback alignment beats the shallow network, in words: "at β = 0.2, 2 and 20"."""
    if not good:
        return "at none of the β tried"
    listed = [f"{b:g}" for b in good]
    return "at β = " + (f"{', '.join(listed[:-1])} and {listed[-1]}" if len(listed) > 1 else listed[0])


def scale_claim(values, fa, shallow, figure: str, gap: str | None) -> Claim:
    """The paper's "many scales of B worked", on a sweep of β (see `scale_range`)."""
    best, good = scale_range(values, fa, shallow)
    return Claim("scales-range", "Feedback alignment learns MNIST with B's scale β anywhere across at least two orders "
                 "of magnitude: at three or more consecutive β of the sweep (a factor 10 apart) its test error is "
                 "below the shallow network's", "Lillicrap et al. 2016 (Methods): many scales of B worked",
                 f"beats shallow {at_betas(good)}", best >= 3,
                 figure=figure, tolerance="'many scales' read as at least two orders of magnitude (ours)", gap=gap)


def fashion_claim(res) -> Claim:
    m, f = (float(final(res, t, "backprop").mean()) for t in ("mnist", "fashion"))
    return Claim("fashion-harder", "Fashion-MNIST is harder than MNIST for the same network: backprop's test error "
                 "is at least 5 points higher", "Xiao, Rasul & Vollgraf 2017: every benchmarked classifier does "
                 "markedly worse on Fashion-MNIST", f"{f:.2f}% vs {m:.2f}%", f >= m + 5, figure="beyond: table",
                 tolerance="ours: 'markedly' read as 5 points", source="follow-up")


def bottleneck_claim(res) -> Claim:
    widths, a = res.config["widths"], np.nanmean(res["bottleneck/direct_feedback_alignment/delta"][..., 1], axis=0)
    return Claim("bottleneck", f"A narrow layer does not align: direct feedback alignment's δ angle in the bottleneck "
                 f"layer is at least 10° larger at width {widths[0]} than at width {widths[-1]}",
                 "Launay, Poli & Krzakala 2019: a bottleneck prevents alignment in narrow layers",
                 f"{a[0]:.0f}° at width {widths[0]}, {a[-1]:.0f}° at width {widths[-1]}", a[0] >= a[-1] + 10,
                 figure="beyond: bottleneck", tolerance="ours: 10°, a difference that no run-to-run spread here explains",
                 gap=gap(res, "bottleneck"), source="follow-up")


def sanity_claims(res) -> list[Claim]:
    same = all(np.array_equal(res[f"{t}/feedback_alignment/{m}"], res[f"{t}/direct_feedback_alignment/{m}"],
                              equal_nan=True) for t in ("linear", "mnist", "fashion") for m in ("error", "delta0"))
    return [Claim("dfa-is-fa", "With one hidden layer direct feedback alignment is feedback alignment: identical "
                  "curves on the linear task, MNIST and Fashion-MNIST", "Nøkland 2016 (by construction)",
                  "identical" if same else "different", same, figure="beyond: table", kind="sanity",
                  tolerance="exact: the same B, drawn from the same stream", source="ours")]


QUICK_REASONS = {
    "kp-aligns": "B - Wᵀ shrinks by a factor (1 - η λ) per step, and the quick run takes too few steps",
    "bottleneck": "the wide layer has not aligned yet either",
}
GAPS = {   # (profile, claim key) -> the reason we do not reproduce it, from the results
    **{("quick", k): (lambda res, text=text: text) for k, text in QUICK_REASONS.items()},
    ("paper", "bottleneck"): bottleneck_elsewhere,
}


def claims(res) -> Claims:
    """Beyond's claims; the follow-up papers' "as good as backprop" on MNIST and the paper's "many
    scales of B" are judged on converged runs, in :mod:`.beyond_converged`."""
    rows = [kp_claim(res), dfa_deep_claim(res), fashion_claim(res), bottleneck_claim(res), *sanity_claims(res)]
    return Claims(rows).on(len(res.meta["runs"]), protocol(res.config))


def protocol(config) -> str:
    """How the runs behind the claims were trained, in a few words."""
    m, t = config["mnist"], config["teacher"]
    return (f"MNIST and Fashion-MNIST {m['epochs']} epochs (batch {m['batch']}, η {m['eta']:g}, each run scored by "
            f"its mean over the last {m['window']} steps); teacher task "
            f"{t['steps'] * t['batch']:,} examples, the depth sweep at each rule's rate for each depth (chosen by "
            "beyond-search on validation data); linear task "
            f"{config['linear']['steps']:,} examples")


def spread(v: np.ndarray, fmt: str) -> str:
    """Mean ± SD over runs (SD only with more than one run); a dash if undefined."""
    v = v[np.isfinite(v)]
    if v.size == 0:
        return "—"
    return format(v.mean(), fmt) + (f" ± {format(v.std(ddof=1), fmt)}" if v.size > 1 else "")


def table(res):
    """The main table: per rule, test error on each task, and the final δ and B angles (Markdown)."""
    from IPython.display import Markdown

    L, look = hidden(res, "teacher"), shown(res.config)
    head = ("| rule | MNIST error (%) | Fashion-MNIST error (%) | linear NSE | teacher NSE | δ angle, MNIST | "
            "δ angle, Fashion | δ angles, teacher (layers 1, 2) | B vs Wᵀ, MNIST | B vs Wᵀ, teacher (1, 2) |\n"
            "|---|---|---|---|---|---|---|---|---|---|")
    rows = []
    for rule in ordered(res):
        teacher = ", ".join(spread(final(res, "teacher", rule, f"delta{l}"), ".0f") for l in range(L))
        b_teacher = ", ".join(spread(final(res, "teacher", rule, f"B{l}"), ".0f") for l in range(L))
        rows.append(f"| {look[rule].label} | {spread(final(res, 'mnist', rule), '.2f')} | "
                    f"{spread(final(res, 'fashion', rule), '.2f')} | {spread(final(res, 'linear', rule), '.1e')} | "
                    f"{spread(final(res, 'teacher', rule), '.3f')} | {spread(final(res, 'mnist', rule, 'delta0'), '.0f')}° | "
                    f"{spread(final(res, 'fashion', rule, 'delta0'), '.0f')}° | {teacher} | "
                    f"{spread(final(res, 'mnist', rule, 'B0'), '.0f')}° | {b_teacher} |")
    return Markdown("\n".join([head] + rows).replace("—°", "—"))


def ending(res, task: str, rule: str) -> dict[str, float]:
    """How `rule`'s test error (%) on image task `task` ends, over the last ``window`` steps (each
    recorded): the last step's and the window's mean (over runs), the swing from step to step (SD
    within the window, mean over runs), and how alike the runs swing (the mean correlation, over
    pairs of runs, of their step-to-step changes: every run sees the same minibatches in the same order)."""
    w = res.config[task]["window"]
    e = 100 * res[f"{task}/{rule}/error"][:, -w:]
    change = np.diff(e, axis=1)
    r = np.corrcoef(change)[np.triu_indices(len(e), 1)] if len(e) > 1 else np.full(1, np.nan)
    return {"last": float(e[:, -1].mean()), "mean": float(e.mean()), "swing": float(e.std(axis=1, ddof=1).mean()),
            "together": float(np.mean(r))}


def endings_table(res, task: str = "mnist"):
    """Per rule, how its test error on `task` ends (:func:`ending`), as Markdown."""
    from IPython.display import Markdown

    look, w = shown(res.config), res.config[task]["window"]
    rows = [f"| rule | last step (%) | mean over the last {w} steps (%) | swing from step to step (SD, points) | "
            "runs swing alike (correlation) |", "|---|---|---|---|---|"]
    for rule in ordered(res):
        end = ending(res, task, rule)
        if np.isfinite(end["mean"]):
            rows.append(f"| {look[rule].label} | {end['last']:.2f} | {end['mean']:.2f} | {end['swing']:.2f} | "
                        f"{end['together']:.2f} |")
    return Markdown("\n".join(rows))


def legend_row(key, res):
    """One legend for every rule, in its own row (`key`: an axis with nothing else on it)."""
    from matplotlib.lines import Line2D

    rules, look = ordered(res), shown(res.config)
    key.axis("off")
    key.legend([Line2D([], [], color=look[r].color, lw=1.6) for r in rules], [look[r].label for r in rules],
               loc="center", ncol=3)


def figure(res):
    """Every rule on every task: test error over training (top) and the first hidden layer's δ angle (bottom)."""
    columns = trained(res.config)
    fig, axes = plt.subplot_mosaic([["key"] * len(columns), [f"e{j}" for j in range(len(columns))],
                                    [f"a{j}" for j in range(len(columns))]], figsize=(WIDTH, 6.4), height_ratios=[0.9, 3, 3])
    legend_row(axes["key"], res)
    look = shown(res.config)
    for j, task in enumerate(columns):
        top, bottom = axes[f"e{j}"], axes[f"a{j}"]
        images = task in tasks.IMAGE_TASKS
        x = res[f"{task}/epoch"] if images else res[f"{task}/step"] / 1000
        for rule in ordered(res):
            e = res[f"{task}/{rule}/error"] * (100 if images else 1)
            if np.isfinite(e).all():
                curve(top, x, e, look[rule])
            a = res[f"{task}/{rule}/delta0"]
            if np.isfinite(a).all() and not traits(res.config[task]["rules"][rule]).backprop:
                curve(bottom, x, a, look[rule])
        top.set(title=NAMES.get(task, task), yscale="linear" if images else "log")
        bottom.set(xlabel="epochs" if images else "examples (1000s)", ylim=(0, 100))
        bottom.axhline(90, color="0.6", ls=":", lw=1)
    axes["e0"].set_ylabel("test error\n(NSE; MNIST: %)")
    axes["a0"].set_ylabel("δ angle to\nbackprop's (deg)")
    return finish(fig, res)


def sweep_figure(res):
    """Depth (a: test NSE; b: the lowest hidden layer's δ angle), the bottleneck (c) and B's scale (d)."""
    fig, axes = plt.subplot_mosaic([["key", "key"], ["a", "b"], ["c", "d"]], figsize=(WIDTH, 7.0),
                                   height_ratios=[0.8, 3, 3])
    legend_row(axes["key"], res)
    a, b, c, d = (axes[k] for k in "abcd")
    depths, widths, look = res.config["depths"], res.config["widths"], shown(res.config)
    for rule in ordered(res):
        color = look[rule].color
        e = res[f"depth/{rule}/error"]
        ok = np.isfinite(e).all(axis=0)
        a.errorbar(np.asarray(depths)[ok], e.mean(0)[ok], e.std(0)[ok], color=color, marker="o", ms=3,
                   lw=1.4, capsize=2)
        angle = res[f"depth/{rule}/delta"][..., 0]
        if np.isfinite(angle).any() and not traits(res.config["teacher"]["rules"][rule]).backprop:
            b.plot(depths, np.nanmean(angle, axis=0), "o-", color=color, ms=3, lw=1.4)
        w = res[f"bottleneck/{rule}/error"]
        ok = np.isfinite(w).all(axis=0)
        c.plot(np.asarray(widths)[ok], w.mean(0)[ok], "o-", color=color, ms=3, lw=1.4)
    a.set(xlabel="hidden tanh layers (width 20)", ylabel="test NSE (teacher)", yscale="log", xticks=depths)
    b.set(xlabel="hidden tanh layers (width 20)", ylabel="δ angle, lowest layer (deg)", ylim=(0, 100), xticks=depths)
    b.axhline(90, color="0.6", ls=":", lw=1)
    c.set(xlabel="bottleneck width w (30-20-w-20-10)", ylabel="test NSE (teacher)", xscale="log", yscale="log")
    c.set_xticks(widths, [str(w) for w in widths])
    c.minorticks_off()
    beta = res.config["scales"]["values"]
    err, swept, base = 100 * res["scale/error"], look["feedback_alignment"], look["shallow"]
    d.errorbar(beta, np.nanmean(err, 0), np.nanstd(err, 0), color=swept.color, marker="o",
               ms=3, capsize=2, label=swept.label)
    d.axhline(100 * res["scale/shallow"].mean(), color=base.color, ls="--", lw=1, label=base.label)
    d.set(xscale="log", xlabel="scale β of B (MNIST, part)", ylabel="test error (%)")
    d.legend(frameon=False)
    return finish(fig, res, (a, "a"), (b, "b"), (c, "c"), (d, "d"))


def prose(res) -> dict[str, str]:
    """The numbers the chapter's text states, as text for its inline expressions."""
    c, n, look = res.config, len(res.meta["runs"]), shown(res.config)
    order = {d: sorted(c["linear"]["rules"], key=lambda r: np.nan_to_num(res[f"depth/{r}/error"][:, i].mean(), nan=np.inf))
             for i, d in enumerate(c["depths"])}
    _, good = scale_range(c["scales"]["values"], res["scale/error"], res["scale/shallow"])
    bp = {t: float(final(res, t, "backprop").mean()) for t in ("mnist", "fashion")}
    ss_linear = res["linear/sign_symmetry/error"]
    kp, bp_end = ending(res, "mnist", "kolen_pollack"), ending(res, "mnist", "backprop")
    return {"runs": str(n), "epochs": f"{c['mnist']['epochs']:g}", "train_size": f"{c['mnist']['train_size']:,}",
            "bp_mnist": f"{bp['mnist']:.2f}%", "bp_fashion": f"{bp['fashion']:.2f}%",
            **{f"{FOLLOW_UPS[r][0].split('-')[0]}_mnist": f"{final(res, 'mnist', r).mean():.2f}%" for r in FOLLOW_UPS},
            "fa_mnist": f"{final(res, 'mnist', 'feedback_alignment').mean():.2f}%",
            "best_shallow": look[order[c["depths"][0]][0]].label, "best_deep": look[order[c["depths"][-1]][0]].label,
            "order_shallow": ", ".join(look[r].label for r in order[c["depths"][0]]),
            "order_deep": ", ".join(look[r].label for r in order[c["depths"][-1]]),
            "depth_min": str(c["depths"][0]), "depth_max": str(c["depths"][-1]),
            "depth_list": ", ".join(map(str, c["depths"])),
            **{f"{k}_by_depth": ", ".join(f"{v:.1e}" if np.isfinite(v) else "diverged"
                                          for v in res[f"depth/{r}/error"].mean(axis=0))
               for k, r in (("bp", "backprop"), ("ss", "sign_symmetry"), ("kp", "kolen_pollack"))},
            "beta_good": at_betas(good),
            **{f"{k}_angle": f"{final(res, 'mnist', r, 'delta0').mean():.0f}°" for k, r in
               (("fa", "feedback_alignment"), ("kp", "kolen_pollack"), ("ss", "sign_symmetry"), ("np", "node_perturbation"))},
            "fa_b_angle": f"{final(res, 'mnist', 'feedback_alignment', 'B0').mean():.0f}°",
            "ss_linear": "diverged" if not np.isfinite(ss_linear).all() else f"ended at NSE {ss_linear[:, -1].mean():.1e}",
            "window": str(c["mnist"]["window"]), "kp_last": f"{kp['last']:.2f}%", "kp_end": f"{kp['mean']:.2f}%",
            "kp_swing": f"{kp['swing']:.2f}", "bp_swing": f"{bp_end['swing']:.2f}", "kp_together": f"{kp['together']:.2f}",
            "kp_alike": "mostly together" if kp["together"] >= 0.5 else "largely each its own way"}


EXPERIMENT = Experiment("beyond", "Beyond the paper: DFA, sign symmetry, Kolen-Pollack; depth, bottleneck, B's scale",
                        {"quick": QUICK, "paper": PAPER}, compute, claims, order=7,
                        backend=Backend("torch", dtype="float32"), chunk=1,
                        shared=tuple(f"{t}/{'epoch' if t in tasks.IMAGE_TASKS else 'step'}" for t in trained(PAPER)),
                        inputs=inputs, data="FALIB_MNIST or FALIB_FASHION_MNIST", grid=grid,
                        start={"config": {"linear": {"steps": 4 * PAPER["linear"]["record_every"]},
                                          "teacher": {"steps": 4 * PAPER["teacher"]["record_every"]},
                                          "mnist": {"epochs": 1}, "fashion": {"epochs": 1}}, "run": 1, "rtol": 1e-5})
