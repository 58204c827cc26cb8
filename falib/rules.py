"""The learning rules, side by side.

Every rule shares the forward pass, the output error ``e = y* - y`` and the weight update
``ΔW[l] ∝ delta[l] h[l]^T`` (see ``Network.update``). A rule has two moments:

- ``deltas(net, p, target, noise)``: the errors ``delta[l]`` of every layer, from a forward pass
  ``p`` and a target. It is pure: it changes neither the rule nor the network, so measuring a
  rule (an angle) never changes how it trains. Most rules define it through ``send``, the matrix
  that carries ``delta`` one layer down. A rule that needs random numbers for a step (node
  perturbation) gets them as ``noise``, drawn by ``noise(net, batch)``, which the training step
  calls once per step.
- ``learn(net, p, deltas, eta, decay)``: after the weight update, for a rule that learns its own
  feedback weights (Kolen-Pollack); the others do nothing.

=========================  ===========================================================================
backprop                   ``delta[l] = (W[l+1]^T @ delta[l+1]) * f'(a[l])``
feedback_alignment         ``delta[l] = (B[l] @ delta[l+1]) * f'(a[l])``, B fixed and random
direct_feedback_alignment  ``delta[l] = (B[l] @ delta[L]) * f'(a[l])``: the output's error, straight down
sign_symmetry              ``delta[l] = (sign(W[l+1])^T @ delta[l+1]) * f'(a[l])``
kolen_pollack              as feedback alignment, but B learns: it receives W's update transposed (-> W^T)
shallow                    hidden layers receive nothing and do not learn
node_perturbation          no error vector: every unit gets the same scalar reward signal
=========================  ===========================================================================

A rule is named in an experiment's configuration by its spec, ``{"rule": name, **params}``
(:func:`make_rule` builds it); ``rule.bind(net)`` draws its random state from the network's own
replica context, one draw per run. Each rule's class also says how every figure shows it: its
`label` and its `color`, which no other rule shares (:func:`falib.plots.look`).
"""
from __future__ import annotations

from typing import Sequence

from array_api_compat import array_namespace

from .backend import add_product, replica_rng
from .networks import Network, Pass


class Rule:
    """Backward pass shared by all rules; subclasses define ``send`` (or ``deltas``)."""

    name = "rule"
    label: str                     # the rule's name in figures and tables (each rule's class declares it)
    color: str                     # its colour in every figure: one that no other rule has
    params: tuple[str, ...] = ()   # the constructor's parameters, recorded in the spec
    density = 1.0                  # the fraction of the network's last-layer connections (sparse FA)
    stochastic = False             # its errors are estimates from random perturbations (node perturbation)

    @property
    def spec(self) -> dict:
        """``{"rule": name, **params}``: what an experiment's configuration records."""
        return {"rule": self.name, **{k: getattr(self, k) for k in self.params}}

    def bind(self, net: Network, *, seed: int | None = None, runs: Sequence[int] | None = None,
             backend=None) -> "Rule":
        """Draw the rule's random state from `net`'s replica context, one draw per run; returns self.

        `seed` and `runs` default to the network's; pass `runs` (one index per run) only to draw
        from other runs' streams, e.g. ``[0] * net.runs`` for the same B in every run. `backend`,
        if given, must be the network's.
        """
        runs = net.replicas if runs is None else tuple(runs)
        if len(runs) != net.runs:
            raise ValueError(f"{self.name}: runs {list(runs)} name {len(runs)} draws for a network of "
                             f"{net.runs} runs; each run needs its own (leave runs out: the network knows them)")
        if backend is not None and backend != net.backend:
            raise ValueError(f"{self.name}: asked to bind on {backend}, but the network's weights are on "
                             f"{net.backend}; leave backend out (the network knows it)")
        self.draw(net, net.seed if seed is None else seed, runs)
        return self

    def draw(self, net: Network, seed: int, runs: Sequence[int]) -> None:
        """Draw the rule's own random state (a rule without any has nothing to do)."""

    def noise(self, net: Network, batch: int, probe: bool = False):
        """The random numbers one step needs (None for a deterministic rule); see NodePerturbation."""
        return None

    def learns(self, net: Network, l: int) -> bool:
        """Whether layer ``l`` receives an error (and so learns); every layer, for most rules."""
        return True

    def send(self, net: Network, l: int, delta):
        """The signal that ``delta[l+1]`` sends to layer ``l`` (a layer that learns)."""
        raise NotImplementedError

    def deltas(self, net: Network, p: Pass, target, noise=None) -> list:
        """``delta[l]`` for every layer (None where the layer does not learn); changes nothing."""
        e = target - p.y
        delta = [net.f[-1].backward(e, p.y)]
        for l in reversed(range(len(net.W) - 1)):
            if not self.learns(net, l):
                return [None] * (l + 1) + delta
            delta.insert(0, net.f[l].backward(self.send(net, l, delta[0]), p.h[l + 1]))
        return delta

    def learn(self, net: Network, p: Pass, deltas: list, eta: float, decay: float) -> None:
        """After the weight update: learn the rule's own feedback weights (most rules have none)."""

    def feedback(self, net: Network) -> list:
        """Per hidden layer l, the matrix that carries the error in place of ``W[l+1]^T`` (None if none)."""
        return [None] * (len(net.W) - 1)

    def __repr__(self):
        return self.name


