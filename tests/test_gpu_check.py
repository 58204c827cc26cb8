"""benchmarks/gpu_check.py runs end to end at a tiny size on the CPU; its CUDA tests say why they skip."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

import falib

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.skipif(not os.environ.get("FALIB_MNIST"), reason="FALIB_MNIST is not set")
def test_gpu_check_runs_tiny_on_any_machine(tmp_path):
    report = tmp_path / "report.txt"
    out = subprocess.run([sys.executable, "benchmarks/gpu_check.py", "--tiny", "--out", str(tmp_path),
                          "--report", str(report)], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
    text = report.read_text()
    assert "2. MNIST epoch" in text and "within the 480 s budget" in text
    if "device cpu" in text:
        assert "skipped: no CUDA GPU on this machine" in text
    [saved] = tmp_path.glob("mnist-paper-torch-*-float32-*.npz")
    res = falib.Results.load(saved)
    assert len(res.meta["runs"]) == 2 and res.meta["backend"] == "torch" and res.meta["code"]
