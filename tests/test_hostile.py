"""The hostile table: what a careless or hostile user can do, and the exit code and message each gets.

Exit codes: 0 every claim as expected, 1 a claim not as expected, 2 could not run, 130 interrupted.
Each case is one test; a case that needs a real process (an encoding, a Dask worker on other code,
a kill, Ctrl-C) runs one, the others call the command line in this process. The cases of the
earlier table (results of another origin, stale or renamed files, a read-only cache, ``--out``
naming a file, a full disk, a kill during a save, concurrent runs, bad settings) are tests beside
the code they concern: test_results, test_cli, test_engines, test_validation and test_spiking.
"""
import dataclasses
import http.server
import json
import os
import shutil
import signal
import socketserver
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import falib
from falib import Results, ResultsError, provenance
from falib.__main__ import CANNOT_RUN, CLAIM_FAILED, INTERRUPTED, main
from falib.data import mnist_dir
from falib.engines import EngineError
from falib.experiments import default_profile, spiking
from falib.results import REPO_RESULTS, cache_dir, results_dir

from .chunked import LEARN
from .test_cli import TOY, never, use  # noqa: F401 (a fixture)
from .test_data import folder, tiny, urls  # noqa: F401 (fixtures: tiny MNIST files)
from .test_results import small_results, toy

REPO = Path(__file__).resolve().parents[1]
ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


def run(*args, **env):
    """``python -m falib ARGS`` in a fresh process, with `env` added to the environment."""
    return subprocess.run([sys.executable, "-m", "falib", *args], capture_output=True, text=True,
                          env={**os.environ, **env}, cwd=REPO, timeout=300)


def one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]


def stored(tmp_path) -> Path:
    """The toy's quick results, saved in `tmp_path`."""
    assert main(["reproduce", "toy", "--out", str(tmp_path)]) == 0
    return next(tmp_path.glob("toy-quick-*.npz"))


def rewrite(path: Path, header=None, drop=(), **arrays):
    """Rewrite the results file `path` with `header` (default: its own) and its arrays but `drop`."""
    with np.load(path) as z:
        kept = {k: z[k] for k in z.files if k != "__header__" and k not in drop}
        text = str(z["__header__"])
    header = text if header is None else json.dumps(header)
    np.savez(path, __header__=np.asarray(header), **{**kept, **arrays})


# --- exit codes 0 and 1 ------------------------------------------------------------------------
def test_claims_on_an_ascii_terminal_exit_zero():
    """The claims table holds η and ≥: on a terminal that cannot show them they are escaped."""
    out = run("claims", "mechanics", "--profile", "paper", PYTHONIOENCODING="ascii")
    assert out.returncode == 0, out.stderr
    assert "Traceback" not in out.stderr and "\\u03b7" in out.stdout


def test_a_claim_not_as_expected_exits_one(tmp_path, use, capsys):
    res = Results.load(stored(tmp_path))
    res.arrays["curve"] = np.zeros_like(res.arrays["curve"])
    res.save(tmp_path)
    assert main(["claims", "toy", "--out", str(tmp_path)]) == CLAIM_FAILED
    assert "FAILS" in capsys.readouterr().out

    def flat(config, backend, runs):
        return dict(TOY.compute(config, backend, runs), curve=np.zeros((len(runs), 3)))

    use(dataclasses.replace(TOY, compute=flat))
    assert main(["reproduce", "toy", "--out", str(tmp_path / "flat")]) == CLAIM_FAILED
    assert "FAILS" in capsys.readouterr().out


