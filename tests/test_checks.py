"""The exercise checks (falib.checks): each passes two different right answers, fails plausible wrong
ones with a message that names the problem, refuses falib's own implementation where the exercise
asks for one, and never shows its reference: no line of checks.py but the reporting wrapper's
appears in the traceback a student sees (as IPython shows it)."""
import functools
import inspect
import os
import sys
import traceback

import numpy as np
import pytest
from array_api_compat import array_namespace
from IPython.core import ultratb

import falib
from falib import Backend, checks, explorers
from falib.backend import add_product, to_numpy
from falib.rules import DirectFeedbackAlignment, FeedbackAlignment, KolenPollack, Rule, SignSymmetry
from falib.spiking import SpikingNetwork

needs_mnist = pytest.mark.skipif(not os.environ.get("FALIB_MNIST"), reason="FALIB_MNIST is not set")

WRAPPER = {line.strip() for line in inspect.getsource(checks._check).splitlines()}
HIDDEN = {line.strip() for line in inspect.getsource(checks).splitlines()
          if len(line.strip()) > 12 and line.strip() not in WRAPPER}


def fails(check, *args, says: str = "", never=()) -> str:
    """Run `check` on a wrong answer: it raises an AssertionError whose message contains `says` and
    none of `never`, and whose traceback, as IPython shows it, holds no hidden line of checks.py."""
    with pytest.raises(AssertionError) as info:
        check(*args)
    message = str(info.value)
    assert says in message, message
    assert not any(s in message for s in never), message
    tb = info.value.__traceback__.tb_next   # from the check on (the first frame is this test's)
    shown = ultratb.VerboseTB(theme_name="nocolor").text(AssertionError, info.value, tb)
    shown += "".join(traceback.format_exception(AssertionError, info.value, tb))
    leaked = [line for line in HIDDEN if line in shown]
    assert not leaked, f"the traceback shows lines of the check: {leaked}"
    return message


def test_a_check_returns_quietly_and_fails_with_an_assertion(capsys):
    def right():
        return "done"

    check = checks._check(right)
    assert check() is None and "✓ done" in capsys.readouterr().out
    assert fails(checks._check(lambda: 1 / 0), says="could not be checked (ZeroDivisionError")


# linear

@functools.cache
def linear(scale, **kw):
    return explorers.linear_run(feedback_scale=scale, **kw)


def test_feedback_scales():
    checks.feedback_scales({s: linear(s) for s in (0.05, 0.5, 5)})
    checks.feedback_scales({s: explorers.linear_run(s, None, 0.01, steps=1000, runs=[0, 1, 2]) for s in (5, 0.5, 0.05)})
    fails(checks.feedback_scales, {s: linear(0.5) for s in (0.05, 0.5, 5)}, says="runs[0.05]['feedback_alignment']['nse'] differs")
    fails(checks.feedback_scales, {s: linear(s, steps=30) for s in (0.05, 0.5, 5)}, says="has shape (3, 31)")
    made_up = {"nse": np.zeros((3, 101)), "angle": np.full((3, 101), 45.0)}
    fails(checks.feedback_scales, {s: {"backprop": made_up, "feedback_alignment": made_up} for s in (0.05, 0.5, 5)},
          says="differs")
    fails(checks.feedback_scales, {s: linear(s) for s in (0.05, 0.5)}, says="expected the keys")


class SignRule(Rule):
    name = "sign_symmetry"

    def send(self, net, l, delta):
        xp = array_namespace(delta)
        return xp.sign(net.W[l + 1]).mT @ delta


class SignRulePermuted(Rule):
    def send(self, net, l, delta):
        xp = array_namespace(delta)
        return xp.matmul(xp.permute_dims(xp.sign(net.W[l + 1]), (0, 2, 1)), delta)


NEVER_SIGN = ("np.sign", "xp.sign", "sign(W", ".mT @", "swapaxes")


def test_sign_symmetry_right_answers():
    checks.sign_symmetry(SignRule)
    checks.sign_symmetry(SignRulePermuted)