class Backprop(Rule):
    """Backpropagation of error (Rumelhart, Hinton & Williams 1986): the error travels back via ``W^T``."""

    name = "backprop"
    label = "backprop"
    color = "#1f77b4"

    def send(self, net, l, delta):
        return net.W[l + 1].mT @ delta


class FeedbackAlignment(Rule):
    """Feedback alignment (Lillicrap et al. 2016, eq. 1): the error travels back via fixed random ``B``.

    ``B[l]`` has the shape of ``W[l+1]^T``, entries uniform in [-scale, scale] (one scale, or one
    per hidden layer); with ``density < 1`` each run keeps only that fraction of its entries (and
    the network keeps that fraction of its last layer's connections: the paper's sparse variant).
    """

    name = "feedback_alignment"
    label = "feedback alignment"
    color = "#d62728"
    params = ("scale", "density")

    def __init__(self, scale: float | Sequence[float] = 0.5, density: float = 1.0):
        if not 0 < density <= 1:
            raise ValueError(f"density must be in (0, 1], got {density}")
        self.scale, self.density, self.B = scale, density, None

    def shapes(self, net) -> list[tuple[int, int]]:
        """The shape of each hidden layer's B (per run)."""
        return [tuple(W.shape[:0:-1]) for W in net.W[1:]]

    def draw(self, net, seed, runs):
        shapes = self.shapes(net)
        scale = [self.scale] * len(shapes) if isinstance(self.scale, (int, float)) else list(self.scale)
        if len(scale) != len(shapes):
            raise ValueError(f"expected {len(shapes)} feedback scales (one per hidden layer), got {len(scale)}")
        rngs = [replica_rng(seed, r, "feedback") for r in runs]
        self.B = []
        for shape, s in zip(shapes, scale):
            B = [g.uniform(-s, s, size=shape) for g in rngs]
            if self.density < 1:
                B = [Bi * (g.random(size=shape) < self.density) for Bi, g in zip(B, rngs)]
            self.B.append(net.backend.asarray(B))

    def bound(self) -> list:
        if self.B is None:
            raise RuntimeError(f"{self.name} has no B yet: call rule.bind(net) first")
        return self.B

    def send(self, net, l, delta):
        return self.bound()[l] @ delta

    def feedback(self, net):
        return list(self.bound())


class DirectFeedbackAlignment(FeedbackAlignment):
    """Direct feedback alignment (Nøkland 2016): every hidden layer receives the output's error
    straight through its own fixed random ``B[l]``, of shape ``(n_{l+1}, n_out)``; with one hidden
    layer it is feedback alignment."""

    name = "direct_feedback_alignment"
    label = "direct feedback alignment"
    color = "#9467bd"

    def shapes(self, net):
        return [(n, net.sizes[-1]) for n in net.sizes[1:-1]]

    def deltas(self, net, p, target, noise=None):
        out = net.f[-1].backward(target - p.y, p.y)
        return [net.f[l].backward(B @ out, p.h[l + 1]) for l, B in enumerate(self.bound())] + [out]

    def feedback(self, net):
        """Only the last hidden layer's B stands where a ``W^T`` would."""
        return [None] * (len(net.W) - 2) + [self.bound()[-1]]


class SignSymmetry(Rule):
    """Sign symmetry (Liao, Leibo & Poggio 2016): the error travels back via ``sign(W)^T``, the
    signs of the forward weights with none of their magnitudes."""

    name = "sign_symmetry"
    label = "sign symmetry"
    color = "#8c564b"

    def send(self, net, l, delta):
        return array_namespace(delta).sign(net.W[l + 1]).mT @ delta

    def feedback(self, net):
        return [array_namespace(W).sign(W).mT for W in net.W[1:]]


class Shallow(Rule):
    """Only the output layer learns; the hidden layers keep their random initial weights."""

    name = "shallow"
    label = "shallow"
    color = "#7f7f7f"

    def learns(self, net, l):
        """The output layer only."""
        return l == len(net.W) - 1


