"""Claims: outcomes, expectations, strict known gaps, sanity checks, and the scorecard's summary."""
import pytest

from falib.claims import Claim, ClaimFailed, Claims


def claim(holds, **kw):
    return Claim("k", "a statement", "paper", "ours", holds, figure="Fig. 2a", **kw)


@pytest.mark.parametrize("holds, kw, status, ok", [
    (True, {}, "reproduced", True),
    (False, {}, "FAILS", False),
    (False, {"gap": "why"}, "not reproduced", True),
    (True, {"gap": "why"}, "HOLDS (undeclare the gap)", False),
    (True, {"kind": "sanity"}, "sanity check", True),
    (False, {"kind": "sanity"}, "FAILS", False),
])
def test_status_and_expectation(holds, kw, status, ok):
    c = claim(holds, **kw)
    assert (c.status, c.ok) == (status, ok)
    assert Claims([c]).ok is ok


def test_check_names_every_unexpected_claim():
    claims = Claims([claim(True), Claim("gap", "gap holds", "p", "o", True, gap="we thought not"),
                     Claim("bad", "fails", "p", "o", False)])
    with pytest.raises(ClaimFailed) as err:
        claims.check()
    assert "gap holds" in str(err.value) and "fails" in str(err.value) and "we thought not" in str(err.value)
    assert "a statement" not in str(err.value)


def test_a_declared_gap_does_not_stop_a_notebook_and_prints_its_reason():
    claims = Claims([claim(True), Claim("g", "gap", "1.8%", "9%", False, gap="too short a run")])
    assert claims.check() is claims
    assert "too short a run" in str(claims) and "not reproduced" in claims._repr_html_()


def test_bad_declarations_are_refused():
    with pytest.raises(ValueError, match="kind"):
        claim(True, kind="maybe")
    with pytest.raises(ValueError, match="sanity"):
        claim(True, kind="sanity", gap="x")
    with pytest.raises(ValueError, match="source"):
        claim(True, source="a blog")


def test_runs_and_protocol_fill_in_only_what_a_claim_leaves_open():
    claims = Claims([claim(True), Claim("own", "s", "p", "o", True, n=3, protocol="its own")]).on(20, "100 epochs")
    assert [(c.n, c.protocol) for c in claims] == [(20, "100 epochs"), (3, "its own")]
    assert "n = 20: 100 epochs" in str(claims) and "protocol: its own" in claims._repr_html_()


def test_lookup_by_key():
    claims = Claims([claim(True)])
    assert claims["k"].statement == "a statement"
    with pytest.raises(KeyError, match="the claims are: k"):
        claims["nope"]


def test_scorecard_summary_matches_its_rows():
    """The summary counts the paper's claims apart from ours and the follow-up papers', from the
    table's own rows; every row gives its n and protocol; a figure's status is its paper claims',
    and only the paper's figures count."""
    from falib.book import PAPER_FIGURES, SOURCE_NAMES, Scorecard

    card = Scorecard("paper")
    lines = card.summary().data.split("\n")
    assert f"**{len(card.claims)} claims**" in lines[0]
    for source, name in SOURCE_NAMES.items():
        rows = [c for c in card.claims if c.source == source]
        line = next(line for line in lines if line.startswith(f"- **{name}: {len(rows)}**"))
        for status, n in card.claims.counts(source).items():
            assert f"{n} {status}" in line and n == sum(c.status == status for c in rows)
    assert sum(sum(card.claims.counts(s).values()) for s in SOURCE_NAMES) == len(card.claims)
    assert all(c.n and c.protocol for c in card.claims), "every row gives its n and protocol"
    paper_figures = {c.figure for c in card.claims if c.source == "paper" and c.kind == "result"}
    assert set(card.figures()) == {f for f in paper_figures if f.startswith(PAPER_FIGURES)}
    assert "beyond: converged" in paper_figures and "beyond: converged" not in card.figures(), \
        "a paper claim shown in a figure of ours is no figure of the paper's"
    assert set(card.figures().values()) <= {"reproduced", "partly", "not reproduced"}
