"""The checks a student runs after each exercise of the chapters (and an autograder's hidden tests).

Each check is a plain function: on a right answer it prints what it confirmed and returns; on a
wrong one it raises an ``AssertionError`` whose message says what is wrong, not what is right.
Checks are quick: a student's rule or network is tried on a small fixed case, a student's
training function on a tiny version of the exercise's run, and the result of a library call is
recomputed only where that takes a fraction of a second. What a check compares with is computed
out of sight: the error is raised by a short wrapper, without the frames that compute it, and an
answer that hands in falib's own implementation of what the exercise asks for is refused.
"""
from __future__ import annotations

import functools
import os
import sys
import sysconfig
import traceback
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from array_api_compat import is_torch_array

from .backend import Backend, to_numpy
from .results import scratch_cache


class _Wrong(Exception):
    """A wrong answer; its message is what the student reads."""


def _check(judge):
    """The check that runs `judge` (which returns what it confirmed, or raises _Wrong) and reports
    a wrong answer as an AssertionError raised here, so that none of judge's lines is shown."""
    @functools.wraps(judge)
    def check(*args, **kwargs):
        try:
            confirmed = judge(*args, **kwargs)
        except _Wrong as wrong:
            message = str(wrong)
        except Exception as err:   # noqa: BLE001 - an answer of the wrong kind, reported as such
            message = f"your answer could not be checked ({type(err).__name__}: {err}); is it what the exercise asks for?"
        else:
            print(f"✓ {confirmed}")
            return
        raise AssertionError(message) from None
    return check


def _expect(condition, message: str):
    if not condition:
        raise _Wrong(message)


_LIBRARIES = tuple({str(Path(__file__).parent) + os.sep,
                    *(sysconfig.get_paths()[k] for k in ("stdlib", "platstdlib", "purelib", "platlib"))})


def _where(err: BaseException) -> str:
    """The line of the student's code where `err` was raised (the last frame outside falib and the libraries)."""
    frames = [f for f in traceback.extract_tb(err.__traceback__) if not f.filename.startswith(_LIBRARIES)]
    if not frames:
        return ""
    line = (frames[-1].line or "").strip()
    return f" (line {frames[-1].lineno} of your code{': ' + line if line else ''})"


def _call(what: str, fn, *args, hint: str = "", **kwargs):
    """``fn(*args, **kwargs)``, the student's code: an error in it is a wrong answer naming `what`."""
    try:
        return fn(*args, **kwargs)
    except _Wrong:
        raise
    except Exception as err:   # noqa: BLE001 - whatever the student's code raises
        raise _Wrong(f"{what} raised {type(err).__name__}: {err}{_where(err)}" + (f"\n{hint}" if hint else "")) \
            from None


def _host(a, what: str) -> np.ndarray:
    """A copy of `a` (a NumPy array, a tensor or numbers) as a float NumPy array."""
    try:
        return np.array(to_numpy(a) if is_torch_array(a) else a, dtype=float)
    except (TypeError, ValueError, RuntimeError):
        raise _Wrong(f"{what} should be numbers (a float or an array), got {type(a).__name__}") from None


def _same(got, want, what: str, differs: str, **tolerance):
    """The student's `got` equals `want` (shape, then values); else a wrong answer about `what`."""
    got, want = _host(got, what), _host(want, what)
    _expect(got.shape == want.shape, f"{what} has shape {got.shape}; expected {want.shape}")
    _expect(np.allclose(got, want, equal_nan=True, **tolerance), f"{what} {differs}")


def _entry(found, key, what: str):
    """``found[key]``, or a wrong answer saying what `found` holds."""
    _expect(isinstance(found, dict), f"{what} should be a dict, got {type(found).__name__}")
    _expect(key in found, f"{what} has no entry {key!r}; it has {sorted(map(repr, found))}")
    return found[key]


def _keys(found, expected, what: str):
    _expect(isinstance(found, dict), f"{what} should be a dict, got {type(found).__name__}")
    _expect(set(found) == set(expected), f"{what}: expected the keys {sorted(expected)}, got {sorted(found, key=repr)}")


