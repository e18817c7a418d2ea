#!/usr/bin/env python3
"""In-process speed of cellucid_bench.prepare against cellucid.prepare 0.9.2.

Both writers get the same objects, already in memory (no file is read on either side):
the benchmark dataset of `cellucid-bench generate` / scripts/quick-spec.toml rebuilt in
numpy — 20,000 cells × 2,000 genes, 10 % non-zero CSR float32 (log1p CP10k of
overdispersed counts with per-cluster programmes), 12 uneven clusters, a 30-d latent
space, a 3-d UMAP, a symmetric kNN graph (k = 15, ~300k stored edges), obs `cluster`
(12 categories), `category_1` (4), `n_counts`, `percent_mito`, `score` (float32). The
values are drawn by numpy, not by the Rust generator: same shape, density and structure,
not the same bits.

Timing: for each setting (q8 gzip 6, f32 plain), `--repeats` rounds after one warm-up
round; each round runs both writers back to back in an order that alternates between
rounds, in this process, into a fresh directory (removed untimed afterwards).

Peak memory: each writer once more per setting in a child process of its own
(multiprocessing "spawn": a fork would inherit the parent's rayon pool without its
threads, and the exporter would wait for them forever). The child builds the same data
(same seed), returns freed heap to the OS (malloc_trim), resets its peak-RSS mark (`/proc/self/clear_refs`, Linux) and runs the
export; the figure is VmHWM after the call minus VmRSS before it: what the export
itself added at its peak, the input data excluded. Where clear_refs cannot be written
the child's ru_maxrss is used instead, which may include building the data.

Run it in a virtualenv holding both packages (scripts/bench-python.sh makes one):

    python benches/python_inprocess.py [--cells 20000 --genes 2000 --repeats 7 --out-root DIR]
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import gc
import io
import multiprocessing as mp
import os
import resource
import shutil
import statistics
import tempfile
import time
from pathlib import Path
from queue import Empty

import numpy as np
import pandas as pd
from scipy import sparse

SETTINGS = {
    "q8 gzip 6": {"var_quantization": 8, "compression": 6},
    "f32 plain": {"var_quantization": None, "compression": None},
}


# --- data ------------------------------------------------------------------------------
def _clusters(rng, n, k):
    shares = rng.dirichlet(np.full(k, 2.0))
    return np.sort(rng.choice(k, size=n, p=shares))


def _clustered(rng, labels, k, dims, centre_sd=5.0):
    centres = rng.normal(0, centre_sd, size=(k, dims))
    spread = np.exp(rng.uniform(np.log(0.5), np.log(1.5), size=k))
    return centres[labels] + rng.normal(size=(len(labels), dims)) * spread[labels, None]


def _expression(rng, labels, k, genes, density):
    """CSR float32, ~`density` non-zero: log1p(count / total * 1e4), per-cluster programmes."""
    n = len(labels)
    base = np.exp(rng.normal(0, 1.3, size=genes))
    programme = np.tile(base, (k, 1))
    for c in range(k):
        up = rng.choice(genes, size=max(1, genes * 3 // 100), replace=False)
        programme[c, up] *= rng.uniform(4, 16, size=len(up))
    probs = programme / programme.sum(axis=1, keepdims=True)
    per_cell = rng.binomial(genes, density, size=n).clip(1, genes)
    indptr = np.zeros(n + 1, dtype=np.int64)
    indptr[1:] = np.cumsum(per_cell)
    indices = np.empty(indptr[-1], dtype=np.int32)
    counts = np.empty(indptr[-1], dtype=np.float64)
    for c in range(k):
        cells = np.flatnonzero(labels == c)
        for i in cells:
            cols = rng.choice(genes, size=per_cell[i], replace=False, p=probs[c])
            cols.sort()
            indices[indptr[i]:indptr[i + 1]] = cols
        m = indptr[cells + 1] - indptr[cells]
        # overdispersed positive counts (1 + negative binomial)
        counts_c = 1 + rng.negative_binomial(3, 0.6, size=int(m.sum()))
        sel = np.concatenate([np.arange(indptr[i], indptr[i + 1]) for i in cells]) if len(cells) else []
        counts[sel] = counts_c
    totals = np.add.reduceat(counts, indptr[:-1])
    row = np.repeat(np.arange(n), per_cell)
    data = np.log1p(counts / totals[row] * 1e4).astype(np.float32)
    x = sparse.csr_matrix((data, indices, indptr), shape=(n, genes))
    return x, totals.astype(np.float32)


def _knn(latent, labels, k):
    """Each cell's k nearest among the 2k neighbours in (cluster, projection) order; symmetric."""
    n = len(labels)
    direction = np.random.default_rng(7).normal(size=latent.shape[1])
    order = np.lexsort((latent @ direction, labels))
    pos = np.empty(n, dtype=np.int64)
    pos[order] = np.arange(n)
    offsets = np.concatenate([np.arange(-k, 0), np.arange(1, k + 1)])
    cand = order[np.clip(pos[:, None] + offsets[None, :], 0, n - 1)]
    dist = np.linalg.norm(latent[cand] - latent[:, None, :], axis=2)
    dist[(cand == np.arange(n)[:, None]) | (labels[cand] != labels[:, None])] = np.inf
    nearest = np.argpartition(dist, k - 1, axis=1)[:, :k]
    rows = np.repeat(np.arange(n), k)
    cols = cand[np.arange(n)[:, None], nearest].ravel()
    d = dist[np.arange(n)[:, None], nearest].ravel()
    keep = np.isfinite(d)
    w = np.clip(np.exp(-d[keep] / np.median(d[keep])), 1e-6, 1.0)
    g = sparse.coo_matrix((w, (rows[keep], cols[keep])), shape=(n, n)).tocsr()
    g.sum_duplicates()
    g = g.maximum(g.T).tocsr()  # exactly symmetric, no diagonal, no stored zeros
    g.sort_indices()
    return g


