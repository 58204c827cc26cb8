"""Results files: atomic, verified, keyed by configuration and origin; the committed ones are current."""
import importlib
import json
import sys

import numpy as np
import pytest

import falib
from falib import Backend, Results, ResultsError
from falib.claims import Claims
from falib.experiments import Experiment, get, linear
from falib.results import config_hash, file_name, find


ORIGIN = {"backend": "numpy", "device": "cpu", "dtype": "float64"}
F32 = Backend("numpy", "cpu", "float32")


def small_results(profile="quick", config=None):
    return Results("linear", profile, config or {"a": 1}, {"curve": np.arange(5.0)}, {"runs": [0], **ORIGIN})


def toy_compute(config, backend, runs):
    """Run r gives the curve 10 r + [0, 1, 2] (in the backend's dtype); ``config["fail"]`` runs raise."""
    if set(runs) & set(config.get("fail", ())):
        raise RuntimeError("interrupted")
    curve = 10.0 * np.asarray(runs)[:, None] + np.arange(3.0)
    return {"step": np.arange(3.0) + config.get("shift", 0) * runs[0], "curve": curve.astype(backend.dtype)}


def toy(calls, fail=(), chunk=1, shift=0):
    """A toy experiment of 4 runs that records which runs it computes."""
    def compute(config, backend, runs):
        calls.append(list(runs))
        return toy_compute(dict(config, fail=fail, shift=shift), backend, runs)
    compute.__module__ = toy_compute.__module__
    return Experiment("toy", "a toy", {"quick": {"runs": 4, "dtype": "float64"}, "paper": {"runs": 4, "dtype": "float64"}},
                      compute, lambda res: Claims([]), chunk=chunk, shared=("step",))


@pytest.fixture
def registry(monkeypatch):
    """``use(experiment)`` makes `experiment` the one that ``reproduce`` finds by any name."""
    def use(experiment):
        monkeypatch.setattr(falib.experiments.store, "get", lambda name: experiment)
    return use


def test_reused_runs_keep_their_restamp_entries_as_a_list():
    """Runs reused from a re-stamped file keep its checks (a list, each entry once), beside new runs that have none."""
    calls, entry = [], {"labels": {}, "from_code": "a", "to_code": "b", "run": 0}
    old = toy(calls).run("quick", runs=[0, 1])
    old.meta["restamped"] = [entry]
    more = toy(calls).run("quick", reuse=old)
    assert calls == [[0], [1], [2], [3]] and more.meta["restamped"] == [entry]
    assert "restamped" not in toy(calls).run("quick").meta


def test_seconds_are_measured_never_shared_out():
    """Runs reused from a cell whose own time is unknown (a migrated file of several cells lists
    None), or some of a cell's runs, leave that cell's seconds unknown: the total counts only
    what was timed, and says how many cells it leaves out."""
    calls = []
    old = toy(calls).run("quick", runs=[0, 1])
    old.meta["cells"][0]["seconds"] = None
    more = toy(calls).run("quick", reuse=old)
    assert calls == [[0], [1], [2], [3]] and more.meta["cells"][0]["seconds"] is None
    assert more.meta["untimed_cells"] == 1
    whole = toy(calls).run("quick")
    whole.meta["cells"][0]["seconds"] = whole.meta["seconds"] = 100.0
    before = len(calls)
    some = toy(calls).run("quick", runs=[0, 1, 2], reuse=whole)   # no share of the 100 s is made up
    assert len(calls) == before and some.meta["cells"][0]["seconds"] is None
    assert some.meta["seconds"] == 0 and some.meta["untimed_cells"] == 1
    timed = toy(calls).run("quick")
    assert "untimed_cells" not in timed.meta and timed.meta["cells"][0]["seconds"] == timed.meta["seconds"]


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


