"""A .docx bomb: time to refusal and peak memory (issue 17).

Builds a .docx of about half a megabyte whose ``word/document.xml`` inflates
to ~19 million characters (~58 MB of UTF-8 text, ~100,000 passages), the
case of the issue, then, each run in a fresh process:

* **now**: ``assistant.ingest.add_documents([bomb], …)`` into a copy of a
  one-script corpus with its index, as ``assistant add`` and the UI upload
  call it (modules already imported): the time until the refusal, and how
  much the process grew (peak RSS after the call minus RSS before it;
  ``tracemalloc``'s peak of Python allocations too);
* **before**: what the ingest read before this change, python-docx's whole
  document (``Document(path)`` and every paragraph's text), the step that
  preceded chunking and hours of embedding (``--before`` runs it; it takes
  a minute and a few GB).

Prints medians over ``--runs`` runs (default 5).  No test asserts on these
numbers; ``tests/test_limits.py`` checks the behaviour.

    python eval/bench_bomb.py [--runs 5] [--before]
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"

RUN_NOW = r"""
import json, resource, sys, time, tracemalloc
sys.path.insert(0, sys.argv[1])
from pathlib import Path
from assistant.config import get_settings
from assistant.ingest import add_documents
import assistant.indexing, assistant.stores.files  # noqa: F401 - imported by add_documents; loaded before the baseline
from conftest import FakeEmbedder

def rss_mb():
    with open("/proc/self/status") as fh:
        return next(int(l.split()[1]) for l in fh if l.startswith("VmRSS:")) / 1024

settings = get_settings(corpus_dir=Path(sys.argv[2]), index_dir=Path(sys.argv[3]))
before = rss_mb()
tracemalloc.start()
t0 = time.perf_counter()
report = add_documents([sys.argv[4]], settings, embedder=FakeEmbedder())
seconds = time.perf_counter() - t0
traced = tracemalloc.get_traced_memory()[1] / 1024 / 1024
tracemalloc.stop()
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"seconds": seconds, "grew_mb": peak - before, "traced_mb": traced, "peak_mb": peak,
                  "refused": bool(report.errors) and not report.added, "message": (report.errors or [""])[0]}))
"""

RUN_BEFORE = r"""
import json, resource, sys, time
from docx import Document

def rss_mb():
    with open("/proc/self/status") as fh:
        return next(int(l.split()[1]) for l in fh if l.startswith("VmRSS:")) / 1024

before = rss_mb()
t0 = time.perf_counter()
doc = Document(sys.argv[1])                      # what ingest.read_docx did before issue 17
text = "\n\n".join(p.text for p in doc.paragraphs)
seconds = time.perf_counter() - t0
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"seconds": seconds, "grew_mb": peak - before, "peak_mb": peak, "chars": len(text),
                  "utf8_mb": len(text.encode()) / 1024 / 1024}))