# --- exit code 130 and unexpected errors --------------------------------------------------------
@pytest.mark.skipif(os.name == "nt", reason="SIGINT is a POSIX signal")
def test_ctrl_c_exits_130_with_one_line_that_says_how_to_resume(tmp_path):
    """Once a 45-line KeyboardInterrupt traceback: Ctrl-C while the mechanics experiment computes."""
    cache = tmp_path / "cache"
    env = {**os.environ, "FALIB_CACHE": str(cache), "FALIB_PROGRESS": "0"}
    # SIGINT at its default, as a terminal starts a command: a test process may ignore SIGINT, and a
    # child inherits that (it then never sees Ctrl-C and runs to the end)
    run = subprocess.Popen([sys.executable, "-m", "falib", "reproduce", "mechanics", "--out", str(tmp_path / "out")],
                           env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                           preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.monotonic() + 120
    while not list(cache.rglob("*.lock")) and time.monotonic() < deadline:   # computing has begun
        time.sleep(0.05)
    time.sleep(0.3)
    run.send_signal(signal.SIGINT)
    _, err = run.communicate(timeout=120)
    assert run.returncode == INTERRUPTED, err
    assert "run the same command again to resume" in one_line(err)


def test_an_unexpected_error_exits_two_and_saves_its_traceback(tmp_path, use, capsys):
    def broken(config, backend, runs):
        return {"curve": None + 1}

    use(dataclasses.replace(TOY, compute=broken))
    assert main(["reproduce", "toy", "--out", str(tmp_path)]) == CANNOT_RUN
    line = one_line(capsys.readouterr().err)
    assert line.startswith("error: unexpected TypeError") and "test_hostile.py:" in line
    log = Path(line.split("traceback is in ")[1].split(" (or run")[0])
    assert log.parent == cache_dir() / "logs" and "Traceback" in log.read_text()
    assert main(["reproduce", "toy", "--out", str(tmp_path), "--debug"]) == CANNOT_RUN
    assert "Traceback (most recent call last)" in capsys.readouterr().err


@pytest.mark.parametrize("error", [ValueError("operands could not be broadcast"), OSError(5, "I/O error")])
def test_a_bare_value_or_os_error_from_the_computation_is_unexpected(error, tmp_path, use, capsys):
    """Only falib's own errors are one plain line: a ValueError or OSError that a bug raises inside
    the computation is reported as unexpected, with where it came from and its saved traceback."""
    def broken(config, backend, runs):
        raise error

    use(dataclasses.replace(TOY, compute=broken))
    assert main(["reproduce", "toy", "--out", str(tmp_path)]) == CANNOT_RUN
    line = one_line(capsys.readouterr().err)
    assert line.startswith(f"error: unexpected {type(error).__name__}") and "test_hostile.py:" in line
    assert "the full traceback is in " in line


def test_debug_prints_the_traceback_of_falibs_own_errors_too(capsys):
    assert main(["claims", "nope"]) == CANNOT_RUN
    err = capsys.readouterr().err
    assert "Traceback" not in err and one_line(err).startswith("error: unknown experiment 'nope'")
    assert main(["claims", "nope", "--debug"]) == CANNOT_RUN
    err = capsys.readouterr().err
    assert "Traceback (most recent call last)" in err and "ChoiceError" in err
    assert err.rstrip().splitlines()[-1].startswith("error: unknown experiment 'nope'")


def test_an_error_without_a_traceback_is_still_reported():
    from falib.__main__ import where

    assert where(RuntimeError("never raised")) == "an unknown place"


# --- Dask: a scheduler that is not one, a worker on other code -----------------------------------
@pytest.fixture
def server():
    """``server(handler)``: the address of a TCP server on 127.0.0.1 that answers with `handler`."""
    started = []

    def start(handler):
        s = socketserver.ThreadingTCPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=s.serve_forever, daemon=True).start()
        started.append(s)
        return f"tcp://127.0.0.1:{s.server_address[1]}"

    yield start
    for s in started:
        s.shutdown()
        s.server_close()


class Http(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):   # quiet
        pass


