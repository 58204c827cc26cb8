"""The paper's measures against hand-computed values."""
import numpy as np
import pytest

from falib import angle, classification_error, normalized_squared_error


def test_angle_hand_values(backend):
    a = backend.asarray([[1, 0], [1, 0], [1, 0], [2, 0]])
    b = backend.asarray([[1, 1], [0, 3], [-1, 0], [5, 0]])
    np.testing.assert_allclose(np.asarray(angle(a, b)), [45, 90, 180, 0], atol=1e-6)


def test_angle_flattens_matrices_per_run(backend):
    a = backend.asarray(np.ones((2, 3, 4)))
    b = backend.asarray(np.stack([np.ones((3, 4)), -np.ones((3, 4))]))
    np.testing.assert_allclose(np.asarray(angle(a, b)), [0, 180], atol=1e-5)
    with pytest.raises(ValueError, match="same shape"):
        angle(a, b[:, :2])


def test_nse_of_mean_predictor_is_one_and_of_truth_is_zero(backend):
    rng = np.random.default_rng(0)
    target = rng.normal(size=(1, 3, 50))
    mean = np.broadcast_to(target.mean(-1, keepdims=True), target.shape)
    t, m = backend.asarray(target), backend.asarray(mean)
    assert float(normalized_squared_error(t, m)[0]) == pytest.approx(1.0, abs=1e-12)
    assert float(normalized_squared_error(t, t)[0]) == 0.0
    # hand case: targets (1, 3) -> mean 2, baseline 2; predicting (0, 0) costs 1 + 9 = 10
    assert float(normalized_squared_error(backend.asarray([[[1, 3]]]), backend.asarray([[[0, 0]]]))[0]) == 5.0


def test_classification_error(backend):
    y = backend.asarray([[[0.9, 0.1, 0.3], [0.1, 0.8, 0.7]]])   # predicts 0, 1, 1
    labels = backend.asarray(np.array([0, 0, 1]))
    assert float(classification_error(y, labels)[0]) == pytest.approx(1 / 3)
    with pytest.raises(ValueError, match=r"expected \(3,\)"):
        classification_error(y, backend.asarray(np.array([0, 1])))
