"""Warm latency of `assistant ask` in extractive mode (the same call the CLI makes).

Loads the index and model once, answers one question to warm up, then times
every dev question (or the first N) and prints the median and p95::

    .venv/bin/python eval/bench_ask.py [N]
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
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 0
    lines = (ROOT / "eval" / "dev.jsonl").read_text("utf-8").splitlines()
    questions = [json.loads(x)["question"] for x in lines if x.strip()]
    questions = questions[:n] if n else questions
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
    print(f"ask extractive warm latency: p50 {statistics.median(times):.1f} ms  p95 {p95:.1f} ms  max {times[-1]:.1f} ms")


if __name__ == "__main__":
    main()
