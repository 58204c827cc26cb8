"""Colab editions of the chapters: what the book's Colab button opens.

Colab renders Markdown cells as plain Markdown: MyST's inline expressions, links to figure labels
and exercise boxes would show raw there. A chapter's Colab edition is its student notebook
(:func:`falib.course.student`: solutions replaced by starters, their prose removed), with

* every inline expression (``{eval}`numbers.name```) written out as its value at the paper
  profile, got as the book gets it: by running the chapter in a kernel (all but its exercise
  cells) and evaluating each expression after the code cells above it;
* every link to a figure (``[the figure below](#fig-...)``) written as "Figure N", each figure's
  caption under it ("**Figure N.** ..."), N counted within the chapter;
* each ``{exercise}`` box turned into a heading, "Exercise N: title";
* a note under the title that says where the numbers come from, and after the set-up cell a cell
  that selects the paper profile, so that the figures drawn in Colab show the text's results.

The book's workflow publishes the editions on the branch :data:`BRANCH` as
``chapters/<name>.ipynb``, and the book's Colab button (``book/ext``) opens them there.

    python -m falib.editions [OUT]     # every chapter's edition into OUT (default _build/colab)
"""
from __future__ import annotations

import ast
import copy
import os
import re
import sys
from pathlib import Path

from .course import CHAPTERS, EXERCISE, EXPRESSION, ROOT, exercise_label, repository_url, role, student

BRANCH = "colab"                # the branch the editions are published on
PROFILE = "paper"               # the profile whose numbers the editions write out
COLAB = "https://colab.research.google.com"
FIGURE_LINK = re.compile(r"\[([^\]]*)\]\(#(fig-[\w-]+)\)")
MARKUP = re.compile(r"\{[a-z][\w:-]*\}`|^\s*(?:`{3,}|~{3,}|:{3,})\{|\]\(#", re.MULTILINE)   # a role, directive, label link
NOTE = """\
> **The Colab edition of this chapter.** The numbers in the text are those of the `paper` profile: the
> committed results in the repository's `results/` ({origin}). The cell after the set-up selects
> that profile, so the figures and tables you draw show the same results (it loads them in seconds);
> set it to `"quick"` to recompute a small version instead, and the figures then show that run
> while the text keeps the paper profile's numbers. Each exercise has a cell to fill in and a
> check; the book has the solutions, behind a toggle under each exercise: <{book}>"""
SELECT = """\
import os

os.environ["FALIB_PROFILE"] = "paper"   # the profile of the text's numbers; "quick" recomputes a small version"""


def colab_url(chapter: str, url: str | None = None) -> str:
    """The address at which Colab opens `chapter`'s edition (GitHub: repository, branch, path)."""
    repository = (url or repository_url()).rstrip("/").removeprefix("https://github.com/")
    return f"{COLAB}/github/{repository}/blob/{BRANCH}/chapters/{chapter}.ipynb"


def book_url(chapter: str, url: str | None = None) -> str:
    """The chapter's page in the published book (GitHub Pages of the repository)."""
    owner, name = (url or repository_url()).rstrip("/").removeprefix("https://github.com/").split("/")
    return f"https://{owner}.github.io/{name}/chapters/{chapter}.html"


def _shown(outputs: list) -> str:
    """An expression's value as the book shows it: its Markdown, else its plain text without quotes."""
    for out in outputs:
        if out.get("output_type") == "error":
            raise RuntimeError(f"{out['ename']}: {out['evalue']}")
        data = out.get("data", {})
        if "text/markdown" in data:
            return data["text/markdown"]
        if "text/plain" in data:
            try:
                return str(ast.literal_eval(data["text/plain"]))
            except (SyntaxError, ValueError):
                return data["text/plain"]
    raise RuntimeError("it has no value")


