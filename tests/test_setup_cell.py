"""The set-up cell that opens every chapter, tried as a Colab user meets it.

A new virtual environment with nothing but pip, a Jupyter kernel and a host's own Matplotlib
(older than the project's pin, as Colab's packages are) stands in for Colab; the cell clones
this checkout instead of the repository (``FALIB_SOURCE``). In that one environment, in turn:
the cell refuses the package index's unrelated ``falib``; it stops with one message and leaves
nothing installed when the repository or the package index cannot be reached; then a first run
installs falib and runs a chapter, and after a restart, and in a second kernel in another folder,
the cell does nothing and falib still finds the paper-profile results, with no variable set.
"""
import os
import shutil
import subprocess
import venv
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from falib.course import repository_url, setup_cell

ROOT = Path(__file__).resolve().parent.parent
CHAPTERS = sorted((ROOT / "chapters").glob("*.ipynb"))
FRESH = "deep"   # the chapter run in a fresh environment: quick, reads results/, needs no PyTorch
HOST = "matplotlib==3.10.8"   # a package the host already has, at another version than constraints.txt's
PROBE = """\
import falib
from falib.results import results_dir
res = falib.reproduce("linear", "paper")   # paper results are only ever loaded, never computed
print(results_dir("paper"), len(res.meta["runs"]))"""


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_every_chapter_opens_with_the_setup_cell(path):
    """The first code cell is the set-up cell, its address the one in _config.yml."""
    nb = nbformat.read(path, as_version=4)
    first = next(c for c in nb.cells if c.cell_type == "code")
    assert first.source == setup_cell(path.stem), (
        f"{path.name}: the first code cell must be falib.course.setup_cell({path.stem!r}) "
        "(the repository's address comes from _config.yml); regenerate it")
    assert f'"{repository_url()}"' in first.source
    assert "remove-cell" in first.metadata.get("tags", [])


