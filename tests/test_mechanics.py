"""Fig. 5: quadratic target, pseudoinverse and span measures, per-unit angles, the stored paper run."""
import numpy as np

from falib.experiments import mechanics
from falib.metrics import angle, pinv, span_fraction
from falib.tasks import quadratic, quadratic_target

from .conftest import assert_paper_start


def test_quadratic_target_hand_value():
    Q = np.array([[[1.0, 2.0], [3.0, 4.0]], [[0.0, 1.0], [0.0, 0.0]]])
    X = np.array([[1.0, 2.0], [1.0, -1.0]])
    # x = (1, 2): 1 + 2*2 + 3*2 + 4*4 = 27 and 1*2 = 2; x = (1, -1): 1 - 2 - 3 + 4 = 0 and -1
    np.testing.assert_allclose(quadratic(Q, X), [[27.0, 2.0], [0.0, -1.0]])
    Q = quadratic_target(np.random.default_rng(0), 20, 20, 0.5)
    assert Q.shape == (20, 20, 20) and abs(Q).max() <= 0.5


def test_pseudoinverse_and_alignment_hand_case(backend):
    B = backend.asarray([[[2.0, 0.0], [0.0, 1.0], [0.0, 0.0]]])   # B+ = [[1/2, 0, 0], [0, 1, 0]]
    W = backend.asarray([[[1.0, 0.0, 0.0], [0.0, 2.0, 0.0]]])
    np.testing.assert_allclose(np.asarray(pinv(B)), [[[0.5, 0, 0], [0, 1, 0]]], atol=1e-12)
    np.testing.assert_allclose(np.asarray(angle(W, pinv(B))), [0.0], atol=1e-6)   # W = 2 B+
    np.testing.assert_allclose(np.asarray(angle(W, B.mT)), [np.degrees(np.arccos(0.8))])   # 4 / (√5 √5)
    B = np.random.default_rng(1).uniform(-0.5, 0.5, (3, 50, 4))
    np.testing.assert_allclose(np.asarray(pinv(backend.asarray(B))), np.linalg.pinv(B), atol=1e-10)


def test_span_fraction_hand_case(backend):
    B = backend.asarray([[[1.0], [0.0]]])
    np.testing.assert_allclose(np.asarray(span_fraction(backend.asarray([[[3.0], [4.0]]]), B)), [0.6])
    np.testing.assert_allclose(np.asarray(span_fraction(backend.asarray([[[0.0], [4.0]]]), B)), [0.0])


def test_unit_angles_pair_column_j_of_W_with_row_j_of_B():
    W = np.array([[[1.0, 0.0], [0.0, 1.0]]])            # column 0: (1, 0); column 1: (0, 1)
    B = np.array([[[1.0, 1.0], [0.0, -1.0]]])           # row 0: (1, 1); row 1: (0, -1)
    np.testing.assert_allclose(mechanics.unit_angles(W, B, [0, 1]), [[45.0, 180.0]])


def test_first_steps_of_a_paper_run_reproduce_the_stored_curve():
    config = mechanics.PAPER
    every = config["record_every"]
    linear = dict(config["linear"], steps=4 * config["linear"]["record_every"])
    later = ("phase2/", "phase3/")   # these start later in a short run
    curves = assert_paper_start(mechanics, 5, 1e-5, later, steps=4 * every, phase_steps=4 * every, linear=linear)
    assert {"fa/nse", "frozen_W0/nse", "phase1/nse", "linear/nse"} <= set(curves)   # float32