class Proxy(socketserver.BaseRequestHandler):
    def handle(self):
        self.request.recv(100)
        self.request.sendall(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")


@pytest.mark.parametrize("handler", [Http, Proxy], ids=["http", "proxy"])
def test_a_server_that_is_not_a_scheduler_exits_two_in_time(handler, server, use, monkeypatch, capsys):
    """Once: no output for 180 s (an HTTP server), or a MemoryError of 3 EiB (a proxy)."""
    pytest.importorskip("distributed")
    monkeypatch.setattr(falib.engines, "CONNECT_S", 2)
    address, start = server(handler), time.monotonic()
    use(dataclasses.replace(TOY, compute=never))
    assert main(["reproduce", "toy", "--scheduler", address]) == CANNOT_RUN
    assert time.monotonic() - start < 10
    assert address in one_line(capsys.readouterr().err)


def edited_falib(folder: Path) -> Path:
    """A copy of falib in `folder` with one computing module edited (its fingerprint differs)."""
    shutil.copytree(provenance.PACKAGE, folder / "falib", ignore=shutil.ignore_patterns("__pycache__"))
    rules = folder / "falib" / "rules.py"
    rules.write_text(rules.read_text() + "\nEDITED = True   # another learning rule would go here\n")
    return folder


def test_a_worker_on_edited_code_stops_the_run_before_anything_is_written(tmp_path, use, capsys):
    distributed = pytest.importorskip("distributed")
    use(LEARN)
    copy = edited_falib(tmp_path / "clone")
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False, protocol="tcp",
                                  host="127.0.0.1", dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(copy), str(REPO)])}
        worker = subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_worker", cluster.scheduler_address,
                                   "--nthreads", "1", "--no-nanny", "--no-dashboard"], env=env, cwd=tmp_path,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            client.wait_for_workers(2, timeout=60)
            local = {w.address for w in cluster.workers.values()}
            other = next(a for a in client.scheduler_info()["workers"] if a not in local)
            there = client.run(provenance.identity, "tests.chunked:learn", workers=[other])[other]["code"]
            out = tmp_path / "out"
            ran = main(["reproduce", "learn", "--out", str(out), "--scheduler", cluster.scheduler_address])
        finally:
            worker.terminate()
            worker.wait(30)
    assert ran == CANNOT_RUN
    line = one_line(capsys.readouterr().err)
    here = provenance.code("tests.chunked:learn")
    assert there != here and f"Dask worker {other}" in line and f"code {there} (here {here})" in line
    assert not out.exists() and not (cache_dir() / "checkpoints").exists()


def test_a_chunk_computed_by_other_code_is_refused_unsaved(tmp_path, monkeypatch):
    """A worker that joins after the check: its chunk reports another fingerprint and is not kept."""
    compute_chunk = falib.experiments.compute_chunk

    def elsewhere(*args):
        arrays, meta = compute_chunk(*args)
        return arrays, dict(meta, code="0123456789abcdef")

    monkeypatch.setattr(falib.experiments, "compute_chunk", elsewhere)
    with ThreadPoolExecutor(1) as pool, pytest.raises(EngineError, match="computed by other code.*0123456789abcdef"):
        LEARN.run("quick", executor=pool, checkpoints=tmp_path)
    assert not list(tmp_path.rglob("*.npz"))


def test_results_record_the_fingerprint_the_workers_report(tmp_path):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None) as c, \
            falib.engines.executor(scheduler=c.scheduler_address) as pool:
        res = LEARN.run("quick", executor=pool, runs=[0])
    assert res.meta["code"] == provenance.code("tests.chunked:learn")


# --- results files that are not what they say ----------------------------------------------------
@pytest.mark.parametrize("header,message", [
    ([1, 2], "header that is a JSON list, not an object"),
    ("{", "header that is not JSON"),
    ({"format": 1}, "lacks digests"),
])
def test_a_malformed_header_exits_two(header, message, tmp_path, use, capsys):
    path = stored(tmp_path)
    with np.load(path) as z:
        arrays = {k: z[k] for k in z.files if k != "__header__"}
    np.savez(path, __header__=np.asarray(header if isinstance(header, str) else json.dumps(header)), **arrays)
    assert main(["claims", "toy", "--out", str(tmp_path)]) == CANNOT_RUN
    assert message in one_line(capsys.readouterr().err)


@pytest.mark.parametrize("change,message", [
    (lambda h: h.update(format=3), "is of format 3; this falib reads format 2"),
    (lambda h: h["config"].update(runs=3), "configuration and origin do not match the hash"),
    (lambda h: h.update(meta=[]), "meta is a JSON list, not an object"),
    (lambda h: h["meta"].update(dtype=64), "does not record its origin (dtype"),
    (lambda h: h["meta"].update(runs="all"), "records runs 'all'"),
])
def test_each_header_field_is_checked_with_its_own_message(change, message, tmp_path, use, capsys):
    path = stored(tmp_path)
    with np.load(path) as z:
        header = json.loads(str(z["__header__"]))
    change(header)
    rewrite(path, header)
    assert main(["claims", "toy", "--out", str(tmp_path)]) == CANNOT_RUN
    assert message in one_line(capsys.readouterr().err)