def build(cells: int, genes: int, seed: int = 1) -> dict:
    rng = np.random.default_rng(seed)
    k = 12
    labels = _clusters(rng, cells, k)
    latent = _clustered(rng, labels, k, 30)
    umap = _clustered(rng, labels, k, 3, centre_sd=8.0)
    x, totals = _expression(rng, labels, k, genes, 0.10)
    level = rng.normal(size=k)
    obs = pd.DataFrame(
        {
            "cluster": pd.Categorical.from_codes(labels, categories=[f"c{i}" for i in range(k)]),
            "category_1": pd.Categorical.from_codes(rng.choice(4, size=cells), categories=[f"k{i}" for i in range(4)]),
            "n_counts": totals,
            "percent_mito": np.minimum(100 * np.exp(np.log(0.04) + 0.3 * level[labels] + 0.5 * rng.normal(size=cells)), 90).astype(np.float32),
            "score": (level[labels] + 0.5 * rng.normal(size=cells)).astype(np.float32),
        },
        index=[f"cell{i}" for i in range(cells)],
    )
    var = pd.DataFrame(index=[f"gene{i}" for i in range(genes)])
    return dict(
        latent_space=latent, obs=obs, var=var, gene_expression=x, connectivities=_knn(latent, labels, 15),
        X_umap_3d=umap, obs_categorical_dtype="uint8", dataset_name="Benchmark", dataset_id="benchmark",
        created_at="2026-01-02T03:04:05Z",
    )


# --- running ---------------------------------------------------------------------------
def _writers():
    import cellucid
    import cellucid_bench

    return {"cellucid_bench": cellucid_bench.prepare, "cellucid 0.9.2": cellucid.prepare}


def _run(prepare, data, setting, out_dir) -> float:
    # 0.9.2 prints progress and draws a tqdm bar; both writers' output goes nowhere.
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        start = time.perf_counter()
        prepare(out_dir=out_dir, force=False, **data, **SETTINGS[setting])
        return time.perf_counter() - start