class NodePerturbation(Rule):
    """Node perturbation (Williams 1992; Werfel, Xie & Seung 2005).

    Every unit's input is jittered by ``xi ~ N(0, sigma^2)`` (the step's `noise`); the change in
    loss ``dL = L(xi) - L(0)`` (one scalar per example, broadcast to every unit) gives
    ``delta[l] = -dL xi[l] / sigma^2``, an unbiased estimate of ``-dL/da[l]`` as sigma -> 0.
    """

    name = "node_perturbation"
    label = "node perturbation"
    color = "#2ca02c"
    params = ("sigma",)
    stochastic = True

    def __init__(self, sigma: float = 0.01):
        if sigma <= 0:
            raise ValueError(f"sigma must be positive, got {sigma}")
        self.sigma, self.rngs, self.context = sigma, None, None

    def draw(self, net, seed, runs):
        self.rngs, self.context = [replica_rng(seed, r, "noise") for r in runs], (seed, runs)

    def noise(self, net, batch, probe=False):
        """One perturbation ``xi[l]`` per layer, ``(R, n_l, batch)``: the next of the training
        stream (advancing it), or with `probe` one from a fresh measuring stream (the training
        stream untouched)."""
        if self.rngs is None:
            raise RuntimeError("node_perturbation has no noise source yet: call rule.bind(net) first")
        rngs = [replica_rng(self.context[0], r, "probe") for r in self.context[1]] if probe else self.rngs
        return [net.backend.asarray([g.normal(0.0, self.sigma, size=(n, batch)) for g in rngs])
                for n in net.sizes[1:]]

    def deltas(self, net, p, target, noise=None):
        if noise is None:
            raise ValueError("node_perturbation needs the step's perturbation: "
                             "rule.deltas(net, p, target, rule.noise(net, batch))")
        xp = array_namespace(target)
        loss = xp.sum((target - p.y) ** 2, axis=-2, keepdims=True) / 2
        noisy = net.forward(p.h[0], noise=noise)
        dL = xp.sum((target - noisy.y) ** 2, axis=-2, keepdims=True) / 2 - loss
        return [-dL * xi_l / self.sigma**2 for xi_l in noise]


class KolenPollack(FeedbackAlignment):
    """Kolen & Pollack (1994), as in Akrout et al. (2019): B starts random and learns. After each
    weight update, ``B[l]`` receives the transpose of ``W[l+1]``'s update, and both decay by the
    rule's `decay` λ (on top of the training's own decay), so that
    ``B - W^T`` shrinks by ``(1 - eta λ)`` every step and B converges to ``W^T``."""

    name = "kolen_pollack"
    label = "Kolen-Pollack"
    color = "#17becf"
    params = ("scale", "decay")

    def __init__(self, scale: float | Sequence[float] = 0.5, decay: float = 1e-3):
        if decay < 0:
            raise ValueError(f"decay must be at least 0, got {decay}")
        super().__init__(scale)
        self.decay = decay

    def learn(self, net, p, deltas, eta, decay):
        keep = 1 - eta * self.decay
        for l, B in enumerate(self.bound()):
            if deltas[l + 1] is None or l + 1 in net.frozen:
                continue
            net.W[l + 1] *= keep
            rate = eta * keep / deltas[l + 1].shape[-1]
            add_product(B, p.h[l + 1], deltas[l + 1].mT, beta=keep * (1 - eta * decay), alpha=rate)


RULES = {rule.name: rule for rule in (Backprop, FeedbackAlignment, DirectFeedbackAlignment, SignSymmetry,
                                      KolenPollack, Shallow, NodePerturbation)}


def make_rule(rule: str | dict | Rule, **params) -> Rule:
    """A rule from its name and parameters (``make_rule("feedback_alignment", scale=0.5)``), from its
    spec (``make_rule({"rule": "feedback_alignment", "scale": 0.5})``), or a rule object as it is."""
    if isinstance(rule, Rule):
        if params:
            raise ValueError(f"parameters {sorted(params)} given with a rule object ({rule.name}); "
                             "set them when constructing it")
        return rule
    if isinstance(rule, dict):
        if "rule" not in rule:
            raise ValueError(f"a rule spec names its rule: {{'rule': name, ...params}}, got {rule}")
        rule, params = rule["rule"], {k: v for k, v in rule.items() if k != "rule"} | params
    if rule not in RULES:
        raise ValueError(f"unknown learning rule {rule!r}; choose one of: {', '.join(RULES)}")
    unknown = set(params) - set(RULES[rule].params)
    if unknown:
        raise ValueError(f"{rule} has no parameter {', '.join(sorted(unknown))}; its parameters: "
                         f"{', '.join(RULES[rule].params) or 'none'}")
    return RULES[rule](**params)

