"""The book's sources agree with each other: one repository address, figures that are labelled,
captioned, cross-referenced and state the paper profile's n, citations that the bibliography has."""
import json
import re
from pathlib import Path

import pytest
import yaml

import falib

ROOT = Path(__file__).resolve().parent.parent
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text())
REPO = CONFIG["repository"]["url"].rstrip("/")
OWNER, NAME = REPO.removeprefix("https://github.com/").split("/")
CHAPTERS = sorted((ROOT / "chapters").glob("*.ipynb"))
FILES = ["README.md", "chapters/intro.md", "CITATION.cff", "pyproject.toml", "postBuild", "environment.yml",
         *(f"chapters/{p.name}" for p in CHAPTERS)]   # the chapters' set-up cells install from the repository
LINK = re.compile(r"https?://(?:github\.com|mybinder\.org/v2/gh|[\w-]+\.github\.io)/[^\s)>\]\"'`\\]+")


def figures(path):
    cells = json.loads(path.read_text())["cells"]
    return [c["metadata"]["mystnb"] for c in cells if "figure" in c["metadata"].get("mystnb", {})]


def markdown(path):
    if path.suffix == ".md":
        return path.read_text()
    return "\n".join("".join(c["source"]) for c in json.loads(path.read_text())["cells"]
                     if c["cell_type"] == "markdown")


def expected(link: str) -> bool:
    if ".github.io/" in link:
        return link.startswith(f"https://{OWNER}.github.io/{NAME}")
    return f"/{OWNER}/{NAME}" in link and link.split(f"/{OWNER}/{NAME}")[1][:1] in ("", "/")


@pytest.mark.parametrize("name", FILES)
def test_repository_links_match_config(name):
    path = ROOT / name
    if not path.exists():
        pytest.skip(f"no {name}")
    text = path.read_text()
    if path.suffix == ".ipynb":
        text = "\n".join("".join(c["source"]) for c in json.loads(text)["cells"])
    wrong = [link for link in LINK.findall(text) if not expected(link)
             and "actions/checkout" not in link]
    assert not wrong, f"{name} links elsewhere than the repository in _config.yml ({REPO}): {wrong}"


def test_readme_links_the_repository_and_the_published_book():
    text = (ROOT / "README.md").read_text()
    assert REPO in text and f"https://{OWNER}.github.io/{NAME}/" in text


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_figures_are_captioned_labelled_and_cited(path):
    text = markdown(path)
    for meta in figures(path):
        name, caption = meta["figure"]["name"], meta["figure"].get("caption", "")
        assert name.startswith("fig-") and caption, f"{path.name}: figure {name} needs a label and a caption"
        assert len(meta.get("image", {}).get("alt", "")) > 20, f"{path.name}: figure {name} needs real alt text"
        assert f"](#{name})" in text, f"{path.name}: the text never links figure {name} ([the figure below](#{name}))"


@pytest.mark.parametrize("path", [p for p in CHAPTERS if p.stem in falib.names()], ids=lambda p: p.stem)
def test_captions_state_the_paper_profile_runs(path):
    runs = falib.get(path.stem).config("paper")["runs"]
    for meta in figures(path):
        for n in re.findall(r"\$n = (\d+)\$", meta["figure"]["caption"]):
            assert int(n) == runs, (f"{path.name}: figure {meta['figure']['name']} says n = {n}; the "
                                    f"paper profile has {runs} runs")


def test_every_citation_is_in_the_bibliography():
    keys = set(re.findall(r"@\w+\{([^,]+),", (ROOT / "references.bib").read_text()))
    pages = CHAPTERS + sorted((ROOT / "chapters").glob("*.md"))
    cited = {k.strip() for p in pages for group in re.findall(r"\{cite(?::\w+)?\}`([^`]+)`", markdown(p))
             for k in group.split(",")}
    assert cited <= keys, f"cited but not in references.bib: {sorted(cited - keys)}"
    bib = (ROOT / "references.bib").read_text()   # the chapters link a work's DOI or arXiv page
    works = {f"https://doi.org/{d}" for d in re.findall(r"doi\s*=\s*\{([^}]+)\}", bib)} | \
        {f"https://arxiv.org/abs/{e}" for e in re.findall(r"eprint\s*=\s*\{([^}]+)\}", bib)}
    linked = {u for p in CHAPTERS for u in re.findall(r"\]\((https://(?:doi\.org|arxiv\.org/abs)/[^)\s]+)\)", markdown(p))}
    assert linked <= works, f"linked but not in references.bib: {sorted(linked - works)}"
    first = (ROOT / "references.bib").read_text().split("@")[1]
    assert first.startswith("article{lillicrap2016,") and "10.1038/ncomms13276" in first, "the paper comes first"


def test_intro_links_every_chapter_and_the_toc_lists_it():
    intro = (ROOT / "chapters" / "intro.md").read_text()
    toc = (ROOT / "_toc.yml").read_text()
    pages = [p for p in sorted((ROOT / "chapters").glob("*")) if p.suffix in (".ipynb", ".md") and p.stem != "intro"]
    assert not [p.name for p in pages if f"]({p.name})" not in intro], "chapters the introduction does not link"
    assert not [p.name for p in pages if f"chapters/{p.stem}\n" not in toc + "\n"], "chapters missing from _toc.yml"