def _number(value, what: str, low: float, high: float):
    """`value` is one number in [low, high]."""
    v = _host(value, what)
    _expect(v.size == 1 and low <= float(v) <= high, f"{what} should be one number in [{low}, {high}], got "
            f"{v.ravel()[:4]}")


def _pair(value, what: str, parts: str = "(error, angle)") -> tuple:
    _expect(isinstance(value, (tuple, list)) and len(value) == 2, f"{what} should be a pair {parts}, "
            f"got {type(value).__name__}")
    return tuple(value)


def _stored(stored, again, what: str, call: str):
    """A result the student stored is `again`, what their function returns when the check calls it
    once more with the same arguments (a made-up number, or one from other settings, is not)."""
    _same(stored, again, what, f"is not what {call} returns: store what your function gives, with the "
          "arguments the check is given", atol=1e-3)


def _torch_backend(what: str) -> Backend:
    """PyTorch (float64) for a check that must run the student's code on it too."""
    try:
        import torch   # noqa: F401
    except ImportError:
        raise _Wrong(f"this check runs your {what} on PyTorch as well as on NumPy, and PyTorch is not "
                     "installed here: install it (pip install torch), restart the kernel and run the check again") \
            from None
    return Backend("torch", dtype="float64")


def _on(backend: Backend, a, what: str):
    """`a` lives on `backend` (the student's code did not leave its array library)."""
    ok = is_torch_array(a) if backend.name == "torch" else isinstance(a, np.ndarray)
    _expect(ok, f"on {backend.name}, {what} is a {type(a).__module__}.{type(a).__name__}, not an array of "
            f"{backend.name}: use the array namespace of the inputs (array_namespace), not numpy or torch by name")


@contextmanager
def _own_work(answer, *methods):
    """While the student's code runs, falib's own `methods` ((class, name) pairs: the exercise's
    answer and whatever else of falib computes it) refuse to run, however they are reached
    (called, inherited, copied or imported); an `answer` class that holds one of them (below the
    base class ``Rule``) is refused at once."""
    from .rules import Rule

    own = {id(getattr(cls, name).__code__): f"{cls.__name__}.{name}" for cls, name in methods}

    def refuse(code):
        if id(code) in own:
            raise _Wrong(f"your answer uses falib's own {own[id(code)]} (imported, inherited, copied or called): "
                         "the exercise asks you to write it yourself")

    for cls in getattr(answer, "__mro__", ()):
        if cls in (Rule, object):
            break
        for attr in vars(cls).values():
            refuse(getattr(getattr(attr, "__func__", attr), "__code__", None))

    before = sys.gettrace()

    def trace(frame, event, arg):
        refuse(frame.f_code)
        return before(frame, event, arg) if before else None

    sys.settrace(trace)
    try:
        yield
    finally:
        sys.settrace(before)


# linear

@_check
def feedback_scales(runs):
    """Linear, exercise 1: ``runs`` holds what ``explorers.linear_run`` returns at each asked-for
    feedback scale (recomputed: a fraction of a second)."""
    from .explorers import linear_run

    _keys(runs, (0.05, 0.5, 5), "runs")
    for scale in (0.05, 0.5, 5):
        want = linear_run(feedback_scale=scale)
        for label in ("backprop", "feedback_alignment"):
            curves = _entry(runs[scale], label, f"runs[{scale}]")
            for k in ("nse", "angle"):
                _same(_entry(curves, k, f"runs[{scale}][{label!r}]"), want[label][k], f"runs[{scale}][{label!r}][{k!r}]",
                      f"differs from what explorers.linear_run gives at feedback scale {scale} (with the other "
                      "settings at their defaults)")
    return "three feedback scales; compare the learning speed, the final angle and what happens at 5"


def _sign_case(backend: Backend):
    """A small tanh network, a fixed delta per layer, and what sign symmetry sends at each layer."""
    from .networks import Network

    net = Network.init([6, 5, 4, 3], "tanh", 0.5, seed=1, runs=[0, 1], backend=backend)
    rng = np.random.default_rng(0)
    cases = []
    for l in (1, 0):
        delta = rng.standard_normal((2, net.sizes[l + 2], 7))
        sent = np.sign(to_numpy(net.W[l + 1])).swapaxes(-1, -2) @ delta
        cases.append((l, backend.asarray(delta), sent))
    return net, cases


