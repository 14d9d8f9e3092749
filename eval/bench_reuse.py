"""`assistant index build` after the index pointer is lost: seconds, and passages embedded again (issue 17).

Copies the bundled corpus and the shipped index (653 passages) into a
temporary folder, damages it — ``CURRENT`` deleted (default), ``CURRENT``
overwritten with bytes that are not UTF-8, or the live version's
``vectors.faiss`` truncated with the previous version still on disk — and
runs ``assistant index build`` with the real default model as a whole
command, ``--runs`` times (a fresh copy each time).  Prints the median wall
time and the passages embedded again (the build's own count).

    python eval/bench_reuse.py [--damage current-deleted|current-not-utf8|vectors-truncated] [--runs 3]
    python eval/bench_reuse.py --src /path/to/an/older/checkout --runs 1   # the same on other code
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def prepare(work: Path, damage: str) -> tuple[Path, Path]:
    corpus, index = work / "corpus", work / "index"
    shutil.copytree(ROOT / "corpus", corpus)
    shutil.copytree(ROOT / "index", index)
    live = index / (index / "CURRENT").read_text("utf-8").strip()
    if damage == "vectors-truncated":
        previous = index / "v-1-1"  # an intact older version, as the previous build leaves one
        shutil.copytree(live, previous)
        (live / "vectors.faiss").write_bytes((live / "vectors.faiss").read_bytes()[:1000])
    elif damage == "current-not-utf8":
        (index / "CURRENT").write_bytes(b"\xff\xfe\x00v-\x81\n")
    else:
        (index / "CURRENT").unlink()
    return corpus, index


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--damage", default="current-deleted", choices=["current-deleted", "current-not-utf8", "vectors-truncated"])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--src", help="run the code of another checkout (its folder goes first on PYTHONPATH)")
    args = ap.parse_args()
    env = dict(os.environ, HF_HUB_OFFLINE="1")
    if args.src:
        env["PYTHONPATH"] = str(Path(args.src).resolve())
    seconds, embedded, lines = [], [], []
    for _ in range(args.runs):
        work = Path(tempfile.mkdtemp(prefix="bench-reuse-"))
        try:
            corpus, index = prepare(work, args.damage)
            t0 = time.perf_counter()
            r = subprocess.run([sys.executable, "-m", "assistant.cli", "index", "build", "--corpus-dir", str(corpus),
                                "--index-dir", str(index)], capture_output=True, text=True, env=env, cwd=work)
            seconds.append(time.perf_counter() - t0)
            if r.returncode != 0:
                raise SystemExit(f"index build failed ({r.returncode}): {r.stderr.strip().splitlines()[-1:]}")
            m = re.search(r"新向量化 (\d+)，复用 (\d+)", r.stdout)
            assert m, r.stdout
            embedded.append(int(m.group(1)))
            lines.append(r.stdout.strip())
        finally:
            shutil.rmtree(work, ignore_errors=True)
    print(f"damage: {args.damage}; code: {args.src or ROOT}")
    print(f"index build ({args.runs} runs, whole command): median {statistics.median(seconds):.1f} s "
          f"(min {min(seconds):.1f}, max {max(seconds):.1f}); passages embedded again: {embedded}")
    print("last output:", lines[-1].replace("\n", " | "))


if __name__ == "__main__":
    main()
