"""Warm latency of `assistant ask` in extractive mode (the same call the CLI makes).

Loads the index and model once, answers one question to warm up, then times
every dev question (or the first N; ``--rounds R``: each R times) and prints the
median and p95 of the wall time and of the CPU time of each answer; with
``--baseline MS`` also the ratio of this p50 to that one (the p50 before the
coverage judgement and the blocks: /work/plan/baseline/ask_latency.txt)::

    .venv/bin/python eval/bench_ask.py [N] [--baseline 57.2] [--rounds 3]

``--against DIR`` compares with another checkout (e.g. today's main) in the same
conditions: this script measures both, back to back and alternating, ``--runs``
times each, each run in its own process with that checkout's own venv, code and
index (``--root DIR``; a checkout without a venv, e.g. ``git archive`` of an older commit, runs
with this one's), and prints the ratio of the medians.  The machine is shared:
the CPU time of an answer is less disturbed by other work than its wall time::

    .venv/bin/python eval/bench_ask.py --against /work/main --runs 5
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def measure(root: Path, n: int, rounds: int = 1, baseline: float | None = None) -> None:
    sys.path.insert(0, str(root))
    from assistant.answer import get_answerer
    from assistant.config import get_settings

    lines = (root / "eval" / "dev.jsonl").read_text("utf-8").splitlines()
    questions = [json.loads(x)["question"] for x in lines if x.strip()]
    questions = (questions[:n] if n else questions) * max(rounds, 1)
    t0 = time.perf_counter()
    answerer = get_answerer(get_settings(corpus_dir=root / "corpus", index_dir=root / "index"))
    answerer.ask("小区停车位不够怎么办？", use_llm=False)
    cold = time.perf_counter() - t0
    wall, cpu = [], []
    for q in questions:
        t, c = time.perf_counter(), time.process_time()
        answerer.ask(q, use_llm=False)
        wall.append((time.perf_counter() - t) * 1000)
        cpu.append((time.process_time() - c) * 1000)
    wall.sort()
    p95 = wall[min(len(wall) - 1, int(round(0.95 * (len(wall) - 1))))]
    print(f"questions: {len(wall)}  cold start (load + first answer): {cold:.2f} s")
    p50 = statistics.median(wall)
    print(f"ask extractive warm latency: p50 {p50:.1f} ms  p95 {p95:.1f} ms  max {wall[-1]:.1f} ms")
    print(f"ask extractive CPU time: p50 {statistics.median(cpu):.1f} ms")
    if baseline:
        print(f"ratio to the baseline p50 {baseline:.1f} ms: {p50 / baseline:.2f}×")


def run(checkout: Path, n: int) -> tuple[float, float]:
    """(wall p50, CPU p50) of this script measuring ``checkout`` with its own venv."""
    python = checkout / ".venv" / "bin" / "python"
    python = python if python.exists() else Path(sys.executable)  # a bare export of another commit: this venv
    out = subprocess.run(
        [str(python), str(Path(__file__).resolve()), "--root", str(checkout)]
        + ([str(n)] if n else []),
        cwd=checkout, capture_output=True, text=True, check=True,
    ).stdout
    wall = re.search(r"latency: p50 ([\d.]+) ms", out)
    cpu = re.search(r"CPU time: p50 ([\d.]+) ms", out)
    if not (wall and cpu):
        raise SystemExit(f"no p50 in the output for {checkout}: {out!r}")
    return float(wall.group(1)), float(cpu.group(1))


def compare(other: Path, runs: int, n: int) -> None:
    theirs, mine = [], []
    for r in range(runs):
        theirs.append(run(other, n))
        mine.append(run(ROOT, n))
        print(f"round {r + 1}: {other} wall/CPU p50 {theirs[-1][0]:.1f}/{theirs[-1][1]:.1f} ms, "
              f"{ROOT} {mine[-1][0]:.1f}/{mine[-1][1]:.1f} ms", flush=True)
    for i, what in enumerate(("wall", "CPU")):
        a = statistics.median(t[i] for t in theirs)
        b = statistics.median(m[i] for m in mine)
        print(f"median {what} p50: {other} {a:.1f} ms, {ROOT} {b:.1f} ms; ratio {b / a:.2f}x")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("n", nargs="?", type=int, default=0, help="time the first N dev questions (default all)")
    ap.add_argument("--root", type=Path, default=ROOT, help="the checkout to measure (its code, corpus and index)")
    ap.add_argument("--rounds", type=int, default=1, help="time every question this many times")
    ap.add_argument("--baseline", type=float, help="p50 (ms) to compare with: prints the ratio")
    ap.add_argument("--against", type=Path, help="compare with this checkout, alternating runs")
    ap.add_argument("--runs", type=int, default=3, help="with --against: runs of each checkout")
    args = ap.parse_args()
    if args.against:
        compare(args.against.resolve(), args.runs, args.n)
    else:
        measure(args.root.resolve(), args.n, args.rounds, args.baseline)


if __name__ == "__main__":
    main()