def test_sign_symmetry_refuses_the_library():
    class Subclassed(SignSymmetry):
        pass

    class Calling(SignSymmetry):
        def send(self, net, l, delta):
            return super().send(net, l, delta)

    class Copied(Rule):
        send = SignSymmetry.send

    class Aliased(Rule):
        def send(self, net, l, delta):
            return library_send(self, net, l, delta)

    class ThroughFeedback(Rule):
        def send(self, net, l, delta):
            return SignSymmetry().feedback(net)[l] @ delta

    library_send = SignSymmetry.send
    for answer in (SignSymmetry, Subclassed, Calling, Copied, Aliased):
        fails(checks.sign_symmetry, answer, says="falib's own SignSymmetry.send", never=NEVER_SIGN)
    fails(checks.sign_symmetry, ThroughFeedback, says="falib's own SignSymmetry.feedback", never=NEVER_SIGN)
    assert SignSymmetry.send is library_send and sys.gettrace() is None   # the library is left as it was


def test_sign_symmetry_wrong_answers():
    class Untransposed(Rule):
        def send(self, net, l, delta):
            return array_namespace(delta).sign(net.W[l + 1]) @ delta

    class Backprop(Rule):
        def send(self, net, l, delta):
            return net.W[l + 1].mT @ delta

    class NumpyOnly(Rule):
        def send(self, net, l, delta):
            return np.sign(to_numpy(net.W[l + 1])).swapaxes(-1, -2) @ to_numpy(delta)

    class Stub(Rule):
        def send(self, net, l, delta):
            raise NotImplementedError("write it")

    message = fails(checks.sign_symmetry, Untransposed, says="raised ValueError", never=NEVER_SIGN)
    assert "shape" in message and "line" in message and "of your code" in message
    fails(checks.sign_symmetry, Backprop, says="is not what sign symmetry sends", never=NEVER_SIGN)
    fails(checks.sign_symmetry, NumpyOnly, says="on torch, send(net, 1, delta) is a numpy.ndarray", never=NEVER_SIGN)
    fails(checks.sign_symmetry, Stub, says="raised NotImplementedError: write it")


def test_sign_symmetry_needs_torch_and_says_so(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)
    fails(checks.sign_symmetry, SignRule, says="PyTorch is not installed")


# mechanics

def test_square_B():
    from falib.experiments import mechanics

    linear = mechanics.PAPER["linear"]
    case = functools.cache(lambda sizes, seed=2016, runs=range(3): mechanics.linear_case(
        dict(linear, sizes=list(sizes)), seed, falib.Backend(), runs))
    checks.square_B(case((30, 10, 10)), case((30, 20, 10)))
    checks.square_B(*(mechanics.linear_case({**linear, "sizes": s}, 2016, Backend("numpy", dtype="float64"), [0, 1, 2])
                      for s in ([30, 10, 10], [30, 20, 10])))
    fails(checks.square_B, case((30, 20, 10)), case((30, 10, 10)), says="square['linear/angle_T'] differs")
    fails(checks.square_B, case((30, 10, 10), seed=0), case((30, 20, 10), seed=0), says="differs")
    fails(checks.square_B, case((30, 10, 10), runs=range(2)), case((30, 20, 10)), says="has shape (2,)")
    fails(checks.square_B, {"angle_T": 50.0}, case((30, 20, 10)), says="square has no entry 'linear/angle_T'")


def test_phase_order():
    run = explorers.mechanics_run
    checks.phase_order(run("W first", phase_steps=300))
    checks.phase_order(run(order="W first", freeze_W0=False, phase_steps=300, runs=[0, 1]))
    fails(checks.phase_order, run(phase_steps=300), says="swapped['angle_T'] differs")
    fails(checks.phase_order, run("W first", phase_steps=150), says="and the phase length")
    fails(checks.phase_order, run("W first", phase_steps=300, runs=[0]), says="has shape (1, 31)")
    fails(checks.phase_order, {"angle_T": np.full((2, 31), 80.0), "nse": np.ones((2, 31))}, says="differs")


# MNIST

