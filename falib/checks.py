"""The checks a student runs after each exercise of the chapters.

Each check recomputes what the exercise asks for independently, or tests the student's code on
a case with a known answer, and raises an ``AssertionError`` that says what differs; on success
it prints what it confirmed.
"""
from __future__ import annotations

from importlib.util import find_spec

import numpy as np

from .backend import Backend, to_numpy


def _ok(message: str):
    print(f"✓ {message}")


def _expect(condition: bool, message: str):
    if not condition:
        raise AssertionError(message)


def _keys(found: dict, expected, what: str):
    _expect(set(found) == set(expected), f"{what}: expected the keys {sorted(expected)}, got {sorted(found)}")


# linear

def feedback_scales(runs: dict):
    """Linear, exercise 1: ``{scale: explorers.linear_run(feedback_scale=scale)}`` for 0.05, 0.5, 5."""
    from .explorers import linear_run

    _keys(runs, (0.05, 0.5, 5), "runs")
    for scale, curves in runs.items():
        again = linear_run(feedback_scale=scale)
        _expect(np.allclose(curves["feedback_alignment"]["nse"], again["feedback_alignment"]["nse"],
                            equal_nan=True), f"scale {scale}: feedback alignment's curve differs from "
                f"explorers.linear_run(feedback_scale={scale})")
    _expect(runs[5]["feedback_alignment"]["diverged"] is not None, "at scale 5 feedback alignment should diverge")
    _ok("three feedback scales; feedback alignment learns at 0.05 and 0.5 and diverges at 5")


def sign_symmetry(rule_class):
    """Linear, exercise 2: the rule's ``send`` is ``sign(W[l+1])^T delta`` (numpy and torch)."""
    from .networks import Network

    backends = [Backend()] + ([Backend("torch", dtype="float64")] if find_spec("torch") else [])
    for backend in backends:
        net = Network.init([6, 5, 4, 3], "tanh", 0.5, seed=1, runs=[0, 1], backend=backend)
        delta = backend.asarray(np.random.default_rng(0).standard_normal((2, 3, 7)))
        rule = rule_class().bind(net, seed=1, runs=[0, 1], backend=backend)
        got = to_numpy(rule.send(net, 1, delta))
        W = to_numpy(net.W[2])
        want = np.sign(W).swapaxes(-1, -2) @ to_numpy(delta)
        _expect(got.shape == want.shape, f"send returned shape {got.shape}; expected {want.shape}")
        _expect(np.allclose(got, want), f"on {backend.name}, send(net, l, delta) is not sign(W[l+1])ᵀ delta")
    _ok("your sign-symmetry rule's update matches sign(W)ᵀ δ on " + " and ".join(b.name for b in backends))


# mechanics

def square_B(square: dict, tall: dict):
    """Mechanics, exercise 1: ``mechanics.linear_case`` with sizes [30, 10, 10] and [30, 20, 10]."""
    from .experiments import mechanics

    for name, found, sizes in (("square", square, [30, 10, 10]), ("tall", tall, [30, 20, 10])):
        want = mechanics.linear_case(dict(mechanics.PAPER["linear"], sizes=sizes), 2016, Backend(), range(3))
        for k in ("linear/angle_T", "linear/angle_pinv"):
            _expect(np.allclose(found[k], want[k]), f"{name}: {k} differs from mechanics.linear_case with "
                    f"sizes {sizes}, seed 2016, runs range(3) on the NumPy backend")
    _ok("both cases recomputed; compare the angles to Bᵀ and to B⁺ in each")


def phase_order(swapped: dict, phase_steps: int = 300):
    """Mechanics, exercise 2: the three phases with W trained first."""
    from .explorers import mechanics_run

    want = mechanics_run("W first", phase_steps=phase_steps)
    _expect(np.allclose(swapped["angle_T"], want["angle_T"], atol=1e-3),
            f"the angle curve differs from explorers.mechanics_run('W first', phase_steps={phase_steps})")
    _ok("phases W, W0, W recomputed; look at the angle in each phase")


# MNIST

def mnist_feedback_scales(final: dict):
    """MNIST, exercise 1: ``{beta: (final test error, final angle)}`` for 0.02, 0.2, 2, 20."""
    _keys(final, (0.02, 0.2, 2, 20), "final")
    for beta, (error, angle) in final.items():
        _expect(0 <= error <= 1 and 0 <= angle <= 180, f"beta {beta}: expected (error in [0, 1], "
                f"angle in degrees), got {(error, angle)}")
    _ok("four feedback scales; which learn as fast as backprop, and how does the angle move?")


def densities(runs: dict):
    """MNIST, exercise 2: ``{density: explorers.sparse_run(density)}`` for 0.2 and 0.05."""
    from .explorers import sparse_run

    _keys(runs, (0.2, 0.05), "runs")
    for density in (0.2, 0.05):
        _expect(np.allclose(runs[density]["error"], sparse_run(density)["error"]),
                f"density {density} differs from explorers.sparse_run({density})")
    _ok("two densities recomputed; compare them with the shallow network")


def stopping_epoch(epoch: float, valid: np.ndarray, epochs: np.ndarray):
    """MNIST, exercise 3: the epoch of the lowest validation error."""
    _expect(np.isclose(epoch, epochs[int(np.argmin(valid))]), f"the lowest validation error is at epoch "
            f"{epochs[int(np.argmin(valid))]:g}, not {epoch:g}")
    _ok(f"validation error lowest at epoch {epoch:g}")