@_check
def sign_symmetry(rule_class):
    """Linear, exercise 2: the rule's ``send`` on a small network and fixed deltas, on NumPy and on
    PyTorch; falib's own sign symmetry is refused."""
    from .rules import SignSymmetry

    hint = ("send gets delta[l+1], of shape (runs, n_{l+2}, batch), and returns what the units of layer l receive, "
            "(runs, n_{l+1}, batch)")
    for backend in (Backend(), _torch_backend("rule")):
        net, cases = _sign_case(backend)
        with _own_work(rule_class, (SignSymmetry, "send"), (SignSymmetry, "feedback")):
            rule = _call(f"{getattr(rule_class, '__name__', 'your rule')}()", rule_class)
            rule = _call("rule.bind(net)", rule.bind, net)
            for l, delta, sent in cases:
                got = _call(f"send(net, {l}, delta)", rule.send, net, l, delta, hint=hint)
                _on(backend, got, f"send(net, {l}, delta)")
                _same(got, sent, f"on {backend.name}, send(net, {l}, delta)",
                      "is not what sign symmetry sends to layer l: check which weights, and what of them, it uses")
    return "your rule sends what sign symmetry sends, on NumPy and on PyTorch"


# mechanics

@_check
def square_B(square, tall):
    """Mechanics, exercise 1: the two linear cases, recomputed (a fraction of a second)."""
    from .experiments import mechanics

    for name, found, sizes in (("square", square, [30, 10, 10]), ("tall", tall, [30, 20, 10])):
        want = mechanics.linear_case(dict(mechanics.PAPER["linear"], sizes=sizes), 2016, Backend(), range(3))
        for k in ("linear/angle_T", "linear/angle_pinv"):
            _same(_entry(found, k, name), want[k], f"{name}[{k!r}]",
                  f"differs from mechanics.linear_case with the {name} case's sizes, the exercise's seed and runs, "
                  "on the NumPy backend")
    return "both cases recomputed; compare the angles to Bᵀ and to B⁺ in each"


@_check
def phase_order(swapped, phase_steps: int = 300):
    """Mechanics, exercise 2: the three phases with W trained first, recomputed (a fraction of a second)."""
    from .explorers import mechanics_run

    want = mechanics_run("W first", phase_steps=phase_steps)
    for k in ("angle_T", "nse"):
        _same(_entry(swapped, k, "swapped"), want[k], f"swapped[{k!r}]",
              f"differs from the run with W trained first and phases of {phase_steps} steps: check the order "
              "you asked for (explorers.ORDERS) and the phase length", atol=1e-3)
    return "phases W, W0, W recomputed; look at the angle in each phase"


# MNIST

def _mnist_tiny(**changes) -> dict:
    """A tiny version of the MNIST chapter's short runs: 320 training images, one epoch."""
    from .experiments import mnist

    return dict(mnist.QUICK, **dict(train_size=320, test_size=200, epochs=1, eta_drops=[], records_per_epoch=1,
                                    angle_size=50) | changes)


@_check
def mnist_feedback_scales(final, error_and_angle, config, backend):
    """MNIST, exercise 1: ``final`` holds an (error, angle) pair per asked-for β, its β = 2 entry what
    ``error_and_angle(2, config, backend)`` returns, and that function gives the right pair on a
    tiny run, at two β."""
    from .experiments import mnist

    _keys(final, (0.02, 0.2, 2, 20), "final")
    for beta, value in final.items():
        error, angle = _pair(value, f"final[{beta}]")
        _number(error, f"final[{beta}]'s test error (a fraction)", 0, 1)
        _number(angle, f"final[{beta}]'s angle (in degrees)", 0, 180)
    tiny, tiny_backend = _mnist_tiny(), Backend(dtype="float32")
    for beta in (0.2, 20):
        out = mnist.train_variant("feedback_alignment", tiny, tiny_backend, [0], mnist.split(tiny),
                                  {"rule": "feedback_alignment", "scale": beta})
        want = (out["feedback_alignment/error"][0, -1], out["feedback_alignment/angle"][0, -1])
        got = _pair(_call(f"error_and_angle({beta}, config, backend)", error_and_angle, beta, tiny, tiny_backend),
                    f"error_and_angle({beta}, config, backend)")
        for i, name in enumerate(("test error", "angle")):
            _same(got[i], want[i], f"the {name} from error_and_angle({beta}, config, backend) on a tiny config",
                  f"is not feedback alignment's final {name} with B's scale {beta}, trained on config's images "
                  "with the given backend", atol=1e-4)
    call = "error_and_angle(2, config, backend)"
    _stored(final[2], _pair(_call(call, error_and_angle, 2, config, backend), call), "final[2]", call)
    return "your function gives feedback alignment's final error and angle; which scales learn like backprop?"