def test_a_self_consistent_file_missing_an_array_exits_two(tmp_path, use, capsys):
    """Once a KeyError traceback: the file is intact, but lacks what the claims read."""
    path = stored(tmp_path)
    with np.load(path) as z:
        header = json.loads(str(z["__header__"]))
    del header["digests"]["curve"]
    rewrite(path, header, drop=("curve",))
    assert main(["claims", "toy", "--out", str(tmp_path)]) == CANNOT_RUN
    line = one_line(capsys.readouterr().err)
    assert f"results in {path} hold no 'curve'" in line and "python -m falib reproduce toy" in line


def test_a_file_missing_an_array_its_header_lists_exits_two(tmp_path, use, capsys):
    path = stored(tmp_path)
    rewrite(path, drop=("curve",))
    assert main(["claims", "toy", "--out", str(tmp_path)]) == CANNOT_RUN
    assert "lacks the arrays curve that its header lists" in one_line(capsys.readouterr().err)


def test_an_unreadable_results_file_says_make_it_readable(tmp_path, use, monkeypatch, capsys):
    """Not "delete it and recompute it" (hours): the file is fine, its permissions are not."""
    path, load = stored(tmp_path), np.load

    def refuse(file, *args, **kwargs):
        if Path(file) == path:
            raise PermissionError(13, "Permission denied", str(file))
        return load(file, *args, **kwargs)

    monkeypatch.setattr(np, "load", refuse)
    assert main(["claims", "toy", "--out", str(tmp_path)]) == CANNOT_RUN
    line = one_line(capsys.readouterr().err)
    assert f"cannot read results file {path}" in line and "make it readable" in line and "delete" not in line


@pytest.mark.skipif(ROOT or os.name == "nt", reason="root reads every file whatever its permissions")
def test_an_unreadable_results_file_for_real(tmp_path, use, capsys):
    path = stored(tmp_path)
    path.chmod(0)
    assert main(["claims", "toy", "--out", str(tmp_path)]) == CANNOT_RUN
    assert "make it readable" in capsys.readouterr().err


def test_a_folder_where_the_results_file_goes_stops_before_computing(tmp_path, use, capsys):
    """Once reported after the compute, as "free space"."""
    name = TOY.run("quick", runs=[0]).file_name   # the toy's file name does not depend on the runs
    (tmp_path / name).mkdir()
    use(dataclasses.replace(TOY, compute=never))
    assert main(["reproduce", "toy", "--out", str(tmp_path)]) == CANNOT_RUN
    line = one_line(capsys.readouterr().err)
    assert f"{tmp_path / name} is a folder" in line and "move it away" in line


# --- folders -------------------------------------------------------------------------------------
def test_empty_variables_count_as_unset(tmp_path, use, monkeypatch):
    """Once: FALIB_CACHE="" wrote results and checkpoints into the current folder."""
    for name in ("FALIB_CACHE", "FALIB_RESULTS", "FALIB_MNIST", "FALIB_PROFILE", "FALIB_FASHION_MNIST"):
        monkeypatch.setenv(name, "")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    here = tmp_path / "here"
    here.mkdir()
    monkeypatch.chdir(here)
    assert cache_dir() == tmp_path / "xdg" / "falib" / "results" and results_dir("paper") == REPO_RESULTS
    assert mnist_dir() == tmp_path / "xdg" / "falib" / "mnist" and default_profile() == "quick"
    assert main(["reproduce", "toy"]) == 0
    assert not list(here.iterdir()) and list((tmp_path / "xdg").rglob("toy-quick-*.npz"))


