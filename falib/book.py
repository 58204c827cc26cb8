"""What the chapters need beyond figures: numbers glued into the prose, and the profile notice.

Every number the prose states about our results is computed here from the results and glued
(myst-nb's ``glue``) under a name the text cites as ``{glue:text}`name```; nobody types it.
"""
from __future__ import annotations

from IPython.display import Markdown

from .results import Results


def glue(**numbers) -> dict:
    """Glue each ``name=value`` for the book's ``{glue:text}`` roles (values are formatted text)."""
    try:
        from myst_nb import glue as _glue
    except ImportError:   # a plain Jupyter (e.g. Colab) shows the roles' names instead
        return numbers
    for name, value in numbers.items():
        _glue(name, value, display=False)
    return numbers


def notice(res: Results) -> Markdown:
    """The chapter's opening notice: which profile's results it shows, and how to see the other."""
    n, m = len(res.meta["runs"]), res.meta
    where = f"{m.get('backend', '?')}/{m.get('device', '?')}"
    if res.profile == "paper":
        text = (f"**Paper-profile results** (n = {n} runs, computed on {where}; committed in "
                "`results/`). Set `FALIB_PROFILE=quick` to recompute a small version in a minute.")
    else:
        text = (f"**Quick-profile results** (n = {n} runs, a small version computed on {where} in "
                f"{m.get('seconds', '?')} s). Numbers and figures on this page are the quick run's, "
                "not the paper-scale ones: set `FALIB_PROFILE=paper` before starting Jupyter to load "
                "the committed paper-profile results in seconds.")
    return Markdown(f"> {text}")
