"""Do the FAISS store and the Milvus store rank alike?  Same index, both stores, every question.

The live local index (``index/`` by default) is exported into a fresh
milvus-lite folder with ``assistant index export --to-milvus`` (the stored
vectors are copied, nothing is embedded), then every question of the file is
searched on both stores with the real default model.  Printed: for each of the
six routes (the passages' dense, words and chars, and the same three over the
question–passage links), the share of questions whose top-10 candidates are
identical and the largest raw-score difference; the share of questions whose
fused top-10 passage lists are identical, the largest difference between the
two stores' fused scores, and every metric of ``assistant eval`` side by side
(with ``--answers``, the answer metrics too).

Usage::

    python eval/store_parity.py                      # eval/dev.jsonl, top 10
    python eval/store_parity.py eval/short.jsonl --answers

Nothing is written into ``index/``: the Milvus copy lives in a temporary folder.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.config import get_settings  # noqa: E402
from assistant.evaluation import evaluate, evaluate_answers, read_questions  # noqa: E402
from assistant.retrieval import HybridSearcher  # noqa: E402
from assistant.stores.base import ROUTES  # noqa: E402

LATENCY = ("latency_p50_ms", "latency_p95_ms")  # timings, not ranking: shown, never compared


def export(index_dir: Path, corpus_dir: Path, uri: str) -> None:
    exe = Path(sys.executable).with_name("assistant")
    env = dict(os.environ, HF_HUB_OFFLINE="1")
    cmd = [str(exe), "index", "export", "--to-milvus", uri, "--index-dir", str(index_dir), "--corpus-dir", str(corpus_dir)]
    done = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if done.returncode:
        sys.exit(f"export failed ({done.returncode}): {done.stderr.strip()}")
    print(done.stdout.strip().splitlines()[0])


def side_by_side(title: str, a: dict[str, float], b: dict[str, float]) -> float:
    print(f"\n{title}")
    print(f"{'metric':<28}{'faiss':>9}{'milvus':>9}{'diff':>9}")
    worst = 0.0
    for name in a:
        d = b.get(name, float("nan")) - a[name]
        if name not in LATENCY:
            worst = max(worst, abs(d))
        print(f"{name:<28}{a[name]:9.3f}{b.get(name, float('nan')):9.3f}{d:+9.3f}")
    return worst


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("questions", nargs="?", default=str(ROOT / "eval" / "dev.jsonl"))
    ap.add_argument("--k", type=int, default=10, help="length of the lists compared (default 10)")
    ap.add_argument("--index-dir", default=str(ROOT / "index"))
    ap.add_argument("--corpus-dir", default=str(ROOT / "corpus"))
    ap.add_argument("--answers", action="store_true", help="also compare the answer metrics (extractive)")
    args = ap.parse_args()

    items = read_questions(args.questions)
    with tempfile.TemporaryDirectory(prefix="parity-") as tmp:
        uri = str(Path(tmp) / "milvus.db")
        export(Path(args.index_dir), Path(args.corpus_dir), uri)
        local = get_settings(index_dir=args.index_dir, corpus_dir=args.corpus_dir)
        remote = get_settings(index_dir=args.index_dir, corpus_dir=args.corpus_dir, store="milvus", milvus_uri=uri,
                              milvus_timeout=60.0)
        faiss = HybridSearcher.from_settings(local)
        milvus = HybridSearcher.from_settings(remote)
        print(f"links: faiss {len(faiss.index.links)}, milvus {len(milvus.index.links)}")

        print(f"\n{'route':<12}{'identical top-' + str(args.k):>20}{'largest score diff':>22}")
        for name in ROUTES:
            same_route, worst_route = 0, 0.0
            for item in items:
                query = faiss.query(item["question"])  # one embedding for both stores
                a = faiss.index.store.routes(faiss.index, query, 100, names=[name])[name][: args.k]
                b = milvus.index.store.routes(milvus.index, query, 100, names=[name])[name][: args.k]
                same_route += [p for p, _ in a] == [p for p, _ in b]
                worst_route = max([worst_route] + [abs(x[1] - y[1]) for x, y in zip(a, b)])
            print(f"{name:<12}{same_route:>14}/{len(items):<5}{worst_route:>22.2e}")

        same, worst_score, differ = 0, 0.0, []
        for item in items:
            a = faiss.search(item["question"], k=args.k)
            b = milvus.search(item["question"], k=args.k)
            if [h.passage.key for h in a] == [h.passage.key for h in b]:
                same += 1
                worst_score = max([worst_score] + [abs(x.score - y.score) for x, y in zip(a, b)])
            else:
                differ.append(item["id"])
        share = same / len(items)
        print(f"\nidentical top-{args.k} lists: {same}/{len(items)} = {share:.1%}"
              f"  (largest fused-score difference within them: {worst_score:.2e})")
        if differ:
            print("differing: " + ", ".join(map(str, differ)))

        gap = side_by_side(
            f"assistant eval {Path(args.questions).name} (k=5)",
            evaluate(faiss.search, items, k=5).metrics, evaluate(milvus.search, items, k=5).metrics,
        )
        if args.answers:
            from assistant.answer import Answerer

            reports = []
            for searcher, settings in ((faiss, local), (milvus, remote)):
                answerer = Answerer(searcher, settings)
                reports.append(evaluate_answers(lambda q, a=answerer: a.ask(q, use_llm=False), items, searcher.index.passages))
            gap = max(gap, side_by_side("answers (extractive)", reports[0].metrics, reports[1].metrics))
        print(f"\nlargest metric gap (latency aside): {gap:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
