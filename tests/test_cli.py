"""The command line: reproduce, claims, and its errors."""
import subprocess
import sys

import numpy as np

from falib.__main__ import main


def test_help_lists_experiments():
    out = subprocess.run([sys.executable, "-m", "falib", "--help"], capture_output=True, text=True)
    assert out.returncode == 0 and "linear (Fig. 2" in out.stdout


def test_reproduce_then_claims(tmp_path, capsys):
    assert main(["reproduce", "linear", "--profile", "quick", "--out", str(tmp_path)]) == 0
    assert len(list(tmp_path.glob("linear-quick-*.npz"))) == 1
    assert main(["claims", "linear", "--profile", "quick", "--out", str(tmp_path)]) == 0
    assert "Feedback alignment does the same" in capsys.readouterr().out


def test_failing_claim_exits_one(tmp_path, monkeypatch, capsys):
    """Results where nothing learned must fail the claims: damage the stored curves."""
    assert main(["reproduce", "linear", "--out", str(tmp_path)]) == 0
    from falib import results

    path = next(tmp_path.glob("*.npz"))
    res = results.Results.load(path)
    res.arrays["backprop/nse"] = np.ones_like(res.arrays["backprop/nse"])
    res.save(tmp_path)
    assert main(["claims", "linear", "--out", str(tmp_path)]) == 1
    assert "FAILS" in capsys.readouterr().out


def test_errors_exit_two(capsys):
    assert main(["claims", "nope"]) == 2
    assert main(["reproduce", "linear", "--backend", "jax"]) == 2
    assert "choose one of: numpy, torch" in capsys.readouterr().err