def tiny_mnist(**changes):
    from falib.experiments import mnist

    return dict(mnist.QUICK, **dict(train_size=320, test_size=200, epochs=1, eta_drops=[], records_per_epoch=1,
                                    angle_size=50) | changes)


def error_and_angle(beta, config, backend):
    from falib.experiments import mnist

    out = mnist.train_variant("feedback_alignment", config, backend, [0], mnist.split(config),
                              {"rule": "feedback_alignment", "scale": beta})
    return float(out["feedback_alignment/error"][0, -1]), float(out["feedback_alignment/angle"][0, -1])


def error_and_angle_by_rule(beta, config, backend):
    from falib.experiments import mnist

    rule = falib.make_rule("feedback_alignment", scale=beta)
    out = mnist.train_variant("feedback_alignment", config, backend, [0], mnist.split(config), rule)
    return [out["feedback_alignment/error"][0][-1].item(), out["feedback_alignment/angle"][0][-1].item()]


@needs_mnist
def test_mnist_feedback_scales():
    from falib.experiments import mnist

    backend, betas, short = Backend(dtype="float32"), (0.02, 0.2, 2, 20), tiny_mnist(train_size=640)
    final = {beta: error_and_angle(beta, short, backend) for beta in betas}
    checks.mnist_feedback_scales(final, error_and_angle, short, backend)
    checks.mnist_feedback_scales({b: list(v) for b, v in final.items()}, error_and_angle_by_rule, short, backend)

    def default_scale(beta, config, backend):
        out = mnist.train_variant("feedback_alignment", config, backend, [0], mnist.split(config))
        return out["feedback_alignment/error"][0, -1], out["feedback_alignment/angle"][0, -1]

    def first_record(beta, config, backend):
        out = mnist.train_variant("feedback_alignment", config, backend, [0], mnist.split(config),
                                  {"rule": "feedback_alignment", "scale": beta})
        return out["feedback_alignment/error"][0, 0], out["feedback_alignment/angle"][0, 0]

    fails(checks.mnist_feedback_scales, final, default_scale, short, backend, says="is not feedback alignment's final test error")
    fails(checks.mnist_feedback_scales, final, first_record, short, backend, says="on a tiny config")
    fails(checks.mnist_feedback_scales, final, lambda beta, config, backend: (0.1, 45.0), short, backend,
          says="on a tiny config")
    fails(checks.mnist_feedback_scales, {b: (100 * e, a) for b, (e, a) in final.items()}, error_and_angle, short,
          backend, says="test error (a fraction) should be one number in [0, 1]")
    fails(checks.mnist_feedback_scales, {b: final[b] for b in betas[:3]}, error_and_angle, short, backend,
          says="expected the keys")
    made_up = {beta: (0.1, 45.0) for beta in betas}
    fails(checks.mnist_feedback_scales, made_up, error_and_angle, short, backend,
          says="final[2] is not what error_and_angle(2, config, backend) returns")
    fails(checks.mnist_feedback_scales, final, error_and_angle, tiny_mnist(), backend, says="final[2] is not what")


def sparse_and_shallow(density, train_size=5000, epochs=2):
    from falib.experiments import mnist

    sparse = explorers.sparse_run(density, train_size, epochs)
    config = dict(mnist.QUICK, train_size=train_size, test_size=1000, epochs=epochs, eta_drops=[], records_per_epoch=1)
    shallow = mnist.train_variant("shallow", config, Backend("torch", dtype="float32"), [0], mnist.split(config))
    return {"sparse": sparse["error"][0, -1], "angle": sparse["angle"][0, -1], "shallow": shallow["shallow/error"][0, -1]}


