"""The chapters as a course: the set-up cell, and student and instructor notebooks from one source.

Each chapter is the one source. An exercise in it is a ``{exercise}`` box, then its solution
between ``{solution-start}`` and ``{solution-end}`` (hidden behind a toggle in the HTML book),
whose code cells are tagged ``solution`` and carry a starter in ``metadata["falib"]["starter"]``,
then a code cell tagged ``check`` that the student runs. From it, :func:`generate` writes

* ``instructor/``: the chapter as it is, solutions in place, outputs cleared;
* ``student/``: each solution cell replaced by its starter (a stub that raises
  ``NotImplementedError`` with a hint), the solutions' prose removed, outputs cleared.

    python -m falib.course [OUT]     # or: python3 make.py notebooks (into _build/course)
"""
from __future__ import annotations

import copy
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHAPTERS = ROOT / "chapters"
NEEDS_TORCH = {"linear", "mnist", "spiking", "beyond"}   # chapters whose default backend or checks use PyTorch

EXPRESSION = re.compile(r"\{eval\}`([^`]+)`")   # an inline expression of a markdown cell
EXERCISE = re.compile(r"^(?P<fence>`{3,}|~{3,}|:{3,})\{exercise\}[ \t]*(?P<title>[^\n]*)\n"
                      r"(?P<options>(?::[\w-]+:[^\n]*\n)*)(?P<body>.*?)\n?^(?P=fence)[ \t]*$", re.MULTILINE | re.DOTALL)
"""An ``{exercise}`` box: its fence, title, options (``:label:`` ...) and body."""


def exercise_label(box: re.Match) -> str:
    """The ``:label:`` of an exercise box (a match of :data:`EXERCISE`)."""
    found = re.search(r"^:label:\s*(\S+)", box["options"], re.MULTILINE)
    if not found:
        raise ValueError(f"an exercise box needs a :label: line below its first; this one begins: {box[0][:80]!r}")
    return found[1]


SETUP = '''\
# Set-up for Colab, or any Python without this book's falib: clone the book's repository and
# install falib from the clone, editable, so that falib finds the committed paper-profile results
# in the clone's results/ (after a restart and in any kernel too). Where it is installed, this does
# nothing. Packages already here (Colab's torch and ipykernel) are kept as they are.
import importlib, importlib.metadata as metadata, os, re, shutil, subprocess, sys, tempfile

REPOSITORY = "{url}"


class SetupError(Exception):
    def _render_traceback_(self):   # IPython shows the message alone
        return [f"SetupError: {{self}}"]


def name(requirement):
    return re.sub(r"[-_.]+", "-", requirement.split("==")[0].strip()).lower()


have = {{name(d.metadata["Name"] or "") for d in metadata.distributions()}}
if "falib" in have:
    raise SetupError("A package named `falib` is installed here: the package index's `falib` is another "
                     "project. Remove it (`%pip uninstall -y falib`), then run this cell again.")
if "falib-book" not in have:   # this book's falib
    source = os.environ.get("FALIB_SOURCE", REPOSITORY)   # FALIB_SOURCE: another clone (tests)
    clone = os.path.abspath("falib-book")
    if not os.path.isfile(os.path.join(clone, "constraints.txt")):
        shutil.rmtree(clone, ignore_errors=True)
        got = subprocess.run(["git", "clone", "--quiet", "--depth", "1", source, clone],
                             capture_output=True, text=True)
        if got.returncode:
            shutil.rmtree(clone, ignore_errors=True)
            why = (got.stderr.strip() or "no answer").splitlines()[-1]
            raise SetupError(f"Could not clone {{source}} ({{why}}). Check that this runtime is online and can "
                             "reach that address, then run this cell again. Nothing was installed.")
    pins = tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False)   # the pins of what is missing
    with open(os.path.join(clone, "constraints.txt")) as pinned, pins:
        pins.writelines(line for line in pinned if name(line) not in have)
    missing = [package for package in {needs} if package not in have]
    got = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                          "-c", pins.name, "-e", clone, *missing], capture_output=True, text=True)
    if got.returncode:
        raise SetupError(f"Could not install falib from {{clone}} (pip: {{got.stderr.strip()[-300:]}}). Check "
                         "that this runtime can reach the package index, then run this cell again.")
    importlib.invalidate_caches()
    sys.path.append(clone)   # later kernels find falib through the editable install; this one needs it now'''


def repository_url(config: Path = ROOT / "_config.yml") -> str:
    """The repository's address, from ``repository.url`` in the book's ``_config.yml``."""
    import yaml

    return yaml.safe_load(config.read_text())["repository"]["url"]


def setup_cell(chapter: str, url: str | None = None) -> str:
    """The source of the set-up cell that opens `chapter` (its file stem)."""
    needs = ["ipywidgets", "torch"] if chapter in NEEDS_TORCH else ["ipywidgets"]
    return SETUP.format(url=url or repository_url(), needs=json.dumps(needs))


def role(cell) -> str | None:
    """A cell's part in an exercise: 'solution', 'check', 'solution-start', 'solution-end' or None."""
    tags = cell.get("metadata", {}).get("tags", [])
    for name in ("solution", "check"):
        if name in tags:
            return name
    text = "".join(cell["source"]).lstrip("`~ \n")
    for name in ("solution-start", "solution-end"):
        if cell["cell_type"] == "markdown" and text.startswith("{" + name + "}"):
            return name
    return None


def starter(cell) -> str:
    """The stub that replaces a solution cell in the student notebook."""
    stub = cell.get("metadata", {}).get("falib", {}).get("starter")
    if not stub or "NotImplementedError" not in stub:
        raise ValueError("a solution cell needs metadata['falib']['starter']: a stub that raises "
                         f"NotImplementedError with a hint; this one has {stub!r}. Its code begins: "
                         + "".join(cell["source"])[:80])
    return stub


def _cleared(cell):
    cell = copy.deepcopy(cell)
    if cell["cell_type"] == "code":
        cell["outputs"], cell["execution_count"] = [], None
    return cell


def instructor(nb):
    """The instructor's notebook: the chapter, solutions in place, outputs cleared."""
    nb = copy.deepcopy(nb)
    nb["cells"] = [_cleared(c) for c in nb["cells"]]
    return nb


def student(nb):
    """The student's notebook: solutions replaced by their starters, their prose removed."""
    nb, cells, hidden = copy.deepcopy(nb), [], False
    for cell in nb["cells"]:
        kind = role(cell)
        if kind == "solution-start" or kind == "solution-end":
            hidden = kind == "solution-start"
            continue
        if kind == "solution":
            cell = dict(_cleared(cell), source=starter(cell))
        elif hidden:
            continue
        cells.append(_cleared(cell))
    if hidden:
        raise ValueError("a {solution-start} has no {solution-end}")
    nb["cells"] = cells
    return nb


def generate(out: Path = ROOT / "_build" / "course", chapters: Path = CHAPTERS) -> list[Path]:
    """Write ``student/`` and ``instructor/`` versions of every chapter notebook into `out`."""
    import nbformat

    written = []
    for path in sorted(Path(chapters).glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        for kind, make in (("student", student), ("instructor", instructor)):
            target = Path(out) / kind / path.name
            target.parent.mkdir(parents=True, exist_ok=True)
            nbformat.write(nbformat.from_dict(make(nb)), target)
            written.append(target)
    return written


if __name__ == "__main__":
    folder = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "_build" / "course"
    for p in generate(folder):
        print(p)