"""


def make_bomb(path: Path, chars: int = 19_000_000, seed: int = 17) -> Path:
    """A real .docx (python-docx's own package) whose document.xml holds ~``chars`` characters of
    plausible text: eight paragraphs in random order, which deflate to about half a megabyte."""
    import io

    from docx import Document

    rng = random.Random(seed)
    words = ("居民 小区 停车 车位 电梯 党员 志愿者 业委会 物业 垃圾分类 协商 议事会 楼组长 网格 积分 老人 青年 服务 "
             "治理 村民 河道 宅基地 外来车辆 地锁 加装 资金 矛盾 调解 公约 自治").split()
    sentences = ["".join(rng.choice(words) for _ in range(12)) + "。" for _ in range(400)]
    paragraphs = ["".join(rng.choice(sentences) for _ in range(6)) for _ in range(8)]
    template = io.BytesIO()
    Document().save(template)
    with zipfile.ZipFile(template) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        for item in src.infolist():
            if item.filename != "word/document.xml":
                z.writestr(item, src.read(item))
        with z.open("word/document.xml", "w", force_zip64=True) as f:
            f.write(f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document xmlns:w="{W}"><w:body>'.encode())
            for line in ("积分兑换撬动垃圾分类——新建村人居环境整治实践", "泖港镇新建村党总支书记王小明"):  # a script's head
                f.write(f"<w:p><w:r><w:t>{line}</w:t></w:r></w:p>".encode())
            written = 0
            while written < chars:
                para = rng.choice(paragraphs)
                f.write(f"<w:p><w:r><w:t>{para}</w:t></w:r></w:p>".encode())
                written += len(para)
            f.write(b"</w:body></w:document>")
    return path


def median_of(rows: list[dict], key: str) -> float:
    return statistics.median(r[key] for r in rows)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--before", action="store_true", help="also time python-docx reading the whole bomb (slow, GBs)")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-bomb-"))
    try:
        bomb = make_bomb(work / "bomb.docx")
        with zipfile.ZipFile(bomb) as z:
            xml_mb = z.getinfo("word/document.xml").file_size / 1024 / 1024
        print(f"bomb.docx: {bomb.stat().st_size / 1024:.0f} KB on disk, document.xml inflates to {xml_mb:.0f} MB")

        # a one-script corpus with its index (fake embedder: the refusal never reaches the model)
        corpus, index = work / "corpus", work / "index"
        corpus.mkdir()
        text = (ROOT / "corpus" / "songjiang_yixian_daoshi_2025-10_jianggao.txt").read_text("utf-8").splitlines()
        start = next(i for i, line in enumerate(text) if line.startswith("党建引领圆梦换梯"))
        end = next(i for i in range(start, len(text)) if "指导老师" in text[i])
        (corpus / "base.txt").write_text("\n".join(text[start : end + 1]), encoding="utf-8")
        subprocess.run([sys.executable, "-c", (
            "import sys; sys.path.insert(0, sys.argv[1]); from pathlib import Path; from conftest import FakeEmbedder;"
            "from assistant.config import get_settings; from assistant.indexing import build_index;"
            "build_index(get_settings(corpus_dir=Path(sys.argv[2]), index_dir=Path(sys.argv[3])), FakeEmbedder())"
        ), str(ROOT / "tests"), str(corpus), str(index)], check=True, cwd=ROOT, capture_output=True)

        now = []
        for _ in range(args.runs):
            out = subprocess.run([sys.executable, "-c", RUN_NOW, str(ROOT / "tests"), str(corpus), str(index), str(bomb)],
                                 check=True, cwd=ROOT, capture_output=True, text=True).stdout
            now.append(json.loads(out.strip().splitlines()[-1]))
        assert all(r["refused"] for r in now), now[0]
        print(f"now ({args.runs} runs, medians): refused after {median_of(now, 'seconds'):.3f} s; "
              f"the process grew by {median_of(now, 'grew_mb'):.1f} MB (peak RSS {median_of(now, 'peak_mb'):.0f} MB, "
              f"Python allocations peak {median_of(now, 'traced_mb'):.1f} MB)")
        print(f"  message: {now[0]['message']}")
        if args.before:
            before = []
            for _ in range(max(1, min(args.runs, 3))):
                out = subprocess.run([sys.executable, "-c", RUN_BEFORE, str(bomb)],
                                     check=True, cwd=ROOT, capture_output=True, text=True).stdout
                before.append(json.loads(out.strip().splitlines()[-1]))
            b = before[0]
            print(f"before ({len(before)} runs, medians): python-docx read the whole document in "
                  f"{median_of(before, 'seconds'):.1f} s, the process grew by {median_of(before, 'grew_mb'):.0f} MB "
                  f"(peak RSS {median_of(before, 'peak_mb'):.0f} MB): {b['chars']:,} characters "
                  f"({b['utf8_mb']:.1f} MB of UTF-8 text), then parsed, chunked and embedded")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