def _status_bytes(key: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1]) * 1024
    return 0


def _reset_peak() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")  # resets VmHWM to the current RSS (Linux >= 4.0)
        return True
    except OSError:
        return False


def _release_free_memory() -> None:
    """Hand freed heap back to the OS, so that the export's allocations raise RSS rather
    than reuse what building the data left resident (glibc's malloc_trim)."""
    gc.collect()
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def _child(writer, cells, genes, setting, out_dir, queue):
    data = build(cells, genes)
    prepare = _writers()[writer]
    _release_free_memory()
    before = _status_bytes("VmRSS")
    if _reset_peak():
        _run(prepare, data, setting, out_dir)
        peak = _status_bytes("VmHWM")
    else:
        _run(prepare, data, setting, out_dir)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    queue.put(peak - before)


def peak_memory(writer, cells, genes, setting, root) -> int:
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    out = Path(tempfile.mkdtemp(dir=root)) / "export"
    p = ctx.Process(target=_child, args=(writer, cells, genes, setting, out, queue))
    p.start()
    # Read before join (a child blocks on exit until its queue is drained), polling so
    # that a child that died before reporting is noticed.
    while True:
        try:
            result = queue.get(timeout=1)
            break
        except Empty:
            if not p.is_alive():
                raise RuntimeError(f"{writer} died in its child process (exit {p.exitcode})") from None
    p.join()
    shutil.rmtree(out.parent, ignore_errors=True)
    if p.exitcode != 0:
        raise RuntimeError(f"{writer} failed in its child process (exit {p.exitcode})")
    return result


def time_setting(writers, data, setting, repeats, root) -> dict:
    times = {w: [] for w in writers}
    names = list(writers)
    for r in range(repeats + 1):  # round 0 is the warm-up
        for w in (names if r % 2 == 0 else names[::-1]):
            out = Path(tempfile.mkdtemp(dir=root)) / "export"
            t = _run(writers[w], data, setting, out)
            shutil.rmtree(out.parent)
            if r > 0:
                times[w].append(t)
    return times


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cells", type=int, default=20000)
    ap.add_argument("--genes", type=int, default=2000)
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--out-root", type=Path, default=None, help="where exports are written (default: a temp dir)")
    args = ap.parse_args()
    if args.out_root is not None:
        args.out_root.mkdir(parents=True, exist_ok=True)
    root = Path(tempfile.mkdtemp(prefix="cellucid-py-bench-", dir=args.out_root))
    try:
        t0 = time.perf_counter()
        data = build(args.cells, args.genes)
        x, g = data["gene_expression"], data["connectivities"]
        print(f"data: {args.cells} cells x {args.genes} genes, X CSR float32 {x.nnz / (x.shape[0] * x.shape[1]):.1%} "
              f"non-zero, {g.nnz} stored graph entries, built in {time.perf_counter() - t0:.1f} s; "
              f"exports under {root}")
        writers = _writers()
        ours, ref = list(writers)
        print("| setting | writer | median s | min s | max s | peak RSS added MB |")
        print("|---|---|---|---|---|---|")
        ratios = {}
        for setting in SETTINGS:
            times = time_setting(writers, data, setting, args.repeats, root)
            for w in writers:
                mem = peak_memory(w, args.cells, args.genes, setting, root) / 2**20
                ts = times[w]
                print(f"| {setting} | {w} | {statistics.median(ts):.3f} | {min(ts):.3f} | {max(ts):.3f} | {mem:.0f} |",
                      flush=True)
            ratios[setting] = statistics.median(times[ref]) / statistics.median(times[ours])
        for setting, ratio in ratios.items():
            print(f"{setting}: {ours} is {ratio:.1f}x faster than {ref} (ratio of medians, {args.repeats} interleaved rounds)")
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
