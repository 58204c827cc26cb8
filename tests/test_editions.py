"""The Colab editions (falib.editions) and the links that reach them and the student notebooks.

Every chapter's edition is built from placeholder values and must carry no markup Colab shows raw;
the linear chapter's is built for real, by running the chapter at the paper profile, and its
numbers must be those that falib computes for the chapter's prose from the committed results.
"""
import re
import sys
from pathlib import Path
from types import SimpleNamespace

import nbformat
import pytest
import yaml

import falib
from falib import course, editions
from falib.book import Numbers
from falib.experiments import linear

ROOT = Path(__file__).resolve().parent.parent
CHAPTERS = sorted((ROOT / "chapters").glob("*.ipynb"))
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text())
RAW = ["{eval}", "{exercise}", "{solution", "{numref}", "{cite", "{glue", "](#", "```{", ":::{", ":label:"]


def placeholders(nb) -> dict:
    return {c.id: {e: f"<{e}>" for e in editions.EXPRESSION.findall(c.source)} for c in nb.cells
            if c.cell_type == "markdown"}


def markdown(ed) -> str:
    return "\n".join(c["source"] for c in ed["cells"] if c["cell_type"] == "markdown")


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_edition_is_plain_markdown_with_the_setup_cell_first(path):
    nb = nbformat.read(path, as_version=4)
    ed = editions.edition(nb, placeholders(nb), path.stem)
    nbformat.validate(nbformat.from_dict(ed))
    text = markdown(ed)
    assert not [r for r in RAW if r in text], f"{path.name}: the edition shows raw markup"
    code = [c for c in ed["cells"] if c["cell_type"] == "code"]
    assert code[0]["source"] == course.setup_cell(path.stem) and code[1]["source"] == editions.SELECT
    assert not any(s in "\n".join(c["source"] for c in code) for s in
                   ("".join(c.source) for c in nb.cells if course.role(c) == "solution")), "a solution leaked"
    figures, exercises = editions.numbering(nb)
    for name, n in figures.items():
        assert f"**Figure {n}.** " in text, f"{path.name}: figure {name} has no caption"
    assert len(re.findall(r"^### Exercise \d+: ", text, re.MULTILINE)) == len(exercises)
    assert "the `paper` profile" in text and editions.book_url(path.stem) in text


def test_markup_that_colab_shows_raw_stops_the_edition():
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# T"),
                                         nbformat.v4.new_code_cell(course.setup_cell("linear")),
                                         nbformat.v4.new_markdown_cell("As {numref}`fig-x` shows.")])
    with pytest.raises(ValueError, match="keeps markup that Colab shows raw"):
        editions.edition(nb, {}, "linear")


def test_exercise_boxes_and_figure_links_are_written_out():
    source = ("See [the figure below](#fig-a).\n\n````{exercise} Try it\n:label: ex-b\n:class: x\n\n"
              "Set $n =$ {eval}`numbers.n`.\n````")
    assert editions.plain(source, {"numbers.n": "20"}, {"fig-a": 2}, {"ex-b": 1}) == (
        "See Figure 2.\n\n### Exercise 1: Try it\n\nSet $n =$ 20.")


def test_linear_edition_numbers_are_the_chapters_at_the_paper_profile():
    nb = nbformat.read(ROOT / "chapters" / "linear.ipynb", as_version=4)
    ed = editions.edition(nb, editions.evaluate(nb), "linear")
    res = falib.reproduce("linear", "paper")
    numbers = Numbers(**linear.prose(res, res))   # the chapter's prose numbers, computed here
    figures, exercises = editions.numbering(nb)
    kept = {c["id"]: c["source"] for c in ed["cells"]}
    checked = 0
    for cell in nb.cells:
        expressions = editions.EXPRESSION.findall(cell.source)
        if cell.cell_type == "markdown" and expressions and cell.id in kept:
            values = {e: str(eval(e, {"numbers": numbers})) for e in expressions}
            assert kept[cell.id] == editions.plain(cell.source, values, figures, exercises)
            checked += len(expressions)
    assert checked >= 20, f"only {checked} numbers checked"


def test_colab_links_are_the_repositorys_colab_branch():
    repo = CONFIG["repository"]["url"].rstrip("/").removeprefix("https://github.com/")
    colab = CONFIG["launch_buttons"]["colab_url"].rstrip("/")
    assert editions.colab_url("linear") == f"{colab}/github/{repo}/blob/{editions.BRANCH}/chapters/linear.ipynb"
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "book.yml").read_text())
    steps = " ".join(s.get("run", "") for s in workflow["jobs"]["build"]["steps"])
    assert "-m falib.editions _build/colab" in steps and "add README.md chapters" in steps
    assert re.search(rf"git push .*\.git\"? {editions.BRANCH}$", steps.strip(), re.MULTILINE), steps


def test_chapter_pages_link_colab_edition_and_student_notebook():
    sys.path.insert(0, str(ROOT / "book" / "ext"))
    try:
        import falib_book
    finally:
        sys.path.remove(str(ROOT / "book" / "ext"))
    url = CONFIG["repository"]["url"]
    app = SimpleNamespace(config=SimpleNamespace(html_theme_options={"repository_url": url}))
    launch = {"label": "launch-buttons", "buttons": [{"text": "Binder", "url": "b"},
                                                     {"text": "Colab", "url": f"{url}/blob/main/x"}]}
    download = {"label": "download-buttons", "buttons": [{"text": ".ipynb"}]}
    context = {"page_source_suffix": ".ipynb", "header_buttons": [launch, download],
               "pathto": lambda name, resource: f"../{name}"}
    falib_book.course_links(app, "chapters/linear", "page.html", context, None)
    assert launch["buttons"][1]["url"] == editions.colab_url("linear") and launch["buttons"][0]["url"] == "b"
    assert download["buttons"][0]["url"] == f"../{falib_book.STUDENT}/linear.ipynb"
