"""What the chapters need beyond figures: the numbers their prose states, and the profile notice.

Every number the prose states about our results is computed from the results into a chapter's
``numbers`` (a :class:`Numbers`) and shown by an inline expression, ``{eval}`numbers.name```,
which the book (myst-nb, inline execution) and JupyterLab (jupyterlab-myst) both evaluate in the
chapter's kernel; nobody types it.
"""
from __future__ import annotations

from collections import Counter

from IPython.display import Markdown

from .claims import Claims
from .results import Results


class Numbers:
    """A chapter's prose numbers as formatted text, one attribute each: ``Numbers(**linear.prose(res))``."""

    def __init__(self, **numbers: str):
        vars(self).update(numbers)


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


PAPER_FIGURES = ("Fig.", "Suppl.")   # how the paper names its figures, panels and notes; ours name a chapter
SOURCE_NAMES = {"paper": "The paper's claims", "ours": "Our controls",
                "follow-up": "Follow-up papers' claims (Beyond the paper)"}


class Scorecard:
    """Every claim of every experiment at one profile, in the paper's order, with a summary."""

    def __init__(self, profile: str = "paper"):
        from .experiments import get, names, reproduce

        self.profile = profile
        self.claims = Claims(c for name in names() for c in get(name).claims(reproduce(name, profile)))

    def figures(self) -> dict[str, str]:
        """Each of the paper's figures by its status: reproduced, partly, not reproduced (judged on
        the paper's claims; sanity checks, and a paper claim shown in a figure of ours, do not count)."""
        seen: dict[str, set] = {}
        for c in self.claims:
            if c.kind == "result" and c.source == "paper" and c.figure.startswith(PAPER_FIGURES):
                seen.setdefault(c.figure, set()).add(c.status if c.ok else "FAILS")
        return {f: FIGURE_STATUS.get(frozenset(s), "FAILS" if "FAILS" in s else "partly")
                for f, s in seen.items()}

    def summary(self) -> Markdown:
        """The counts at the top of the page, from the same rows as the table: the paper's claims
        apart from our controls and the follow-up papers' claims."""
        def listed(counts: Counter) -> str:
            return ", ".join(f"{n} {s}" for s, n in counts.most_common())

        lines = [f"**{len(self.claims)} claims** at the `{self.profile}` profile."]
        for source, name in SOURCE_NAMES.items():
            counts = self.claims.counts(source)
            if counts:
                lines.append(f"- **{name}: {sum(counts.values())}**: {listed(counts)}.")
        figures = self.figures()
        lines.append(f"\n**{len(figures)} of the paper's figures and panels**: {listed(Counter(figures.values()))}.")
        return Markdown("\n".join(lines))