@needs_mnist
def test_densities():
    from falib.experiments import mnist

    def by_spec(density, train_size=5000, epochs=2):
        out = {}
        for name, spec in (("sparse", {"rule": "feedback_alignment", "scale": 2.0, "density": density}),
                           ("shallow", {"rule": "shallow"})):
            config = dict(mnist.QUICK, train_size=train_size, test_size=1000, epochs=epochs, eta_drops=[],
                          records_per_epoch=1, angle_size=200, fields=1)
            variant = mnist.SPARSE if name == "sparse" else "shallow"
            r = mnist.train_variant(variant, config, Backend("torch", dtype="float32"), [0], mnist.split(config), spec)
            out[name] = r[f"{variant}/error"][0, -1].item()
            if name == "sparse":
                out["angle"] = r[f"{variant}/angle"][0, -1].item()
        return out

    runs = {d: sparse_and_shallow(d, 320, 2) for d in (0.2, 0.05)}

    def tiny_defaults(density, train_size=320, epochs=2):
        return sparse_and_shallow(density, train_size, epochs)

    def tiny_by_spec(density, train_size=320, epochs=2):
        return by_spec(density, train_size, epochs)

    checks.densities(runs, tiny_defaults)
    checks.densities(runs, tiny_by_spec)

    def swapped(density, train_size=5000, epochs=2):
        r = sparse_and_shallow(density, train_size, epochs)
        return dict(r, sparse=r["shallow"], shallow=r["sparse"])

    def fixed_images(density, train_size=5000, epochs=2):
        return dict(sparse_and_shallow(density, train_size, epochs),
                    shallow=sparse_and_shallow(density, 640, epochs)["shallow"])

    def fixed_density(density, train_size=5000, epochs=2):
        return sparse_and_shallow(0.2, train_size, epochs)

    fails(checks.densities, runs, swapped, says="['sparse'] is not the final value")
    fails(checks.densities, runs, fixed_images, says="['shallow'] is not the final value")
    fails(checks.densities, {d: runs[0.2] for d in runs}, fixed_density, says="sparse_and_shallow(0.05, 320, 2)['sparse']")
    made_up = {d: {"sparse": 0.1, "angle": 45.0, "shallow": 0.2} for d in runs}
    fails(checks.densities, made_up, tiny_defaults, says="runs[0.05]['sparse'] is not what sparse_and_shallow(0.05) returns")
    fails(checks.densities, {d: explorers.sparse_run(d, 320, 2) for d in (0.2, 0.05)}, sparse_and_shallow,
          says="runs[0.2] has no entry 'sparse'")


def validation_curve(config, backend):
    from falib.experiments import mnist

    out = mnist.train_variant("backprop", config, backend, [0], mnist.split(config))
    return out["backprop/error"][0], out["epoch"]


@needs_mnist
def test_stopping_epoch():
    from falib.experiments import mnist

    def by_hand(config, backend):
        out = mnist.train_variant("backprop", dict(config), backend, runs=[0], data=mnist.split(config))
        return [np.asarray(out["backprop/error"])[0, :], list(out["epoch"])]   # a list is a pair too

    valid, epochs = validation_curve(tiny_mnist(validation=True, epochs=3), Backend(dtype="float32"))
    checks.stopping_epoch(epochs[np.argmin(valid)], valid, epochs, validation_curve)
    checks.stopping_epoch(min(zip(valid, epochs))[1], list(valid), epochs, by_hand)

    def on_test_images(config, backend):
        return validation_curve(dict(config, validation=False), backend)

    def every_run(config, backend):
        out = mnist.train_variant("backprop", config, backend, [0], mnist.split(config))
        return out["backprop/error"], out["epoch"]

    fails(checks.stopping_epoch, epochs[np.argmax(valid)], valid, epochs, validation_curve, says="is not where valid is lowest")
    fails(checks.stopping_epoch, epochs[np.argmin(valid)], valid, epochs, on_test_images,
          says="is not backprop's error on the validation images")
    fails(checks.stopping_epoch, epochs[np.argmin(valid)], valid, epochs, every_run, says="has shape (1, 3)")
    fails(checks.stopping_epoch, 1, valid[:1], epochs[:1], validation_curve, says="of the same length")


# spiking

def tiny_spiking():
    from falib.experiments import spiking

    return dict(spiking.QUICK, runs=1, images=100, test_every=100, online_every=50, val_images=100,
                test_images=100, rate_images=100, compare_images=0)


def tau_error(tau, config, backend):
    from falib.experiments import spiking

    return float(spiking.compute(dict(config, tau=tau), backend, [0])["final_test_error"][0])


