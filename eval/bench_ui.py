"""Answer latency of the web UI under 20 simultaneous users (gradio_client).

Starts the UI on 127.0.0.1 (or uses ``--url``), lets ``--users`` client
sessions ask the dev-set questions at the same time, each waiting for its
answer before asking the next, and prints p50/p95 of the time from submit to
the complete answer.  Latency here includes queueing: with two cores the
queue runs two answers at a time, so under 20 users most of the time is
waiting for a turn.

    python eval/bench_ui.py                 # 20 users x 5 questions each
    python eval/bench_ui.py --users 1       # one user: the service time itself
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def percentile(values: list[float], p: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, max(0, round(p / 100 * (len(s) - 1))))]


def run(url: str, users: int, per_user: int, questions: list[str]) -> tuple[list[float], float]:
    from gradio_client import Client

    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    barrier = threading.Barrier(users)
    tmp = tempfile.mkdtemp(prefix="bench-ui-")

    def user(i: int) -> None:
        try:
            c = Client(url, verbose=False, download_files=tmp)
            barrier.wait(timeout=120)
            for j in range(per_user):
                q = questions[(i * per_user + j) % len(questions)]
                t = time.perf_counter()
                c.submit(q, api_name="/ask").result(timeout=600)
                with lock:
                    latencies.append(time.perf_counter() - t)
        except Exception as exc:  # noqa: BLE001 - counted and printed
            with lock:
                errors.append(f"{type(exc).__name__}: {exc}")

    threads = [threading.Thread(target=user, args=(i,)) for i in range(users)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=1200)
    wall = time.perf_counter() - t0
    if errors:
        print(f"{len(errors)} 个会话出错：{errors[:3]}", file=sys.stderr)
    return latencies, wall


def main() -> int:
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    ap = argparse.ArgumentParser(description="网页界面在多用户并发下的回答延迟")
    ap.add_argument("--url", help="已运行的服务地址；省略则在 127.0.0.1 上启动一个")
    ap.add_argument("--users", type=int, default=20)
    ap.add_argument("--per-user", type=int, default=5)
    ap.add_argument("--questions", default=str(ROOT / "eval" / "dev.jsonl"))
    args = ap.parse_args()
    items = [json.loads(x) for x in Path(args.questions).read_text(encoding="utf-8").splitlines() if x.strip()]
    questions = [x["question"] for x in items]
    app = None
    url = args.url
    if not url:
        import socket

        from assistant.ui import CONCURRENCY_EXTRACTIVE, build_app, launch

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        data = tempfile.mkdtemp(prefix="bench-ui-data-")
        from assistant.feedback import FeedbackStore

        app = build_app(store=FeedbackStore(Path(data) / "feedback.db"))
        launch(app, "127.0.0.1", port, block=False, quiet=True)
        url = f"http://127.0.0.1:{port}/"
        print(f"服务：{url}（队列并发 {CONCURRENCY_EXTRACTIVE}，{os.cpu_count()} 核）")
    try:
        run(url, 1, 2, questions)  # warm-up: model, statistics, first connections
        single, _ = run(url, 1, 10, questions)
        lat, wall = run(url, args.users, args.per_user, questions)
    finally:
        if app is not None:
            app.close()
    ms = lambda v: f"{v * 1000:.0f} ms"  # noqa: E731
    print(f"单用户：中位数 {ms(statistics.median(single))}，p95 {ms(percentile(single, 95))}（{len(single)} 次）")
    print(
        f"{args.users} 个用户同时提问：p50 {ms(percentile(lat, 50))}，p95 {ms(percentile(lat, 95))}，"
        f"最长 {ms(max(lat))}（{len(lat)} 次回答，{wall:.1f} 秒，吞吐 {len(lat) / wall:.1f} 个/秒）"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
