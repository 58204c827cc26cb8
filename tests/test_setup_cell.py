"""A fresh environment with only pip runs a chapter's set-up cell, then the whole chapter.

The set-up cell installs falib from the repository where falib is missing (Colab); here it
installs from this checkout instead (``FALIB_SOURCE``), into a new virtual environment that has
nothing but pip and a Jupyter kernel, and the chapter then runs in that kernel.
"""
import os
import subprocess
import sys
import venv
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from falib.course import repository_url, setup_cell

ROOT = Path(__file__).resolve().parent.parent
CHAPTERS = sorted((ROOT / "chapters").glob("*.ipynb"))
FRESH = "linear"   # the chapter run in a fresh environment: the quickest that also reads results/


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


def fresh_kernel(tmp_path) -> str:
    """A new virtual environment with only pip and ipykernel, registered as a Jupyter kernel."""
    env = tmp_path / "venv"
    venv.create(env, with_pip=True)
    python = env / ("Scripts" if os.name == "nt" else "bin") / "python"
    subprocess.run([python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "ipykernel"],
                   check=True)
    subprocess.run([python, "-m", "ipykernel", "install", "--prefix", tmp_path / "jupyter", "--name", "fresh"],
                   check=True, capture_output=True)
    return str(python)


@pytest.mark.skipif(not (ROOT / ".git").exists(), reason="clones this checkout: needs its git repository")
def test_setup_cell_then_chapter_in_a_fresh_environment(tmp_path, monkeypatch):
    python = fresh_kernel(tmp_path)
    for name in ("PYTHONPATH", "VIRTUAL_ENV", "FALIB_RESULTS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter" / "share" / "jupyter"))
    monkeypatch.setenv("FALIB_SOURCE", str(ROOT))
    monkeypatch.setenv("FALIB_PROFILE", "quick")
    work = tmp_path / "work"
    work.mkdir()
    probe = subprocess.run([python, "-c", "import falib"], capture_output=True, cwd=work)
    assert probe.returncode != 0, "the fresh environment must start without falib"
    nb = nbformat.read(ROOT / "chapters" / f"{FRESH}.ipynb", as_version=4)
    NotebookClient(nb, kernel_name="fresh", timeout=600, resources={"metadata": {"path": str(work)}}).execute()
    assert (work / "falib-book" / "results").is_dir()
    where = subprocess.run([python, "-c", "import falib; print(falib.__file__)"], capture_output=True,
                           text=True, check=True, cwd=work).stdout
    assert str(tmp_path / "venv") in where, f"falib was not installed into the fresh environment: {where}"