@needs_mnist
def test_spiking_tau():
    from falib.experiments import spiking

    short, backend = tiny_spiking(), Backend(dtype="float32")
    errors = {tau: tau_error(tau, short, backend) for tau in (0.9, 0.5, 0.2)}
    checks.spiking_tau(errors, tau_error, short, backend)
    checks.spiking_tau(errors, lambda tau, config, backend: spiking.compute(
        {**config, "tau": tau}, backend, runs=[0])["final_test_error"].item(), short, backend)

    def validation(tau, config, backend):
        return spiking.compute(dict(config, tau=tau), backend, [0])["val_error"][0, -1]

    def fixed_tau(tau, config, backend):
        return spiking.compute(config, backend, [0])["final_test_error"][0]

    fails(checks.spiking_tau, errors, validation, short, backend, says="is not the final test error")
    fails(checks.spiking_tau, errors, fixed_tau, short, backend, says="tau_error(0.2, config, backend)")
    fails(checks.spiking_tau, errors, lambda tau, config, backend: 0.9, short, backend, says="is not the final test error")
    fails(checks.spiking_tau, {tau: 100 * e for tau, e in errors.items()}, tau_error, short, backend,
          says="should be one number in [0, 1]")
    fails(checks.spiking_tau, {0.9: 0.1}, tau_error, short, backend, says="expected the keys")
    fails(checks.spiking_tau, {0.9: 0.123, 0.5: 0.2, 0.2: 0.6}, tau_error, short, backend,
          says="errors[0.9] is not what tau_error(0.9, config, backend) returns")


@needs_mnist
def test_spiking_streams():
    from falib.experiments import spiking

    def streams_error(streams, config, backend):
        return float(spiking.compute(dict(config, streams=streams), backend, [0])["val_error"][0, -1])

    short, backend = dict(tiny_spiking(), online_every=100), Backend(dtype="float32")
    curves = {M: streams_error(M, short, backend) for M in (1, 20, 50)}
    checks.spiking_streams(curves, streams_error, short, backend)
    checks.spiking_streams(curves, lambda M, config, backend: spiking.compute(
        {**config, "streams": M}, backend, runs=[0])["val_error"][0][-1].item(), short, backend)

    def fixed_streams(M, config, backend):
        return spiking.compute(config, backend, [0])["val_error"][0, -1]

    def test_error(M, config, backend):
        return spiking.compute(dict(config, streams=M), backend, [0])["final_test_error"][0]

    fails(checks.spiking_streams, curves, fixed_streams, short, backend, says="is not run 0's validation error")
    fails(checks.spiking_streams, curves, test_error, short, backend, says="is not run 0's validation error")
    fails(checks.spiking_streams, curves, lambda M, config, backend: 0.88, short, backend,
          says="is not run 0's validation error")
    fails(checks.spiking_streams, {1: None, 20: 0.31, 50: 0.35}, streams_error, short, backend,
          says="should be one number in [0, 1]")
    fails(checks.spiking_streams, {1: "low", 20: 0.31, 50: 0.35}, streams_error, short, backend, says="should be numbers")
    fails(checks.spiking_streams, {1: 0.3, 20: 0.31, 50: 0.123}, streams_error, short, backend,
          says="curves[50] is not what streams_error(50, config, backend) returns")


class Spikes(SpikingNetwork):
    def feedback(self, target):
        u = self.backend.asarray([g.random(self.p[-1].shape[1:]) for g in self.rngs])
        p, self.p[-1] = self.p[-1], self.xp.astype(u < self.p[-1], self.p[-1].dtype)
        super().feedback(target)
        self.p[-1] = p


class BinomialSpikes(SpikingNetwork):
    def feedback(self, target):
        p = self.p[-1]
        self.p[-1] = self.backend.asarray([g.binomial(1, q) for g, q in zip(self.rngs, to_numpy(p))])
        try:
            super().feedback(target)
        finally:
            self.p[-1] = p


