"""Warm latency of `assistant ask` in extractive mode (the same call the CLI makes).

Loads the index and model once, answers one question to warm up, then times
every dev question (or the first N) and prints the median and p95::

    .venv/bin/python eval/bench_ask.py [N]

``--against DIR`` compares with another checkout (e.g. today's main) in the same
conditions: the two run back to back, alternating, ``--rounds`` times each (each run
in its own process, with that checkout's own venv, code and index), and the ratio of
the medians of their p50s is printed::

    .venv/bin/python eval/bench_ask.py --against /work/main --rounds 3
"""

from __future__ import annotations

import json
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.answer import get_answerer  # noqa: E402


def p50_of(checkout: Path, n: int) -> float:
    """Run a checkout's own bench_ask.py in its own venv; its warm p50 in ms."""
    out = subprocess.run(
        [str(checkout / ".venv" / "bin" / "python"), str(checkout / "eval" / "bench_ask.py")] + ([str(n)] if n else []),
        cwd=checkout, capture_output=True, text=True, check=True,
    ).stdout
    m = re.search(r"p50 ([\d.]+) ms", out)
    if not m:
        raise SystemExit(f"no p50 in the output of {checkout}: {out!r}")
    return float(m.group(1))


def compare(other: Path, rounds: int, n: int) -> None:
    mine: list[float] = []
    theirs: list[float] = []
    for r in range(rounds):
        theirs.append(p50_of(other, n))
        mine.append(p50_of(ROOT, n))
        print(f"round {r + 1}: {other} p50 {theirs[-1]:.1f} ms, {ROOT} p50 {mine[-1]:.1f} ms", flush=True)
    a, b = statistics.median(theirs), statistics.median(mine)
    print(f"median p50: {other} {a:.1f} ms, {ROOT} {b:.1f} ms; ratio {b / a:.2f}x")


def main() -> None:
    if "--against" in sys.argv:
        i = sys.argv.index("--against")
        rounds = int(sys.argv[sys.argv.index("--rounds") + 1]) if "--rounds" in sys.argv else 3
        compare(Path(sys.argv[i + 1]).resolve(), rounds, 0)
        return
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