def test_setup_cell_does_nothing_where_falib_is_installed(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("FALIB_SOURCE", str(tmp_path / "nowhere"))
    exec(setup_cell(FRESH), {})
    assert list(tmp_path.iterdir()) == []


class Fresh:
    """A new virtual environment with pip, ipykernel and the host's Matplotlib, as a Jupyter kernel."""

    def __init__(self, folder: Path):
        self.folder = folder
        venv.create(folder / "venv", with_pip=True)
        self.python = str(folder / "venv" / ("Scripts" if os.name == "nt" else "bin") / "python")
        self.pip("install", "--quiet", "ipykernel", HOST)
        subprocess.run([self.python, "-m", "ipykernel", "install", "--prefix", folder / "jupyter", "--name", "fresh"],
                       check=True, capture_output=True)
        self.site = Path(self.output("import sysconfig; print(sysconfig.get_paths()['purelib'])"))

    def pip(self, *args):
        subprocess.run([self.python, "-m", "pip", "--disable-pip-version-check", *args], check=True)

    def output(self, code: str, cwd=None) -> str:
        return subprocess.run([self.python, "-c", code], capture_output=True, text=True, check=True,
                              cwd=cwd).stdout.strip()

    def installed(self) -> set[str]:
        return set(self.output("from importlib import metadata\n"
                               "print(*(d.metadata['Name'] for d in metadata.distributions()))").split())

    def run(self, cells: list[str], folder: Path) -> list:
        """Run `cells` in a new kernel whose working folder is `folder`; each cell's outputs."""
        folder.mkdir(exist_ok=True)
        nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
        NotebookClient(nb, kernel_name="fresh", timeout=600, allow_errors=True,
                       resources={"metadata": {"path": str(folder)}}).execute()
        return [c.outputs for c in nb.cells]


@pytest.fixture(scope="module")
def fresh(tmp_path_factory):
    if not (ROOT / ".git").exists():
        pytest.skip("clones this checkout: needs its git repository")
    return Fresh(tmp_path_factory.mktemp("fresh"))


@pytest.fixture
def kernel_env(fresh, monkeypatch):
    for name in ("PYTHONPATH", "VIRTUAL_ENV", "FALIB_RESULTS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("JUPYTER_PATH", str(fresh.folder / "jupyter" / "share" / "jupyter"))
    monkeypatch.setenv("FALIB_SOURCE", str(ROOT))
    monkeypatch.setenv("FALIB_PROFILE", "quick")
    return monkeypatch


def stopped(outputs: list, *words: str) -> str:
    """The one message a set-up cell stopped with; it must contain `words`."""
    assert len(outputs) == 1 and outputs[0].output_type == "error", f"expected one error, got {outputs}"
    assert outputs[0].ename == "SetupError" and outputs[0].traceback == [f"SetupError: {outputs[0].evalue}"]
    assert all(w in outputs[0].evalue for w in words), outputs[0].evalue
    return outputs[0].evalue


def test_setup_cell_stops_with_one_message_and_installs_nothing(fresh, kernel_env, tmp_path):
    before = fresh.installed()
    assert "falib-book" not in before, "this test needs an environment without falib"
    next_cell = "import falib"

    unrelated = fresh.site / "falib-0.0.1.dist-info"   # the package index's falib, another project
    unrelated.mkdir()
    (unrelated / "METADATA").write_text("Metadata-Version: 2.1\nName: falib\nVersion: 0.0.1\n")
    try:
        stopped(fresh.run([setup_cell(FRESH)], tmp_path / "a")[0], "pip uninstall -y falib")
    finally:
        shutil.rmtree(unrelated)
    assert not any((tmp_path / "a").iterdir())

    kernel_env.setenv("FALIB_SOURCE", str(tmp_path / "unreachable"))
    setup, after = fresh.run([setup_cell(FRESH), next_cell], tmp_path / "b")
    stopped(setup, "Could not clone", str(tmp_path / "unreachable"), "run this cell again")
    assert not any((tmp_path / "b").iterdir()), "a failed clone must leave no folder behind"
    assert after[0].evalue == "No module named 'falib'"

    kernel_env.setenv("FALIB_SOURCE", str(ROOT))
    kernel_env.setenv("PIP_NO_INDEX", "1")                         # the package index unreachable
    kernel_env.setenv("PIP_FIND_LINKS", str(tmp_path / "empty"))
    stopped(fresh.run([setup_cell(FRESH)], tmp_path / "c")[0], "Could not install falib", "run this cell again")
    assert fresh.installed() == before, "a failed install must leave the environment as it was"


def test_setup_cell_first_run_restart_and_second_kernel(fresh, kernel_env, tmp_path):
    host = fresh.output("import matplotlib; print(matplotlib.__version__)")
    work, clone = tmp_path / "work", tmp_path / "work" / "falib-book"
    setup, probe = fresh.run([setup_cell(FRESH), PROBE], work)   # the first run, then falib in the same kernel
    assert setup == [] and "falib-book" in fresh.installed() and (clone / "results").is_dir(), setup
    assert probe[0].get("text", "").split() == [str(clone / "results"), "20"], probe
    assert fresh.output("import falib; print(falib.__file__)", cwd=tmp_path) == str(clone / "falib" / "__init__.py")
    assert fresh.output("import matplotlib; print(matplotlib.__version__)") == host, "the host's package was changed"

    kernel_env.setenv("FALIB_SOURCE", str(tmp_path / "unreachable"))   # from now on the cell may not clone
    chapter = nbformat.read(clone / "chapters" / f"{FRESH}.ipynb", as_version=4)   # as cloned, with its code
    NotebookClient(chapter, kernel_name="fresh", timeout=600, resources={"metadata": {"path": str(work)}}).execute()
    assert next(c for c in chapter.cells if c.cell_type == "code").outputs == [], "after a restart it does nothing"

    setup, probe = fresh.run([setup_cell(FRESH), PROBE], tmp_path / "second")   # a second kernel, elsewhere
    assert setup == [] and probe[0].get("text", "").split() == [str(clone / "results"), "20"], (setup, probe)
    assert not any((tmp_path / "second").iterdir())