@_check
def densities(runs, sparse_and_shallow):
    """MNIST, exercise 2: ``runs`` holds a result per asked-for density, its density-0.05 entry what
    ``sparse_and_shallow(0.05)`` returns, and ``sparse_and_shallow(density, train_size, epochs)``
    gives the right final errors and angle on a tiny run, at both densities."""
    from .experiments import mnist
    from .explorers import sparse_run

    keys = ("sparse", "angle", "shallow")
    _keys(runs, (0.2, 0.05), "runs")
    for density in (0.2, 0.05):
        for k in keys:
            _number(_entry(runs[density], k, f"runs[{density}]"), f"runs[{density}][{k!r}]", 0, 180 if k == "angle" else 1)
    size, epochs = 320, 2
    config = dict(mnist.QUICK, train_size=size, test_size=1000, epochs=epochs, eta_drops=[], records_per_epoch=1)
    shallow = mnist.train_variant("shallow", config, Backend("torch", dtype="float32"), [0], mnist.split(config))
    for density in (0.2, 0.05):
        sparse, call = sparse_run(density, size, epochs), f"sparse_and_shallow({density}, {size}, {epochs})"
        want = {"sparse": sparse["error"][0, -1], "angle": sparse["angle"][0, -1], "shallow": shallow["shallow/error"][0, -1]}
        got = _call(call, sparse_and_shallow, density, size, epochs)
        for k, v in want.items():
            _same(_entry(got, k, call), v, f"{call}[{k!r}]", "is not the final value of that network at that density, "
                  "trained on the first train_size images for the given epochs (with explorers.sparse_run's settings)",
                  atol=1e-4)
    call = "sparse_and_shallow(0.05)"
    again = _call(call, sparse_and_shallow, 0.05)
    for k in keys:
        _stored(runs[0.05][k], _entry(again, k, call), f"runs[0.05][{k!r}]", call)
    return "your function compares sparse feedback alignment with the shallow network on the same images"


@_check
def stopping_epoch(epoch, valid, epochs, validation_curve):
    """MNIST, exercise 3: ``epoch`` is where ``valid`` is lowest, and ``validation_curve(config,
    backend)`` gives backprop's validation error curve on a tiny run."""
    from .experiments import mnist

    valid, epochs = _host(valid, "valid"), _host(epochs, "epochs")
    _expect(valid.ndim == 1 and valid.shape == epochs.shape and valid.size > 1, "valid and epochs should be one "
            f"curve and the epochs it was measured at, of the same length; got shapes {valid.shape} and {epochs.shape}")
    _expect(np.isclose(_host(epoch, "epoch"), epochs[int(np.argmin(valid))]).all(),
            f"epoch ({epoch}) is not where valid is lowest")
    config, backend = _mnist_tiny(validation=True, epochs=2), Backend(dtype="float32")
    out = mnist.train_variant("backprop", config, backend, [0], mnist.split(config))
    got = _pair(_call("validation_curve(config, backend)", validation_curve, config, backend),
                "validation_curve(config, backend)", "(valid, epochs)")
    _same(got[1], out["epoch"], "the epochs from validation_curve on a tiny config", "are not the epochs of its records")
    _same(got[0], out["backprop/error"][0], "the error curve from validation_curve on a tiny config",
          "is not backprop's error on the validation images (config has validation=True) over training", atol=1e-4)
    return f"validation error lowest at epoch {float(epoch):g}; has backprop begun to overfit?"


# spiking