# spiking

def spiking_tau(errors: dict):
    """Spiking, exercise 1: ``{tau: final test error}`` for 0.9, 0.5, 0.2."""
    _keys(errors, (0.9, 0.5, 0.2), "errors")
    _expect(all(0 <= e <= 1 for e in errors.values()), f"errors are fractions in [0, 1], got {errors}")
    _expect(errors[0.2] > errors[0.9], "a slow membrane (tau = 0.2) should do worse than tau = 0.9")
    _ok("three time constants; the slower the membrane, the worse")


def spiking_streams(curves: dict):
    """Spiking, exercise 2: ``{streams: validation error after 1,000 images}`` for 1, 20, 50."""
    _keys(curves, (1, 20, 50), "curves")
    _expect(all(0 <= e <= 1 for e in curves.values()), f"errors are fractions in [0, 1], got {curves}")
    _ok("three numbers of streams; compare the errors per image seen")


def spike_feedback(network_class):
    """Spiking, exercise 3: error units driven by output spikes (0 or 1), firing probabilities kept."""
    from .spiking import SpikingNetwork

    net = network_class([4, 3, 10], tau=1.0, runs=[0, 1], streams=5)
    _expect(isinstance(net, SpikingNetwork), "the class must subclass falib.spiking.SpikingNetwork")
    xp = net.xp
    p = xp.zeros_like(net.p[-1]) + 0.5
    net.p[-1] = p
    target = xp.zeros_like(p) + 1.0
    net.feedback(target)
    seen = np.unique(to_numpy(net.d[-1]))
    _expect(net.p[-1] is p, "restore self.p[-1] after the feedback: the weight update needs the probabilities")
    _expect(set(seen) <= {0.0, 1.0} and len(seen) == 2, "with tau = 1 and target 1, the error units should hold "
            f"1 - spike, i.e. 0 or 1; they hold {seen[:5]}: compare the target with spikes, not probabilities")
    _ok("your error units see the output spikes, and the probabilities are restored")


# deep

def direct_feedback(rule_class):
    """Deep, exercise 1: the rule's deltas are direct feedback alignment's (falib.rules')."""
    from .networks import Network
    from .rules import DirectFeedbackAlignment

    net = Network.init([6, 5, 3, 3], ["tanh", "tanh", "linear"], 0.5, bias_scale=0.1, seed=3, runs=[0, 1])
    rng = np.random.default_rng(0)
    x, target = (net.backend.asarray(rng.standard_normal((2, n, 7))) for n in (6, 3))
    p = net.forward(x)
    got = rule_class(scale=0.5).bind(net).deltas(net, p, target)
    want = DirectFeedbackAlignment(scale=0.5).bind(net).deltas(net, p, target)
    _expect(len(got) == len(want), f"deltas returned {len(got)} arrays; expected one per layer ({len(want)})")
    for l, (a, b) in enumerate(zip(got, want)):
        _expect(np.allclose(to_numpy(a), to_numpy(b)), f"delta[{l}] differs from direct feedback alignment's")
    _ok("your direct-feedback deltas match falib.rules.DirectFeedbackAlignment's")


def frozen_layers(results: dict, freeze):
    """Deep, exercise 2: ``{frozen: freeze(frozen)}`` for (), (1,), (0, 1)."""
    _keys(results, ((), (1,), (0, 1)), "results")
    _expect(np.allclose(results[(1,)]["before"], results[(1,)]["after"]),
            "with W1 frozen the angle between B1 and W1ᵀ cannot change: is layer 1 in net.frozen?")
    _expect(results[()]["after"].mean() < results[()]["before"].mean() - 10,
            "with every layer learning, the angle between B1 and W1ᵀ should fall: is it measured after training?")
    again = freeze((1,))
    _expect(np.allclose(again["nse"], results[(1,)]["nse"]), "freeze((1,)) gives a different NSE when run again")
    _ok("three cases; compare the angles and the errors")


# beyond

def transpose_feedback(rule_class):
    """Beyond, exercise: B receives the transpose of W's update, so B - W^T never changes (numpy and torch)."""
    from .networks import Network
    from .training import train

    for backend in (Backend(), Backend("torch", dtype="float64")):
        net = Network.init([6, 8, 7, 4], "tanh", 0.5, seed=1, runs=[0, 1], backend=backend)
        rule = rule_class(scale=0.5).bind(net)
        rng = np.random.default_rng(0)
        x, target = (backend.asarray(rng.standard_normal((2, n, 20))) for n in (6, 4))
        gap = [to_numpy(B - W.mT) for B, W in zip(rule.B, net.W[1:])]
        start = [to_numpy(B) for B in rule.B]
        train(net, rule, lambda t: (x, target), steps=30, eta=0.05, record_every=30)
        for l, (B, W) in enumerate(zip(rule.B, net.W[1:])):
            _expect(not np.allclose(to_numpy(B), start[l]), f"on {backend.name}, B[{l}] did not change: write learn()")
            _expect(np.allclose(to_numpy(B - W.mT), gap[l], rtol=1e-6, atol=1e-9),
                    f"on {backend.name}, B[{l}] - W[{l + 1}]ᵀ changed: B must receive exactly W's update, transposed")
    _ok("B receives W's updates, transposed: B - Wᵀ stays what it was at the start, on NumPy and PyTorch")
