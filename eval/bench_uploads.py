"""Memory of a long-running process over successive uploads: does it stay flat?

In one process, as the web UI does: 20 times, upload a small generated script
(``ingest.add_documents``: the new passages are embedded, a new index version
is published) and ask a question through ``assistant.answer.ask`` (which
loads the new version through the searcher and answerer caches).  Printed
after each upload: the process's resident memory (RSS) and how many loaded
index versions (``Library`` objects) are alive; at the end, the growth after
the first upload (target: within 10 %) and the trend over the later uploads
(a leak shows as a steady slope; the allocator keeping the high-water mark of
two versions side by side during a reload does not).

Usage::

    python eval/bench_uploads.py            # the real default model; starts from a copy of the shipped index
    python eval/bench_uploads.py --fake     # a deterministic fake embedder (plumbing only, faster)
    python eval/bench_uploads.py --uploads 50

Nothing is written into ``corpus/`` or ``index/``: the work happens in a temporary folder.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from assistant.answer import ask  # noqa: E402
from assistant.config import get_settings  # noqa: E402
from assistant.indexing import build_index  # noqa: E402
from assistant.ingest import add_documents  # noqa: E402
from assistant.stores.base import Library  # noqa: E402

PLACES = "东西南北中上下前后新"
QUESTION = "垃圾分类积分兑换超市怎么办起来？"


class FakeEmbedder:
    """Hashes character bigrams into a unit vector (the tests' fake): no model in memory."""

    id = "fake:bigram-64"
    dim = 64

    def _vec(self, text: str) -> np.ndarray:
        v = np.zeros(self.dim, dtype=np.float32)
        for a, b in zip(text, text[1:]):
            v[int(hashlib.md5((a + b).encode()).hexdigest()[:8], 16) % self.dim] += 1.0
        n = np.linalg.norm(v)
        return v / n if n else v

    def embed_documents(self, texts, *, progress=None):
        out = np.stack([self._vec(t) for t in texts]) if texts else np.zeros((0, self.dim), np.float32)
        if progress:
            progress(len(texts))
        return out

    def embed_query(self, text):
        return self._vec(text)


def script(n: int) -> str:
    """A small lecture script of its own (numbers and places differ, so no upload is a duplicate)."""
    place = PLACES[n % 10] + PLACES[(n // 10) % 10] + "村"
    return "\n".join([
        f"积分兑换撬动垃圾分类——{place}人居环境整治第{n}年实践",
        f"泖港镇{place}党总支书记王{PLACES[n % 10]}明",
        "一、村里垃圾分类的难点",
        f"{place}过去有{100 + n}户村民习惯把垃圾倒在河边，保洁员每天清运{n + 3}车也跟不上。",
        "二、我们的做法",
        f"{place}推出了第{n}家垃圾分类积分兑换超市，村民分类投放一次获得{n + 5}个积分。",
        f"村党总支组织{n + 12}名党员分片包干，连续{n + 2}个月后分类准确率达到百分之{60 + n}。",
        "(指导老师:区委党校讲师李四)",
    ]) + "\n"


def rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        pages = int(fh.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def libraries_alive() -> int:
    return sum(isinstance(o, Library) for o in gc.get_objects())


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--uploads", type=int, default=20)
    ap.add_argument("--fake", action="store_true", help="the fake embedder instead of the real default model")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory(prefix="uploads-") as tmp:
        root = Path(tmp)
        shutil.copytree(ROOT / "corpus", root / "corpus")
        embedder = None
        if args.fake:
            import assistant.retrieval

            embedder = FakeEmbedder()
            assistant.retrieval.get_embedder = lambda *a, **k: embedder  # type: ignore[assignment]
        else:
            shutil.copytree(ROOT / "index", root / "index")  # the shipped vectors: nothing re-embedded
        settings = get_settings(corpus_dir=root / "corpus", index_dir=root / "index")
        build_index(settings, embedder)
        print(f"model: {'fake' if args.fake else settings.embedder}; {args.uploads} uploads, each followed by a question")
        print(f"{'upload':>6} {'cases':>6} {'RSS MB':>8} {'versions alive':>15} {'seconds':>8}")
        figures = []
        for n in range(args.uploads):
            t0 = time.perf_counter()
            doc = root / f"upload-{n}.txt"
            doc.write_text(script(n), encoding="utf-8")
            report = add_documents([doc], settings, embedder=embedder)
            if report.errors or not report.added:
                sys.exit(f"upload {n} failed: {report.errors}")
            answer = ask(QUESTION, settings)
            assert answer.citations
            figures.append(rss_mb())
            print(f"{n + 1:6d} {report.build.n_cases if report.build else 0:6d} {figures[-1]:8.1f} "
                  f"{libraries_alive():15d} {time.perf_counter() - t0:8.2f}")
        growth = (figures[-1] - figures[0]) / figures[0]
        print(f"\nRSS after the first upload {figures[0]:.1f} MB, after the last {figures[-1]:.1f} MB: "
              f"growth {growth:+.1%} (target within 10 %); highest {max(figures):.1f} MB")
        tail = figures[len(figures) // 4:]
        if len(tail) >= 3:  # a leak shows as a slope; the allocator's ups and downs do not
            slope = np.polyfit(np.arange(len(tail)), tail, 1)[0]
            print(f"trend over uploads {len(figures) - len(tail) + 1}-{len(figures)}: {slope:+.2f} MB per upload")
    return 0


if __name__ == "__main__":
    sys.exit(main())
