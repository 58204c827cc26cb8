"""The task registry: each task declared once, looked up by name, an unknown name refused."""
import numpy as np
import pytest

from falib import Backend
from falib.experiments import beyond, mnist
from falib.metrics import classification_error, normalized_squared_error
from falib.tasks import IMAGE_TASKS, TASKS, images, one_hot, task


def test_every_task_declares_its_score_units_and_classes():
    assert set(TASKS) == {"linear", "teacher", "quadratic", "mnist", "fashion"} and IMAGE_TASKS == ("mnist", "fashion")
    for name in IMAGE_TASKS:
        t = task(name)
        assert (t.shape, t.classes, t.score, t.units) == ((28, 28), 10, classification_error, "%")
    for name in ("linear", "teacher", "quadratic"):
        assert task(name).classes is None and task(name).score is normalized_squared_error


def test_an_unknown_task_is_refused_never_replaced():
    with pytest.raises(ValueError, match="unknown task 'kmnist'; choose one of: linear, teacher, quadratic, mnist, fashion"):
        task("kmnist")
    with pytest.raises(ValueError, match="unknown task 'kmnist'"):
        images("kmnist", {"train_size": 1, "test_size": 1})
    with pytest.raises(ValueError, match="task 'teacher' has no images; the image tasks: mnist, fashion"):
        images("teacher", {"train_size": 1, "test_size": 1})
    with pytest.raises(ValueError, match="mnist's images have 784 pixels; the network takes 100 inputs"):
        images("mnist", {"sizes": [100, 10], "train_size": 1, "test_size": 1})


def test_one_hot_over_the_tasks_classes():
    np.testing.assert_array_equal(one_hot(np.array([2, 0]), 3), [[0, 0, 1], [1, 0, 0]])
    assert one_hot(np.array([9]), task("mnist").classes).shape == (1, 10)


def test_beyond_takes_its_image_settings_from_the_mnist_chapter():
    for k in ("sizes", "init_scale", "decay", "batch", "eta", "train_size", "test_size", "angle_size"):
        assert beyond.IMAGES[k] == mnist.PAPER[k], k
    assert all(beyond.PAPER[t] is beyond.IMAGES for t in IMAGE_TASKS)


def test_the_teacher_task_is_one_draw_whatever_the_chunks():
    config = dict(beyond.QUICK["teacher"], seed=1, dtype="float64", steps=30, batch=10, valid_size=7)
    whole = task("teacher").data(config, Backend())
    chunked = task("teacher").data(config, Backend(), chunk=8)
    for name in ("train", "valid", "test"):
        for a, b in zip(whole[name], chunked[name]):
            np.testing.assert_array_equal(a, b)
    assert set(task("teacher").data(config, Backend(), sets=("test",))) == {"test"}
