"""Warm latency of `assistant ask` in extractive mode (the same call the CLI makes).

Loads the index and model once, answers one question to warm up, then times
every dev question (or the first N) and prints the median and p95; with
``--baseline MS`` also the ratio of this p50 to that one (the coverage
judgement's budget is 1.3× the p50 before it: /work/plan/baseline/ask_latency.txt)::

    .venv/bin/python eval/bench_ask.py [N] [--baseline 57.2] [--rounds 3]
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.answer import get_answerer  # noqa: E402


def main() -> None:
    import argparse

    parser = argparse.ArgumentParser()
    parser.add_argument("n", nargs="?", type=int, default=0, help="only the first N dev questions")
    parser.add_argument("--baseline", type=float, help="p50 (ms) to compare with: prints the ratio")
    parser.add_argument("--rounds", type=int, default=1, help="time every question this many times")
    args = parser.parse_args()
    lines = (ROOT / "eval" / "dev.jsonl").read_text("utf-8").splitlines()
    questions = [json.loads(x)["question"] for x in lines if x.strip()]
    questions = (questions[: args.n] if args.n else questions) * max(args.rounds, 1)
    t0 = time.perf_counter()
    answerer = get_answerer()
    answerer.ask("小区停车位不够怎么办？", use_llm=False)
    cold = time.perf_counter() - t0
    times = []
    for q in questions:
        t = time.perf_counter()
        answerer.ask(q, use_llm=False)
        times.append((time.perf_counter() - t) * 1000)
    times.sort()
    p95 = times[min(len(times) - 1, int(round(0.95 * (len(times) - 1))))]
    print(f"questions: {len(times)}  cold start (load + first answer): {cold:.2f} s")
    p50 = statistics.median(times)
    print(f"ask extractive warm latency: p50 {p50:.1f} ms  p95 {p95:.1f} ms  max {times[-1]:.1f} ms")
    if args.baseline:
        print(f"ratio to the baseline p50 {args.baseline:.1f} ms: {p50 / args.baseline:.2f}×")


if __name__ == "__main__":
    main()
