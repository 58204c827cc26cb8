"""The paper's measures, per run: every function returns one value per replica (leading axis)."""
from __future__ import annotations

import math

import numpy as np
from array_api_compat import array_namespace


def _flat_dot(a, b):
    xp = array_namespace(a, b)
    return xp.sum(xp.reshape(a * b, (a.shape[0], -1)), axis=1)


def angle(a, b):
    """Signed angle in degrees between ``a`` and ``b``, each flattened after the replica axis.

    ``theta = arccos(a.b / (|a| |b|))``: 0 when aligned, 90 when orthogonal, up to 180 when
    opposed. (The preprint's ``|a.b|`` would fold angles above 90 back below it.)
    """
    xp = array_namespace(a, b)
    if a.shape != b.shape:
        raise ValueError(f"angle needs two arrays of the same shape, got {tuple(a.shape)} and {tuple(b.shape)}")
    cos = _flat_dot(a, b) / xp.sqrt(_flat_dot(a, a) * _flat_dot(b, b))
    return xp.acos(xp.clip(cos, -1.0, 1.0)) * (180.0 / math.pi)


def pinv(B):
    """Moore-Penrose pseudoinverse of a ``B`` of full column rank: ``B⁺ = (B^T B)^-1 B^T``, so ``B⁺ B = I``."""
    return array_namespace(B).linalg.solve(B.mT @ B, B.mT)


def span_fraction(A, B):
    """``|B B⁺ A| / |A|`` per run: how much of ``A`` (its columns) lies in ``B``'s column space (Fig. 5b)."""
    xp = array_namespace(A, B)
    inside = B @ (pinv(B) @ A)
    return xp.sqrt(_flat_dot(inside, inside) / _flat_dot(A, A))


def normalized_squared_error(target, y):
    """Squared error of ``y`` divided by that of predicting the per-dimension batch mean of ``target``.

    Arrays are ``(R, units, batch)``; the mean is taken over the batch (last) axis, so the mean
    predictor scores exactly 1 and a perfect one 0.
    """
    xp = array_namespace(target, y)
    if target.shape[-2:] != y.shape[-2:]:
        raise ValueError(f"target {tuple(target.shape)} and output {tuple(y.shape)} differ in (units, batch)")
    baseline = xp.sum((target - xp.mean(target, axis=-1, keepdims=True)) ** 2, axis=(-2, -1))
    return xp.sum((target - y) ** 2, axis=(-2, -1)) / baseline


def classification_error(y, labels):
    """Fraction of examples whose most active output unit is not the labelled class.

    ``y`` is ``(R, classes, batch)``; ``labels`` holds integer classes, shape ``(batch,)``.
    """
    xp = array_namespace(y, labels)
    if labels.shape != (y.shape[-1],):
        raise ValueError(f"labels have shape {tuple(labels.shape)}; expected ({y.shape[-1]},), one per example")
    wrong = xp.argmax(y, axis=-2) != xp.astype(labels, xp.int64)
    return xp.mean(xp.astype(wrong, y.dtype), axis=-1)


def delta_angles(net, rule, p, target) -> list:
    """Angle between `rule`'s delta and backprop's in each hidden layer, on the same pass (Fig. 2b, 3b).

    Measuring changes nothing: a rule that needs noise gets it from its measuring stream. None
    where a layer receives no error (shallow learning).
    """
    from .rules import Backprop

    ours = rule.deltas(net, p, target, rule.noise(net, p.y.shape[-1], probe=True))
    bp = Backprop().deltas(net, p, target)
    return [None if a is None else angle(a, b) for a, b in zip(ours[:-1], bp[:-1])]


def feedback_angles(net, rule) -> list:
    """Angle between each hidden layer's feedback matrix B and ``W[l+1]^T``; None where the rule
    has no such matrix (backprop, shallow, node perturbation, the lower layers of direct feedback
    alignment)."""
    return [None if B is None else angle(B, W.mT) for B, W in zip(rule.feedback(net), net.W[1:])]


def has_feedback(net, rule) -> bool:
    """Whether `rule` carries errors back through a matrix B that stands in for some ``W[l+1]^T``."""
    return any(B is not None for B in rule.feedback(net))


def delta_angle(net, rule, x, target) -> dict:
    """The measure of Fig. 2b and 3b: ``{"angle": ...}``, the first hidden layer's δ angle to
    backprop's on the inputs `x`, for a rule with a feedback matrix B; ``{}`` for one without
    (backprop, shallow learning, node perturbation)."""
    return {"angle": delta_angles(net, rule, net.forward(x), target)[0]} if has_feedback(net, rule) else {}


def layer_angles(net, rule, x, target) -> dict:
    """Both angles in every hidden layer l, where they apply to `rule`: ``delta{l}``, δ's angle to
    backprop's on the inputs `x` (:func:`delta_angles`), and ``B{l}``, B's angle to ``W[l+1]^T``
    (:func:`feedback_angles`)."""
    deltas = delta_angles(net, rule, net.forward(x), target)
    return ({f"delta{l}": a for l, a in enumerate(deltas) if a is not None}
            | {f"B{l}": a for l, a in enumerate(feedback_angles(net, rule)) if a is not None})


def first_below(step, curve, level):
    """The first recorded step at which a (host) `curve` is below `level`, or None if it never is."""
    below = np.flatnonzero(np.asarray(curve) < level)
    return int(step[below[0]]) if below.size else None