def test_spike_feedback():
    checks.spike_feedback(Spikes)
    checks.spike_feedback(BinomialSpikes)

    class Probabilities(SpikingNetwork):
        pass

    class NotRestored(SpikingNetwork):
        def feedback(self, target):
            u = self.backend.asarray([g.random(self.p[-1].shape[1:]) for g in self.rngs])
            self.p[-1] = self.xp.astype(u < self.p[-1], self.p[-1].dtype)
            super().feedback(target)

    class Inverted(SpikingNetwork):
        def feedback(self, target):
            u = self.backend.asarray([g.random(self.p[-1].shape[1:]) for g in self.rngs])
            p, self.p[-1] = self.p[-1], self.xp.astype(u > self.p[-1], self.p[-1].dtype)
            super().feedback(target)
            self.p[-1] = p

    class FixedGenerator(SpikingNetwork):
        def feedback(self, target):
            u = self.backend.asarray(np.random.default_rng(0).random(self.p[-1].shape))
            p, self.p[-1] = self.p[-1], self.xp.astype(u < self.p[-1], self.p[-1].dtype)
            super().feedback(target)
            self.p[-1] = p

    class SharedAcrossRuns(SpikingNetwork):
        def feedback(self, target):
            u = self.backend.asarray(self.rngs[0].random(self.p[-1].shape[1:]))
            p, self.p[-1] = self.p[-1], self.xp.astype(u < self.p[-1], self.p[-1].dtype)
            super().feedback(target)
            self.p[-1] = p

    class OutputOnly(SpikingNetwork):
        def feedback(self, target):
            u = self.backend.asarray([g.random(self.p[-1].shape[1:]) for g in self.rngs])
            spikes = self.xp.astype(u < self.p[-1], self.p[-1].dtype)
            self.d[-1] = self.d[-1] + self.tau * (target - spikes - self.d[-1])

    fails(checks.spike_feedback, Probabilities, says="do they see spikes?")
    fails(checks.spike_feedback, NotRestored, says="put the firing probabilities back")
    fails(checks.spike_feedback, Inverted, says="the right way round")
    fails(checks.spike_feedback, FixedGenerator, says="two steps drew the same spikes")
    fails(checks.spike_feedback, SharedAcrossRuns, says="both runs drew the same spikes")
    fails(checks.spike_feedback, OutputOnly, says="let the parent's feedback run")
    fails(checks.spike_feedback, FeedbackAlignment, says="must subclass falib.spiking.SpikingNetwork")


# deep

class DirectFeedback(FeedbackAlignment):
    def deltas(self, net, p, target, noise=None):
        e = net.f[-1].backward(target - p.y, p.y)
        return [net.f[l].backward(D @ e, p.h[l + 1]) for l, D in enumerate(self.bound())] + [e]


class DirectFeedbackLoop(FeedbackAlignment):
    def deltas(self, net, p, target, noise=None):
        xp = array_namespace(target)
        e = net.f[-1].backward(target - p.y, p.y)
        out = []
        for l in range(len(net.W) - 1):
            out.append(net.f[l].backward(xp.matmul(self.B[l], e), p.h[l + 1]))
        out.append(e)
        return out


NEVER_DIRECT = ("D @ e", "backward(", "bound()")