def evaluate(nb, folder: Path = CHAPTERS, timeout: int = 1200) -> dict[str, dict[str, str]]:
    """Run `nb` at the paper profile in a kernel whose working folder is `folder`, skipping the
    exercises' solution and check cells; each markdown cell's inline expressions (by cell id),
    each evaluated after the code cells above it, with the text the book shows for it."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    nb = copy.deepcopy(nb)
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(folder)}})
    values: dict[str, dict[str, str]] = {}
    env = {**os.environ, "FALIB_PROFILE": PROFILE, "FALIB_PROGRESS": "0"}
    with client.setup_kernel(env=env):
        for index, cell in enumerate(list(nb.cells)):
            if cell.cell_type == "code" and role(cell) is None:
                client.execute_cell(cell, index)
            elif cell.cell_type == "markdown" and EXPRESSION.search(cell.source):
                for expression in EXPRESSION.findall(cell.source):
                    probe = nbformat.v4.new_code_cell(expression)
                    try:
                        client.execute_cell(probe, index)   # in the history: an earlier `;` must not hide it
                        values.setdefault(cell.id, {})[expression] = _shown(probe.outputs)
                    except (CellExecutionError, RuntimeError) as err:
                        raise RuntimeError(f"{{eval}}`{expression}` (markdown cell {cell.id}) has no value after "
                                           f"the code cells above it: {str(err).strip().splitlines()[-1]}") from None
    return values


def plain(source: str, values: dict[str, str], figures: dict[str, int], exercises: dict[str, int]) -> str:
    """Markdown `source` with its inline expressions, figure links and exercise boxes written out."""
    def exercise(m):
        number = exercises[exercise_label(m)]
        title = f"Exercise {number}: {m['title'].strip()}" if m["title"].strip() else f"Exercise {number}"
        return f"### {title}\n\n{m['body'].strip()}"

    text = EXPRESSION.sub(lambda m: values[m[1]], source)
    text = FIGURE_LINK.sub(lambda m: f"Figure {figures[m[2]]}", text)
    return EXERCISE.sub(exercise, text)


def numbering(nb) -> tuple[dict[str, int], dict[str, int]]:
    """The chapter's figures and exercises, each label with its number (1, 2, ... in order)."""
    figures = [c["metadata"]["mystnb"]["figure"]["name"] for c in nb["cells"]
               if "figure" in c.get("metadata", {}).get("mystnb", {})]
    text = "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown")
    exercises = [exercise_label(m) for m in EXERCISE.finditer(text)]
    return ({name: i for i, name in enumerate(figures, 1)}, {name: i for i, name in enumerate(exercises, 1)})


def edition(nb, values: dict[str, dict[str, str]], chapter: str, origin: str = "") -> dict:
    """`chapter`'s Colab edition from its notebook `nb` and its evaluated expressions (:func:`evaluate`);
    `origin` names the commit whose results the numbers are."""
    figures, exercises = numbering(nb)
    ed, cells = student(nb), []
    for cell in ed["cells"]:
        cell["metadata"].pop("tags", None)   # the book's tags (remove-cell, ...): Colab shows every cell
        if cell["cell_type"] == "markdown":
            cell["source"] = plain("".join(cell["source"]), values.get(cell.get("id"), {}), figures, exercises)
            if MARKUP.search(cell["source"]):
                raise ValueError(f"{chapter}: cell {cell.get('id')} keeps markup that Colab shows raw: "
                                 f"{MARKUP.search(cell['source'])[0]!r}")
        cells.append(cell)
        figure = cell["metadata"].get("mystnb", {}).get("figure")
        if figure:
            caption = f"**Figure {figures[figure['name']]}.** {figure['caption']}"
            cells.append(_markdown(caption, f"{cell['id']}-caption"))
    setup = next(i for i, c in enumerate(cells) if c["cell_type"] == "code")
    cells.insert(setup + 1, _code(SELECT, "colab-profile"))
    cells.insert(1, _markdown(NOTE.format(origin=origin or "as of this edition", book=book_url(chapter)),
                              "colab-note"))
    ed["cells"] = cells
    ed["metadata"]["colab"] = {"name": f"{chapter}.ipynb", "provenance": []}
    return ed


def _markdown(text: str, id: str) -> dict:
    return {"cell_type": "markdown", "id": id, "metadata": {}, "source": text}


def _code(text: str, id: str) -> dict:
    return {"cell_type": "code", "id": id, "metadata": {}, "source": text, "outputs": [], "execution_count": None}


def generate(out: Path = ROOT / "_build" / "colab", chapters: Path = CHAPTERS, origin: str = "") -> list[Path]:
    """Write every chapter's Colab edition into ``out/chapters/``; `origin` names the commit."""
    import nbformat

    written = []
    for path in sorted(Path(chapters).glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        target = Path(out) / "chapters" / path.name
        target.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nbformat.from_dict(edition(nb, evaluate(nb, path.parent), path.stem, origin)), target)
        print(target, flush=True)
        written.append(target)
    (Path(out) / "README.md").write_text(
        f"# Colab editions\n\nThe chapters of {repository_url()} as Colab opens them, generated by the book's "
        f"workflow ({origin or 'python -m falib.editions'}). Do not edit: the chapters on the main branch "
        "are the source.\n")
    return written


if __name__ == "__main__":
    commit = os.environ.get("GITHUB_SHA", "")[:12]
    generate(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "_build" / "colab",
             origin=f"commit {commit}" if commit else "")
