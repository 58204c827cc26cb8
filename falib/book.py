"""What the chapters need beyond figures: numbers glued into the prose, and the profile notice.

Every number the prose states about our results is computed here from the results and glued
(myst-nb's ``glue``) under a name the text cites as ``{glue:text}`name```; nobody types it.
"""
from __future__ import annotations

from collections import Counter

from IPython.display import Markdown

from .claims import Claims
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


FIGURE_STATUS = {frozenset({"reproduced"}): "reproduced", frozenset({"not reproduced"}): "not reproduced"}


class Scorecard:
    """Every claim of every experiment at one profile, in the paper's order, with a summary."""

    def __init__(self, profile: str = "paper"):
        from .experiments import get, names, reproduce

        self.profile = profile
        self.claims = Claims(c for name in names() for c in get(name).claims(reproduce(name, profile)))

    def figures(self) -> dict[str, str]:
        """Each figure's status: reproduced, partly, not reproduced (sanity checks do not count)."""
        seen: dict[str, set] = {}
        for c in self.claims:
            if c.kind == "result":
                seen.setdefault(c.figure, set()).add(c.status if c.ok else "FAILS")
        return {f: FIGURE_STATUS.get(frozenset(s), "FAILS" if "FAILS" in s else "partly")
                for f, s in seen.items()}

    def summary(self) -> Markdown:
        """The counts at the top of the page, from the same rows as the table."""
        counts, figures = self.claims.counts(), Counter(self.figures().values())
        claims = ", ".join(f"{n} {s}" for s, n in counts.most_common())
        panels = ", ".join(f"{n} {s}" for s, n in figures.most_common())
        return Markdown(f"**{len(self.claims)} claims** at the `{self.profile}` profile: {claims}.  \n"
                        f"**{len(self.figures())} figures and panels**: {panels}.")
