"""The built wheel installs into a fresh virtualenv and exports there."""

from __future__ import annotations

import os
import subprocess
import sys
import venv

import pytest


def test_the_wheel_installs_into_a_fresh_virtualenv(tmp_path):
    wheel = os.environ.get("CELLUCID_BENCH_WHEEL")
    if not wheel:
        pytest.skip("CELLUCID_BENCH_WHEEL is not set (scripts/test-python.sh sets it to the wheel it built)")
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    python = env_dir / "bin" / "python"
    # Dependencies come from the index (pip's cache after the first run).
    subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", wheel],
        check=True, timeout=900,
    )
    script = (
        "import numpy as np, pandas as pd, cellucid_bench, sys\n"
        "n = 30\n"
        "obs = pd.DataFrame({'c': pd.Categorical(['a', 'b'] * 15)})\n"
        "cellucid_bench.prepare(latent_space=np.random.default_rng(0).normal(size=(n, 3)), obs=obs,\n"
        "    X_umap_2d=np.random.default_rng(1).normal(size=(n, 2)), out_dir=sys.argv[1],\n"
        "    obs_categorical_dtype='uint8', dataset_name='Fresh', dataset_id='fresh')\n"
        "print(cellucid_bench.__file__)\n"
        "print(cellucid_bench.validate(sys.argv[1]))\n"
    )
    out = subprocess.run(
        [str(python), "-c", script, str(tmp_path / "export")],
        check=True, capture_output=True, text=True, cwd=tmp_path, timeout=300,
    )
    where, problems = out.stdout.splitlines()
    assert where.startswith(str(env_dir)), where
    assert problems == "[]"
    assert sys.prefix != str(env_dir)