@pytest.mark.parametrize("inside", ["repository", "FALIB_RESULTS"])
def test_a_cache_inside_the_committed_results_is_refused(inside, tmp_path, use, monkeypatch, capsys):
    committed = REPO_RESULTS if inside == "repository" else tmp_path / "results"
    monkeypatch.setenv("FALIB_RESULTS", str(committed))
    monkeypatch.setenv("FALIB_CACHE", str(committed / "cache"))
    use(dataclasses.replace(TOY, compute=never))
    assert main(["reproduce", "toy"]) == CANNOT_RUN
    line = one_line(capsys.readouterr().err)
    assert f"cache {committed / 'cache'} (FALIB_CACHE) is inside {committed}" in line
    assert not (committed / "cache").exists()


@pytest.mark.parametrize("what", ["checkpoints", "lock", "chunk"])
def test_no_write_follows_a_symlink_out_of_the_cache(what, tmp_path, use, capsys):
    """Once: a ``checkpoints/<stem>`` link made a run write outside the cache."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    stem = TOY.run("quick", runs=[0]).file_name[:-4]
    checkpoints = cache_dir() / "checkpoints"
    link = {"checkpoints": checkpoints / stem, "lock": checkpoints / f"{stem}.lock",
            "chunk": checkpoints / stem / "runs-0-0"}[what]
    link.parent.mkdir(parents=True)
    link.symlink_to(elsewhere)
    assert main(["reproduce", "toy", "--out", str(tmp_path / "out")]) == CANNOT_RUN
    assert f"{link} is a symbolic link" in one_line(capsys.readouterr().err)
    assert not list(elsewhere.iterdir())


# --- the spiking run's saved state ----------------------------------------------------------------
TINY = dict(spiking.QUICK, sizes=[784, 20, 10], streams=2, eval_streams=2)


def saved_state(tmp_path):
    net = spiking.network(TINY, falib.Backend(), [0, 1])
    path = tmp_path / "state.npz"
    spiking.save_state(path, net, {"position": 3, "shown": [0, 6], "val_error": [np.ones(2), np.zeros(2)],
                                   "online": [np.ones(2)], "seconds": 1.0})
    return path, net


def test_a_truncated_spiking_state_is_falibs_error(tmp_path):
    """Once a BadZipFile traceback."""
    path, net = saved_state(tmp_path)
    assert spiking.load_state(path, net)["position"] == 3
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(ResultsError, match="saved spiking run .* truncated or corrupt.*the run starts over"):
        spiking.load_state(path, spiking.network(TINY, falib.Backend(), [0, 1]))


def test_a_spiking_state_of_another_network_is_refused(tmp_path):
    path, _ = saved_state(tmp_path)
    with pytest.raises(ResultsError, match="does not fit this network"):
        spiking.load_state(path, spiking.network(dict(TINY, sizes=[784, 30, 10]), falib.Backend(), [0, 1]))


def test_a_spiking_save_killed_midway_leaves_a_file_the_next_save_removes(tmp_path):
    code = ("import os, signal, sys, numpy as np\n"
            "from falib import Backend\nfrom falib.experiments import spiking\n"
            "np.savez = lambda fh, **k: (fh.write(b'half'), os.kill(os.getpid(), signal.SIGKILL))\n"
            "net = spiking.network(dict(spiking.QUICK, sizes=[784, 20, 10]), Backend(), [0])\n"
            "spiking.save_state(spiking.Path(sys.argv[1]), net, {'position': 0})\n")
    died = subprocess.run([sys.executable, "-c", code, str(tmp_path / "state.npz")], cwd=REPO)
    assert died.returncode == -signal.SIGKILL and [p.name[:5] for p in tmp_path.iterdir()] == [".tmp-"]
    saved_state(tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == ["state.npz"]


def test_spiking_with_an_unreadable_mnist_file_names_it_and_the_fix(folder, use, monkeypatch, capsys):
    """Once a bare ``[Errno 13]``."""
    monkeypatch.setenv("FALIB_MNIST", str(folder))
    unreadable, read_bytes = folder / "train-images-idx3-ubyte.gz", Path.read_bytes

    def refuse(path):
        if path == unreadable:
            raise PermissionError(13, "Permission denied", str(path))
        return read_bytes(path)

    monkeypatch.setattr(Path, "read_bytes", refuse)
    use(spiking.EXPERIMENT)
    assert main(["reproduce", "spiking", "--out", str(folder / "out")]) == CANNOT_RUN
    line = one_line(capsys.readouterr().err)
    assert f"cannot read {unreadable} (Permission denied); make it readable" in line and "FALIB_MNIST" in line


# --- any damage to a results or checkpoint file: it loads exactly, or falib says what is wrong -----
JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
                    max_leaves=6)


@st.composite
def damage(draw, blob: bytes, header: dict):
    """A damaged copy of a file: bytes flipped, cut short, or its header or arrays rewritten."""
    kind = draw(st.sampled_from(["flip", "truncate", "field", "header", "arrays"]))
    if kind == "flip":
        data = bytearray(blob)
        for i in draw(st.lists(st.integers(0, len(blob) - 1), min_size=1, max_size=4)):
            data[i] ^= draw(st.integers(1, 255))
        return bytes(data), None, {}
    if kind == "truncate":
        return blob[:draw(st.integers(0, len(blob) - 1))], None, {}
    if kind == "field":
        key = draw(st.sampled_from(sorted(header) + ["meta.runs", "meta.dtype", "meta.seconds", "meta.code"]))
        changed = json.loads(json.dumps(header))
        target, key = (changed["meta"], key[5:]) if key.startswith("meta.") else (changed, key)
        target[key] = draw(JSON)
        return None, changed, {}
    if kind == "header":
        return None, draw(JSON), {}
    arrays = draw(st.dictionaries(st.sampled_from(["curve", "step", "other"]),
                                  st.sampled_from([np.zeros(3), np.arange(2.0), np.array("text")]), max_size=2))
    return None, None, arrays


def damaged(path: Path, blob, header, arrays) -> None:
    """Write the damage drawn by :func:`damage` over `path` (which holds the intact file)."""
    if blob is not None:
        path.write_bytes(blob)
    else:
        rewrite(path, header, **arrays)


def same(a: Results, b: Results) -> bool:
    return (a.name, a.profile, a.config, a.origin, a.arrays.keys()) == (b.name, b.profile, b.config, b.origin,
                                                                       b.arrays.keys()) \
        and all(np.array_equal(a.arrays[k], b.arrays[k]) for k in a.arrays)


FAST = settings(max_examples=150, deadline=None, database=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


@pytest.fixture(scope="module")
def intact(tmp_path_factory):
    path = small_results().save(tmp_path_factory.mktemp("intact"))
    with np.load(path) as z:
        return path, path.read_bytes(), json.loads(str(z["__header__"]))


@settings(FAST, max_examples=300)
@given(data=st.data())
def test_a_damaged_results_file_loads_exactly_or_raises_falibs_error(data, intact, tmp_path):
    original, blob, header = intact
    path = tmp_path / original.name
    path.write_bytes(blob)
    damaged(path, *data.draw(damage(blob, header)))
    try:
        res = Results.load(path)
    except ResultsError:
        return
    assert same(res, Results.load(original))


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory):
    """The checkpoints of a toy run stopped before its last chunk, and the whole run's results."""
    folder = tmp_path_factory.mktemp("checkpoints")
    with pytest.raises(RuntimeError, match="interrupted"):
        toy([], fail=[3]).run("quick", checkpoints=folder)
    return folder, toy([]).run("quick")


@FAST
@given(data=st.data())
def test_a_damaged_checkpoint_resumes_exactly_or_raises_falibs_error(data, checkpoints, tmp_path_factory, monkeypatch):
    checkpoints, whole = checkpoints
    monkeypatch.setattr(provenance, "git_commit", lambda: None)   # saves three git processes a run
    folder = tmp_path_factory.mktemp("resume", numbered=True)
    shutil.rmtree(folder)
    shutil.copytree(checkpoints, folder)
    files = sorted(str(p.relative_to(checkpoints)) for p in checkpoints.rglob("*.npz"))
    path = folder / data.draw(st.sampled_from(files))
    with np.load(path) as z:
        header = json.loads(str(z["__header__"]))
    damaged(path, *data.draw(damage(path.read_bytes(), header)))
    try:
        resumed = toy([]).run("quick", checkpoints=folder)
    except ResultsError:
        return
    assert same(resumed, whole)
