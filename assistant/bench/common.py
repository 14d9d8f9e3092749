"""What the benchmarks share: where results go, process memory, percentiles, the machine.

Results are written to a folder given on the command line (``--out-dir``) or,
by default, to ``<data dir>/bench`` (``ASSISTANT_DATA_DIR``): never into the
installed package.  The repository's own published figures live in its
``bench/`` folder, written with ``--out-dir bench``.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Sequence

import numpy as np

from assistant.config import Settings


def default_out_dir(settings: Settings) -> Path:
    """Where results go when no ``--out-dir`` is given."""
    return settings.data_dir / "bench"


def cache_dir(settings: Settings) -> Path:
    """Embeddings of the peer recipes' chunks and partial speed results (safe to delete)."""
    return settings.data_dir / "bench-cache"


def rss_mb() -> tuple[float, float]:
    """(current RSS, peak RSS) of this process in MB, from /proc (Linux)."""
    cur = peak = float("nan")
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                cur = int(line.split()[1]) / 1024
            elif line.startswith("VmHWM:"):
                peak = int(line.split()[1]) / 1024
    except OSError:
        import resource

        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return cur, peak


def pct(values: Sequence[float], q: float) -> float:
    return float(np.percentile(values, q)) if len(values) else float("nan")


def spread(values: Sequence[float]) -> dict:
    return {"median": float(np.median(values)), "min": float(min(values)), "max": float(max(values)), "n": len(values)}


def timed(fn, *args) -> float:
    t = time.perf_counter()
    fn(*args)
    return (time.perf_counter() - t) * 1000



def machine_info() -> dict:
    model = ""
    try:
        model = next((ln.split(":", 1)[1].strip() for ln in Path("/proc/cpuinfo").read_text().splitlines()
                      if ln.startswith("model name")), "")
    except OSError:
        pass
    import faiss

    return {"cpus": os.cpu_count(), "cpu": model, "python": sys.version.split()[0], "faiss": faiss.__version__,
            "load_avg": os.getloadavg()[0] if hasattr(os, "getloadavg") else None}


def mmm(s: dict, fmt: str = "{:.1f}") -> str:
    """median (min–max)"""
    return f"{fmt.format(s['median'])} ({fmt.format(s['min'])}–{fmt.format(s['max'])})"


