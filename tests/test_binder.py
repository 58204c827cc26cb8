"""Binder: math libraries use as many threads as the container's CPU quota (`start`)."""
import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def threads(cgroup: Path) -> str:
    out = subprocess.run(["bash", ROOT / "start", "bash", "-c", "echo $OMP_NUM_THREADS $OPENBLAS_NUM_THREADS"],
                         env={**os.environ, "CGROUP_ROOT": str(cgroup)}, capture_output=True, text=True, check=True)
    return out.stdout.split()


@pytest.mark.parametrize("cpu_max, expected", [("150000 100000", "2"), ("100000 100000", "1"), ("50000 100000", "1")])
def test_threads_follow_the_cgroup_v2_quota(tmp_path, cpu_max, expected):
    (tmp_path / "cpu.max").write_text(cpu_max + "\n")
    assert threads(tmp_path) == [expected, expected]


def test_threads_follow_the_cgroup_v1_quota(tmp_path):
    (tmp_path / "cpu").mkdir()
    (tmp_path / "cpu" / "cpu.cfs_quota_us").write_text("400000\n")
    (tmp_path / "cpu" / "cpu.cfs_period_us").write_text("100000\n")
    assert threads(tmp_path) == ["4", "4"]


def test_no_quota_means_every_core(tmp_path):
    (tmp_path / "cpu.max").write_text("max 100000\n")
    assert threads(tmp_path) == [str(os.cpu_count())] * 2


def test_environment_installs_what_the_chapters_import():
    text = (ROOT / "environment.yml").read_text()
    for package in ("torch==", "ipywidgets==", "ipykernel==", "jupyterlab-myst=="):
        assert package in text


def test_extras_give_jupyterlab_and_what_a_chapter_needs():
    tomllib = pytest.importorskip("tomllib")   # Python 3.11+

    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    names = {k: {r.split(">")[0].split("=")[0].split("<")[0].strip() for r in v} for k, v in extras.items()}
    assert {"jupyterlab", "ipywidgets", "ipykernel", "sphinx-exercise"} <= names["book"]
    assert {"ipywidgets", "ipykernel"} <= names["notebook"]
    pins = (ROOT / "constraints.txt").read_text()
    assert "jupyterlab==" in pins and "sphinx-exercise==" in pins