def _spiking_tiny(**changes) -> dict:
    """A tiny version of the spiking chapter's short runs: 100 training images, 100 validation and test images."""
    from .experiments import spiking

    return dict(spiking.QUICK, **dict(runs=1, images=100, test_every=100, online_every=50, val_images=100,
                                      test_images=100, rate_images=100, compare_images=0) | changes)


def _spiking_compare(fn, name: str, setting: str, values, key, differs: str):
    """``fn(value, config, backend)`` against the tiny run with ``config[setting] = value``, for each value."""
    from .experiments import spiking

    config, backend = _spiking_tiny(), Backend(dtype="float32")
    with scratch_cache("falib-check-"):
        for value in values:
            want = key(spiking.compute(dict(config, **{setting: value}), backend, [0]))
            got = _call(f"{name}({value}, config, backend)", fn, value, config, backend)
            _same(got, want, f"{name}({value}, config, backend) on a tiny config", differs, atol=1e-6)


@_check
def spiking_tau(errors, tau_error, config, backend):
    """Spiking, exercise 1: ``errors`` holds an error per asked-for τ, its τ = 0.9 entry what
    ``tau_error(0.9, config, backend)`` returns, and that function gives the final test error of a
    tiny run, at two τ."""
    _keys(errors, (0.9, 0.5, 0.2), "errors")
    for tau, error in errors.items():
        _number(error, f"errors[{tau}] (a test error, as a fraction)", 0, 1)
    _spiking_compare(tau_error, "tau_error", "tau", (0.2, 0.9), lambda r: r["final_test_error"][0],
                     "is not the final test error of run 0 trained on config's images with that tau")
    call = "tau_error(0.9, config, backend)"
    _stored(errors[0.9], _call(call, tau_error, 0.9, config, backend), "errors[0.9]", call)
    return "your function gives the final test error; how does it change with tau, and why?"


@_check
def spiking_streams(curves, streams_error, config, backend):
    """Spiking, exercise 2: ``curves`` holds an error per asked-for number of streams, its 50-stream
    entry what ``streams_error(50, config, backend)`` returns, and that function gives the last
    validation error of a tiny run, at two numbers of streams."""
    _keys(curves, (1, 20, 50), "curves")
    for streams, error in curves.items():
        _number(error, f"curves[{streams}] (a validation error, as a fraction)", 0, 1)
    _spiking_compare(streams_error, "streams_error", "streams", (1, 50), lambda r: r["val_error"][0, -1],
                     "is not run 0's validation error after training on config's images with that many streams")
    call = "streams_error(50, config, backend)"
    _stored(curves[50], _call(call, streams_error, 50, config, backend), "curves[50]", call)
    return "your function gives the validation error after training; compare the numbers of streams"


@_check
def spike_feedback(network_class):
    """Spiking, exercise 3: on a small network on PyTorch with fixed firing probabilities,
    ``feedback`` compares the target with spikes drawn from them (per run, from the network's
    generators, fresh each step), runs the feedback pathway on them, and restores the probabilities."""
    from .spiking import SpikingNetwork

    _expect(isinstance(network_class, type) and issubclass(network_class, SpikingNetwork),
            "the class must subclass falib.spiking.SpikingNetwork")
    probs, backend = np.array([0.0, 1.0, 0.2, 0.8, 0.5] * 2), _torch_backend("network (the chapter's backend)")

    def step(seed=0):
        net = _call(f"{network_class.__name__}(...)", network_class, [4, 3, 10], tau=1.0, seed=seed, runs=[0, 1],
                    streams=400, backend=backend)
        net.p[-1] = net.backend.asarray(np.broadcast_to(probs, (2, 400, 10)))
        target = net.xp.ones_like(net.p[-1])
        draws = []
        for _ in range(2):
            _call("feedback(target)", net.feedback, target)
            draws.append((_host(net.d[-1], "d[-1]"), _host(net.d[0], "d[0]"), _host(net.p[-1], "p[-1]")))
        return net, draws

    net, draws = step()
    error, hidden, p = draws[0]
    _same(p, np.broadcast_to(probs, p.shape), "self.p[-1] after feedback",
          "is not what it was before: put the firing probabilities back (the weight update needs them)")
    _expect(set(np.unique(error)) <= {0.0, 1.0}, "with tau = 1 and a target of 1 the error units should hold 1 minus "
            f"a spike, 0 or 1; they hold {np.unique(error)[:5]}: do they see spikes?")
    spikes = 1 - error
    sure = {0.0: "never", 1.0: "always"}
    for q in (0.0, 1.0):
        _expect(np.all(spikes[..., probs == q] == q), f"a unit that fires with probability {q:g} should {sure[q]} "
                "spike: compare the uniform numbers with the probabilities the right way round")
    for q in (0.2, 0.8):
        rate = spikes[..., probs == q].mean()
        _expect(abs(rate - q) < 0.05, f"units that fire with probability {q} spiked at rate {rate:.2f}")
    _expect(not np.array_equal(spikes[0], spikes[1]), "both runs drew the same spikes: each run has its own generator")
    _expect(not np.array_equal(spikes, 1 - draws[1][0]), "two steps drew the same spikes: draw fresh ones at every "
            "step from the network's generators (self.rngs)")
    _same(hidden, np.tanh(error) @ _host(net.BT[0], "BT[0]"), "the feedback units d[0]",
          "did not receive the error units' new state: let the parent's feedback run on the spikes")
    _, again = step()
    _same(again[0][0], error, "a second network with the same seed",
          "drew other spikes: draw them from the network's own generators (self.rngs)")
    return "your error units see the output spikes, and the probabilities are restored"


