#!/usr/bin/env python3
"""Set up and run the project with nothing but Python 3.10+.

    python3 make.py book      # build the HTML book into _build/html (paper-profile figures)
    python3 make.py test      # unit tests, then every chapter executed by nbval (quick profile)
    python3 make.py browser   # build the book, then load every page in headless Chromium
    python3 make.py lab       # run every chapter in JupyterLab in headless Chromium (quick profile)
    python3 make.py notebooks   # student and instructor notebooks into _build/course
    python3 make.py assignments   # Otter-Grader assignments (student notebook, autograder) into _build/assignments

Each creates the virtual environment `.venv` if needed and install the pinned dependencies
(constraints.txt) and falib itself, editable, into it.
"""
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
MATHJAX = "mathjax@3.2.2"   # the version the book's CDN link (mathjax@3) resolves to


def run(*args, **env):
    print("+", " ".join(map(str, args)), flush=True)
    subprocess.run(list(map(str, args)), cwd=ROOT, check=True, env={**os.environ, **env})


def setup(extras="book,test"):
    if not (BIN / "python").exists():
        venv.create(VENV, with_pip=True)
    run(BIN / "python", "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
        "-c", "constraints.txt", "-e", f".[{extras}]")


def book():
    """The published book: figures from the committed paper-profile results, warnings are errors."""
    setup()
    shutil.rmtree(ROOT / "_build", ignore_errors=True)
    run(BIN / "jupyter-book", "build", ".", "-W", "-n", "--keep-going",
        FALIB_PROFILE="paper", FALIB_PROGRESS="0")
    print(f"book: {ROOT / '_build' / 'html' / 'index.html'}")


def test():
    """Unit tests and every notebook at the quick profile, from an empty results cache."""
    setup()
    with tempfile.TemporaryDirectory() as cache:
        run(BIN / "python", "-m", "pytest", "-q", "-n", "2", "--dist", "loadfile",
            "tests", "--nbval-lax", "chapters",
            FALIB_PROFILE="quick", FALIB_CACHE=cache, FALIB_PROGRESS="0",
            OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")   # two workers on two cores: one thread each


def mathjax() -> Path:
    """MathJax 3's es5/ folder, from the npm registry (``npm pack``), for the offline browser test."""
    folder = ROOT / "_build" / "mathjax"
    es5 = folder / "package" / "es5"
    if not (es5 / "tex-mml-chtml.js").exists():
        folder.mkdir(parents=True, exist_ok=True)
        print("+ npm pack", MATHJAX, flush=True)
        subprocess.run(["npm", "pack", "--silent", MATHJAX], cwd=folder, check=True)
        with tarfile.open(next(folder.glob("mathjax-*.tgz"))) as tar:
            tar.extractall(folder, **({"filter": "data"} if hasattr(tarfile, "data_filter") else {}))
    return es5


def browser():
    """Build the book, then check every page in headless Chromium (needs `chromium` and `npm`)."""
    book()
    setup("book,test,browser")
    run(BIN / "python", "-m", "pytest", "-q", "tests/browser", FALIB_BOOK=ROOT / "_build" / "html",
        FALIB_MATHJAX=mathjax(), FALIB_SCREENSHOTS=ROOT / "_build" / "screenshots")
    print(f"screenshots: {ROOT / '_build' / 'screenshots'}")


def lab():
    """Run every chapter in a real JupyterLab (jupyterlab-myst, as on Binder) in headless Chromium,
    at the quick profile from an empty results cache: its prose must show the numbers and no raw MyST."""
    setup("book,test,browser")
    with tempfile.TemporaryDirectory() as cache:
        run(BIN / "python", "-m", "pytest", "-q", "tests/lab", FALIB_LAB="1", FALIB_PROFILE="quick",
            FALIB_CACHE=cache, FALIB_PROGRESS="0", FALIB_SCREENSHOTS=ROOT / "_build" / "screenshots")


def notebooks():
    """Student (solutions replaced by stubs) and instructor notebooks of every chapter, into _build/course."""
    setup()
    run(BIN / "python", "-m", "falib.course", ROOT / "_build" / "course")


def assignments():
    """Each chapter's exercises as an Otter-Grader assignment, into _build/assignments/<chapter>/dist."""
    setup("grade")
    run(BIN / "python", "-m", "falib.assignments", ROOT / "_build" / "assignments")


if __name__ == "__main__":
    commands = {"book": book, "test": test, "browser": browser, "lab": lab, "notebooks": notebooks,
                "assignments": assignments}
    if len(sys.argv) != 2 or sys.argv[1] not in commands:
        sys.exit(__doc__)
    try:
        commands[sys.argv[1]]()
    except subprocess.CalledProcessError as err:
        sys.exit(err.returncode)