def test_reproduce_resumes_an_interrupted_run_then_clears_its_checkpoints(tmp_path, registry):
    calls = []
    registry(toy([], fail=[2]))
    with pytest.raises(RuntimeError, match="interrupted"):
        falib.reproduce("toy", "quick", folder=tmp_path)
    checkpoints = falib.results.cache_dir() / "checkpoints"
    assert len(list(checkpoints.rglob("*.npz"))) == 2
    registry(toy(calls))
    falib.reproduce("toy", "quick", folder=tmp_path)
    assert calls == [[2], [3]] and not list(checkpoints.rglob("*.npz"))
    assert len(list(tmp_path.glob("toy-quick-*.npz"))) == 1


def test_checkpoints_of_another_dtype_are_not_resumed(tmp_path, registry):
    """Kill a float64 run after two chunks, rerun in float32: nothing of the float64 run is used."""
    calls = []
    registry(toy([], fail=[2]))
    with pytest.raises(RuntimeError, match="interrupted"):
        falib.reproduce("toy", "quick", folder=tmp_path)
    registry(toy(calls))
    res = falib.reproduce("toy", "quick", folder=tmp_path, backend=F32)
    assert calls == [[0], [1], [2], [3]] and res["curve"].dtype == np.float32
    assert res.config["dtype"] == res.meta["dtype"] == "float32"


def test_another_dtype_or_backend_neither_reuses_nor_overwrites(tmp_path, registry):
    calls = []
    registry(toy(calls))
    f64 = falib.reproduce("toy", "paper", folder=tmp_path, recompute=True)
    f32 = falib.reproduce("toy", "paper", folder=tmp_path, recompute=True, backend=F32)
    torch = falib.reproduce("toy", "quick", folder=tmp_path, backend=Backend("torch", "cpu", "float64"))
    names = sorted(p.name for p in tmp_path.glob("toy-*.npz"))
    assert names == sorted([f64.file_name, f32.file_name, torch.file_name]) and len(set(names)) == 3
    assert "-numpy-cpu-float32-" in f32.file_name and "-torch-cpu-float64-" in torch.file_name
    assert falib.reproduce("toy", "paper", folder=tmp_path)["curve"].dtype == np.float64
    assert len(calls) == 12   # each computed once: the float64 paper file was served, not recomputed


def test_an_edited_experiment_invalidates_the_quick_cache(tmp_path, monkeypatch, registry):
    """Multiply a curve by 0 in the experiment's own module: the cached result is not served."""
    source = tmp_path / "edited_toy.py"
    source.write_text("import numpy as np\nfrom falib.backend import Backend\n\n"
                      "def compute(config, backend, runs):\n"
                      "    return {'curve': np.ones((len(runs), 3)) * FACTOR}\n\nFACTOR = 1.0\n")
    monkeypatch.syspath_prepend(str(tmp_path))

    def experiment():
        module = importlib.reload(sys.modules["edited_toy"]) if "edited_toy" in sys.modules \
            else importlib.import_module("edited_toy")
        return Experiment("edited", "edited", {"quick": {"runs": 2, "dtype": "float64"}}, module.compute,
                          lambda res: Claims([]))

    registry(experiment())
    assert falib.reproduce("edited", "quick", folder=tmp_path)["curve"].max() == 1
    source.write_text(source.read_text().replace("FACTOR = 1.0", "FACTOR = 0.0"))
    registry(experiment())
    again = falib.reproduce("edited", "quick", folder=tmp_path)
    assert again["curve"].max() == 0 and len(list(tmp_path.glob("edited-quick-*.npz"))) == 1


def test_a_library_edit_changes_the_fingerprint(tmp_path, monkeypatch):
    from falib import provenance

    before, target = get("linear").code(), provenance.target(get("linear").compute)
    assert before == get("linear").code()   # stable
    package = tmp_path / "falib"
    for path in provenance.PACKAGE.rglob("*.py"):
        (package / path.relative_to(provenance.PACKAGE)).parent.mkdir(parents=True, exist_ok=True)
        (package / path.relative_to(provenance.PACKAGE)).write_bytes(path.read_bytes())
    monkeypatch.setattr(provenance, "PACKAGE", package)
    assert provenance.fingerprint(target) == before
    (package / "plots.py").write_text("# a figure changed\n")
    assert provenance.fingerprint(target) == before   # presentation only
    rules = package / "rules.py"
    rules.write_text(rules.read_text().replace('"""', '"""Reworded. ', 1) + "\n# a comment\n")
    assert provenance.fingerprint(target) == before   # a docstring and a comment compute nothing
    rules.write_text(rules.read_text() + "\nEDITED = True\n")
    assert provenance.fingerprint(target) != before


