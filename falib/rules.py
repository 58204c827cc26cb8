"""The learning rules, side by side.

Every rule shares the forward pass, the output error ``e = y* - y`` and the weight update
``ΔW[l] ∝ delta[l] h[l]^T`` (see ``Network.update``). They differ only in how the error reaches
the hidden layers, i.e. in ``send``, the matrix that carries ``delta`` one layer down:

=====================  ==============================================================
backprop               ``delta[l] = (W[l+1]^T @ delta[l+1]) * f'(a[l])``
feedback_alignment     ``delta[l] = (B[l] @ delta[l+1]) * f'(a[l])``, B fixed and random
shallow                hidden layers receive nothing and do not learn
node_perturbation      no error vector: every unit gets the same scalar reward signal
=====================  ==============================================================
"""
from __future__ import annotations

from typing import Sequence

from array_api_compat import array_namespace

from .backend import Backend, replica_rng
from .networks import Network, Pass

FEEDBACK_STREAM = 1
NOISE_STREAM = 2


class Rule:
    """Backward pass shared by all rules; subclasses define ``send``."""

    name = "rule"

    def bind(self, net: Network, *, seed: int = 0, runs: Sequence[int] = (0,),
             backend: Backend = Backend()) -> "Rule":
        """Draw the rule's own random state (one per run); returns self."""
        return self

    def send(self, net: Network, l: int, delta):
        """The signal that ``delta[l+1]`` sends to layer ``l``, or None if layer l does not learn."""
        raise NotImplementedError

    def deltas(self, net: Network, p: Pass, target) -> list:
        """``delta[l]`` for every layer (None where the layer does not learn)."""
        e = target - p.y
        delta = [net.f[-1].backward(e, p.y)]
        for l in reversed(range(len(net.W) - 1)):
            signal = self.send(net, l, delta[0])
            if signal is None:
                return [None] * (l + 1) + delta
            delta.insert(0, net.f[l].backward(signal, p.h[l + 1]))
        return delta

    def __repr__(self):
        return self.name


class Backprop(Rule):
    """Backpropagation of error (Rumelhart, Hinton & Williams 1986): the error travels back via ``W^T``."""

    name = "backprop"

    def send(self, net, l, delta):
        return net.W[l + 1].mT @ delta


class FeedbackAlignment(Rule):
    """Feedback alignment (Lillicrap et al. 2016, eq. 1): the error travels back via fixed random ``B``.

    ``B[l]`` has the shape of ``W[l+1]^T``, entries uniform in [-scale, scale] (one scale, or one
    per hidden layer); with ``density < 1`` each run keeps only that fraction of its entries.
    """

    name = "feedback_alignment"

    def __init__(self, scale: float | Sequence[float] = 0.5, density: float = 1.0):
        if not 0 < density <= 1:
            raise ValueError(f"density must be in (0, 1], got {density}")
        self.scale, self.density, self.B = scale, density, None

    def bind(self, net, *, seed=0, runs=(0,), backend=Backend()):
        L = len(net.W)
        scale = [self.scale] * (L - 1) if isinstance(self.scale, (int, float)) else list(self.scale)
        if len(scale) != L - 1:
            raise ValueError(f"expected {L - 1} feedback scales (one per hidden layer), got {len(scale)}")
        rngs = [replica_rng(seed, r, FEEDBACK_STREAM) for r in runs]
        self.B = []
        for l in range(L - 1):
            shape = tuple(net.W[l + 1].shape[:0:-1])
            B = [g.uniform(-scale[l], scale[l], size=shape) for g in rngs]
            if self.density < 1:
                B = [Bi * (g.random(size=shape) < self.density) for Bi, g in zip(B, rngs)]
            self.B.append(backend.asarray(B))
        return self

    def send(self, net, l, delta):
        if self.B is None:
            raise RuntimeError("feedback_alignment has no B yet: call rule.bind(net, ...) first")
        return self.B[l] @ delta


class Shallow(Rule):
    """Only the output layer learns; the hidden layers keep their random initial weights."""

    name = "shallow"

    def send(self, net, l, delta):
        return None


class NodePerturbation(Rule):
    """Node perturbation (Williams 1992; Werfel, Xie & Seung 2005).

    Every unit's input is jittered by ``xi ~ N(0, sigma^2)``; the change in loss
    ``dL = L(xi) - L(0)`` (one scalar per example, broadcast to every unit) gives
    ``delta[l] = -dL xi[l] / sigma^2``, an unbiased estimate of ``-dL/da[l]`` as sigma -> 0.
    """

    name = "node_perturbation"

    def __init__(self, sigma: float = 0.01):
        if sigma <= 0:
            raise ValueError(f"sigma must be positive, got {sigma}")
        self.sigma, self.rngs, self.backend = sigma, None, None

    def bind(self, net, *, seed=0, runs=(0,), backend=Backend()):
        self.rngs = [replica_rng(seed, r, NOISE_STREAM) for r in runs]
        self.backend = backend
        return self

    def deltas(self, net, p, target):
        if self.rngs is None:
            raise RuntimeError("node_perturbation has no noise source yet: call rule.bind(net, ...) first")
        xp = array_namespace(target)
        batch = p.y.shape[-1]
        xi = [self.backend.asarray([g.normal(0.0, self.sigma, size=(n, batch)) for g in self.rngs])
              for n in net.sizes[1:]]
        x = p.h[0]
        loss = xp.sum((target - p.y) ** 2, axis=-2, keepdims=True) / 2
        noisy = net.forward(x, noise=xi)
        dL = xp.sum((target - noisy.y) ** 2, axis=-2, keepdims=True) / 2 - loss
        return [-dL * xi_l / self.sigma**2 for xi_l in xi]


RULES = {rule.name: rule for rule in (Backprop, FeedbackAlignment, Shallow, NodePerturbation)}


def make_rule(name: str, **params) -> Rule:
    """A rule by name, e.g. ``make_rule("feedback_alignment", scale=0.5)``."""
    if name not in RULES:
        raise ValueError(f"unknown learning rule {name!r}; choose one of: {', '.join(RULES)}")
    return RULES[name](**params)