def test_direct_feedback():
    checks.direct_feedback(DirectFeedback)
    checks.direct_feedback(DirectFeedbackLoop)

    class Subclassed(DirectFeedbackAlignment):
        pass

    class NoSlope(FeedbackAlignment):
        def deltas(self, net, p, target, noise=None):
            e = net.f[-1].backward(target - p.y, p.y)
            return [D @ e for D in self.bound()] + [e]

    class OutputFirst(FeedbackAlignment):
        def deltas(self, net, p, target, noise=None):
            e = net.f[-1].backward(target - p.y, p.y)
            return [e] + [net.f[l].backward(D @ e, p.h[l + 1]) for l, D in enumerate(self.bound())]

    class Copied(DirectFeedbackAlignment):
        deltas = DirectFeedbackAlignment.deltas

    class CopiedIntoFeedbackAlignment(FeedbackAlignment):
        deltas = DirectFeedbackAlignment.deltas

    class Calling(FeedbackAlignment):
        def deltas(self, net, p, target, noise=None):
            return DirectFeedbackAlignment.deltas(self, net, p, target)

    class ThroughFeedback(FeedbackAlignment):
        def deltas(self, net, p, target, noise=None):
            e = net.f[-1].backward(target - p.y, p.y)
            D = DirectFeedbackAlignment(self.scale).bind(net).feedback(net)[-1]
            return [net.f[l].backward(B @ e, p.h[l + 1]) for l, B in enumerate(self.bound()[:-1])] + [
                net.f[-2].backward(D @ e, p.h[-2]), e]

    for answer in (DirectFeedbackAlignment, Subclassed, Copied, CopiedIntoFeedbackAlignment, Calling):
        fails(checks.direct_feedback, answer, says="falib's own DirectFeedbackAlignment.deltas", never=NEVER_DIRECT)
    fails(checks.direct_feedback, ThroughFeedback, says="falib's own DirectFeedbackAlignment.feedback", never=NEVER_DIRECT)
    fails(checks.direct_feedback, FeedbackAlignment, says="delta[0] is not what direct feedback gives", never=NEVER_DIRECT)
    fails(checks.direct_feedback, NoSlope, says="is not what direct feedback gives", never=NEVER_DIRECT)
    fails(checks.direct_feedback, OutputFirst, says="delta[0] has shape (2, 3, 7); expected (2, 5, 7)")


@functools.cache
def deep_short():
    from falib.experiments import deep

    short = dict(deep.QUICK, steps=1000)
    backend = Backend(dtype=short["dtype"])
    return short, backend, deep.data(short, backend)


def freezer(forget_frozen=False, measure_early=False, own_steps=None):
    """The exercise's freeze, or one of three mistakes."""
    from falib.experiments import deep
    from falib.metrics import angle, normalized_squared_error
    from falib.data import minibatches

    short, backend, sets = deep_short()

    def freeze(frozen, config=short, runs=range(3)):
        net = falib.Network.init(config["sizes"]["deep"], ["tanh", "tanh", "linear"], config["init_scale"],
                                 bias_scale=config["init_scale"], seed=config["seed"], runs=runs, backend=backend)
        net.frozen = set() if forget_frozen else set(frozen)
        rule = deep.bind(config, net, config["rules"]["feedback_alignment"], backend)
        before = to_numpy(angle(rule.B[0], net.W[1].mT))
        after = before if measure_early else None
        steps = own_steps or config["steps"]
        falib.train(net, rule, minibatches(*sets["train"], config["batch"]), steps=steps, eta=config["eta"],
                    record_every=steps)
        x, y = sets["test"]
        return {"before": before, "after": to_numpy(angle(rule.B[0], net.W[1].mT)) if after is None else after,
                "nse": to_numpy(normalized_squared_error(y, net.forward(x).y))}

    return freeze


def test_frozen_layers():
    from falib.experiments import deep
    from falib.metrics import angle, normalized_squared_error
    from falib.data import minibatches

    short, backend, sets = deep_short()
    freeze = freezer()
    results = {frozen: freeze(frozen, runs=[0]) for frozen in ((), (1,), (0, 1))}
    checks.frozen_layers(results, freeze)

    def freeze_with_records(frozen, config=short, runs=range(3)):
        net = falib.Network.init(config["sizes"]["deep"], ["tanh", "tanh", "linear"], config["init_scale"],
                                 bias_scale=config["init_scale"], seed=config["seed"], runs=runs, backend=backend)
        net.frozen = set(frozen)
        rule = deep.bind(config, net, config["rules"]["feedback_alignment"], backend)
        x, y = sets["test"]
        curves = falib.train(net, rule, minibatches(*sets["train"], config["batch"]), steps=config["steps"],
                             eta=config["eta"], record_every=config["steps"],
                             evaluate=lambda net, rule: {"nse": normalized_squared_error(y, net.forward(x).y),
                                                         "angle": angle(rule.feedback(net)[0], net.W[1].mT)})
        return {"before": curves["angle"][:, 0], "after": curves["angle"][:, -1], "nse": curves["nse"][:, -1]}

    checks.frozen_layers(results, freeze_with_records)
    forgetful = freezer(forget_frozen=True)
    fails(checks.frozen_layers, {f: forgetful(f, runs=[0]) for f in results}, forgetful, says="is layer 1 in net.frozen?")
    fails(checks.frozen_layers, results, forgetful, says="freeze((1,), config, runs=[0])['after']")
    early = freezer(measure_early=True)
    fails(checks.frozen_layers, {f: early(f, runs=[0]) for f in results}, early, says="is it measured after training?")
    fails(checks.frozen_layers, results, freezer(own_steps=40), says="is not that of feedback alignment trained")


