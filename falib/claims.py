"""Claims: sentences of the paper turned into checks on results, with the paper's number beside ours.

A claim has an *outcome* (``holds``) and an *expectation*. Most claims are expected to hold. A
result of the paper that we do not reproduce is declared a *known gap* (``gap=`` the reason): it
shows as "not reproduced" and does not stop a notebook, but if it starts to hold the declaration
is wrong and the check fails, like a strict xfail. A *sanity* claim only checks that a run is
what it should be (the starting angle of random weights, say); it is never counted as a
reproduced result. A claim's *source* says whose statement it checks: the paper's (or its
preprint's), a follow-up paper's, or ours (a control we added); and every claim carries the number
of runs and the protocol of the results it was checked on.
"""
from __future__ import annotations

import html
from collections import Counter
from dataclasses import dataclass, replace

KINDS = ("result", "sanity")
SOURCES = ("paper", "follow-up", "ours")
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
    (``"Fig. 2a"``); `tolerance` says where the threshold comes from (the paper, or ours, fixed
    before seeing our number); `gap` declares a known gap and gives the reason; `kind` is
    ``"result"`` or ``"sanity"``; `source` is one of `SOURCES`; `n` and `protocol` are the runs and
    training protocol of the results checked (`Claims.on` fills them in where a claim does not).
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
    source: str = "paper"
    n: int | None = None
    protocol: str = ""

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"claim {self.key!r}: kind must be one of {KINDS}, got {self.kind!r}")
        if self.source not in SOURCES:
            raise ValueError(f"claim {self.key!r}: source must be one of {SOURCES}, got {self.source!r}")
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

    COLUMNS = ("figure", "source", "claim", "paper", "ours", "n", "status")

    def rows(self):
        return [(c.figure, c.source, c.statement, c.paper, c.ours, "" if c.n is None else str(c.n), c.status)
                for c in self]

    def on(self, n: int, protocol: str) -> "Claims":
        """These claims with `n` runs and `protocol` filled in where a claim does not give its own."""
        return Claims(replace(c, n=c.n if c.n is not None else n, protocol=c.protocol or protocol) for c in self)

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self)

    def counts(self, source: str | None = None) -> Counter:
        """How many claims (of `source`, if given) have each status."""
        return Counter(c.status for c in self if source in (None, c.source))

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
        protocols = [f"  n = {n}: {p}" for n, p in dict.fromkeys((c.n, c.protocol) for c in self if c.protocol)]
        return "\n".join(lines + (["", "known gaps:"] + gaps if gaps else [])
                         + (["", "protocols:"] + protocols if protocols else []))

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
    ours = e(c.ours) + (f"<br><small>protocol: {e(c.protocol)}</small>" if c.protocol else "")
    cells = [e(c.figure), e(c.source), statement, e(c.paper), ours, "" if c.n is None else str(c.n)]
    return (f'<tr class="claim-{css}">' + "".join(f"<td>{x}</td>" for x in cells)
            + f'<td class="status">{status}</td></tr>')
