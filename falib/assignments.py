"""The chapters' exercises as assignments that grade themselves, with Otter-Grader.

Otter-Grader rather than nbgrader: ``otter run`` grades a submission in the instructor's own Python
(no Docker, no course database), the same autograder zip grades a class with ``otter grade``
(Docker) or on Gradescope, and its tests are plain Python functions, so each can call the
exercise's :mod:`falib.checks` function.

:func:`master` writes a chapter (exercises as described in :mod:`falib.course`) in Otter's assign
format. The autograder executes the whole submission, so the assignment holds the chapter's title,
its set-up cell, its exercises, and only the chapter's cells that define what the exercises read
(:func:`needed`): grading takes about the time the exercises take. Each exercise becomes a question
named after its label, worth its check cell's ``metadata["falib"]["points"]`` (1 by default): the
exercise box; the solution cells, which students receive as their starters; the solution's prose
(instructors only); a hidden test that calls the check on the student's names right after the
exercise; and the check cell, which students run themselves (their notebook needs falib, not Otter).

    python -m falib.assignments [OUT]   # or: python3 make.py assignments (into _build/assignments)

writes, for every chapter with exercises, ``OUT/<chapter>/<chapter>.ipynb`` (the assign-format
notebook) and Otter's output: ``dist/student/<chapter>.ipynb`` and ``dist/autograder/`` (the
solutions notebook and ``autograder.zip``).
"""
from __future__ import annotations

import builtins
import copy
import re
import shutil
import subprocess
import sys
import symtable
from pathlib import Path

import nbformat
import yaml
from nbformat.v4 import new_code_cell, new_markdown_cell, new_raw_cell

from . import course, provenance

ROOT = course.ROOT


def _text(cell) -> str:
    return "".join(cell["source"])


def _label(cell) -> str | None:
    """The label of an ``{exercise}`` box, None for any other cell."""
    box = course.EXERCISE.search(_text(cell)) if cell["cell_type"] == "markdown" else None
    return course.exercise_label(box) if box else None


def names(cell) -> tuple[set[str], set[str]]:
    """The global names a cell reads without binding them itself (a markdown cell: in its
    ``{eval}`` expressions), and those it binds."""
    if cell["cell_type"] == "markdown":
        return set().union(*(names(new_code_cell(e))[0] for e in course.EXPRESSION.findall(_text(cell)))), set()
    top = symtable.symtable(_text(cell), "<cell>", "exec")

    def reads(table):
        for s in table.get_symbols():
            if s.is_referenced() and (table is top or s.is_global()):
                yield s.get_name()
        for child in table.get_children():
            yield from reads(child)

    binds = {s.get_name() for s in top.get_symbols() if s.is_assigned() or s.is_imported() or s.is_namespace()}
    return set(reads(top)) - binds - set(dir(builtins)), binds


def needed(cells, optional, chapter: str) -> list:
    """`cells` without those of `optional` that define nothing the others read (directly or not)."""
    optional, wanted, keep = {id(c) for c in optional}, set(), []
    for cell in reversed(cells):
        reads, binds = names(cell) if cell["cell_type"] != "raw" else (set(), set())
        if id(cell) in optional and not binds & wanted:
            continue
        wanted = wanted - binds | reads
        keep.insert(0, cell)
    if wanted:
        raise ValueError(f"{chapter}: the exercises read {sorted(wanted)}, which no cell before them defines")
    return keep


def _answer(cell):
    """A solution cell in Otter's markup: students get the starter, the autograder the solution."""
    starter = course.starter(cell)
    quote = next((q for q in ('"""', "'''") if q not in starter), None)
    if quote is None:
        raise ValueError(f"a starter may not hold both kinds of triple quote: {starter[:80]!r}")
    source = (f"# BEGIN SOLUTION NO PROMPT\n{_text(cell)}\n# END SOLUTION\n"
              f"r{quote} # BEGIN PROMPT\n{starter}\n{quote}; # END PROMPT")
    return dict(copy.deepcopy(cell), source=source, outputs=[], execution_count=None)


def _test(label: str, check: str):
    """A hidden Otter test: the check cell's code, as a function of the names it reads."""
    args = ", ".join(sorted(names(new_code_cell(check))[0]))
    name = "test_" + re.sub(r"\W", "_", label)
    body = "".join(f"    {line}\n" if line.strip() else "\n" for line in check.strip().splitlines())
    return new_code_cell(f"# HIDDEN\ndef {name}({args}):\n{body}\n{name}({args})")


