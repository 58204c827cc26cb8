"""Claims: sentences of the paper turned into checks on results, with the paper's number beside ours.

A claim has an *outcome* (``holds``) and an *expectation*. Most claims are expected to hold. A
result of the paper that we do not reproduce is declared a *known gap* (``gap=`` the reason): it
shows as "not reproduced" and does not stop a notebook, but if it starts to hold the declaration
is wrong and the check fails, like a strict xfail. A *sanity* claim only checks that a run is
what it should be (the starting angle of random weights, say); it is never counted as a
reproduced result.
"""
from __future__ import annotations

import html
from collections import Counter
from dataclasses import dataclass

KINDS = ("result", "sanity")
STATUS = {  # (kind, declared gap, holds) -> status
    ("result", False, True): "reproduced",
    ("result", False, False): "FAILS",
    ("result", True, False): "not reproduced",
    ("result", True, True): "HOLDS (undeclare the gap)",
    ("sanity", False, True): "sanity check",
    ("sanity", False, False): "FAILS",
}
EXPECTED = ("reproduced", "not reproduced", "sanity check")


@dataclass(frozen=True)
class Claim:
    """One falsifiable statement: what the paper reports, what we measured, and whether it holds.

    `key` names the claim for tests and the scorecard; `figure` is the paper's panel
    (``"Fig. 2a"``); `tolerance` says where the threshold comes from (the paper, not our number);
    `gap` declares a known gap and gives the reason; `kind` is ``"result"`` or ``"sanity"``.
    """

    key: str
    statement: str
    paper: str
    ours: str
    holds: bool
    figure: str = ""
    tolerance: str = ""
    gap: str | None = None
    kind: str = "result"

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"claim {self.key!r}: kind must be one of {KINDS}, got {self.kind!r}")
        if self.kind == "sanity" and self.gap:
            raise ValueError(f"claim {self.key!r}: a sanity check cannot be a known gap")
        object.__setattr__(self, "holds", bool(self.holds))

    @property
    def status(self) -> str:
        return STATUS[self.kind, bool(self.gap), self.holds]

    @property
    def ok(self) -> bool:
        """As expected: a result that holds, a declared gap that still fails, a sanity check that holds."""
        return self.status in EXPECTED


class ClaimFailed(AssertionError):
    """A claim is not as expected: an undeclared claim fails, or a declared gap holds."""


class Claims(list):
    """A list of claims that prints as a table (text in a terminal, HTML in a notebook)."""

    COLUMNS = ("figure", "claim", "paper", "ours", "status")

    def rows(self):
        return [(c.figure, c.statement, c.paper, c.ours, c.status) for c in self]

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self)

    def counts(self) -> Counter:
        """How many claims have each status."""
        return Counter(c.status for c in self)

    def __getitem__(self, i):
        if isinstance(i, str):
            found = [c for c in self if c.key == i]
            if not found:
                raise KeyError(f"no claim {i!r}; the claims are: {', '.join(c.key for c in self)}")
            return found[0]
        return super().__getitem__(i)

    def check(self) -> "Claims":
        """Raise ``ClaimFailed`` naming every claim that is not as expected; return self otherwise."""
        wrong = [c for c in self if not c.ok]
        if wrong:
            raise ClaimFailed("claims not as expected:\n" + "\n".join(
                f"- [{c.status}] {c.statement} (paper: {c.paper}; ours: {c.ours})"
                + (f"; declared gap: {c.gap}" if c.gap else "") for c in wrong))
        return self

    def __str__(self):
        rows = [self.COLUMNS] + self.rows()
        widths = [max(len(r[i]) for r in rows) for i in range(len(self.COLUMNS))]
        lines = ["  ".join(cell.ljust(w) for cell, w in zip(r, widths)).rstrip() for r in rows]
        lines.insert(1, "  ".join("-" * w for w in widths))
        gaps = [f"  gap [{c.key}]: {c.gap}" for c in self if c.gap]
        return "\n".join(lines + (["", "known gaps:"] + gaps if gaps else []))

    def _repr_html_(self):
        head = "".join(f"<th>{c}</th>" for c in self.COLUMNS)
        body = "".join(_html_row(c) for c in self)
        return (f'<table class="table falib-claims"><thead><tr>{head}</tr></thead>'
                f"<tbody>{body}</tbody></table>")


def _html_row(c: Claim) -> str:
    e = html.escape
    statement = e(c.statement) + (f'<br><small>tolerance: {e(c.tolerance)}</small>' if c.tolerance else "")
    status = f"<b>{e(c.status)}</b>" + (f"<br><small>{e(c.gap)}</small>" if c.gap else "")
    css = {"reproduced": "ok", "not reproduced": "gap", "sanity check": "sanity"}.get(c.status, "fail")
    cells = [e(c.figure), statement, e(c.paper), e(c.ours)]
    return (f'<tr class="claim-{css}">' + "".join(f"<td>{x}</td>" for x in cells)
            + f'<td class="status">{status}</td></tr>')