def test_results_record_their_origin_and_provenance():
    res = toy([]).run("quick", backend=F32)
    meta = res.meta
    assert {k: meta[k] for k in ("backend", "device", "dtype")} == {**ORIGIN, "dtype": "float32"}
    assert meta["numpy"] == np.__version__ and meta["torch"] and len(meta["code"]) == 16
    assert "git" in meta and meta["runs"] == [0, 1, 2, 3]


def test_roundtrip_without_pickle(tmp_path):
    path = small_results().save(tmp_path)
    assert path.name == f"linear-quick-numpy-cpu-float64-{config_hash('linear', {'a': 1}, ORIGIN)}.npz"
    back = Results.load(path)
    assert back.config == {"a": 1} and np.array_equal(back["curve"], np.arange(5.0))
    with np.load(path, allow_pickle=False) as z:   # plain arrays and a JSON header, no objects
        assert json.loads(str(z["__header__"]))["hash"] == config_hash("linear", {"a": 1}, ORIGIN)
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


def test_a_header_without_digests_is_reported(tmp_path):
    path = small_results().save(tmp_path)
    with np.load(path) as z:
        header = json.loads(str(z["__header__"]))
    del header["digests"]
    np.savez(path, __header__=np.asarray(json.dumps(header)), curve=np.arange(5.0))
    with pytest.raises(ResultsError, match="lacks digests.*delete it and recompute"):
        Results.load(path)


def test_a_renamed_stale_file_is_refused(tmp_path):
    """Stale paper results renamed to today's name are not served as today's."""
    stale = small_results("paper", {"old": True}).save(tmp_path)
    today = tmp_path / file_name("linear", "paper", {"new": True}, ORIGIN)
    stale.rename(today)
    with pytest.raises(ResultsError, match="renamed"):
        find("linear", "paper", {"new": True}, ORIGIN, tmp_path)


def test_stale_paper_results_are_refused(tmp_path):
    small_results("paper", {"old": True}).save(tmp_path)
    with pytest.raises(ResultsError, match="another configuration.*reproduce linear --profile paper"):
        find("linear", "paper", {"new": True}, ORIGIN, tmp_path)
    assert find("linear", "paper", {"new": True}, {**ORIGIN, "dtype": "float32"}, tmp_path) is None


def test_failed_write_leaves_nothing(tmp_path, monkeypatch):
    def explode(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez_compressed", explode)
    with pytest.raises(ResultsError, match="cannot write .*linear-quick.*disk full.*--out"):
        small_results().save(tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_missing_paper_results_name_the_command(tmp_path):
    with pytest.raises(ResultsError, match="python -m falib reproduce linear --profile paper"):
        falib.reproduce("linear", "paper", folder=tmp_path)


def test_quick_results_are_computed_once_then_reused(tmp_path, registry):
    calls = []
    registry(toy(calls))
    first = falib.reproduce("toy", "quick", folder=tmp_path)
    assert len(list(tmp_path.glob("toy-quick-*.npz"))) == 1
    again = falib.reproduce("toy", "quick", folder=tmp_path)
    assert again.meta == first.meta and len(calls) == 4   # read back, not recomputed


@pytest.mark.parametrize("name", falib.names())
def test_committed_paper_results_are_current(name):
    experiment = get(name)
    stored = falib.reproduce(name, "paper")   # raises if results/ holds none for today's configuration
    assert stored.origin == falib.experiments.origin(experiment.default_backend(stored.config))
    assert experiment.claims(stored).ok


def test_bad_profile_and_experiment_list_valid_names():
    with pytest.raises(ValueError, match="unknown profile 'huge'; choose one of: quick, paper"):
        falib.reproduce("linear", "huge")
    with pytest.raises(ValueError, match="unknown experiment 'spiral'; choose one of: linear"):
        falib.reproduce("spiral")