def _config(chapter: str) -> str:
    """The assignment's configuration. The grading image installs falib from the commit the
    assignment was made from, so later changes to the checks cannot change its grades (the
    repository's branch where this checkout's commit is not known or has uncommitted changes)."""
    repository = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]
    falib = re.search(r'^name\s*=\s*"([^"]+)"', (ROOT / "pyproject.toml").read_text(), re.MULTILINE).group(1)
    extras = "[torch]" if chapter in course.NEEDS_TORCH else ""
    commit = provenance.git_commit()
    ref = commit if commit and not commit.endswith("+dirty") else f"refs/heads/{repository['branch']}"
    return "\n".join([
        "# ASSIGNMENT CONFIG",
        f"name: {chapter}",
        "init_cell: false        # students need falib only; they run the check cells",
        "check_all_cell: false",
        "export_cell: false      # students submit the notebook",
        "python_version: '3.11'",
        "requirements:           # the grading image (otter grade, Gradescope)",
        f"  - '{falib}{extras} @ {repository['url']}/archive/{ref}.zip'",
        "tests:",
        "  ok_format: false      # tests are Python functions that raise",
        "generate:",
        "  pdf: false",
    ])


def master(nb, chapter: str):
    """The chapter's exercises as an Otter assign-format notebook."""
    cells = nb["cells"]
    first = next((i for i, c in enumerate(cells) if _label(c)), None)
    if first is None:
        raise ValueError(f"{chapter} has no exercise")
    code = [i for i, c in enumerate(cells[:first]) if c["cell_type"] == "code"]
    title = _text(next(c for c in cells if c["cell_type"] == "markdown")).splitlines()[0]
    intro = (f"{title}: the exercises\n\nFill in each code cell that raises `NotImplementedError`, then run "
             "the check under it, which says whether your answer is right. Hand in this notebook.")
    body = [cells[i] for i in code[1:]]
    out = [new_raw_cell(_config(chapter)), new_markdown_cell(intro),
           *needed([cells[code[0]], *body, *_questions(cells[first:], chapter)], body, chapter)]
    return nbformat.from_dict(dict(copy.deepcopy(nb), cells=copy.deepcopy(out)))


def _questions(cells, chapter: str) -> list:
    """The exercises, from the first box to the last check, as Otter questions."""
    out, label, solution = [], None, False
    for i, cell in enumerate(cells):
        kind = course.role(cell)
        if _label(cell):
            label = _label(cell)
            out += [new_raw_cell(f"# BEGIN QUESTION\nname: {label}\npoints: {_points(cells[i:])}\ncheck_cell: false"),
                    cell]
        elif kind in ("solution-start", "solution-end"):
            solution = kind == "solution-start"
            out.append(new_raw_cell("# BEGIN SOLUTION" if solution else "# END SOLUTION"))
        elif kind == "solution":
            if not solution:
                raise ValueError(f"{chapter}, {label}: a solution cell outside {{solution-start}}/{{solution-end}}")
            out.append(_answer(cell))
        elif kind == "check":
            out += [new_raw_cell("# BEGIN TESTS"), _test(label, _text(cell)), new_raw_cell("# END TESTS"), cell,
                    new_raw_cell("# END QUESTION")]
            label = None
        else:
            out.append(cell)
    if label:
        raise ValueError(f"{chapter}, {label}: the exercise has no check cell")
    return out


def _points(cells) -> int | float:
    """The points of the exercise that `cells` begin with: its check cell's metadata["falib"]["points"], or 1."""
    check = next(c for c in cells if course.role(c) == "check")
    return check.get("metadata", {}).get("falib", {}).get("points", 1)


def generate(out: Path = ROOT / "_build" / "assignments", only: list[str] | None = None) -> list[Path]:
    """Run ``otter assign`` on every chapter with exercises (or those named in `only`); the
    autograder zips it writes."""
    zips = []
    for path in sorted(course.CHAPTERS.glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        if (only and path.stem not in only) or not any(_label(c) for c in nb.cells):
            continue
        folder = Path(out) / path.stem
        shutil.rmtree(folder / "dist", ignore_errors=True)
        folder.mkdir(parents=True, exist_ok=True)
        nbformat.write(master(nb, path.stem), folder / path.name)
        subprocess.run([sys.executable, "-m", "otter", "assign", "--no-run-tests", path.name, "dist"],
                       cwd=folder, check=True)
        made = next((folder / "dist" / "autograder").glob(f"{path.stem}-autograder_*.zip"))
        zips.append(made.rename(made.with_name("autograder.zip")))
    return zips


if __name__ == "__main__":
    for z in generate(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "_build" / "assignments"):
        print(z)
