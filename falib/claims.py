"""Claims: sentences of the paper turned into checks on results, with the paper's number beside ours."""
from __future__ import annotations

import html
from dataclasses import dataclass


@dataclass(frozen=True)
class Claim:
    """One falsifiable statement: what the paper reports, what we measured, and whether it holds."""

    statement: str
    paper: str
    ours: str
    passed: bool


class ClaimFailed(AssertionError):
    """At least one claim does not hold on these results."""


class Claims(list):
    """A list of claims that prints as a table (text in a terminal, HTML in a notebook)."""

    COLUMNS = ("claim", "paper", "ours", "holds")

    def rows(self):
        return [(c.statement, c.paper, c.ours, "yes" if c.passed else "NO") for c in self]

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self)

    def check(self) -> "Claims":
        """Raise ``ClaimFailed`` listing every claim that does not hold; return self otherwise."""
        failed = [c for c in self if not c.passed]
        if failed:
            raise ClaimFailed("claims that do not hold:\n" + "\n".join(
                f"- {c.statement} (paper: {c.paper}; ours: {c.ours})" for c in failed))
        return self

    def __str__(self):
        rows = [self.COLUMNS] + self.rows()
        widths = [max(len(r[i]) for r in rows) for i in range(4)]
        lines = ["  ".join(cell.ljust(w) for cell, w in zip(r, widths)).rstrip() for r in rows]
        lines.insert(1, "  ".join("-" * w for w in widths))
        return "\n".join(lines)

    def _repr_html_(self):
        head = "".join(f"<th>{c}</th>" for c in self.COLUMNS)
        body = "".join("<tr>" + "".join(f"<td>{html.escape(cell)}</td>" for cell in r) + "</tr>"
                       for r in self.rows())
        return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