# beyond

class TransposeFeedback(FeedbackAlignment):
    def learn(self, net, p, deltas, eta, decay):
        for l, B in enumerate(self.B):
            h, delta = p.h[l + 1], deltas[l + 1]
            self.B[l] = (1 - eta * decay) * B + eta / delta.shape[-1] * (h @ delta.mT)


class TransposeFeedbackInPlace(FeedbackAlignment):
    def learn(self, net, p, deltas, eta, decay):
        for l, B in enumerate(self.B):
            B *= 1 - eta * decay
            B += eta / deltas[l + 1].shape[-1] * (p.h[l + 1] @ deltas[l + 1].mT)


class TransposeFeedbackFused(FeedbackAlignment):
    def learn(self, net, p, deltas, eta, decay):
        for B, h, delta in zip(self.B, p.h[1:], deltas[1:]):
            add_product(B, h, delta.mT, beta=1 - eta * decay, alpha=eta / delta.shape[-1])


NEVER_TRANSPOSE = ("h @ delta", "(1 - eta * decay)", "add_product")


def test_transpose_feedback_right_answers():
    for answer in (TransposeFeedback, TransposeFeedbackInPlace, TransposeFeedbackFused):
        checks.transpose_feedback(answer)


def test_transpose_feedback_wrong_answers():
    class Library(KolenPollack):
        def __init__(self, scale):
            super().__init__(scale, decay=0.0)

    class NoDecay(FeedbackAlignment):
        def learn(self, net, p, deltas, eta, decay):
            for l, B in enumerate(self.B):
                self.B[l] = B + eta / deltas[l + 1].shape[-1] * (p.h[l + 1] @ deltas[l + 1].mT)

    class Untransposed(FeedbackAlignment):
        def learn(self, net, p, deltas, eta, decay):
            for l, B in enumerate(self.B):
                self.B[l] = (1 - eta * decay) * B + eta / deltas[l + 1].shape[-1] * (deltas[l + 1] @ p.h[l + 1].mT)

    class NumpyOnly(FeedbackAlignment):
        def learn(self, net, p, deltas, eta, decay):
            for l, B in enumerate(self.B):
                update = to_numpy(p.h[l + 1]) @ to_numpy(deltas[l + 1]).swapaxes(-1, -2)
                self.B[l] = (1 - eta * decay) * to_numpy(B) + eta / deltas[l + 1].shape[-1] * update

    class Copied(FeedbackAlignment):
        decay = 0.0
        learn = KolenPollack.learn

    class Calling(FeedbackAlignment):
        decay = 0.0

        def learn(self, net, p, deltas, eta, decay):
            KolenPollack.learn(self, net, p, deltas, eta, decay)

    for answer in (Library, Copied, Calling):
        fails(checks.transpose_feedback, answer, says="falib's own KolenPollack.learn", never=NEVER_TRANSPOSE)
    fails(checks.transpose_feedback, NoDecay, says="B[0] - W[1]ᵀ after 30 steps", never=NEVER_TRANSPOSE)
    message = fails(checks.transpose_feedback, Untransposed, says="on numpy, training with your rule raised", never=("h @ delta",))
    assert "shape of W[l+1]ᵀ" in message
    fails(checks.transpose_feedback, NumpyOnly, says="on torch, training with your rule raised TypeError")
    fails(checks.transpose_feedback, FeedbackAlignment, says="B[0] did not change")


def test_transpose_feedback_needs_torch_and_says_so(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)
    fails(checks.transpose_feedback, TransposeFeedback, says="PyTorch is not installed")
