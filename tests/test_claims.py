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


def test_lookup_by_key():
    claims = Claims([claim(True)])
    assert claims["k"].statement == "a statement"
    with pytest.raises(KeyError, match="the claims are: k"):
        claims["nope"]


def test_scorecard_summary_matches_its_rows():
    from falib.book import Scorecard

    card = Scorecard("paper")
    counts = card.claims.counts()
    summary = card.summary().data
    assert f"**{len(card.claims)} claims**" in summary
    for status, n in counts.items():
        assert f"{n} {status}" in summary
    assert sum(counts.values()) == len(card.claims)
    assert set(card.figures().values()) <= {"reproduced", "partly", "not reproduced"}
