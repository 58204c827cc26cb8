"""One command to check falib on a CUDA GPU, in under 8 minutes, with a short report.

1. the CUDA tests (``tests/test_gpu.py``: every rule and the spiking fast path against NumPy);
2. one MNIST epoch (784-1000-10, batch 128, float32) of falib's feedback alignment against the
   same network trained by plain PyTorch autograd, both on the GPU (best of three rounds);
3. the MNIST paper profile with n = 20 runs, trained as one batched computation on the GPU,
   stored with its origin in its name (``mnist-paper-torch-cuda-float32-<hash>.npz``), and its
   claims.

    FALIB_MNIST=/path/to/mnist python benchmarks/gpu_check.py --report benchmarks/gpu_check.txt
    python benchmarks/gpu_check.py --tiny    # any machine: the same steps at a tiny size (CI)

On a machine without a GPU the CUDA tests are skipped (the report says why) and ``--tiny`` runs
the rest on the CPU. Exits 1 if a test fails or the check overruns its time budget.
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from falib import Backend
from falib.data import load_mnist
from falib.experiments import get, mnist
from falib.results import results_dir
from mnist_epoch import falib_epoch, torch_epoch

ROOT = Path(__file__).resolve().parent.parent
BUDGET_S = 480
TINY = {"train_size": 640, "test_size": 200, "epochs": 1, "eta_drops": [], "runs": 2, "angle_size": 100,
        "records_per_epoch": 1, "fields": 2}


def cuda_tests() -> tuple[bool, str]:
    """Run tests/test_gpu.py; whether it passed, and its summary (with the reason for skips)."""
    out = subprocess.run([sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider",
                          "tests/test_gpu.py"], cwd=ROOT, capture_output=True, text=True)
    lines = out.stdout.strip().splitlines()
    reasons = sorted({line.split(": ", 1)[-1] for line in lines if line.startswith("SKIPPED")})
    return out.returncode in (0, 5), lines[-1].strip("= ") + "".join(f"; skipped: {r}" for r in reasons)


def epoch(device: str, images: int, rounds: int) -> str:
    """The best of `rounds` epochs of falib feedback alignment and of PyTorch autograd backprop."""
    d = load_mnist()
    x, y = np.array(d.x_train[:images]), np.eye(10, dtype=np.float32)[d.y_train[:images]]
    fa = min(falib_epoch("feedback_alignment", x, y, device) for _ in range(rounds))
    ref = min(torch_epoch(x, y, device) for _ in range(rounds))
    return (f"MNIST epoch ({images} images, batch 128, float32) on {device}: falib feedback alignment "
            f"{fa:.2f} s, PyTorch autograd backprop {ref:.2f} s ({fa / ref:.2f}x), best of {rounds}")


def paper_run(backend: Backend, config: dict, out: Path) -> str:
    """The MNIST paper profile (`config`) on `backend`, saved in `out`, with its claims."""
    experiment = get("mnist")
    res = experiment.run("paper", backend, config)
    path = res.save(out)
    errors = ", ".join(f"{name} {100 * res[f'{name}/error'][:, -1].mean():.2f}%" for name in mnist.VARIANTS)
    counts = experiment.claims(res).counts()
    return (f"MNIST paper profile, n = {len(res.meta['runs'])} runs, {config['epochs']} epochs, on "
            f"{backend.device} ({res.meta.get('gpu', res.meta['machine'])}): {res.meta['seconds']:.0f} s; "
            f"final test error {errors}; claims: "
            + ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
            + f"; saved {path.name}")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--tiny", action="store_true", help="a tiny size, on the CPU when there is no GPU (CI)")
    p.add_argument("--out", default=None, help="where the MNIST results go (default: results/; "
                   "with --tiny a temporary folder)")
    p.add_argument("--report", default=None, help="also write the report to this file")
    args = p.parse_args()
    device = "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cpu" and not args.tiny:
        p.error("no CUDA GPU on this machine; run with --tiny to check the script on the CPU")
    start = time.perf_counter()
    passed, tests = cuda_tests()
    config = dict(get("mnist").config("paper"), runs=20, dtype="float32") | (TINY if args.tiny else {})
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(args.out or (tmp if args.tiny else results_dir("paper")))
        lines = [f"falib GPU check, {time.strftime('%Y-%m-%d')}: torch {torch.__version__}, device {device}"
                 + (f" ({torch.cuda.get_device_name()})" if device == "cuda" else "")
                 + (", tiny size" if args.tiny else ""),
                 f"1. CUDA tests: {tests}",
                 f"2. {epoch(device, 1280 if args.tiny else 60000, 1 if args.tiny else 3)}",
                 f"3. {paper_run(Backend('torch', device, 'float32'), config, out)}"]
    total = time.perf_counter() - start
    within = total <= BUDGET_S
    lines.append(f"total {total:.0f} s ({'within' if within else 'OVER'} the {BUDGET_S} s budget)")
    report = "\n".join(lines)
    print(report)
    if args.report:
        Path(args.report).write_text(report + "\n")
    return 0 if passed and within else 1


if __name__ == "__main__":
    sys.exit(main())
