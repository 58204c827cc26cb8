"""Results files: atomic, verified, keyed by configuration; the committed ones are current."""
import json

import numpy as np
import pytest

import falib
from falib import Results, ResultsError
from falib.claims import Claims
from falib.experiments import Experiment, get, linear
from falib.results import config_hash, find

from .conftest import assert_paper_start


def small_results():
    return Results("linear", "quick", {"a": 1}, {"curve": np.arange(5.0)}, {"runs": [0]})


def toy(calls, fail=(), chunk=1, step=lambda runs: np.arange(3.0)):
    """An experiment whose run r gives the curve 10 r + [0, 1, 2]; it records which runs it computes."""
    def compute(config, backend, runs):
        calls.append(list(runs))
        if set(runs) & set(fail):
            raise RuntimeError("interrupted")
        return {"step": step(runs), "curve": 10.0 * np.asarray(runs)[:, None] + np.arange(3.0)}
    return Experiment("toy", "a toy", {"quick": {"runs": 4, "dtype": "float64"}}, compute,
                      lambda res: Claims([]), chunk=chunk, shared=("step",))


def test_chunks_join_along_the_run_axis():
    calls = []
    chunked, whole = toy(calls).run("quick"), toy(calls, chunk=None).run("quick")
    assert calls == [[0], [1], [2], [3], [0, 1, 2, 3]]
    assert chunked.meta["runs"] == [0, 1, 2, 3] and chunked.hash == whole.hash
    for k in whole.arrays:
        np.testing.assert_array_equal(chunked[k], whole[k])


def test_an_interrupted_run_resumes_from_its_checkpoints(tmp_path):
    calls = []
    with pytest.raises(RuntimeError, match="interrupted"):
        toy(calls, fail=[2]).run("quick", checkpoints=tmp_path)
    resumed = toy(calls).run("quick", checkpoints=tmp_path)
    assert calls == [[0], [1], [2], [2], [3]]   # runs 0 and 1 were not computed again
    np.testing.assert_array_equal(resumed["curve"][:, 0], [0, 10, 20, 30])


def test_reproduce_resumes_an_interrupted_run_then_clears_its_checkpoints(tmp_path, monkeypatch):
    calls, experiment = [], toy([], fail=[2])
    monkeypatch.setattr(falib.experiments, "get", lambda name: experiment)
    with pytest.raises(RuntimeError, match="interrupted"):
        falib.reproduce("toy", "quick", folder=tmp_path)
    checkpoints = falib.results.cache_dir() / "checkpoints" / "toy-quick"
    assert len(list(checkpoints.rglob("*.npz"))) == 2
    experiment = toy(calls)
    falib.reproduce("toy", "quick", folder=tmp_path)
    assert calls == [[2], [3]] and not checkpoints.exists()
    assert len(list(tmp_path.glob("toy-quick-*.npz"))) == 1


def test_chunks_that_disagree_on_shared_arrays_are_refused():
    with pytest.raises(ResultsError, match="disagree on 'step'"):
        toy([], step=lambda runs: np.arange(3.0) + runs[0]).run("quick")


def test_roundtrip_without_pickle(tmp_path):
    path = small_results().save(tmp_path)
    back = Results.load(path)
    assert back.config == {"a": 1} and np.array_equal(back["curve"], np.arange(5.0))
    with np.load(path, allow_pickle=False) as z:   # plain arrays and a JSON header, no objects
        assert json.loads(str(z["__header__"]))["hash"] == config_hash("linear", {"a": 1})
    with pytest.raises(KeyError, match="hold no 'angle'"):
        back["angle"]


@pytest.mark.parametrize("damage", ["truncate", "flip"])
def test_damaged_file_is_detected(tmp_path, damage):
    path = small_results().save(tmp_path)
    data = bytearray(path.read_bytes())
    if damage == "truncate":
        data = data[: len(data) // 2]
    else:
        data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(ResultsError, match="corrupt"):
        Results.load(path)


def test_tampered_array_is_detected(tmp_path):
    """A file rewritten with other numbers but the old header fails its checksums."""
    path = small_results().save(tmp_path)
    with np.load(path) as z:
        header = z["__header__"]
    np.savez(path, __header__=header, curve=np.arange(5.0) + 1)
    with pytest.raises(ResultsError, match="do not match the checksums"):
        Results.load(path)


def test_failed_write_leaves_nothing(tmp_path, monkeypatch):
    def explode(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez_compressed", explode)
    with pytest.raises(OSError, match="disk full"):
        small_results().save(tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_stale_paper_results_are_refused(tmp_path):
    Results("linear", "paper", {"old": True}, {"x": np.zeros(1)}, {}).save(tmp_path)
    with pytest.raises(ResultsError, match="another configuration.*reproduce linear --profile paper"):
        find("linear", "paper", {"new": True}, tmp_path)


def test_missing_paper_results_name_the_command(tmp_path):
    with pytest.raises(ResultsError, match="python -m falib reproduce linear --profile paper"):
        falib.reproduce("linear", "paper", folder=tmp_path)


def test_quick_results_are_computed_once_then_reused(tmp_path):
    first = falib.reproduce("linear", "quick", folder=tmp_path)
    assert len(list(tmp_path.glob("linear-quick-*.npz"))) == 1
    again = falib.reproduce("linear", "quick", folder=tmp_path)
    assert again.meta == first.meta   # read back, not recomputed


@pytest.mark.parametrize("name", falib.names())
def test_committed_paper_results_are_current(name):
    experiment = get(name)
    stored = find(name, "paper", experiment.config("paper"))
    assert stored is not None, f"results/ holds no paper results for {name} with today's configuration"
    assert experiment.claims(stored).passed


def test_first_steps_of_a_paper_run_reproduce_the_stored_curve():
    steps = 4 * linear.PAPER["record_every"]
    assert len(assert_paper_start(linear, 3, 1e-9, steps=steps)) == 5


def test_bad_profile_and_experiment_list_valid_names():
    with pytest.raises(ValueError, match="unknown profile 'huge'; choose one of: quick, paper"):
        falib.reproduce("linear", "huge")
    with pytest.raises(ValueError, match="unknown experiment 'spiral'; choose one of: linear"):
        falib.reproduce("spiral")
