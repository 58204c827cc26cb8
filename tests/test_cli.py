"""The command line: reproduce, claims, exit codes, and errors that name the path and the fix."""
import dataclasses
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

import falib
from falib import Claim, Claims, Results
from falib.__main__ import CANNOT_RUN, CLAIM_FAILED, main
from falib.experiments import Experiment

from .test_results import toy_compute


def learned(res):
    return Claims([Claim("learns", "The curve rises", "rises", f"{res['curve'].max():g}",
                         res["curve"].max() > 0)])


TOY = Experiment("toy", "a toy", {"quick": {"runs": 2, "dtype": "float64"}, "paper": {"runs": 2, "dtype": "float64"}},
                 toy_compute, learned, chunk=1, shared=("step",))


@pytest.fixture
def use(monkeypatch):
    """``use(experiment)``: the command line and ``reproduce`` find `experiment` by any name."""
    def install(experiment):
        for module in (falib.experiments, falib.experiments.store, sys.modules["falib.__main__"]):
            monkeypatch.setattr(module, "get", lambda name: experiment)
        return experiment
    install(TOY)
    return install


def never(config, backend, runs):
    raise AssertionError("computed, although the run should have stopped before computing")


def test_help_lists_experiments_and_exit_codes():
    out = subprocess.run([sys.executable, "-m", "falib", "--help"], capture_output=True, text=True)
    assert out.returncode == 0 and "linear (Fig. 2" in out.stdout
    assert "exit codes:" in out.stdout and f"{CANNOT_RUN}  could not run" in out.stdout


def test_reproduce_then_claims(tmp_path, use, capsys):
    assert main(["reproduce", "toy", "--out", str(tmp_path)]) == 0
    assert len(list(tmp_path.glob("toy-quick-numpy-cpu-float64-*.npz"))) == 1
    assert main(["claims", "toy", "--out", str(tmp_path)]) == 0
    assert "The curve rises" in capsys.readouterr().out


def test_failing_claim_exits_one(tmp_path, use, capsys):
    """Results where nothing learned must fail the claims: damage the stored curves."""
    assert main(["reproduce", "toy", "--out", str(tmp_path)]) == 0
    res = Results.load(next(tmp_path.glob("*.npz")))
    res.arrays["curve"] = np.zeros_like(res.arrays["curve"])
    res.save(tmp_path)
    assert main(["claims", "toy", "--out", str(tmp_path)]) == CLAIM_FAILED
    assert "FAILS" in capsys.readouterr().out


def test_bad_arguments_cannot_run(capsys):
    assert main(["claims", "nope"]) == CANNOT_RUN
    assert main(["reproduce", "linear", "--backend", "jax"]) == CANNOT_RUN
    assert "choose one of: numpy, torch" in capsys.readouterr().err


def test_out_naming_a_file_stops_before_computing(tmp_path, use, capsys):
    use(dataclasses.replace(TOY, compute=never))
    out = tmp_path / "a-file"
    out.write_text("")
    assert main(["reproduce", "toy", "--out", str(out)]) == CANNOT_RUN
    err = capsys.readouterr().err
    assert f"cannot write the results in {out}" in err and "choose another with --out" in err


def test_unwritable_cache_stops_before_computing(tmp_path, use, monkeypatch, capsys):
    use(dataclasses.replace(TOY, compute=never))
    (tmp_path / "file").write_text("")
    monkeypatch.setenv("FALIB_CACHE", str(tmp_path / "file" / "cache"))   # under a file: never writable
    assert main(["reproduce", "toy"]) == CANNOT_RUN
    err = capsys.readouterr().err
    assert f"{tmp_path / 'file' / 'cache'}" in err and "FALIB_CACHE" in err


@pytest.mark.skipif(not os.environ.get("FALIB_MNIST"), reason="FALIB_MNIST is not set")
def test_unreadable_mnist_stops_before_computing(tmp_path, use, monkeypatch, capsys):
    for path in Path(os.environ["FALIB_MNIST"]).iterdir():
        (tmp_path / path.name).symlink_to(path.resolve())
    monkeypatch.setenv("FALIB_MNIST", str(tmp_path))
    unreadable = next(tmp_path.glob("train-images*"))
    read_bytes = Path.read_bytes

    def refuse(path):
        if path == unreadable:
            raise PermissionError(13, "Permission denied", str(path))
        return read_bytes(path)

    monkeypatch.setattr(Path, "read_bytes", refuse)
    use(dataclasses.replace(falib.get("mnist"), compute=never))
    assert main(["reproduce", "mnist", "--out", str(tmp_path / "out")]) == CANNOT_RUN
    err = capsys.readouterr().err
    assert f"cannot read {unreadable} (Permission denied)" in err and "FALIB_MNIST" in err


def test_a_header_without_digests_cannot_run(tmp_path, use, capsys):
    assert main(["reproduce", "toy", "--out", str(tmp_path)]) == 0
    path = next(tmp_path.glob("*.npz"))
    with np.load(path) as z:
        arrays = dict(z)
    header = arrays.pop("__header__")
    np.savez(path, __header__=np.asarray(str(header).replace('"digests"', '"nothing"')), **arrays)
    assert main(["claims", "toy", "--out", str(tmp_path)]) == CANNOT_RUN
    assert f"results file {path}" in capsys.readouterr().err


def test_a_save_killed_midway_leaves_nothing(tmp_path):
    """A process killed while it writes leaves its temporary file; the next save removes it."""
    code = ("import os, signal, numpy as np\nfrom falib import Results\n"
            "def die(*a, **k): os.kill(os.getpid(), signal.SIGKILL)\n"
            "np.savez_compressed = lambda fh, **k: (fh.write(b'half'), die())\n"
            "Results('toy', 'quick', {}, {'x': np.zeros(1)}, "
            "{'backend': 'numpy', 'device': 'cpu', 'dtype': 'float64'}).save(os.environ['OUT'])\n")
    out = subprocess.run([sys.executable, "-c", code], env={**os.environ, "OUT": str(tmp_path)})
    assert out.returncode == -9 and [p.name[:5] for p in tmp_path.iterdir()] == [".tmp-"]
    Results("toy", "quick", {}, {"x": np.ones(1)}, {"backend": "numpy", "device": "cpu", "dtype": "float64"}
            ).save(tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == ["toy-quick-numpy-cpu-float64-" + Results(
        "toy", "quick", {}, {}, {"backend": "numpy", "device": "cpu", "dtype": "float64"}).hash + ".npz"]


def test_two_concurrent_runs_both_succeed(tmp_path, use):
    """Two runs of the same results at once: the second waits for the first (it would otherwise
    delete or overwrite the checkpoints the first is writing), then finds its cells current, and
    both succeed."""
    who = []

    def slow(config, backend, runs):
        who.append(threading.get_ident())
        time.sleep(0.2)
        return toy_compute(config, backend, runs)

    use(dataclasses.replace(TOY, compute=slow))

    def run():
        done.append(falib.reproduce("toy", "quick", folder=tmp_path, recompute=True).meta["runs"])

    done, threads = [], [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert done == [[0, 1], [0, 1]] and len(list(tmp_path.glob("toy-*.npz"))) == 1
    assert len(who) == 2 and who[0] == who[1]   # one run computed both chunks; the other computed none