# deep

def _direct_case():
    """A small network, a forward pass, a target, and the deltas of direct feedback through B."""
    from .networks import Network
    from .rules import FeedbackAlignment

    net = Network.init([6, 5, 3, 3], ["tanh", "tanh", "linear"], 0.5, bias_scale=0.1, seed=3, runs=[0, 1])
    rng = np.random.default_rng(0)
    x, target = (net.backend.asarray(rng.standard_normal((2, n, 7))) for n in (6, 3))
    p = net.forward(x)
    B = FeedbackAlignment(scale=0.5).bind(net).bound()
    e = net.f[-1].backward(target - p.y, p.y)
    want = [net.f[l].backward(D @ e, p.h[l + 1]) for l, D in enumerate(B)] + [e]
    return net, p, target, want


@_check
def direct_feedback(rule_class):
    """Deep, exercise 1: the rule's deltas on a small network and a fixed example batch; falib's own
    direct feedback alignment is refused."""
    from .rules import DirectFeedbackAlignment

    net, p, target, want = _direct_case()
    with _own_work(rule_class, (DirectFeedbackAlignment, "deltas"), (DirectFeedbackAlignment, "feedback")):
        rule = _call(f"{getattr(rule_class, '__name__', 'your rule')}(scale=0.5)", rule_class, scale=0.5)
        rule = _call("rule.bind(net)", rule.bind, net)
        got = _call("deltas(net, p, target)", rule.deltas, net, p, target)
    _expect(isinstance(got, (list, tuple)) and len(got) == len(want),
            f"deltas returned {type(got).__name__} of length {len(got) if hasattr(got, '__len__') else '?'}; "
            f"expected a list with one delta per layer ({len(want)}), the output layer's last")
    for l, (a, b) in enumerate(zip(got, want)):
        _same(a, b, f"delta[{l}]", "is not what direct feedback gives this layer: which error does it carry down, "
              "through which matrix, and across which slope?")
    return "your deltas are direct feedback alignment's"


def _freeze_reference(config, frozen, runs):
    """Feedback alignment in the deep network with `frozen` layers: angle(B1, W1ᵀ) before, after, final test NSE."""
    from .experiments import deep
    from .metrics import angle, normalized_squared_error
    from .networks import Network
    from .data import minibatches
    from .training import train

    backend = Backend(dtype=config["dtype"])
    sets = deep.data(config, backend)
    net = Network.init(config["sizes"]["deep"], ["tanh", "tanh", "linear"], config["init_scale"],
                       bias_scale=config["init_scale"], seed=config["seed"], runs=runs, backend=backend)
    net.frozen = set(frozen)
    rule = deep.bind(config, net, config["rules"]["feedback_alignment"], backend)
    before = to_numpy(angle(rule.B[0], net.W[1].mT))
    train(net, rule, minibatches(*sets["train"], config["batch"]), steps=config["steps"], eta=config["eta"],
          record_every=config["steps"])
    x, y = sets["test"]
    return {"before": before, "after": to_numpy(angle(rule.B[0], net.W[1].mT)),
            "nse": to_numpy(normalized_squared_error(y, net.forward(x).y))}


@_check
def frozen_layers(results, freeze):
    """Deep, exercise 2: ``results`` holds the three cases and behaves as frozen layers must, and
    ``freeze(frozen, config, runs)`` gives the right angles and error on a 20-step run."""
    from .experiments import deep

    _keys(results, ((), (1,), (0, 1)), "results")
    found = {frozen: {k: _host(_entry(results[frozen], k, f"results[{frozen}]"), f"results[{frozen}][{k!r}]")
                      for k in ("before", "after", "nse")} for frozen in results}
    _same(found[(1,)]["after"], found[(1,)]["before"], "with W1 frozen, the angle between B1 and W1ᵀ after training",
          "differs from before: a frozen layer cannot change; is layer 1 in net.frozen?", atol=1e-3)
    _expect(found[()]["after"].mean() < found[()]["before"].mean() - 10, "with every layer learning, the "
            "angle between B1 and W1ᵀ should fall: is it measured after training?")
    config = dict(deep.QUICK, steps=20)
    for frozen in ((1,), ()):
        want = _freeze_reference(config, frozen, [0])
        got = _call(f"freeze({frozen}, config, runs=[0])", freeze, frozen, config, runs=[0])
        for k in ("before", "after", "nse"):
            _same(_entry(got, k, f"freeze({frozen}, config, runs=[0])"), want[k],
                  f"freeze({frozen}, config, runs=[0])[{k!r}] on a 20-step config",
                  "is not that of feedback alignment trained for config's steps with those layers frozen",
                  rtol=1e-4, atol=1e-4)
    return "three cases; compare the angles and the errors"


# beyond

@_check
def transpose_feedback(rule_class):
    """Beyond, exercise: a short training of a small network, with weight decay, on NumPy and on
    PyTorch: B must change, stay on the backend, and receive W's updates transposed (so that
    B - Wᵀ changes exactly as W's decay changes it); falib's own Kolen-Pollack is refused."""
    from .networks import Network
    from .rules import KolenPollack
    from .training import train

    eta, decay, steps = 0.05, 0.2, 30
    for backend in (Backend(), _torch_backend("rule")):
        net = Network.init([6, 8, 7, 4], "tanh", 0.5, seed=1, runs=[0, 1], backend=backend)
        rng = np.random.default_rng(0)
        x, target = (backend.asarray(rng.standard_normal((2, n, 20))) for n in (6, 4))
        with _own_work(rule_class, (KolenPollack, "learn")):
            rule = _call(f"{getattr(rule_class, '__name__', 'your rule')}(scale=0.5)", rule_class, scale=0.5)
            rule = _call("rule.bind(net)", rule.bind, net)
            start = [_host(B, "B") for B in rule.B]
            gap = [B - _host(W, "W").swapaxes(-1, -2) for B, W in zip(start, net.W[1:])]
            _call(f"on {backend.name}, training with your rule", train, net, rule, lambda t: (x, target), steps=steps, eta=eta,
                  decay=decay, record_every=steps,
                  hint="B[l] has the shape of W[l+1]ᵀ, (runs, n_{l+1}, n_{l+2}); p.h[l + 1] is (runs, n_{l+1}, batch)")
        for l, (B, W) in enumerate(zip(rule.B, net.W[1:])):
            _on(backend, B, f"B[{l}]")
            _expect(not np.allclose(_host(B, "B"), start[l]), f"on {backend.name}, B[{l}] did not change: write learn()")
            _same(_host(B, "B") - _host(W, "W").swapaxes(-1, -2), (1 - eta * decay) ** steps * gap[l],
                  f"on {backend.name}, B[{l}] - W[{l + 1}]ᵀ after {steps} steps with weight decay",
                  "is not what it must be if B receives exactly W's update, transposed, its decay included",
                  rtol=1e-6, atol=1e-9)
    return "B receives W's updates, transposed, on NumPy and on PyTorch; what stays constant?"
